// A bounded pool of loaded ScriptInstances of one script version, shared by all threads
// that run the script: acquire() hands out an idle instance, creates one while under the
// bound, or waits for one. A Lua state is used by one thread at a time.
#pragma once

#include "lua/ScriptInstance.h"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace klinikbox::lua {

class StatePool {
public:
    using Factory = std::function<std::unique_ptr<ScriptInstance>()>;

    // `first` (optional) is an instance already loaded (e.g. by the compile check).
    StatePool(std::string script, Factory factory, std::size_t maxStates, std::unique_ptr<ScriptInstance> first = nullptr);
    ~StatePool();
    StatePool(const StatePool&) = delete;
    StatePool& operator=(const StatePool&) = delete;

    class Lease {
    public:
        Lease(Lease&& o) noexcept : pool_(o.pool_), instance_(std::move(o.instance_)) { o.pool_ = nullptr; }
        Lease& operator=(Lease&&) = delete;
        Lease(const Lease&) = delete;
        ~Lease();
        ScriptInstance& operator*() const { return *instance_; }
        ScriptInstance* operator->() const { return instance_.get(); }
        // Drops the instance instead of returning it (after a timeout, memory overrun or
        // sandbox violation its state is not trusted); the next acquire makes a new one.
        void discard();

    private:
        friend class StatePool;
        Lease(StatePool* pool, std::unique_ptr<ScriptInstance> instance) : pool_(pool), instance_(std::move(instance)) {}
        StatePool* pool_;
        std::unique_ptr<ScriptInstance> instance_;
    };

    // Throws LuaError (Timeout) when no instance frees up within `wait`, and the factory's
    // LuaError when a new instance cannot be loaded.
    [[nodiscard]] Lease acquire(std::chrono::milliseconds wait);

    struct Stats {
        std::size_t live = 0;       // instances that exist (idle + in use)
        std::size_t idle = 0;
        std::size_t created = 0;    // ever
        std::size_t discarded = 0;  // ever
        std::size_t waits = 0;      // acquires that had to wait
        std::size_t memoryBytes = 0;  // heap of the idle instances
    };
    [[nodiscard]] Stats stats() const;
    [[nodiscard]] std::size_t maxStates() const { return max_; }

private:
    void giveBack(std::unique_ptr<ScriptInstance> instance, bool discard);

    std::string script_;
    Factory factory_;
    std::size_t max_;
    mutable std::mutex mu_;
    std::condition_variable freed_;
    std::vector<std::unique_ptr<ScriptInstance>> idle_;
    std::size_t live_ = 0;
    std::size_t created_ = 0;
    std::size_t discarded_ = 0;
    std::size_t waits_ = 0;
};

}  // namespace klinikbox::lua
