// The Lua sandbox: the state, its allocator budget, the wrapped base functions and the guards.
// Long because they share one set of invariants (memory budget, step budget, the longjmp rules
// of a C Lua) that are easier to check when read together.
#include "lua/Sandbox.h"

#include "lua/Guard.h"
#include "lua/Patterns.h"
#include "lua/ValueTree.h"

#include <klinikbox/Personnummer.h>

#include <lua.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace klinikbox::lua {

namespace {

// Registry keys (their addresses).
const char kBaseTemplateKey = 0;   // name -> safe global (libraries as tables to copy)
const char kEnvMetatableKey = 0;   // metatable of every script environment
const char kOsMetatableKey = 0;    // metatable of every script's os copy
const char kStringMetatableKey = 0;  // metatable of every script's string copy

// ---- allocator ----

void* allocate(void* ud, void* ptr, std::size_t osize, std::size_t nsize) {
    auto* g = static_cast<Guard*>(ud);
    const std::size_t old = ptr ? osize : 0;  // without ptr, osize is a type tag
    if (nsize == 0) {
        std::free(ptr);
        g->used -= old;
        return nullptr;
    }
    if (nsize > old && g->used - old + nsize > g->limits.memoryBytes) {
        // Lua answers a refusal with an emergency collection and one identical retry; a
        // refused retry means the script really is over its cap: trip, so that a pcall in
        // the script cannot carry on as if nothing happened.
        Guard::Refused& r = g->refused;
        if (r.valid && r.ptr == ptr && r.osize == osize && r.nsize == nsize) {
            r.valid = false;
            if (g->armed && g->trip == Trip::None) {
                g->trip = Trip::Memory;
                std::snprintf(g->tripMessage, sizeof g->tripMessage, "the script used more than its memory limit of %zu KiB",
                              g->limits.memoryBytes >> 10);
            }
        } else {
            r = Guard::Refused{ptr, osize, nsize, true};
        }
        return nullptr;
    }
    void* p = std::realloc(ptr, nsize);
    if (!p) return nullptr;
    if (nsize > old) g->refused.valid = false;
    g->used = g->used - old + nsize;
    if (g->used > g->peak) g->peak = g->used;
    return p;
}

int panic(lua_State* L) {
    const char* m = lua_tostring(L, -1);
    std::fprintf(stderr, "klinikbox: unprotected Lua error: %s\n", m ? m : "?");
    std::abort();
}

void copyText(char* dst, std::size_t n, const char* src) {
    std::snprintf(dst, n, "%s", src ? src : "");
}

// The innermost frame of a script (chunk "@name") with a line: where to point the user.
bool scriptFrame(lua_State* L, int fromLevel, lua_Debug& ar) {
    for (int level = fromLevel; lua_getstack(L, level, &ar); ++level) {
        if (!lua_getinfo(L, "Sl", &ar)) return false;
        if (ar.currentline > 0 && ar.source && ar.source[0] == '@') return true;
    }
    return false;
}


// ---- wrappers of base functions ----

// getmetatable(v) -> the metatable, except strings' shared one, which stays hidden.
int safeGetmetatable(lua_State* L) {
    luaL_checkany(L, 1);
    if (lua_type(L, 1) == LUA_TSTRING) {
        lua_pushnil(L);
        return 1;
    }
    lua_settop(L, 1);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, 1, 1);
    return 1;
}

// setmetatable(t, mt) -> t; refuses __gc and __close (they would run outside any budget)
// and __mode (weak tables).
int safeSetmetatable(lua_State* L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    const int t = lua_type(L, 2);
    luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
    if (t == LUA_TTABLE) {
        for (const char* k : {"__gc", "__close", "__mode"}) {
            lua_pushstring(L, k);
            const bool present = lua_rawget(L, 2) != LUA_TNIL;
            lua_pop(L, 1);
            if (present) {
                char msg[120];
                std::snprintf(msg, sizeof msg, "setmetatable: %s is not allowed in klinikbox scripts", k);
                tripAndRaise(L, Trip::Violation, msg);
            }
        }
    }
    lua_settop(L, 2);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, 2, 1);
    return 1;
}

