// kb.schedule and require: a Lua plugin's timers and its own modules.
#include "lua/KbInternal.h"

#include <cstring>

namespace klinikbox::lua::kbapi {

namespace {

bool jobNameOk(const char* s, std::size_t n) {
    if (n == 0 || n > 60) return false;
    for (std::size_t i = 0; i < n; ++i) {
        const char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.')) return false;
    }
    return true;
}

// "HH:MM" -> minutes after midnight, or -1.
int parseAt(const char* s, std::size_t n) {
    if (n != 5 || s[2] != ':') return -1;
    for (int i : {0, 1, 3, 4})
        if (s[i] < '0' || s[i] > '9') return -1;
    const int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 23 || m > 59) return -1;
    return h * 60 + m;
}

bool moduleNameOk(const char* s, std::size_t n) {
    if (n == 0 || n > 64 || s[0] == '.' || s[n - 1] == '.') return false;
    for (std::size_t i = 0; i < n; ++i) {
        const char ch = s[i];
        if (ch == '.' && i > 0 && s[i - 1] == '.') return false;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '.')) return false;
    }
    return true;
}

}  // namespace

// kb.schedule(name, {every_minutes = N} | {at = "HH:MM"}, fn): fn({name =, due =}) runs every
// N minutes, or daily at HH:MM local time; the box keeps when it is next due across restarts
int kbSchedule(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    requirePlugin(L, c, "kb.schedule");
    requireLoading(L, c, "kb.schedule");
    std::size_t n = 0;
    const char* name = luaL_checklstring(L, 1, &n);
    luaL_checktype(L, 2, LUA_TTABLE);
    luaL_checktype(L, 3, LUA_TFUNCTION);
    if (!jobNameOk(name, n)) return luaL_argerror(L, 1, "a name of 1-60 characters a-z, 0-9, '_', '-' or '.' expected");
    checkOptionKeys(L, 2, "kb.schedule", {"every_minutes", "at"});
    lua_getfield(L, 2, "every_minutes");
    lua_Integer every = 0;
    const bool hasEvery = !lua_isnil(L, -1);
    if (hasEvery) {
        int isnum = 0;
        every = lua_tointegerx(L, -1, &isnum);
        if (!isnum || every < 1 || every > 7 * 24 * 60)
            return luaL_error(L, "kb.schedule: every_minutes must be an integer 1-10080");
    }
    lua_pop(L, 1);
    std::size_t an = 0;
    const char* at = optStringField(L, 2, "kb.schedule", "at", &an);
    if (hasEvery == (at != nullptr)) return luaL_error(L, "kb.schedule: give either every_minutes = N or at = \"HH:MM\"");
    const int atMinute = at ? parseAt(at, an) : -1;
    if (at && atMinute < 0) return luaL_error(L, "kb.schedule: at must be \"HH:MM\" (00:00-23:59), not \"%s\"", at);
    for (const auto& j : c.jobs)
        if (j.name.size() == n && std::memcmp(j.name.data(), name, n) == 0)
            return luaL_error(L, "kb.schedule: a job named \"%s\" is already scheduled", name);
    const int line = callerLine(L);
    if (!cxx(c, [&] {
            JobRegistration j;
            j.name.assign(name, n);
            j.everyMinutes = static_cast<int>(every);
            j.atMinute = atMinute;
            j.line = line;
            c.jobs.push_back(std::move(j));
        }))
        fail(L, "kb.schedule", c);
    lua_pushvalue(L, 3);
    c.jobs.back().ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

// require(name) -> the value of the plugin's file lua/<name>.lua ("a.b" is lua/a/b.lua),
// run once per Lua state in the plugin's environment; only the plugin's own verified files
int kbRequire(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    std::size_t n = 0;
    const char* name = luaL_checklstring(L, 1, &n);
    if (!c.files) violation(L, "require", " is only available in Lua plugins (their own lua/ files)");
    if (!moduleNameOk(name, n)) return luaL_argerror(L, 1, "a module name such as \"offers\" or \"db.queries\" expected");
    lua_settop(L, 1);
    if (c.modulesRef == 0) {
        lua_newtable(L);
        c.modulesRef = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, c.modulesRef);  // 2: the cache
    lua_pushvalue(L, 1);
    const int cached = lua_rawget(L, 2);
    if (cached == LUA_TBOOLEAN && !lua_toboolean(L, -1))
        return luaL_error(L, "require: \"%s\" requires itself (a cycle of modules)", name);
    if (cached != LUA_TNIL) return 1;
    lua_pop(L, 1);
    // lua/<name with dots as folders>.lua, and its chunk name "@<plugin id>/lua/....lua".
    bool found = false;
    if (!cxx(c, [&] {
            std::string path = "lua/" + std::string(name, n);
            for (std::size_t i = 4; i < path.size(); ++i)
                if (path[i] == '.') path[i] = '/';
            path += ".lua";
            auto it = c.files->find(path);
            if (it == c.files->end()) return;
            found = true;
            c.text = it->second;
            const auto slash = c.name.find('/');
            c.error = "@" + (slash == std::string::npos ? c.name : c.name.substr(0, slash)) + "/" + path;
        }))
        fail(L, "require", c);
    if (!found) return luaL_error(L, "require: the plugin has no module \"%s\" (expected lua/%s.lua)", name, name);
    if (!c.text.empty() && c.text[0] == LUA_SIGNATURE[0]) violation(L, "require", ": precompiled Lua (bytecode) is not accepted");
    if (luaL_loadbufferx(L, c.text.data(), c.text.size(), c.error.c_str(), "t") != LUA_OK) return lua_error(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, c.envRef);
    lua_setupvalue(L, -2, 1);
    // Marks the module as loading (a cycle is an error, not an endless recursion).
    lua_pushvalue(L, 1);
    lua_pushboolean(L, 0);
    lua_rawset(L, 2);
    lua_pushvalue(L, 1);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        lua_pushvalue(L, 1);
        lua_pushnil(L);
        lua_rawset(L, 2);
        return lua_error(L);
    }
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
    }
    lua_pushvalue(L, 1);
    lua_pushvalue(L, -2);
    lua_rawset(L, 2);
    return 1;
}

}  // namespace klinikbox::lua::kbapi
