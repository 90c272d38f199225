// The in-process event bus: synchronous hooks that may change or veto, and asynchronous
// notifications. Event names are "<domain>.<what>", e.g. "booking.requested".
#pragma once

#include <klinikbox/Http.h>

#include <Poco/JSON/Object.h>

#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace klinikbox {

struct Event {
    std::string name;
    Poco::JSON::Object::Ptr payload;
    std::optional<Principal> principal;  // who caused it, when a person did
    std::string requestId;
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
};

struct HookOutcome {
    bool vetoed = false;
    std::string reason;  // the veto reason, or why a hook failed
    std::string hook;    // the hook that vetoed or failed
    bool failed = false; // true when a hook threw, overran its budget or otherwise broke
};

using SyncHook = std::function<void(Event&)>;           // may modify payload; throws Veto
using AsyncHandler = std::function<void(const Event&)>; // runs on a worker thread

class EventBus {
public:
    virtual ~EventBus() = default;
    virtual void hook(const std::string& event, HookSpec spec, SyncHook fn) = 0;
    virtual void subscribe(const std::string& event, std::string name, AsyncHandler fn) = 0;
    // Runs the sync hooks in order. Stops at the first veto or failure (fail closed).
    [[nodiscard]] virtual HookOutcome publishSync(Event& event) = 0;
    // Queues the event for the async handlers and returns at once.
    virtual void publish(Event event) = 0;
};

}  // namespace klinikbox