// The message handler given to xpcall, wrapped: once a limit tripped, the script's handler
// is not run. (An error raised by the count hook calls the handler while Lua has hooks
// disabled, so a handler that loops could never be stopped.)
int guardedHandler(lua_State* L) {
    if (guardOf(L)->trip != Trip::None) return 1;  // keep the error object as it is
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

int finishXpcall(lua_State* L, int, lua_KContext) { return lua_gettop(L); }

// xpcall(f, handler, ...) -> ok, results... | false, handler's result
int safeXpcall(lua_State* L) {
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 2);
    lua_pushcclosure(L, guardedHandler, 1);
    lua_replace(L, 2);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_callk(L, lua_gettop(L) - 1, LUA_MULTRET, 0, finishXpcall);  // yieldable, like the original
    return finishXpcall(L, LUA_OK, 0);
}

// collectgarbage([opt]) -> the state's memory in KiB for "count", 0 otherwise: scripts
// cannot steer the collector.
int safeCollectgarbage(lua_State* L) {
    const char* opt = luaL_optstring(L, 1, "collect");
    if (std::strcmp(opt, "count") == 0) {
        lua_pushnumber(L, static_cast<lua_Number>(guardOf(L)->used) / 1024.0);
        return 1;
    }
    lua_pushinteger(L, 0);
    return 1;
}

// load(chunk [, name [, mode [, env]]]) -> function | nil, message. Text only (mode is
// always "t"); without env, the chunk shares the calling script's environment.
int safeLoad(lua_State* L) {
    std::size_t len = 0;
    const char* s = lua_tolstring(L, 1, &len);
    luaL_argexpected(L, s != nullptr, 1, "string");
    const char* name = luaL_optstring(L, 2, "=load");
    if (len > 0 && s[0] == LUA_SIGNATURE[0]) tripAndRaise(L, Trip::Violation, "load: precompiled Lua (bytecode) is not accepted");
    const int envType = lua_type(L, 4);
    luaL_argexpected(L, envType == LUA_TNONE || envType == LUA_TNIL || envType == LUA_TTABLE, 4, "table");
    if (luaL_loadbufferx(L, s, len, name, "t") != LUA_OK) {
        luaL_pushfail(L);
        lua_insert(L, -2);
        return 2;
    }
    if (envType == LUA_TTABLE) lua_pushvalue(L, 4);
    else lua_pushvalue(L, lua_upvalueindex(1));
    lua_setupvalue(L, -2, 1);
    return 1;
}

// Reading a name the sandbox removed is a violation with a clear message; any other
// undefined global reads as nil, as in plain Lua.
int forbiddenGlobal(lua_State* L) {
    if (lua_type(L, 2) == LUA_TSTRING) {
        const char* k = lua_tostring(L, 2);
        for (const char* f : {"io", "debug", "package", "require", "dofile", "loadfile", "loadstring", "module",
                              "setfenv", "getfenv", "newproxy", "warn"}) {
            if (std::strcmp(k, f) == 0) {
                char msg[120];
                std::snprintf(msg, sizeof msg, "%s is not available in klinikbox scripts", f);
                tripAndRaise(L, Trip::Violation, msg);
            }
        }
    }
    return 0;
}

int forbiddenOs(lua_State* L) {
    if (lua_type(L, 2) == LUA_TSTRING) {
        const char* k = lua_tostring(L, 2);
        for (const char* f : {"execute", "exit", "getenv", "remove", "rename", "tmpname", "setlocale"}) {
            if (std::strcmp(k, f) == 0) {
                char msg[120];
                std::snprintf(msg, sizeof msg, "os.%s is not available in klinikbox scripts (only time, date, clock, difftime)", f);
                tripAndRaise(L, Trip::Violation, msg);
            }
        }
    }
    return 0;
}

int forbiddenString(lua_State* L) {
    if (lua_type(L, 2) == LUA_TSTRING && std::strcmp(lua_tostring(L, 2), "dump") == 0)
        tripAndRaise(L, Trip::Violation, "string.dump is not available in klinikbox scripts");
    return 0;
}

// os.time([t]) -> epoch seconds: now from the box's clock, or t converted as usual.
int osTime(lua_State* L) {
    if (lua_isnoneornil(L, 1)) {
        const auto now = guardOf(L)->clock->now();
        lua_pushinteger(L, static_cast<lua_Integer>(std::chrono::system_clock::to_time_t(now)));
        return 1;
    }
    lua_settop(L, 1);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, 1, 1);
    return 1;
}

