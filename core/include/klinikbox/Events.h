// The in-process event bus: synchronous hooks that may change or veto, and asynchronous
// notifications. Event names are "<domain>.<what>", e.g. "booking.requested".
#pragma once

#include <klinikbox/Http.h>

#include <Poco/JSON/Object.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace klinikbox {

// A payload member that is costly to compute and that few hooks read (booking.requested's
// free_slots): computed once, the first time a hook reads it, then kept.
struct LazyField {
    std::string key;
    std::function<Poco::Dynamic::Var()> make;
    mutable std::optional<Poco::Dynamic::Var> value;  // once made
    const Poco::Dynamic::Var& get() const {
        if (!value) value = make();
        return *value;
    }
};

struct Event {
    std::string name;
    Poco::JSON::Object::Ptr payload;
    std::optional<Principal> principal;  // who caused it, when a person did
    std::string requestId;
    // Members of the payload made only when a hook reads them. A Lua hook makes one when
    // its script reads the key (or walks or encodes the payload); before any other hook
    // runs, and before an async publish is queued, the bus puts them all into the payload
    // (completePayload), so a native hook or handler sees an ordinary payload.
    std::vector<LazyField> lazy{};

    // Puts every lazy member the payload does not hold yet into it, and forgets `lazy`.
    void completePayload() {
        if (lazy.empty()) return;
        if (!payload) payload = new Poco::JSON::Object;
        for (const auto& f : lazy)
            if (!payload->has(f.key)) payload->set(f.key, f.get());
        lazy.clear();
    }
};

// Thrown by a sync hook to refuse the action; `reason` is shown to the user.
class Veto : public std::runtime_error {
public:
    explicit Veto(const std::string& reason) : std::runtime_error(reason) {}
};

// Sync hooks run in phases, in this order; inside a phase, `after`/`before` name other
// hooks explicitly, and the rest run by name. No magic priority numbers.
enum class Phase { Validate, Decide, Finalize };

struct HookSpec {
    std::string name;  // unique per event, e.g. "lua:triage.lua" or "booking:default-routing"
    Phase phase = Phase::Decide;
    std::vector<std::string> after;
    std::vector<std::string> before;
    std::chrono::milliseconds budget{200};  // a hook running longer fails closed
    // The core's Lua hooks only: the hook makes Event::lazy members itself when its script
    // reads them. A plugin's hook always gets them in the payload (the plugin host clears
    // this).
    bool readsLazyFields = false;
};

struct HookOutcome {
    bool vetoed = false;
    std::string reason;  // the veto reason, or why a hook failed
    std::string hook;    // the hook that vetoed or failed
    bool failed = false; // true when a hook threw, overran its budget or otherwise broke
};

using SyncHook = std::function<void(Event&)>;           // may modify payload; throws Veto
using AsyncHandler = std::function<void(const Event&)>; // runs on a worker thread
// Runs on the worker thread with several queued events at once, in the order they were
// published: every event of the subscription that was queued when the worker took its next
// batch. For a handler whose cost is per call rather than per event, such as a durable
// database write: one transaction, and one wait for its commit, per event fell behind the
// requests publishing them, and the queue grew without bound (docs/architecture.md, "Events").
using BatchHandler = std::function<void(const std::vector<const Event*>&)>;

class EventBus {
public:
    virtual ~EventBus() = default;
    virtual void hook(const std::string& event, HookSpec spec, SyncHook fn) = 0;
    virtual void subscribe(const std::string& event, std::string name, AsyncHandler fn) = 0;
    // Runs the sync hooks in order. Stops at the first veto or failure (fail closed).
    [[nodiscard]] virtual HookOutcome publishSync(Event& event) = 0;
    // Queues the event for the async handlers and returns at once.
    virtual void publish(Event event) = 0;
    // One subscription to several events, delivered in batches (BatchHandler). Appended after
    // the other calls, so a plugin built against API version 1 keeps its vtable. This default
    // delivers each event as a batch of one (test doubles, buses without a queue).
    virtual void subscribeBatch(const std::vector<std::string>& events, std::string name, BatchHandler fn) {
        auto shared = std::make_shared<const BatchHandler>(std::move(fn));
        for (const auto& event : events)
            subscribe(event, name, [shared](const Event& e) { (*shared)(std::vector<const Event*>{&e}); });
    }
};

}  // namespace klinikbox
