// One script loaded into a sandbox of its own, with its kb.* registrations: the unit a
// StatePool hands out. Runs the script's hooks, routes and tests under the limits and
// converts payloads between Poco JSON and Lua tables.
#pragma once

#include "lua/EventTable.h"
#include "lua/KbApi.h"
#include "lua/LuaError.h"
#include "lua/Sandbox.h"

#include <klinikbox/Events.h>
#include <klinikbox/Http.h>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <optional>
#include <string>
#include <string_view>

namespace klinikbox::lua {

// What a Lua plugin's entry script gets beyond a hook script: its other files for
// `require`, its declared outbox channels, and test mode (`klinikbox lua test PLUGIN_DIR`).
struct PluginExtras {
    const std::map<std::string, std::string>* files = nullptr;
    std::set<std::string> channels;
    bool testing = false;
};

// A route's result (read from Lua into `out`) as the box answers it: status 100-599, json
// or body (not both), content_type, headers other than Set-Cookie/Content-Type/Length; a
// refusal with a title or type becomes a problem document with its status and instance
// (`path`). Anything else throws bad(why). kb.request answers with the same.
Response routeResponse(const ValueTree& out, const std::string& path, const std::function<LuaError(const std::string&)>& bad);

class ScriptInstance {
public:
    // Compiles `source` and runs its top level (where kb.on, kb.route, kb.test register).
    // Throws LuaError when it does not compile or its top level fails.
    ScriptInstance(std::string name, std::string_view source, ScriptMode mode, const Limits& limits,
                   std::shared_ptr<const ScriptServices> services, PluginContext* plugin = nullptr,
                   const PluginExtras* extras = nullptr);
    ~ScriptInstance();
    ScriptInstance(const ScriptInstance&) = delete;
    ScriptInstance& operator=(const ScriptInstance&) = delete;

    [[nodiscard]] const std::string& name() const { return context_.name; }
    [[nodiscard]] Sandbox& sandbox() { return sandbox_; }
    [[nodiscard]] ScriptContext& context() { return context_; }
    [[nodiscard]] const std::vector<HookRegistration>& hooks() const { return context_.hooks; }
    [[nodiscard]] const std::vector<RouteRegistration>& routes() const { return context_.routes; }
    [[nodiscard]] const std::vector<PageRegistration>& pages() const { return context_.pages; }
    [[nodiscard]] const std::vector<TestRegistration>& tests() const { return context_.tests; }
    [[nodiscard]] const std::vector<JobRegistration>& jobs() const { return context_.jobs; }
    // True when the script has a sync hook (async: a kb.subscribe handler) for `event`.
    [[nodiscard]] bool handles(const std::string& event, bool async) const;

    struct HookResult {
        bool vetoed = false;
        std::string reason;               // the kb.reject reason
        // The payload after the hooks (when not vetoed): event.payload itself when the hooks
        // left it as it was (`changed` false), else a new object.
        Poco::JSON::Object::Ptr payload;
        bool changed = false;
    };
    // Runs the script's sync hooks for event.name, in registration order, as one budgeted
    // call. `event` is not modified. Throws LuaError.
    [[nodiscard]] HookResult runSync(const Event& event);
    // Runs the script's kb.subscribe handlers for event.name. Throws LuaError.
    void runAsync(const Event& event);
    // Runs the script's kb.subscribe(..., {batch = true}, fn) handlers, each once with an
    // array of its events of `events` (in their order), as one budgeted call. Throws LuaError.
    void runAsyncBatch(const std::vector<const Event*>& events);
    // Runs route `index` (of routes()) for `request`. Throws LuaError.
    [[nodiscard]] Response runRoute(std::size_t index, Request& request);
    // Runs scheduled job `index` (of jobs()) once; `due` is when it was due (epoch seconds).
    // Throws LuaError.
    void runJob(std::size_t index, long long due);
    // Runs `source` (named `name`) in the script's environment, as more of its top level
    // (a plugin's test files). Throws LuaError.
    void loadMore(const std::string& name, std::string_view source);
    // Runs test `index` (of tests()); nullopt when it passed.
    [[nodiscard]] std::optional<LuaError> runTest(std::size_t index);

private:
    // "booking.requested, phase decide": what errors of the event's hooks name (cached for
    // the last event, so a hook call builds no string).
    const std::string& hookContextOf(const std::string& event, bool async);

    ScriptContext context_;  // declared first: outlives the state that points to it
    EventTable events_;      // likewise: the state's event metatable points to it
    ValueTree out_;          // a sync hook's changed payload, reused from call to call
    std::string contextEvent_[2], contextText_[2];  // hookContextOf's cache: [sync, async]
    Sandbox sandbox_;
};

}  // namespace klinikbox::lua