// os.date([format [, t]]) -> string or table; t defaults to now on the box's clock.
int osDate(lua_State* L) {
    const char* fmt = luaL_optstring(L, 1, "%c");
    std::size_t fmtLen = std::strlen(fmt);
    if (fmtLen > 256) luaL_argerror(L, 1, "format longer than 256 bytes");
    if (lua_isnoneornil(L, 2)) {
        const auto now = guardOf(L)->clock->now();
        lua_settop(L, 1);
        lua_pushstring(L, fmt);
        lua_replace(L, 1);
        lua_pushinteger(L, static_cast<lua_Integer>(std::chrono::system_clock::to_time_t(now)));
    }
    lua_settop(L, 2);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, 2, 1);
    return 1;
}

// string.rep(s, n [, sep]) -> string, refused past limits.maxStringBytes.
int safeRep(lua_State* L) {
    std::size_t len = 0, seplen = 0;
    luaL_checklstring(L, 1, &len);
    const lua_Integer n = luaL_checkinteger(L, 2);
    luaL_optlstring(L, 3, "", &seplen);
    const std::size_t cap = guardOf(L)->limits.maxStringBytes;
    if (n > 0) {
        const double total = static_cast<double>(len) * static_cast<double>(n) + static_cast<double>(seplen) * static_cast<double>(n - 1);
        if (total > static_cast<double>(cap)) {
            char msg[160];
            std::snprintf(msg, sizeof msg, "string.rep: the result (%.0f bytes) would exceed the limit of %zu bytes", total, cap);
            tripAndRaise(L, Trip::Memory, msg);
        }
    }
    lua_settop(L, 3);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, 3, 1);
    return 1;
}

// table.move(a1, f, e, t [, a2]) -> a2; at most a million elements per call (the C loop
// cannot be interrupted).
int safeMove(lua_State* L) {
    const lua_Integer f = luaL_checkinteger(L, 2);
    const lua_Integer e = luaL_checkinteger(L, 3);
    if (e >= f && (f <= 0 ? e > 1'000'000 + f : e - f >= 1'000'000))
        tripAndRaise(L, Trip::Violation, "table.move: at most 1000000 elements per call");
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

void wrapField(lua_State* L, int tableIdx, const char* name, lua_CFunction w) {
    tableIdx = lua_absindex(L, tableIdx);
    lua_getfield(L, tableIdx, name);
    lua_pushcclosure(L, w, 1);
    lua_setfield(L, tableIdx, name);
}

// Builds the libraries and the template every script environment is copied from.
int setupState(lua_State* L) {
    luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
    lua_pop(L, 1);
    for (const auto& [name, open] : {std::pair<const char*, lua_CFunction>{LUA_STRLIBNAME, luaopen_string},
                                     {LUA_TABLIBNAME, luaopen_table},
                                     {LUA_MATHLIBNAME, luaopen_math},
                                     {LUA_UTF8LIBNAME, luaopen_utf8},
                                     {LUA_COLIBNAME, luaopen_coroutine},
                                     {LUA_OSLIBNAME, luaopen_os}}) {
        luaL_requiref(L, name, open, 1);
        lua_pop(L, 1);
    }
    registerArrayMetatable(L);

    // The real string table is also the __index of every string's metatable, so the
    // guarded functions replace the originals in it (("x"):rep(1e9) meets the cap too).
    lua_getglobal(L, LUA_STRLIBNAME);
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    wrapField(L, -1, "rep", safeRep);
    installPatternFunctions(L, lua_gettop(L));
    lua_pop(L, 1);
    lua_getglobal(L, LUA_TABLIBNAME);
    wrapField(L, -1, "move", safeMove);
    lua_pop(L, 1);

    const int G = lua_gettop(L) + 1;
    lua_pushglobaltable(L);
    lua_newtable(L);  // the template
    const int T = G + 1;
    for (const char* k : {"assert", "error", "ipairs", "next", "pairs", "pcall", "rawequal", "rawget", "rawlen", "rawset",
                          "select", "tonumber", "tostring", "type", "_VERSION", LUA_STRLIBNAME, LUA_TABLIBNAME,
                          LUA_MATHLIBNAME, LUA_UTF8LIBNAME, LUA_COLIBNAME}) {
        lua_getfield(L, G, k);
        lua_setfield(L, T, k);
    }
    lua_getfield(L, G, "getmetatable");
    lua_pushcclosure(L, safeGetmetatable, 1);
    lua_setfield(L, T, "getmetatable");
    lua_getfield(L, G, "setmetatable");
    lua_pushcclosure(L, safeSetmetatable, 1);
    lua_setfield(L, T, "setmetatable");
    lua_getfield(L, G, "xpcall");
    lua_pushcclosure(L, safeXpcall, 1);
    lua_setfield(L, T, "xpcall");
    lua_pushcfunction(L, safeCollectgarbage);
    lua_setfield(L, T, "collectgarbage");
    lua_getfield(L, G, LUA_OSLIBNAME);
    lua_createtable(L, 0, 4);
    lua_getfield(L, -2, "time");
    lua_pushcclosure(L, osTime, 1);
    lua_setfield(L, -2, "time");
    lua_getfield(L, -2, "date");
    lua_pushcclosure(L, osDate, 1);
    lua_setfield(L, -2, "date");
    lua_getfield(L, -2, "clock");
    lua_setfield(L, -2, "clock");
    lua_getfield(L, -2, "difftime");
    lua_setfield(L, -2, "difftime");
    lua_setfield(L, T, LUA_OSLIBNAME);
    lua_pop(L, 1);  // original os
    lua_rawsetp(L, LUA_REGISTRYINDEX, &kBaseTemplateKey);

    // The real globals are never a script's environment; empty them all the same.
    lua_newtable(L);
    lua_rawseti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
    lua_pop(L, 1);

    auto metatable = [](lua_State* S, lua_CFunction index, const void* key) {
        lua_createtable(S, 0, 2);
        lua_pushcfunction(S, index);
        lua_setfield(S, -2, "__index");
        lua_pushboolean(S, 0);
        lua_setfield(S, -2, "__metatable");
        lua_rawsetp(S, LUA_REGISTRYINDEX, key);
    };
    metatable(L, forbiddenGlobal, &kEnvMetatableKey);
    metatable(L, forbiddenOs, &kOsMetatableKey);
    metatable(L, forbiddenString, &kStringMetatableKey);
    return 0;
}

// Pushes a shallow copy of the table at idx.
void pushCopy(lua_State* L, int idx) {
    idx = lua_absindex(L, idx);
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
    }
}

