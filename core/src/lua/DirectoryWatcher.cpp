#include "lua/DirectoryWatcher.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

namespace klinikbox::lua {

namespace fs = std::filesystem;

DirectoryWatcher::DirectoryWatcher(std::string dir, std::chrono::milliseconds interval, std::function<void()> onChange)
    : dir_(std::move(dir)), interval_(interval), onChange_(std::move(onChange)) {}

DirectoryWatcher::~DirectoryWatcher() { stop(); }

std::string DirectoryWatcher::fingerprint() const {
    std::vector<std::string> parts;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir_, ec)) {
        const std::string name = e.path().filename().string();
        if (name.size() < 5 || name.compare(name.size() - 4, 4, ".lua") != 0) continue;
        std::error_code fe;
        const auto size = e.file_size(fe);
        const auto mtime = e.last_write_time(fe).time_since_epoch().count();
        // FNV-1a of the contents: catches a rewrite within one mtime tick with the same size.
        std::uint64_t h = 1469598103934665603ull;
        std::ifstream in(e.path(), std::ios::binary);
        char buf[4096];
        while (in.read(buf, sizeof buf) || in.gcount() > 0) {
            for (std::streamsize i = 0; i < in.gcount(); ++i) {
                h ^= static_cast<unsigned char>(buf[i]);
                h *= 1099511628211ull;
            }
        }
        parts.push_back(name + "|" + std::to_string(size) + "|" + std::to_string(mtime) + "|" + std::to_string(h));
    }
    if (ec) return "unreadable: " + ec.message();
    std::sort(parts.begin(), parts.end());
    std::string out;
    for (const auto& p : parts) out += p + "\n";
    return out;
}

bool DirectoryWatcher::poll() {
    std::string now = fingerprint();
    if (now == last_) return false;
    last_ = std::move(now);
    try {
        onChange_();
    } catch (...) {
        // The callback reports its own failures; the watcher keeps polling.
    }
    return true;
}

void DirectoryWatcher::start() {
    stop();
    {
        std::lock_guard lock(mu_);
        stopping_ = false;
    }
    last_ = fingerprint();
    thread_ = std::thread([this] {
        std::unique_lock lock(mu_);
        while (!stopping_) {
            if (wake_.wait_for(lock, interval_, [this] { return stopping_; })) break;
            lock.unlock();
            poll();
            lock.lock();
        }
    });
}

void DirectoryWatcher::stop() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

}  // namespace klinikbox::lua
