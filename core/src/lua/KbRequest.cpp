// kb.request, kb.published and kb.run_due: what the tests of a Lua plugin use
// (`klinikbox lua test PLUGIN_DIR`) to call its routes, see its events and run its timers.
#include "lua/KbInternal.h"
#include "lua/Schedule.h"

#include <klinikbox/PluginContext.h>

#include <Poco/JSON/Parser.h>

#include <Poco/JSON/Stringifier.h>

#include <algorithm>

#include <cctype>
#include <cstring>
#include <sstream>

namespace klinikbox::lua::kbapi {

namespace {

std::string percentDecode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') out += ' ';
        else if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
                 std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
            out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else out += s[i];
    }
    return out;
}

// Matches `path` against a route pattern ("/offers/{id}"); fills params.
bool matches(const std::string& pattern, const std::string& path, std::map<std::string, std::string>& params) {
    params.clear();
    std::size_t a = 0, b = 0;
    while (a < pattern.size() && b < path.size()) {
        if (pattern[a] == '{') {
            const std::size_t close = pattern.find('}', a);
            if (close == std::string::npos) return false;
            std::size_t end = path.find('/', b);
            if (end == std::string::npos) end = path.size();
            if (end == b) return false;
            params[pattern.substr(a + 1, close - a - 1)] = percentDecode(path.substr(b, end - b));
            a = close + 1;
            b = end;
        } else {
            if (pattern[a] != path[b]) return false;
            ++a;
            ++b;
        }
    }
    return a == pattern.size() && b == path.size();
}

}  // namespace

