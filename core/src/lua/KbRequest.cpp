// kb.request, kb.published and kb.run_due: what the tests of a Lua plugin use
// (`klinikbox lua test PLUGIN_DIR`) to call its routes, see its events and run its timers.
#include "lua/KbInternal.h"
#include "lua/Schedule.h"
#include "lua/ScriptInstance.h"

#include <klinikbox/PluginContext.h>
#include <klinikbox/Schema.h>

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
    // The headers as the box receives them: names in lower case (HTTP's are case-insensitive).
    // No C++ object lives on this frame across a Lua call that may raise: the state is c's.
    if (!cxx(c, [&] {
            c.testHeaders.clear();
            c.testRefused.reset();
            c.testJson.reset();
            c.testResponse.reset();
        }))
        fail(L, "kb.request", c);
    if (lua_getfield(L, 3, "headers") == LUA_TTABLE) {
        lua_pushnil(L);
        while (lua_next(L, -2) != 0) {
            if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
                return luaL_error(L, "kb.request: headers must be a table of strings");
            const char* name = lua_tostring(L, -2);
            const char* value = lua_tostring(L, -1);
            if (!cxx(c, [&] {
                    std::string lower = name;
                    for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
                    c.testHeaders.emplace_back(std::move(lower), value);
                }))
                fail(L, "kb.request", c);
            lua_pop(L, 1);
        }
    } else if (!lua_isnil(L, -1)) {
        return luaL_error(L, "kb.request: headers must be a table of strings");
    }
    lua_pop(L, 1);
    const bool hasJson = lua_getfield(L, 3, "json") != LUA_TNIL;
    if (hasJson) {
        if (!cxx(c, [&] { c.tree.clear(); })) fail(L, "kb.request", c);
        readValue(L, -1, c.tree, maxNodes(L), "kb.request json");
    }
    lua_pop(L, 1);
    int index = -1;
    // c.testRefused: what the box answers before the route runs; c.testJson: req.json, the
    // body read as JSON as the box reads it.
    if (!cxx(c, [&] {
            const std::string id = c.plugin ? c.plugin->pluginId() : std::string();
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
            for (const auto& [k, v] : c.testHeaders) req->headers[k] = v;
            if (body) {
                req->body.assign(body, bn);
            } else if (hasJson) {
                std::size_t pos = 0;
                std::ostringstream s;
                Poco::JSON::Stringifier::stringify(toVar(c.tree, pos), s);
                req->body = s.str();
                req->headers["content-type"] = "application/json";
            }
            bool wrongMethod = false;
            std::string pattern;
            for (std::size_t i = 0; i < c.routes.size(); ++i) {
                const auto& r = c.routes[i];
                const std::string full = r.path.rfind("/api/", 0) == 0 ? r.path : prefix + r.path;
                std::map<std::string, std::string> params;
                if (!matches(full, req->path, params)) continue;
                if (r.method != method) {
                    wrongMethod = true;
                    continue;
                }
                req->pathParams = params;
                index = static_cast<int>(i);
                pattern = full;
                break;
            }
            c.testRequest = std::move(req);
            Request& rq = *c.testRequest;
            // The box's checks before the route runs, in the dispatcher's order and with its
            // problem documents.
            try {
                if (index < 0 && wrongMethod)
                    throw Problem(405, "/problems/method-not-allowed", "Method not allowed", std::string(method) + " is not allowed here");
                if (index < 0) throw Problem(404, "/problems/not-found", "Not found", "no resource at " + rq.path);
                const auto& r = c.routes[static_cast<std::size_t>(index)];
                if (!r.access.anonymous) {
                    if (anonymous) throw Problem(401, "/problems/unauthenticated", "Not logged in", "log in to use " + pattern);
                    const auto ro = roleFromString(role);
                    if (!ro) throw std::invalid_argument(std::string("unknown role ") + role);
                    if (!r.access.roles.empty() && !r.access.roles.count(*ro))
                        throw Problem(403, "/problems/forbidden", "Forbidden",
                                      "your role (" + std::string(role) + ") may not use this resource");
                }
                if (!anonymous) {
                    const auto ro = roleFromString(role);
                    if (!ro) throw std::invalid_argument(std::string("unknown role ") + role);
                    Principal p;
                    p.userId = 1;
                    p.username = "test-" + std::string(role);
                    p.role = *ro;
                    p.hsaId = "SE2321000016-TEST";
                    rq.principal = p;
                }
                if (const auto twice = rq.repeatedQueryParam())
                    throw Problem(400, "/problems/duplicate-parameter", "Duplicate parameter",
                                  "a query parameter is given more than once");
                if (rq.method == "GET" || rq.method == "HEAD" || rq.method == "DELETE") rq.noBody();
                if (!r.query.empty())
                    for (const auto& [k, v] : rq.query)
                        if (std::find(r.query.begin(), r.query.end(), k) == r.query.end())
                            throw Problem(400, "/problems/unknown-parameter", "Unknown parameter", "unknown query parameter '" + k + "'");
                if (r.body)
                    if (auto p = schema::check(r.body, Poco::Dynamic::Var(rq.json()))) throw *p;
                if (!rq.body.empty() && rq.header("content-type").find("json") != std::string::npos) c.testJson = rq.json();
            } catch (const Problem& p) {
                c.testRefused = p;
            }
        }))
        fail(L, "kb.request", c);
    // The answer as the box sends it (c.testResponse), read back into Lua: {status,
    // content_type, headers, json (a JSON answer, problem documents too) | body}; `problem`
    // repeats a refusal's detail.
    auto pushResponse = [&](bool refusal) {
        const Response& resp = *c.testResponse;
        lua_createtable(L, 0, 5);
        lua_pushinteger(L, resp.status);
        lua_setfield(L, -2, "status");
        if (!resp.contentType.empty()) {
            lua_pushlstring(L, resp.contentType.data(), resp.contentType.size());
            lua_setfield(L, -2, "content_type");
        }
        lua_createtable(L, 0, static_cast<int>(resp.headers.size()));
        for (const auto& [k, v] : resp.headers) {
            lua_pushlstring(L, v.data(), v.size());
            lua_setfield(L, -2, k.c_str());
        }
        lua_setfield(L, -2, "headers");
        if (!resp.body.empty()) {
            const bool asJson = resp.contentType.find("json") != std::string::npos && cxx(c, [&] {
                c.tree.clear();
                appendVar(c.tree, parseJsonUnique(resp.body), maxNodes(L));
            });
            if (asJson) {
                pushTreeOf(L, c);
                lua_setfield(L, -2, "json");
            } else {
                lua_pushlstring(L, resp.body.data(), resp.body.size());
                lua_setfield(L, -2, "body");
            }
        }
        if (refusal) {
            lua_pushstring(L, c.testRefused->detail().c_str());
            lua_setfield(L, -2, "problem");
        }
    };
    if (c.testRefused) {
        if (!cxx(c, [&] {
                c.testResponse = std::make_unique<Response>(Response::json(c.testRefused->toJson(c.testRequest->path), c.testRefused->status()));
                c.testResponse->contentType = "application/problem+json";
            }))
            fail(L, "kb.request", c);
        pushResponse(true);
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
    // As the box gives them: lower-case names, without the session's and CSRF's.
    lua_newtable(L);
    for (const auto& [k, v] : rq.headers) {
        if (k == "cookie" || k == "authorization" || k == "x-csrf-token") continue;
        lua_pushlstring(L, v.data(), v.size());
        lua_setfield(L, -2, k.c_str());
    }
    lua_setfield(L, 4, "headers");
    lua_pushlstring(L, rq.body.data(), rq.body.size());
    lua_setfield(L, 4, "body");
    if (c.testJson) {
        if (!cxx(c, [&] {
                c.tree.clear();
                appendVar(c.tree, *c.testJson, maxNodes(L));
            }))
            fail(L, "kb.request", c);
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
    // The result, checked and converted as the box answers it (ScriptInstance::runRoute).
    if (!lua_isnil(L, -1) && !lua_istable(L, -1))
        return luaL_error(L, "a route must return a table such as {status = 200, json = {...}} or nothing");
    if (!cxx(c, [&] { c.tree.clear(); })) fail(L, "kb.request", c);
    if (!lua_isnil(L, -1)) readValue(L, -1, c.tree, maxNodes(L), "the route's result");
    if (!cxx(c, [&] {
            c.testResponse = std::make_unique<Response>(routeResponse(c.tree, c.testRequest->path, [](const std::string& why) {
                return LuaError(ErrorKind::Runtime, "the route's result", 0, "", why);
            }));
        }))
        fail(L, "kb.request", c);
    pushResponse(false);
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
