// Polls a directory's *.lua files (names, sizes, modification times and a hash of their
// contents) every interval and calls back when anything changed. No inotify: it works on
// every file system, and a half-written file is simply seen again at the next poll.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace klinikbox::lua {

class DirectoryWatcher {
public:
    DirectoryWatcher(std::string dir, std::chrono::milliseconds interval, std::function<void()> onChange);
    ~DirectoryWatcher();
    DirectoryWatcher(const DirectoryWatcher&) = delete;
    DirectoryWatcher& operator=(const DirectoryWatcher&) = delete;

    // Takes the current state as the baseline and starts the polling thread.
    void start();
    // Stops the thread (promptly: it waits on a condition variable, not in sleep).
    void stop();
    // One poll: true (and calls onChange) when the directory differs from the last poll.
    bool poll();

private:
    [[nodiscard]] std::string fingerprint() const;

    std::string dir_;
    std::chrono::milliseconds interval_;
    std::function<void()> onChange_;
    std::string last_;
    std::mutex mu_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace klinikbox::lua