// kb.request(method, path [, {json =, body =, headers =, as = "admin"|"staff"|...|false, user =}])
// -> {status =, json =, body =, headers =, content_type =}: calls the plugin's own route as
// the box would (401 without a user on a logged-in route, 403 for another role); tests only
int kbRequest(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    requireTest(L, c, "kb.request");
    requirePlugin(L, c, "kb.request");
    const char* method = luaL_checkstring(L, 1);
    std::size_t pn = 0;
    const char* fullPath = luaL_checklstring(L, 2, &pn);
    if (!lua_isnoneornil(L, 3)) {
        luaL_checktype(L, 3, LUA_TTABLE);
        checkOptionKeys(L, 3, "kb.request", {"json", "body", "headers", "as", "user"});
    } else {
        lua_settop(L, 2);
        lua_newtable(L);
    }
    lua_settop(L, 3);
    // Who calls: `as` names a role (false: nobody logged in), `user` gives the whole user.
    lua_getfield(L, 3, "as");
    const bool anonymous = lua_isboolean(L, -1) && !lua_toboolean(L, -1);
    const char* role = lua_isstring(L, -1) ? lua_tostring(L, -1) : "admin";
    lua_pop(L, 1);
    std::size_t bn = 0;
    const char* body = optStringField(L, 3, "kb.request", "body", &bn);
    const bool hasJson = lua_getfield(L, 3, "json") != LUA_TNIL;
    if (hasJson) {
        if (!cxx(c, [&] { c.tree.clear(); })) fail(L, "kb.request", c);
        readValue(L, -1, c.tree, maxNodes(L), "kb.request json");
    }
    lua_pop(L, 1);
    const std::string id = c.plugin ? c.plugin->pluginId() : std::string();
    int status = 0;  // set when the box would answer before the route
    int index = -1;
    std::string problem;  // the 400's reason
    if (!cxx(c, [&] {
            auto req = std::make_unique<Request>();
            std::string path(fullPath, pn), query;
            if (const auto q = path.find('?'); q != std::string::npos) {
                query = path.substr(q + 1);
                path.resize(q);
            }
            const std::string prefix = "/api/v1/" + id;
            std::string rel = path.rfind(prefix + "/", 0) == 0 ? path.substr(prefix.size()) : path;
            for (std::size_t start = 0; start < query.size();) {
                std::size_t amp = query.find('&', start);
                if (amp == std::string::npos) amp = query.size();
                const std::string part = query.substr(start, amp - start);
                const auto eq = part.find('=');
                if (!part.empty())
                    req->query.emplace(percentDecode(part.substr(0, eq)), eq == std::string::npos ? "" : percentDecode(part.substr(eq + 1)));
                start = amp + 1;
            }
            req->method = method;
            req->path = prefix + rel;
            req->requestId = "test";
            for (std::size_t i = 0; i < c.routes.size(); ++i) {
                const auto& r = c.routes[i];
                const std::string pattern = r.path.rfind("/api/", 0) == 0 ? r.path : prefix + r.path;
                std::map<std::string, std::string> params;
                if (!matches(pattern, req->path, params)) continue;
                if (r.method != method) {
                    status = 405;
                    continue;
                }
                req->pathParams = params;
                index = static_cast<int>(i);
                status = 0;
                if (!r.access.anonymous) {
                    if (anonymous) status = 401;
                    else if (auto ro = roleFromString(role); !ro) throw std::invalid_argument(std::string("unknown role ") + role);
                    else if (!r.access.roles.empty() && !r.access.roles.count(*ro)) status = 403;
                }
                if (!anonymous) {
                    Principal p;
                    p.userId = 1;
                    p.username = "test-" + std::string(role);
                    p.role = *roleFromString(role);
                    p.hsaId = "SE2321000016-TEST";
                    req->principal = p;
                }
                break;
            }
            if (index < 0 && status == 0) status = 404;
            // As the box does: a query parameter given twice is refused (400), and so is one
            // that a route declaring its parameters (options.query) does not declare.
            if (status == 0 && req->repeatedQueryParam()) {
                status = 400;
                problem = "a query parameter is given more than once";
            }
            if (status == 0 && index >= 0 && !c.routes[static_cast<std::size_t>(index)].query.empty())
                for (const auto& [k, v] : req->query) {
                    const auto& declared = c.routes[static_cast<std::size_t>(index)].query;
                    if (std::find(declared.begin(), declared.end(), k) == declared.end()) {
                        status = 400;
                        problem = "unknown query parameter '" + k + "'";
                        break;
                    }
                }
            if (body) {
                req->body.assign(body, bn);
            } else if (hasJson) {
                std::size_t pos = 0;
                std::ostringstream s;
                Poco::JSON::Stringifier::stringify(toVar(c.tree, pos), s);
                req->body = s.str();
                req->headers["content-type"] = "application/json";
            }
            c.testRequest = std::move(req);
        }))
        fail(L, "kb.request", c);
    if (status != 0) {
        lua_createtable(L, 0, 2);
        lua_pushinteger(L, status);
        lua_setfield(L, -2, "status");
        const std::string text = status == 401   ? "not logged in"
                                 : status == 403 ? "the role may not use this route"
                                 : status == 405 ? "method not allowed"
                                 : status == 400 ? problem
                                                 : "no such route";
        lua_pushlstring(L, text.data(), text.size());
        lua_setfield(L, -2, "problem");
        return 1;
    }
    // The request table the route sees, built in Lua from the C++ request.
    const Request& rq = *c.testRequest;
    lua_createtable(L, 0, 10);  // 4
    lua_pushstring(L, rq.method.c_str());
    lua_setfield(L, 4, "method");
    lua_pushstring(L, rq.path.c_str());
    lua_setfield(L, 4, "path");
    lua_newtable(L);
    for (const auto& [k, v] : rq.pathParams) {
        lua_pushlstring(L, v.data(), v.size());
        lua_setfield(L, -2, k.c_str());
    }
    lua_setfield(L, 4, "params");
    lua_newtable(L);
    for (const auto& [k, v] : rq.query) {
        lua_pushlstring(L, v.data(), v.size());
        lua_setfield(L, -2, k.c_str());
    }
    lua_setfield(L, 4, "query");
    if (lua_getfield(L, 3, "headers") != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
    }
    lua_setfield(L, 4, "headers");
    lua_pushlstring(L, rq.body.data(), rq.body.size());
    lua_setfield(L, 4, "body");
    if (hasJson) {
        pushTreeOf(L, c);
        lua_setfield(L, 4, "json");
    }
    lua_pushliteral(L, "test");
    lua_setfield(L, 4, "request_id");
    if (rq.principal) {
        lua_createtable(L, 0, 4);
        lua_pushstring(L, rq.principal->username.c_str());
        lua_setfield(L, -2, "username");
        lua_pushstring(L, role);
        lua_setfield(L, -2, "role");
        lua_pushstring(L, rq.principal->hsaId.c_str());
        lua_setfield(L, -2, "hsa_id");
        lua_pushliteral(L, "");
        lua_setfield(L, -2, "care_unit");
        lua_setfield(L, 4, "user");
    }
    // Runs the route as a route call (kb.audit records the user, kb.db as in the box).
    const CallKind previous = c.call;
    c.call = CallKind::Route;
    c.request = c.testRequest.get();
    lua_rawgeti(L, LUA_REGISTRYINDEX, c.routes[static_cast<std::size_t>(index)].ref);
    lua_pushvalue(L, 4);
    const int st = pcallKeepingLocation(L, 1, 1);
    c.call = previous;
    c.request = nullptr;
    c.tx = nullptr;
    if (st != LUA_OK) return lua_error(L);
    // The result, through JSON as the box sends it: {status =, json = | body =, ...}.
    if (lua_isnil(L, -1)) {
        lua_createtable(L, 0, 1);
        lua_pushinteger(L, 204);
        lua_setfield(L, -2, "status");
        return 1;
    }
    if (!lua_istable(L, -1)) return luaL_error(L, "a route must return a table such as {status = 200, json = {...}} or nothing");
    if (!cxx(c, [&] { c.tree.clear(); })) fail(L, "kb.request", c);
    readValue(L, -1, c.tree, maxNodes(L), "the route's result");
    pushTreeOf(L, c);
    if (lua_getfield(L, -1, "status") == LUA_TNIL) {
        lua_pop(L, 1);
        lua_getfield(L, -1, "json");
        const bool content = !lua_isnil(L, -1);
        lua_pop(L, 1);
        lua_getfield(L, -1, "body");
        const bool text = !lua_isnil(L, -1);
        lua_pop(L, 1);
        lua_pushinteger(L, content || text ? 200 : 204);
        lua_setfield(L, -2, "status");
    } else {
        lua_pop(L, 1);
    }
    return 1;
}

