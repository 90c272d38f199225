// The kb.* API a script sees, and what the box injects for it. The bindings themselves are
// internal (KbApi.cpp); ScriptInstance installs them into each script's environment.
#pragma once

#include "lua/ValueTree.h"

#include <klinikbox/Clock.h>
#include <klinikbox/Events.h>
#include <klinikbox/Http.h>
#include <klinikbox/Outbox.h>

#include <Poco/JSON/Object.h>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

struct lua_State;

namespace klinikbox {
class PluginContext;
namespace db {
class Connection;
}
}  // namespace klinikbox

namespace klinikbox::lua {

// What the box gives hook scripts. The server fills it; tests and the CLI use their own.
struct ScriptServices {
    // The box's clock: kb.now, kb.today, os.time, os.date. Required.
    const Clock* clock = nullptr;
    // kb.log.info|warn|error and print. `level` is "info", "warn" or "error"; the message
    // is already masked (personnummer -> YYYYMMDD-****).
    std::function<void(const std::string& level, const std::string& script, const std::string& message)> log;
    // kb.config(key): the settings of one script (e.g. klinikbox.yaml lua.config.<file>);
    // may return null.
    std::function<Poco::JSON::Object::Ptr(const std::string& script)> config;
    // A Lua plugin's tests: kb.set_config's settings checked against the plugin's schema.yaml
    // with its defaults filled in, as the box checks what an admin saves; throws
    // std::invalid_argument naming the setting. Empty: taken as given (a hook script's tests).
    std::function<Poco::JSON::Object::Ptr(const Poco::JSON::Object::Ptr& given)> checkTestConfig;
    // kb.send: queues an outbound message (the server writes it to the outbox in its own
    // transaction); returns the message id.
    std::function<long long(const std::string& script, const OutboundMessage& message)> send;
    // Outbox channels each script may send on, by file name; the "*" entry applies to every
    // script. An entry "sms.*" allows every channel starting with "sms."; "*" allows all.
    std::map<std::string, std::set<std::string>> allowedChannels;
    // A kb.send on a channel the script may not use never loses the message: it is written
    // to the outbox as a dead letter with the reason (the admin adds the channel and
    // retries it), counted and shown on the Skript page. Returns the message id. Unset:
    // the send raises an error instead.
    std::function<long long(const std::string& script, const OutboundMessage& message, const std::string& why)> deadLetter;
    // True when allowedChannels is the box's whole configuration (the running box, or
    // `lua test --config`): a script naming a channel it may not use in a kb.send is then
    // refused at load, and kb.send in tests is checked against it. False: tests accept any
    // channel (no configuration was given).
    bool checkChannels = false;
    // `klinikbox lua test` of a Lua plugin: the box's test clock, moved by kb.set_now.
    FixedClock* testClock = nullptr;
};

enum class ScriptMode {
    Hook,    // a clinic hook script: kb.on, kb.subscribe
    Plugin,  // the entry script of a Lua plugin: also kb.route, kb.db, kb.events, kb.audit, kb.page
    Test,    // `klinikbox lua test`: kb.test cases run, kb.fire, kb.sent, kb.set_now
};

struct HookRegistration {
    std::string event;
    bool async = false;  // kb.subscribe
    // kb.subscribe(event, {batch = true}, fn) in a Lua plugin: fn gets an array of the
    // events the bus's worker took at once (EventBus::subscribeBatch).
    bool batch = false;
    HookSpec spec;       // phase, after, before (name and budget are set by the host)
    int ref = 0;         // the function, in the state's registry
    int line = 0;
};

struct RouteRegistration {
    std::string method;
    std::string path;  // as given; relative paths are under /api/v1/<plugin-id>
    Access access;
    std::string summary;
    Poco::JSON::Object::Ptr body;  // options.body: the JSON Schema the box validates the body with
    int status = 0;                // options.status: the success status (0: "some 2xx")
    std::vector<int> problems;     // options.problems: the statuses the function refuses with
    // options.query: the names of the query parameters the route reads; with it, the box
    // refuses any other parameter (400 /problems/unknown-parameter) instead of ignoring it.
    std::vector<std::string> query;
    int ref = 0;
    int line = 0;
};

struct PageRegistration {
    std::string id, title, script;
    Access access;
};

struct TestRegistration {
    std::string name;
    int ref = 0;
    int line = 0;
};

// kb.schedule(name, {every_minutes = N} | {at = "HH:MM"}, fn): a Lua plugin's timer.
struct JobRegistration {
    std::string name;
    int everyMinutes = 0;  // > 0: every N minutes
    int atMinute = -1;     // >= 0: daily at this minute after local midnight
    int ref = 0;
    int line = 0;
};

struct SentMessage {
    std::string channel, payload, idempotencyKey;
};

// What the C bindings of one script reach (through an upvalue). Lives as long as the
// script's state; owned by its ScriptInstance.
struct ScriptContext {
    enum class CallKind { None, Load, SyncHook, AsyncHandler, Route, Test, Job };

    std::string name;  // file name, e.g. "guardian.lua" (plugins: "<id>/<entry>")
    ScriptMode mode = ScriptMode::Hook;
    std::shared_ptr<const ScriptServices> services;
    PluginContext* plugin = nullptr;
    int envRef = 0;

    // Collected while the script's top level runs.
    std::vector<HookRegistration> hooks;
    std::vector<RouteRegistration> routes;
    std::vector<PageRegistration> pages;
    std::vector<TestRegistration> tests;
    std::vector<JobRegistration> jobs;

    // A Lua plugin's files (path -> verified bytes): what `require` may load. Null for
    // hook scripts, which have no require.
    const std::map<std::string, std::string>* files = nullptr;
    int modulesRef = 0;  // require's cache: module name -> value
    // The outbox channels a Lua plugin declared in its manifest ("<id>.<name>").
    std::set<std::string> declaredChannels;
    // `klinikbox lua test` of a Lua plugin: kb.test, kb.fire, kb.sent, kb.set_now and
    // kb.request are available in Plugin mode too.
    bool testing = false;

    // The running call.
    CallKind call = CallKind::None;
    const Request* request = nullptr;
    db::Connection* tx = nullptr;

    // Test mode.
    std::vector<SentMessage> sent;
    // kb.set_config(t): the settings kb.config reads for the rest of the test case (a
    // test's own table instead of the --config file's); reset before every case.
    Poco::JSON::Object::Ptr testConfig;
    bool testConfigSet = false;
    std::vector<std::pair<std::string, std::string>> published;  // kb.events.publish: name, JSON (tests)
    HookOutcome syncOutcome;  // kb.events.publish_sync: the last outcome (read right after the call)
    std::vector<long long> jobNext;     // tests of a plugin: when each job is next due (epoch s)
    std::unique_ptr<Request> testRequest;  // kb.request: the request its route sees
    // kb.request's other state, kept here rather than in the binding's frame: a Lua error
    // (a longjmp) skips the destructors of C++ objects on that frame.
    std::vector<std::pair<std::string, std::string>> testHeaders;
    std::optional<Problem> testRefused;
    std::optional<Poco::Dynamic::Var> testJson;
    std::unique_ptr<Response> testResponse;
    std::unique_ptr<FixedClock> testClock;

    // Scratch space of the bindings: C++ objects never live in a C function's frame.
    ValueTree tree;
    std::string text;
    std::string error;
};

// Pushes the kb table of `ctx` and sets `print` in the environment at `envIndex`.
// Call inside a Sandbox::Call.
void installKb(lua_State* L, ScriptContext& ctx, int envIndex);

}  // namespace klinikbox::lua