int pushEnvironmentC(lua_State* L) {
    lua_newtable(L);
    const int env = lua_gettop(L);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &kBaseTemplateKey);
    const int T = env + 1;
    lua_pushnil(L);
    while (lua_next(L, T) != 0) {
        if (lua_type(L, -1) == LUA_TTABLE) {
            pushCopy(L, -1);
            lua_remove(L, -2);
            const char* name = lua_tostring(L, -2);
            const void* key = std::strcmp(name, LUA_OSLIBNAME) == 0       ? &kOsMetatableKey
                              : std::strcmp(name, LUA_STRLIBNAME) == 0 ? &kStringMetatableKey
                                                                        : nullptr;
            if (key) {
                lua_rawgetp(L, LUA_REGISTRYINDEX, key);
                lua_setmetatable(L, -2);
            }
        }
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, env);
    }
    lua_pop(L, 1);  // template
    lua_pushvalue(L, env);
    lua_setfield(L, env, "_G");
    lua_pushvalue(L, env);
    lua_pushcclosure(L, safeLoad, 1);
    lua_setfield(L, env, "load");
    lua_rawgetp(L, LUA_REGISTRYINDEX, &kEnvMetatableKey);
    lua_setmetatable(L, env);
    return 1;
}

// Strips a leading "chunk:line: " from a Lua error message.
std::string stripPosition(const std::string& m) {
    const auto colon = m.find(':');
    if (colon == std::string::npos || colon == 0) return m;
    std::size_t i = colon + 1;
    const std::size_t digits = i;
    while (i < m.size() && m[i] >= '0' && m[i] <= '9') ++i;
    if (i == digits || i + 1 >= m.size() || m[i] != ':' || m[i + 1] != ' ') return m;
    if (m.find('\n') < colon) return m;
    return m.substr(i + 2);
}

int lineOf(const std::string& m, const std::string& script) {
    // "script:LINE: ..."
    if (m.compare(0, script.size(), script) != 0 || m.size() <= script.size() || m[script.size()] != ':') return 0;
    return std::atoi(m.c_str() + script.size() + 1);
}

}  // namespace

// ---- Guard helpers used by every binding ----

