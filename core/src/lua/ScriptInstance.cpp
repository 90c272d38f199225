#include "lua/ScriptInstance.h"

#include "lua/KbInternal.h"

#include <Poco/JSON/Array.h>

#include <lua.hpp>

#include <algorithm>

namespace klinikbox::lua {

namespace {

using CallKind = ScriptContext::CallKind;

// Refuses, at load, a script whose kb.send names (as a string literal) a channel it may
// not use: the mistake shows when the script is saved or the plugin starts, not when the
// first patient's message is due. Channels built at run time are checked by kb.send.
void checkLiteralChannels(const ScriptContext& c, std::string_view src) {
    if (!kbapi::channelsChecked(c)) return;
    std::size_t pos = 0;
    while ((pos = src.find("kb.send", pos)) != std::string_view::npos) {
        std::size_t i = pos + 7;
        pos = i;
        while (i < src.size() && (src[i] == ' ' || src[i] == '\t')) ++i;
        if (i >= src.size() || src[i] != '(') continue;
        ++i;
        while (i < src.size() && (src[i] == ' ' || src[i] == '\t' || src[i] == '\n' || src[i] == '\r')) ++i;
        if (i >= src.size() || (src[i] != '"' && src[i] != '\'')) continue;
        const char quote = src[i];
        const std::size_t end = src.find(quote, i + 1);
        if (end == std::string_view::npos) continue;
        std::size_t after = end + 1;
        while (after < src.size() && (src[after] == ' ' || src[after] == '\t')) ++after;
        if (after >= src.size() || (src[after] != ',' && src[after] != ')')) continue;  // "a" .. b: built at run time
        const std::string channel(src.substr(i + 1, end - i - 1));
        if (channel.find('\\') != std::string::npos || kbapi::channelAllowed(c, channel)) continue;
        const int line = 1 + static_cast<int>(std::count(src.begin(), src.begin() + static_cast<std::ptrdiff_t>(i), '\n'));
        std::string known;
        if (c.mode == ScriptMode::Plugin) {
            for (const auto& ch : c.declaredChannels) known += (known.empty() ? "" : ", ") + ch;
            throw LuaError(ErrorKind::Runtime, c.name, line, "load",
                           "kb.send on channel '" + channel + "', which plugin.yaml does not declare (channels: " +
                               (known.empty() ? "none" : known) + ")");
        }
        throw LuaError(ErrorKind::Runtime, c.name, line, "load",
                       "kb.send on channel '" + channel + "', which lua.channels in klinikbox.yaml does not give this script");
    }
}

// Resets the context's call state however the call ends.
struct CallScope {
    ScriptContext& c;
    CallScope(ScriptContext& ctx, CallKind kind, const Request* request) : c(ctx) {
        c.call = kind;
        c.request = request;
    }
    ~CallScope() {
        c.call = CallKind::None;
        c.request = nullptr;
        c.tx = nullptr;
    }
    CallScope(const CallScope&) = delete;
    CallScope& operator=(const CallScope&) = delete;
};

Poco::JSON::Object::Ptr userOf(const std::optional<Principal>& p) {
    if (!p) return nullptr;
    Poco::JSON::Object::Ptr u = new Poco::JSON::Object;
    u->set("username", p->username);
    u->set("role", std::string(toString(p->role)));
    u->set("hsa_id", p->hsaId);
    u->set("care_unit", p->careUnit);
    return u;
}

// Position after the subtree rooted at `pos`.
std::size_t skip(const ValueTree& t, std::size_t pos) {
    const std::size_t n = t[pos].children;
    ++pos;
    for (std::size_t i = 0; i < n; ++i) pos = skip(t, pos);
    return pos;
}

// What an error in the script's hook for `event` names: "booking.requested, phase decide"
// or "booking.created, kb.subscribe".
std::string hookContext(const ScriptContext& c, const std::string& event, bool async) {
    for (const auto& h : c.hooks) {
        if (h.async != async || h.event != event) continue;
        if (async) return event + ", kb.subscribe";
        return event + ", phase " +
               (h.spec.phase == Phase::Validate ? "validate" : h.spec.phase == Phase::Finalize ? "finalize" : "decide");
    }
    return event;
}

bool headerSafe(const std::string& s) {
    return std::none_of(s.begin(), s.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

}  // namespace

ScriptInstance::ScriptInstance(std::string name, std::string_view source, ScriptMode mode, const Limits& limits,
                               std::shared_ptr<const ScriptServices> services, PluginContext* plugin,
                               const PluginExtras* extras)
    : sandbox_(limits, *services->clock) {
    context_.name = std::move(name);
    context_.mode = mode;
    context_.services = std::move(services);
    context_.plugin = plugin;
    context_.testing = mode == ScriptMode::Test;
    if (extras) {
        context_.files = extras->files;
        context_.declaredChannels = extras->channels;
        context_.testing = context_.testing || extras->testing;
    }
    checkLiteralChannels(context_, source);
    if (mode == ScriptMode::Test) {
        context_.testClock = std::make_unique<FixedClock>(context_.services->clock->now());
        sandbox_.setClock(*context_.testClock);
    }
    sandbox_.compile(source, context_.name);
    Sandbox::Call call(sandbox_, context_.name, "load");
    CallScope scope(context_, CallKind::Load, nullptr);
    ScriptContext& ctx = context_;
    Sandbox& sb = sandbox_;
    EventTable& events = events_;
    auto body = [&ctx, &sb, &events](lua_State* L) -> int {
        sb.pushEnvironment();
        const int env = lua_gettop(L);
        installKb(L, ctx, env);
        events.install(L);
        lua_pushvalue(L, env);
        ctx.envRef = luaL_ref(L, LUA_REGISTRYINDEX);
        lua_pushvalue(L, env);
        lua_setupvalue(L, 1, 1);
        lua_pushvalue(L, 1);
        lua_call(L, 0, 0);
        return 0;
    };
    call.runC(body, 1, 0);
}

ScriptInstance::~ScriptInstance() = default;

bool ScriptInstance::handles(const std::string& event, bool async) const {
    return std::any_of(context_.hooks.begin(), context_.hooks.end(),
                       [&](const HookRegistration& h) { return h.async == async && h.event == event; });
}

const std::string& ScriptInstance::hookContextOf(const std::string& event, bool async) {
    const int i = async ? 1 : 0;
    if (contextEvent_[i] != event || contextText_[i].empty()) {
        contextText_[i] = hookContext(context_, event, async);
        contextEvent_[i] = event;
    }
    return contextText_[i];
}

// The event goes to Lua through events_ (converted when the script reads it, see
// EventTable.h) and a sync hook's payload comes back only when the script changed it.
ScriptInstance::HookResult ScriptInstance::runSync(const Event& event) {
    const std::size_t maxNodes = sandbox_.limits().maxValueNodes;
    EventTable::Scope running(events_, event, maxNodes);
    Sandbox::Call call(sandbox_, context_.name, hookContextOf(event.name, false), Sandbox::Call::Borrowed{});
    CallScope scope(context_, CallKind::SyncHook, nullptr);
    ScriptContext& ctx = context_;
    EventTable& events = events_;
    ValueTree& out = out_;
    bool changed = false;
    auto body = [&](lua_State* L) -> int {
        events.push(L);
        const int ev = lua_gettop(L);
        for (std::size_t i = 0; i < ctx.hooks.size(); ++i) {
            if (ctx.hooks[i].async || ctx.hooks[i].event != event.name) continue;
            lua_rawgeti(L, LUA_REGISTRYINDEX, ctx.hooks[i].ref);
            lua_pushvalue(L, ev);
            lua_call(L, 1, 0);
        }
        changed = events.readBack(L, ev, out);
        return 0;
    };
    out.clear();
    HookResult r;
    if (!call.runC(body, 0, 0)) {
        r.vetoed = true;
        r.reason = call.rejectReason();
        return r;
    }
    if (!changed) {
        r.payload = event.payload ? event.payload : Poco::JSON::Object::Ptr(new Poco::JSON::Object);
        return r;
    }
    std::size_t pos = 0;
    const auto v = toVar(out, pos);
    if (v.type() != typeid(Poco::JSON::Object::Ptr))
        throw LuaError(ErrorKind::Runtime, context_.name, 0, event.name, "event.payload must be a table with named fields");
    r.payload = v.extract<Poco::JSON::Object::Ptr>();
    r.changed = true;
    restoreNulls(event.payload, r.payload);
    return r;
}

void ScriptInstance::runAsync(const Event& event) {
    EventTable::Scope running(events_, event, sandbox_.limits().maxValueNodes);
    Sandbox::Call call(sandbox_, context_.name, hookContextOf(event.name, true), Sandbox::Call::Borrowed{});
    CallScope scope(context_, CallKind::AsyncHandler, nullptr);
    ScriptContext& ctx = context_;
    EventTable& events = events_;
    auto body = [&](lua_State* L) -> int {
        events.push(L);
        const int ev = lua_gettop(L);
        for (std::size_t i = 0; i < ctx.hooks.size(); ++i) {
            if (!ctx.hooks[i].async || ctx.hooks[i].batch || ctx.hooks[i].event != event.name) continue;
            lua_rawgeti(L, LUA_REGISTRYINDEX, ctx.hooks[i].ref);
            lua_pushvalue(L, ev);
            lua_call(L, 1, 0);
        }
        return 0;
    };
    (void)call.runC(body, 0, 0);
}

// Each event becomes a plain table ({name, request_id, payload, user}): a batch handler gets
// them all at once, so nothing is converted lazily. The payloads are converted on the C++
// side first, where an exception is safe.
void ScriptInstance::runAsyncBatch(const std::vector<const Event*>& events) {
    if (events.empty()) return;
    const std::size_t maxNodes = sandbox_.limits().maxValueNodes;
    static const Poco::JSON::Object empty;
    std::vector<ValueTree> payloads(events.size());
    for (std::size_t i = 0; i < events.size(); ++i) {
        try {
            (void)fillTree(payloads[i], events[i]->payload ? *events[i]->payload : empty, maxNodes);
        } catch (const std::exception& e) {
            throw LuaError(ErrorKind::Runtime, context_.name, 0, events[i]->name,
                           std::string("the event's payload cannot be given to Lua: ") + e.what());
        }
    }
    Sandbox::Call call(sandbox_, context_.name, hookContextOf(events.front()->name, true), Sandbox::Call::Borrowed{});
    CallScope scope(context_, CallKind::AsyncHandler, nullptr);
    ScriptContext& ctx = context_;
    auto pushText = [](lua_State* L, const std::string& s) { lua_pushlstring(L, s.data(), s.size()); };
    auto body = [&](lua_State* L) -> int {
        for (const auto& h : ctx.hooks) {
            if (!h.async || !h.batch) continue;
            lua_rawgeti(L, LUA_REGISTRYINDEX, h.ref);
            lua_createtable(L, 0, 0);
            const int list = lua_gettop(L);
            lua_Integer n = 0;
            for (std::size_t i = 0; i < events.size(); ++i) {
                const Event& e = *events[i];
                if (e.name != h.event) continue;
                lua_createtable(L, 0, 4);
                pushText(L, e.name);
                lua_setfield(L, -2, "name");
                pushText(L, e.requestId);
                lua_setfield(L, -2, "request_id");
                std::size_t pos = 0;
                pushTree(L, payloads[i], pos);
                lua_setfield(L, -2, "payload");
                if (e.principal) {
                    pushPrincipal(L, *e.principal);
                    lua_setfield(L, -2, "user");
                }
                lua_rawseti(L, list, ++n);
            }
            if (n == 0) {
                lua_pop(L, 2);
                continue;
            }
            lua_call(L, 1, 0);
        }
        return 0;
    };
    (void)call.runC(body, 0, 0);
}

Response routeResponse(const ValueTree& out, const std::string& path, const std::function<LuaError(const std::string&)>& bad) {
    if (out.empty()) return Response::noContent();
    if (out[0].type != ValueNode::Type::Object) throw bad("a route must return a table with named fields");
    Response resp;
    std::optional<Poco::Dynamic::Var> json;
    std::optional<std::string> body2, contentType;
    std::vector<std::pair<std::string, std::string>> headers;
    std::size_t pos = 1;
    for (std::size_t i = 0; i < out[0].children; ++i) {
        const ValueNode& n = out[pos];
        if (n.key == "status") {
            if (n.type != ValueNode::Type::Int || n.integer < 100 || n.integer > 599) throw bad("status must be an integer 100-599");
            resp.status = static_cast<int>(n.integer);
            pos = skip(out, pos);
        } else if (n.key == "json") {
            json = toVar(out, pos);
        } else if (n.key == "body") {
            if (n.type != ValueNode::Type::String) throw bad("body must be a string");
            body2 = n.text;
            pos = skip(out, pos);
        } else if (n.key == "content_type") {
            if (n.type != ValueNode::Type::String || !headerSafe(n.text)) throw bad("content_type must be a string");
            contentType = n.text;
            pos = skip(out, pos);
        } else if (n.key == "headers") {
            if (n.type != ValueNode::Type::Object) throw bad("headers must be a table of strings");
            const std::size_t count = n.children;
            ++pos;
            for (std::size_t h = 0; h < count; ++h) {
                const ValueNode& hv = out[pos];
                if (hv.type != ValueNode::Type::String || !headerSafe(hv.key) || !headerSafe(hv.text) || hv.key.empty())
                    throw bad("headers must be a table of strings");
                std::string lower = hv.key;
                std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
                if (lower == "set-cookie" || lower == "content-type" || lower == "content-length")
                    throw bad("a route may not set the header " + hv.key);
                headers.emplace_back(hv.key, hv.text);
                pos = skip(out, pos);
            }
        } else {
            throw bad("unknown field '" + n.key + "' in the route's result (status, json, body, content_type, headers)");
        }
    }
    if (json && body2) throw bad("a route returns json or body, not both");
    const int status = resp.status;
    if (json) {
        const bool object = json->type() == typeid(Poco::JSON::Object::Ptr);
        if (object && status >= 400) {
            // A refusal a route returns is a problem document (RFC 9457), as the native routes
            // answer; one with a title or type gets its status and instance filled in.
            auto p = json->extract<Poco::JSON::Object::Ptr>();
            if (p->has("title") || p->has("type")) {
                if (!p->has("type")) p->set("type", "about:blank");
                if (!p->has("status")) p->set("status", status);
                if (!p->has("instance")) p->set("instance", path);
            }
            resp = Response::json(p, status);
            resp.contentType = "application/problem+json";
            resp.headers = std::move(headers);
            return resp;
        }
        if (object) resp = Response::json(json->extract<Poco::JSON::Object::Ptr>(), status);
        else if (json->type() == typeid(Poco::JSON::Array::Ptr)) resp = Response::json(json->extract<Poco::JSON::Array::Ptr>(), status);
        else throw bad("json must be a table");
    } else if (body2) {
        resp = Response::text(*body2, contentType.value_or("text/plain; charset=utf-8"), status);
    } else {
        resp.body.clear();
        if (contentType) resp.contentType = *contentType;
    }
    resp.headers = std::move(headers);
    return resp;
}

Response ScriptInstance::runRoute(std::size_t index, Request& request) {
    const RouteRegistration& route = context_.routes.at(index);
    const std::string where = "route " + route.method + " " + route.path;
    ValueTree in;
    {
        Poco::JSON::Object::Ptr r = new Poco::JSON::Object;
        r->set("method", request.method);
        r->set("path", request.path);
        Poco::JSON::Object::Ptr params = new Poco::JSON::Object;
        for (const auto& [k, v] : request.pathParams) params->set(k, v);
        r->set("params", params);
        Poco::JSON::Object::Ptr query = new Poco::JSON::Object;
        for (const auto& [k, v] : request.query)
            if (!query->has(k)) query->set(k, v);
        r->set("query", query);
        Poco::JSON::Object::Ptr headers = new Poco::JSON::Object;
        for (const auto& [k, v] : request.headers)
            if (k != "cookie" && k != "authorization" && k != "x-csrf-token") headers->set(k, v);
        r->set("headers", headers);
        r->set("body", request.body);
        const std::string type = request.header("content-type");
        if (!request.body.empty() && type.find("json") != std::string::npos) r->set("json", request.json());
        r->set("request_id", request.requestId);
        if (auto u = userOf(request.principal)) r->set("user", u);
        try {
            appendVar(in, r, sandbox_.limits().maxValueNodes);
        } catch (const std::exception& e) {
            throw LuaError(ErrorKind::Runtime, context_.name, 0, where, std::string("the request cannot be given to Lua: ") + e.what());
        }
    }
    ValueTree out;
    Sandbox::Call call(sandbox_, context_.name, where);
    CallScope scope(context_, CallKind::Route, &request);
    const int ref = route.ref;
    const std::size_t maxNodes = sandbox_.limits().maxValueNodes;
    auto body = [&](lua_State* L) -> int {
        std::size_t pos = 0;
        lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
        pushTree(L, in, pos);
        lua_call(L, 1, 1);
        if (!lua_isnil(L, -1)) {
            if (!lua_istable(L, -1)) luaL_error(L, "a route must return a table such as {status = 200, json = {...}} or nothing");
            readValue(L, -1, out, maxNodes, "the route's result");
        }
        return 0;
    };
    (void)call.runC(body, 0, 0);
    if (out.empty()) return Response::noContent();
    return routeResponse(out, request.path, [&](const std::string& why) -> LuaError {
        return LuaError(ErrorKind::Runtime, context_.name, route.line, where, why);
    });
}

void ScriptInstance::runJob(std::size_t index, long long due) {
    const JobRegistration& job = context_.jobs.at(index);
    Sandbox::Call call(sandbox_, context_.name, "job \"" + job.name + "\"");
    CallScope scope(context_, CallKind::Job, nullptr);
    const int ref = job.ref;
    const std::string jobName = job.name;
    auto body = [&](lua_State* L) -> int {
        lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
        lua_createtable(L, 0, 2);
        lua_pushlstring(L, jobName.data(), jobName.size());
        lua_setfield(L, -2, "name");
        lua_pushinteger(L, static_cast<lua_Integer>(due));
        lua_setfield(L, -2, "due");
        lua_call(L, 1, 0);
        return 0;
    };
    (void)call.runC(body, 0, 0);
}

void ScriptInstance::loadMore(const std::string& name, std::string_view source) {
    for (auto& c : contextText_) c.clear();  // more kb.on calls may follow
    sandbox_.compile(source, name);
    Sandbox::Call call(sandbox_, name, "load");
    CallScope scope(context_, CallKind::Load, nullptr);
    const int envRef = context_.envRef;
    auto body = [envRef](lua_State* L) -> int {
        lua_rawgeti(L, LUA_REGISTRYINDEX, envRef);
        lua_setupvalue(L, 1, 1);
        lua_pushvalue(L, 1);
        lua_call(L, 0, 0);
        return 0;
    };
    call.runC(body, 1, 0);
}

std::optional<LuaError> ScriptInstance::runTest(std::size_t index) {
    const TestRegistration& t = context_.tests.at(index);
    try {
        Sandbox::Call call(sandbox_, context_.name, "test \"" + t.name + "\"");
        CallScope scope(context_, CallKind::Test, nullptr);
        lua_State* L = sandbox_.state();
        lua_rawgeti(L, LUA_REGISTRYINDEX, t.ref);
        (void)call.run(0, 0);
    } catch (const LuaError& e) {
        return e;
    }
    return std::nullopt;
}

}  // namespace klinikbox::lua
