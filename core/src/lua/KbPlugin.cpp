// kb.route and kb.page: what a Lua plugin registers while it loads.
#include "lua/KbInternal.h"

#include <cstring>

namespace klinikbox::lua::kbapi {

static bool isMethod(const char* m) {
    for (const char* k : {"GET", "POST", "PUT", "PATCH", "DELETE"})
        if (std::strcmp(k, m) == 0) return true;
    return false;
}

// Reads options.roles / options.anonymous into `access` (fields of the table at opts).
static void readAccess(lua_State* L, ScriptContext& c, int opts, const char* fn, Access& access) {
    lua_getfield(L, opts, "anonymous");
    const bool anonymous = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (lua_getfield(L, opts, "roles") == LUA_TTABLE) {
        const auto n = static_cast<lua_Integer>(lua_rawlen(L, -1));
        for (lua_Integer i = 1; i <= n; ++i) {
            lua_rawgeti(L, -1, i);
            const char* r = lua_tostring(L, -1);
            bool known = false;
            if (!cxx(c, [&] {
                    if (auto role = r ? roleFromString(r) : std::nullopt) {
                        access.roles.insert(*role);
                        known = true;
                    }
                }))
                fail(L, fn, c);
            if (!known) luaL_error(L, "%s: unknown role '%s' (admin, staff, auditor, it)", fn, r ? r : "?");
            lua_pop(L, 1);
        }
    } else if (!lua_isnil(L, -1)) {
        luaL_error(L, "%s: roles must be a list such as {\"staff\"}", fn);
    }
    lua_pop(L, 1);
    access.anonymous = anonymous;
}

// kb.route(method, path, [options,] fn): fn(request) -> {status =, json = | body =, content_type =, headers =}
int kbRoute(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    requirePlugin(L, c, "kb.route");
    requireLoading(L, c, "kb.route");
    const char* method = luaL_checkstring(L, 1);
    std::size_t pn = 0;
    const char* path = luaL_checklstring(L, 2, &pn);
    if (!isMethod(method)) return luaL_argerror(L, 1, "GET, POST, PUT, PATCH or DELETE expected");
    if (pn == 0 || pn > 200 || path[0] != '/' || std::strpbrk(path, " \t\r\n?#"))
        return luaL_argerror(L, 2, "a path such as \"/report\" or \"/visits/{id}\" expected");
    const bool hasOptions = lua_type(L, 3) == LUA_TTABLE;
    const int fnIndex = hasOptions ? 4 : 3;
    luaL_checktype(L, fnIndex, LUA_TFUNCTION);
    if (hasOptions) checkOptionKeys(L, 3, "kb.route", {"roles", "anonymous", "summary", "body", "status", "problems", "query"});
    std::size_t sn = 0;
    const char* summary = hasOptions ? optStringField(L, 3, "kb.route", "summary", &sn) : nullptr;
    // The route's contract (docs/lua-api.md): a JSON Schema for the body, the success status
    // and the statuses the function refuses with. The box validates the body against the
    // schema before the function runs, and the OpenAPI document publishes the same.
    int status = 0;
    std::vector<int> problems;
    std::vector<std::string> query;
    bool hasBody = false;
    if (hasOptions) {
        if (lua_getfield(L, 3, "status") != LUA_TNIL) {
            if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 200 || lua_tointeger(L, -1) > 299)
                return luaL_error(L, "kb.route: status must be the success status, an integer 200-299");
            status = static_cast<int>(lua_tointeger(L, -1));
        }
        lua_pop(L, 1);
        if (lua_getfield(L, 3, "problems") != LUA_TNIL) {
            if (!lua_istable(L, -1)) return luaL_error(L, "kb.route: problems must be a list of statuses such as {404, 409}");
            const auto n = static_cast<lua_Integer>(lua_rawlen(L, -1));
            for (lua_Integer i = 1; i <= n; ++i) {
                lua_rawgeti(L, -1, i);
                if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 400 || lua_tointeger(L, -1) > 599)
                    return luaL_error(L, "kb.route: problems must be statuses 400-599");
                const int st = static_cast<int>(lua_tointeger(L, -1));
                if (!cxx(c, [&] { problems.push_back(st); })) fail(L, "kb.route", c);
                lua_pop(L, 1);
            }
        }
        lua_pop(L, 1);
        if (lua_getfield(L, 3, "query") != LUA_TNIL) {
            if (!lua_istable(L, -1)) return luaL_error(L, "kb.route: query must be a list of parameter names such as {\"month\"}");
            const auto n = static_cast<lua_Integer>(lua_rawlen(L, -1));
            for (lua_Integer i = 1; i <= n; ++i) {
                lua_rawgeti(L, -1, i);
                std::size_t qn = 0;
                const char* q = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &qn) : nullptr;
                bool ok = q && qn > 0 && qn <= 64;
                for (std::size_t k = 0; ok && k < qn; ++k)
                    ok = (q[k] >= 'a' && q[k] <= 'z') || (q[k] >= '0' && q[k] <= '9') || q[k] == '_';
                if (!ok) return luaL_error(L, "kb.route: query names are 1-64 characters a-z, 0-9 and _");
                if (!cxx(c, [&] { query.emplace_back(q, qn); })) fail(L, "kb.route", c);
                lua_pop(L, 1);
            }
        }
        lua_pop(L, 1);
        if (lua_getfield(L, 3, "body") != LUA_TNIL) {
            if (!lua_istable(L, -1)) return luaL_error(L, "kb.route: body must be a JSON Schema table such as {type = \"object\", ...}");
            if (!cxx(c, [&] { c.tree.clear(); })) fail(L, "kb.route", c);
            readValue(L, -1, c.tree, maxNodes(L), "kb.route body");
            hasBody = true;
        }
        lua_pop(L, 1);
    }
    const int line = callerLine(L);
    if (!cxx(c, [&] {
            RouteRegistration r;
            r.method = method;
            r.path.assign(path, pn);
            if (summary) r.summary.assign(summary, sn);
            r.status = status;
            r.problems = problems;
            r.query = query;
            if (hasBody) {
                std::size_t pos = 0;
                const auto v = toVar(c.tree, pos);
                if (v.type() != typeid(Poco::JSON::Object::Ptr)) throw std::invalid_argument("body must be a JSON Schema object");
                r.body = v.extract<Poco::JSON::Object::Ptr>();
            }
            r.line = line;
            r.access = Access::loggedIn();
            c.routes.push_back(std::move(r));
        }))
        fail(L, "kb.route", c);
    if (hasOptions) readAccess(L, c, 3, "kb.route", c.routes.back().access);
    lua_pushvalue(L, fnIndex);
    c.routes.back().ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