Guard* guardOf(lua_State* L) { return *static_cast<Guard**>(lua_getextraspace(L)); }

// Message handler of every protected call: remembers where the error was raised. An error
// rethrown by kb.fire keeps the location of the hook that raised it.
int messageHandler(lua_State* L) {
    Guard* g = guardOf(L);
    if (g->errorLine != 0) return 1;
    if (g->hookErrorLine != 0 && lua_type(L, 1) == LUA_TSTRING && g->hookErrorMessage == lua_tostring(L, 1)) {
        copyText(g->errorSource, sizeof g->errorSource, g->hookErrorSource);
        g->errorLine = g->hookErrorLine;
        g->errorFromHook = true;
        return 1;
    }
    lua_Debug ar;
    if (scriptFrame(L, 1, ar)) {
        copyText(g->errorSource, sizeof g->errorSource, ar.short_src);
        g->errorLine = ar.currentline;
    }
    return 1;
}

void recordHookError(lua_State* L, const char* context) {
    Guard* g = guardOf(L);
    // The inner handler put the hook's own location into errorSource/errorLine.
    copyText(g->hookErrorSource, sizeof g->hookErrorSource, g->errorSource);
    g->hookErrorLine = g->errorLine;
    copyText(g->hookErrorContext, sizeof g->hookErrorContext, context);
    try {
        g->hookErrorMessage = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
    } catch (...) {
        g->hookErrorMessage.clear();
    }
    g->errorSource[0] = '\0';
    g->errorLine = 0;
}

int pcallKeepingLocation(lua_State* L, int nargs, int nresults) {
    Guard* g = guardOf(L);
    const int fn = lua_gettop(L) - nargs;
    lua_pushcfunction(L, messageHandler);
    lua_insert(L, fn);
    // The inner handler records the function's own line; the outer call's would be the binding's.
    const int savedLine = g->errorLine;
    char savedSource[sizeof g->errorSource];
    copyText(savedSource, sizeof savedSource, g->errorSource);
    g->errorLine = 0;
    g->errorSource[0] = '\0';
    const int st = lua_pcall(L, nargs, nresults, fn);
    lua_remove(L, fn);
    if (st != LUA_OK && g->errorLine != 0) {
        recordHookError(L, "");
    } else {
        g->errorLine = savedLine;
        copyText(g->errorSource, sizeof g->errorSource, savedSource);
    }
    return st;
}

void countHook(lua_State* L, lua_Debug* ar) {
    Guard* g = guardOf(L);
    if (!g->armed) {
        // Lua code outside a budgeted call is a bug of the host: stop it rather than let it run unbounded.
        lua_sethook(L, countHook, LUA_MASKCOUNT, 1);
        lua_pushliteral(L, "klinikbox: Lua code ran outside a budgeted call");
        lua_error(L);
    }
    if (g->trip == Trip::None) {
        g->executed += lua_gethookcount(L);
        const bool overBudget = g->executed > g->limits.instructions;
        const bool overTime = std::chrono::steady_clock::now() >= g->deadline;
        if (!overBudget && !overTime) {
            if (lua_gethookcount(L) != kHookEvery) lua_sethook(L, countHook, LUA_MASKCOUNT, kHookEvery);  // a thread left sticky by an earlier call
            return;
        }
        g->trip = overBudget ? Trip::Instructions : Trip::Deadline;
        if (lua_getinfo(L, "Sl", ar) && ar->currentline > 0) {
            copyText(g->tripSource, sizeof g->tripSource, ar->short_src);
            g->tripLine = ar->currentline;
        }
    }
    // Sticky: every further instruction of this thread raises again.
    lua_sethook(L, countHook, LUA_MASKCOUNT, 1);
    lua_pushliteral(L, "klinikbox: the script was stopped (limit exceeded)");
    lua_error(L);
}

void tripAndRaise(lua_State* L, Trip trip, const char* message) {
    Guard* g = guardOf(L);
    if (g->trip == Trip::None) {
        g->trip = trip;
        copyText(g->tripMessage, sizeof g->tripMessage, message);
        lua_Debug ar;
        if (scriptFrame(L, 0, ar)) {
            copyText(g->tripSource, sizeof g->tripSource, ar.short_src);
            g->tripLine = ar.currentline;
        }
    }
    lua_sethook(L, countHook, LUA_MASKCOUNT, 1);
    lua_pushstring(L, message);
    lua_error(L);
    std::abort();  // not reached
}

