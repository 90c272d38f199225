#include "lua/StatePool.h"

namespace klinikbox::lua {

StatePool::StatePool(std::string script, Factory factory, std::size_t maxStates, std::unique_ptr<ScriptInstance> first)
    : script_(std::move(script)), factory_(std::move(factory)), max_(maxStates == 0 ? 1 : maxStates) {
    if (first) {
        idle_.push_back(std::move(first));
        live_ = created_ = 1;
    }
}

StatePool::~StatePool() = default;

StatePool::Lease::~Lease() {
    if (pool_ && instance_) pool_->giveBack(std::move(instance_), false);
}

void StatePool::Lease::discard() {
    if (pool_ && instance_) pool_->giveBack(std::move(instance_), true);
}

void StatePool::giveBack(std::unique_ptr<ScriptInstance> instance, bool discard) {
    {
        std::lock_guard lock(mu_);
        if (discard) {
            --live_;
            ++discarded_;
        } else {
            idle_.push_back(std::move(instance));
        }
    }
    freed_.notify_one();
    // A discarded instance is closed here, outside the lock.
}

StatePool::Lease StatePool::acquire(std::chrono::milliseconds wait) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    std::unique_lock lock(mu_);
    bool waited = false;
    for (;;) {
        if (!idle_.empty()) {
            auto inst = std::move(idle_.back());  // the most recently used: its memory is warm
            idle_.pop_back();
            return Lease(this, std::move(inst));
        }
        if (live_ < max_) {
            ++live_;
            lock.unlock();
            try {
                auto inst = factory_();
                lock.lock();
                ++created_;
                lock.unlock();
                return Lease(this, std::move(inst));
            } catch (...) {
                lock.lock();
                --live_;
                lock.unlock();
                freed_.notify_one();
                throw;
            }
        }
        if (!waited) {
            ++waits_;
            waited = true;
        }
        if (freed_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() && live_ >= max_)
            throw LuaError(ErrorKind::Timeout, script_, 0, "",
                           "all " + std::to_string(max_) + " Lua states of the script stayed busy for " +
                               std::to_string(wait.count()) + " ms");
    }
}

StatePool::Stats StatePool::stats() const {
    std::lock_guard lock(mu_);
    Stats s;
    s.live = live_;
    s.idle = idle_.size();
    s.created = created_;
    s.discarded = discarded_;
    s.waits = waits_;
    for (const auto& i : idle_) s.memoryBytes += i->sandbox().memoryUsed();
    return s;
}

}  // namespace klinikbox::lua
