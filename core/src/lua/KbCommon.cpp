// The helpers every kb.* module uses: raising errors and sandbox violations, checking the
// load phase and the script mode, reading option tables and event names.
#include "lua/KbInternal.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace klinikbox::lua::kbapi {

[[noreturn]] void fail(lua_State* L, const char* fn, ScriptContext& c) {
    luaL_error(L, "%s: %s", fn, c.error.empty() ? "out of memory" : c.error.c_str());
    std::abort();
}

// A sandbox violation: "<a><b>", sticky for the rest of the call.
[[noreturn]] void violation(lua_State* L, const char* a, const char* b) {
    char msg[240];
    std::snprintf(msg, sizeof msg, "%s%s", a, b);
    tripAndRaise(L, Trip::Violation, msg);
}

int callerLine(lua_State* L) {
    lua_Debug ar;
    if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "l", &ar)) return ar.currentline;
    return 0;
}

void requireLoading(lua_State* L, const ScriptContext& c, const char* fn) {
    if (c.call != CallKind::Load) luaL_error(L, "%s can only be used at the top level of the script (while it loads)", fn);
}

void requirePlugin(lua_State* L, const ScriptContext& c, const char* fn) {
    if (c.mode != ScriptMode::Plugin || !c.plugin) violation(L, fn, " is only available in Lua plugins");
}

void requireTest(lua_State* L, const ScriptContext& c, const char* fn) {
    if (!c.testing) luaL_error(L, "%s is only available in tests (klinikbox lua test)", fn);
}

void pushTreeOf(lua_State* L, ScriptContext& c) {
    std::size_t pos = 0;
    pushTree(L, c.tree, pos);
}

std::size_t maxNodes(lua_State* L) { return guardOf(L)->limits.maxValueNodes; }

// Field `name` of the options table at idx: string or absent. Raises on another type.
const char* optStringField(lua_State* L, int idx, const char* fn, const char* name, std::size_t* len) {
    lua_getfield(L, idx, name);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return nullptr;
    }
    if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "%s: %s must be a string", fn, name);
    const char* s = lua_tolstring(L, -1, len);
    lua_pop(L, 1);  // still referenced by the table, so the pointer stays valid
    return s;
}

void checkOptionKeys(lua_State* L, int idx, const char* fn, std::initializer_list<const char*> allowed) {
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "%s: option names must be strings", fn);
        const char* k = lua_tostring(L, -1);
        bool ok = false;
        for (const char* a : allowed) ok = ok || std::strcmp(a, k) == 0;
        if (!ok) {
            char list[160] = {};
            for (const char* a : allowed) {
                std::strncat(list, list[0] ? ", " : "", sizeof list - std::strlen(list) - 1);
                std::strncat(list, a, sizeof list - std::strlen(list) - 1);
            }
            luaL_error(L, "%s: unknown option '%s' (known: %s)", fn, k, list);
        }
    }
}

// Event names are "<domain>.<what>": lower-case letters, digits, '_' and dots.
void checkEventName(lua_State* L, const char* s, std::size_t n, int arg) {
    bool ok = n > 0 && n <= 100 && s[0] >= 'a' && s[0] <= 'z' && std::memchr(s, '.', n) && s[n - 1] != '.';
    for (std::size_t i = 0; ok && i < n; ++i) {
        const char ch = s[i];
        ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '.';
    }
    if (!ok) luaL_argerror(L, arg, "an event name like \"booking.requested\" expected");
}

}  // namespace klinikbox::lua::kbapi