void chargeSteps(lua_State* L, long long steps) {
    Guard* g = guardOf(L);
    g->executed += steps;
    if (g->trip != Trip::None) tripAndRaise(L, g->trip, g->tripMessage);
    if (g->executed > g->limits.instructions) tripAndRaise(L, Trip::Instructions, "in pattern matching");
    if (std::chrono::steady_clock::now() >= g->deadline) tripAndRaise(L, Trip::Deadline, "in pattern matching");
}

// ---- Sandbox ----

Sandbox::Sandbox(const Limits& limits, const Clock& clock)
    : guard_(std::make_unique<Guard>()), L_(nullptr, lua_close) {
    guard_->limits = limits;
    guard_->clock = &clock;
    L_.reset(lua_newstate(allocate, guard_.get()));
    if (!L_) throw LuaError(ErrorKind::Memory, "", 0, "", "cannot create a Lua state within the memory limit");
    lua_State* L = L_.get();
    *static_cast<Guard**>(lua_getextraspace(L)) = guard_.get();
    lua_atpanic(L, panic);
    lua_sethook(L, countHook, LUA_MASKCOUNT, kHookEvery);
    lua_pushcfunction(L, setupState);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
        const std::string m = lua_tostring(L, -1) ? lua_tostring(L, -1) : "unknown error";
        throw LuaError(ErrorKind::Memory, "", 0, "", "cannot set up a Lua state: " + m);
    }
}

Sandbox::~Sandbox() = default;

const Limits& Sandbox::limits() const { return guard_->limits; }
std::size_t Sandbox::memoryUsed() const { return guard_->used; }
std::size_t Sandbox::memoryPeak() const { return guard_->peak; }
void Sandbox::setClock(const Clock& clock) { guard_->clock = &clock; }
const Clock& Sandbox::clock() const { return *guard_->clock; }

void Sandbox::pushEnvironment() {
    lua_State* L = L_.get();
    lua_pushcfunction(L, pushEnvironmentC);
    lua_call(L, 0, 1);  // callers are inside a Call: errors are caught by its pcall
}

void Sandbox::compile(std::string_view source, const std::string& script) {
    lua_State* L = L_.get();
    if (!source.empty() && source[0] == LUA_SIGNATURE[0])
        throw LuaError(ErrorKind::Sandbox, script, 0, "load", "precompiled Lua (bytecode) is not accepted");
    const std::string chunk = "@" + script;
    const int st = luaL_loadbufferx(L, source.data(), source.size(), chunk.c_str(), "t");
    if (st != LUA_OK) {
        const char* m = lua_tostring(L, -1);
        const std::string msg = m ? m : "cannot compile";
        lua_pop(L, 1);
        if (st == LUA_ERRMEM) throw LuaError(ErrorKind::Memory, script, 0, "load", "not enough memory to compile the script");
        throw LuaError(ErrorKind::Syntax, script, lineOf(msg, script), "load", stripPosition(msg));
    }
}

// ---- Call ----

Sandbox::Call::Call(Sandbox& sb, std::string script, std::string context)
    : sb_(sb), ownScript_(std::move(script)), ownContext_(std::move(context)), script_(ownScript_), context_(ownContext_) {
    arm();
}

Sandbox::Call::Call(Sandbox& sb, const std::string& script, const std::string& context, Borrowed)
    : sb_(sb), script_(script), context_(context) {
    arm();
}

void Sandbox::Call::arm() {
    lua_State* L = sb_.state();
    base_ = lua_gettop(L);
    Guard& g = *sb_.guard_;
    g.executed = 0;
    g.trip = Trip::None;
    g.tripMessage[0] = g.tripSource[0] = g.errorSource[0] = g.hookErrorSource[0] = g.hookErrorContext[0] = '\0';
    g.tripLine = g.errorLine = g.hookErrorLine = 0;
    g.hookErrorMessage.clear();
    g.errorFromHook = false;
    g.rejected = false;
    g.rejectReason.clear();
    g.logLines = g.droppedLogLines = 0;
    g.refused.valid = false;
    g.deadline = std::chrono::steady_clock::now() + g.limits.time;
    lua_sethook(L, countHook, LUA_MASKCOUNT, kHookEvery);
    g.armed = true;
}

