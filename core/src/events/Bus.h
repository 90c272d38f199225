// The in-process event bus: ordered synchronous hooks that fail closed, and asynchronous
// handlers on a worker thread.
//
// Who listens to what is an immutable snapshot (hooks in run order and handlers, per event)
// that hook/subscribe/removeByPrefix replace as a whole: publishing reads it without a lock
// and copies nothing, so an event nobody hooks costs a map look-up, and an async event
// nobody subscribes to is not queued at all.
#pragma once

#include <klinikbox/Events.h>

#include <atomic>
#include <memory>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <thread>

namespace klinikbox::events {

struct HookStats {
    std::string event, hook;
    long long calls = 0, vetoes = 0, failures = 0;
    std::string lastError;
};

class Bus final : public EventBus {
public:
    // The most events the worker takes from the queue at once, and so the largest batch a
    // BatchHandler gets.
    static constexpr std::size_t kMaxBatch = 256;
    // Waiting events past which the bus logs a warning naming the slowest handler of the
    // worker's last take (again at each doubling, until the queue has been empty).
    static constexpr std::size_t kWarnQueued = 1024;

    Bus();
    ~Bus() override;

    void hook(const std::string& event, HookSpec spec, SyncHook fn) override;
    void subscribe(const std::string& event, std::string name, AsyncHandler fn) override;
    void subscribeBatch(const std::vector<std::string>& events, std::string name, BatchHandler fn) override;
    [[nodiscard]] HookOutcome publishSync(Event& event) override;
    void publish(Event event) override;

    // Removes every hook and handler whose name starts with `prefix` (used when a plugin
    // stops or Lua scripts are reloaded).
    void removeByPrefix(const std::string& prefix);
    // The hooks of an event in the order they run: "phase name" strings, for the console.
    [[nodiscard]] std::vector<std::string> order(const std::string& event) const;
    [[nodiscard]] std::vector<HookStats> stats() const;
    // Events waiting for their async handlers now, and the most at once since start
    // (/metrics: a handler that falls behind the requests shows as a growing queue).
    [[nodiscard]] std::size_t queued() const;
    [[nodiscard]] std::size_t queuedHighWater() const;
    // Waits until the async queue is empty (tests, shutdown).
    void drain();
    void stop();

private:
    // Counters updated from many request threads at once.
    struct Counters {
        std::string event, hook;
        std::atomic<long long> calls{0}, vetoes{0}, failures{0};
        mutable std::mutex mu;
        std::string lastError;
        void fail(const std::string& why) {
            ++failures;
            std::lock_guard lock(mu);
            lastError = why;
        }
        HookStats snapshot() const;
    };
    struct HookEntry {
        HookSpec spec;
        SyncHook fn;
        std::shared_ptr<Counters> stats;
    };
    struct Handler {
        std::string name;
        AsyncHandler fn;  // empty for a batch subscription
        std::shared_ptr<Counters> stats;
        // A batch subscription: the same handler under each of its events, so one batch holds
        // all of them in the order they were published.
        std::shared_ptr<const BatchHandler> batch{};
    };
    // What publishing reads; replaced, never changed, once published.
    struct Table {
        std::map<std::string, std::vector<HookEntry>, std::less<>> hooks;  // kept in run order
        std::map<std::string, std::vector<Handler>, std::less<>> handlers;
    };
    static void resort(const std::string& event, std::vector<HookEntry>& v);
    void run();
    // Runs the handlers of events the worker took from the queue, in the order published;
    // returns the handler that took longest ("name: N ms for M events"), for the warning.
    std::string deliver(const std::vector<Event>& events) const;

    std::mutex writeMu_;  // serialises hook, subscribe and removeByPrefix
    std::atomic<std::shared_ptr<const Table>> table_;

    mutable std::mutex qmu_;
    std::condition_variable qcv_, idle_;
    std::deque<Event> queue_;
    std::size_t queueHighWater_ = 0;
    std::size_t warnAt_ = kWarnQueued;
    std::string slowest_;  // of the worker's last take
    bool busy_ = false;
    bool stopping_ = false;
    std::thread worker_;
};

}  // namespace klinikbox::events
