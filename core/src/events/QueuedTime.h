// Time the running thread spent queued behind other threads for a shared resource (the
// database's single writer): that is load on the box, not work of the code that waited.
// A synchronous hook's time budget (events/Bus.cpp) is measured without it, so a hook that
// writes one audit record does not fail closed just because six kiosks write at once
// (issue 14.11); how long requests queue is bounded by the writer's own limits instead.
#pragma once

#include <chrono>

namespace klinikbox::events {

class QueuedTime {
public:
    using Clock = std::chrono::steady_clock;
    // The total this thread has queued so far (monotonic; compare two readings).
    static Clock::duration total() { return tl_; }

    // Counts the scope's lifetime as queued time: wrap exactly the wait for the resource.
    class Scope {
    public:
        Scope() : t0_(Clock::now()) {}
        ~Scope() { tl_ += Clock::now() - t0_; }
        // Leaves `d` of the scope's lifetime uncounted: work done for this thread meanwhile
        // (the database writer ran this caller's callback on the leader's thread).
        void exclude(Clock::duration d) { t0_ += d; }
        Scope(const Scope&) = delete;
        Scope& operator=(const Scope&) = delete;

    private:
        Clock::time_point t0_;
    };

private:
    static inline thread_local Clock::duration tl_{};
};

}  // namespace klinikbox::events