// kb.published() -> {{name =, payload =}, ...}: the events the plugin published (tests)
int kbPublished(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    requireTest(L, c, "kb.published");
    const std::size_t limit = maxNodes(L);
    if (!cxx(c, [&] {
            Poco::JSON::Array::Ptr list = new Poco::JSON::Array;
            for (const auto& [name, payload] : c.published) {
                Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
                o->set("name", name);
                o->set("payload", Poco::JSON::Parser().parse(payload));
                list->add(o);
            }
            c.tree.clear();
            appendVar(c.tree, list, limit);
        }))
        fail(L, "kb.published", c);
    pushTreeOf(L, c);
    return 1;
}

// kb.run_due() -> number of jobs run: runs the plugin's kb.schedule jobs that are due at
// the test clock's now, as the box's scheduler would (tests)
int kbRunDue(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    requireTest(L, c, "kb.run_due");
    requirePlugin(L, c, "kb.run_due");
    lua_Integer ran = 0;
    for (std::size_t i = 0; i < c.jobs.size(); ++i) {
        const long long now = static_cast<long long>(
            std::chrono::duration_cast<std::chrono::seconds>(c.services->clock->now().time_since_epoch()).count());
        if (i >= c.jobNext.size() || c.jobNext[i] > now) continue;
        const long long due = c.jobNext[i];
        c.jobNext[i] = nextDue(c.jobs[i], now);
        const CallKind previous = c.call;
        c.call = CallKind::Job;
        lua_rawgeti(L, LUA_REGISTRYINDEX, c.jobs[i].ref);
        lua_createtable(L, 0, 2);
        lua_pushstring(L, c.jobs[i].name.c_str());
        lua_setfield(L, -2, "name");
        lua_pushinteger(L, static_cast<lua_Integer>(due));
        lua_setfield(L, -2, "due");
        const int st = pcallKeepingLocation(L, 1, 0);
        c.call = previous;
        c.tx = nullptr;
        if (st != LUA_OK) return lua_error(L);
        ++ran;
    }
    lua_pushinteger(L, ran);
    return 1;
}

}  // namespace klinikbox::lua::kbapi