// kb.page{id =, title =, script =, roles = {...}}: a console page of the plugin
int kbPage(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    requirePlugin(L, c, "kb.page");
    requireLoading(L, c, "kb.page");
    luaL_checktype(L, 1, LUA_TTABLE);
    checkOptionKeys(L, 1, "kb.page", {"id", "title", "script", "roles"});
    std::size_t a = 0, b = 0, d = 0;
    const char* id = optStringField(L, 1, "kb.page", "id", &a);
    const char* title = optStringField(L, 1, "kb.page", "title", &b);
    const char* script = optStringField(L, 1, "kb.page", "script", &d);
    if (!id || !title || !script) return luaL_error(L, "kb.page: id, title and script are required");
    if (!cxx(c, [&] {
            c.pages.push_back(PageRegistration{std::string(id, a), std::string(title, b), std::string(script, d), Access{}});
        }))
        fail(L, "kb.page", c);
    readAccess(L, c, 1, "kb.page", c.pages.back().access);
    // Without roles a page is for admin and it.
    if (!cxx(c, [&] {
            Access& access = c.pages.back().access;
            if (access.roles.empty() && !access.anonymous) access = Access::only({Role::Admin, Role::It});
        }))
        fail(L, "kb.page", c);
    return 0;
}

}  // namespace klinikbox::lua::kbapi