Sandbox::Call::~Call() {
    Guard& g = *sb_.guard_;
    g.armed = false;
    lua_State* L = sb_.state();
    if (g.trip != Trip::None) lua_sethook(L, countHook, LUA_MASKCOUNT, kHookEvery);
    if (lua_gettop(L) > base_) lua_settop(L, base_);
}

void* Sandbox::Call::takeBody(lua_State* L) {
    void* body = lua_touserdata(L, 1);
    lua_remove(L, 1);
    return body;
}

void Sandbox::Call::pushTrampoline(int (*fn)(lua_State*), void* body, int nargs) {
    lua_State* L = sb_.state();
    if (!lua_checkstack(L, 4)) throw LuaError(ErrorKind::Memory, script_, 0, context_, "the Lua stack cannot grow");
    lua_pushcfunction(L, fn);
    lua_pushlightuserdata(L, body);
    lua_rotate(L, -(nargs + 2), 2);
}

const std::string& Sandbox::Call::rejectReason() const { return sb_.guard_->rejectReason; }

bool Sandbox::Call::run(int nargs, int nresults) {
    lua_State* L = sb_.state();
    Guard& g = *sb_.guard_;
    if (!lua_checkstack(L, 2)) throw LuaError(ErrorKind::Memory, script_, 0, context_, "the Lua stack cannot grow");
    const int fnIndex = lua_gettop(L) - nargs;
    lua_pushcfunction(L, messageHandler);
    lua_insert(L, fnIndex);
    g.errorLine = 0;
    g.errorFromHook = false;
    const int status = lua_pcall(L, nargs, nresults, fnIndex);
    lua_remove(L, fnIndex);
    if (g.rejected && g.trip == Trip::None) {
        // kb.reject is final, whether its error reached us or the script caught it.
        lua_settop(L, fnIndex - 1);
        return false;
    }
    if (status != LUA_OK || g.trip != Trip::None) {
        if (status == LUA_OK) lua_pushnil(L);  // the script caught the kill: still a failure
        throw error(status);
    }
    return true;
}

LuaError Sandbox::Call::error(int status) {
    lua_State* L = sb_.state();
    Guard& g = *sb_.guard_;
    std::string raw;
    if (lua_type(L, -1) == LUA_TSTRING) raw = lua_tostring(L, -1);
    else raw = std::string("error object is a ") + luaL_typename(L, -1) + " value";
    lua_pop(L, 1);
    raw = maskPersonnummerInText(raw);

    ErrorKind kind = ErrorKind::Runtime;
    std::string message = stripPosition(raw);
    int line = g.errorLine;
    switch (g.trip) {
        case Trip::Instructions:
            kind = ErrorKind::Timeout;
            message = "the script ran past its limit of " + std::to_string(g.limits.instructions) + " instructions";
            if (g.tripMessage[0]) message += " (" + std::string(g.tripMessage) + ")";
            line = g.tripLine;
            break;
        case Trip::Deadline:
            kind = ErrorKind::Timeout;
            message = "the script ran past its time limit of " + std::to_string(g.limits.time.count()) + " ms";
            if (g.tripMessage[0]) message += " (" + std::string(g.tripMessage) + ")";
            line = g.tripLine;
            break;
        case Trip::Memory:
            kind = ErrorKind::Memory;
            message = g.tripMessage;
            if (g.tripLine) line = g.tripLine;
            break;
        case Trip::Violation:
            kind = ErrorKind::Sandbox;
            message = g.tripMessage;
            line = g.tripLine;
            break;
        case Trip::None:
            if (status == LUA_ERRMEM) {
                kind = ErrorKind::Memory;
                message = "the script used more than its memory limit of " + std::to_string(g.limits.memoryBytes >> 10) + " KiB";
            } else if (status == LUA_ERRSYNTAX) {
                kind = ErrorKind::Syntax;
            }
            break;
    }
    std::string script = script_;
    const char* source = (kind == ErrorKind::Runtime || kind == ErrorKind::Syntax) ? g.errorSource : g.tripSource;
    if (line > 0 && source[0]) script = source;
    if (line == 0) line = lineOf(raw, script_);
    std::string context = context_;
    if (g.errorFromHook && kind == ErrorKind::Runtime && g.hookErrorContext[0]) context += std::string(", in ") + g.hookErrorContext;
    return LuaError(kind, script, line, context, message);
}

}  // namespace klinikbox::lua
