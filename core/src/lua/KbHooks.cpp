// kb.on, kb.subscribe, kb.reject and kb.array: registering hooks and shaping their payloads.
#include "lua/KbInternal.h"

#include <cstring>

namespace klinikbox::lua::kbapi {

// kb.array([t]) -> t marked as a JSON array (so that an empty one stays [])
int kbArray(lua_State* L) {
    if (lua_isnoneornil(L, 1)) {
        lua_settop(L, 0);
        lua_newtable(L);
    } else {
        luaL_checktype(L, 1, LUA_TTABLE);
        lua_settop(L, 1);
        if (lua_getmetatable(L, 1)) {
            // Only tables without a metatable (or already arrays) can be marked.
            lua_pushliteral(L, "__name");
            lua_rawget(L, -2);
            const bool isArray = lua_type(L, -1) == LUA_TSTRING && std::strcmp(lua_tostring(L, -1), "kb.array") == 0;
            if (!isArray) return luaL_argerror(L, 1, "a table without a metatable expected");
            lua_settop(L, 1);
        }
    }
    markArray(L, 1);
    return 1;
}

// ---- hooks ----

// kb.reject(reason): refuses the event (sync hooks only); final even if caught
int kbReject(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    std::size_t n = 0;
    const char* reason = luaL_checklstring(L, 1, &n);
    if (c.call != CallKind::SyncHook) return luaL_error(L, "kb.reject can only be used in a sync hook (kb.on)");
    if (n == 0) return luaL_argerror(L, 1, "the reason must not be empty (it is shown to the user)");
    Guard* g = guardOf(L);
    if (!cxx(c, [&] { g->rejectReason.assign(reason, std::min<std::size_t>(n, 1000)); })) fail(L, "kb.reject", c);
    g->rejected = true;
    lua_pushfstring(L, "kb.reject: %s", reason);
    return lua_error(L);
}

static Phase phaseOption(lua_State* L, int opts) {
    std::size_t n = 0;
    const char* p = optStringField(L, opts, "kb.on", "phase", &n);
    if (!p || std::strcmp(p, "decide") == 0) return Phase::Decide;
    if (std::strcmp(p, "validate") == 0) return Phase::Validate;
    if (std::strcmp(p, "finalize") == 0) return Phase::Finalize;
    luaL_error(L, "kb.on: phase must be \"validate\", \"decide\" or \"finalize\", not \"%s\"", p);
    return Phase::Decide;
}

// Checks that option `field` is absent or a list of strings; returns its length.
static lua_Integer nameList(lua_State* L, int opts, const char* field) {
    lua_getfield(L, opts, field);
    const int t = lua_type(L, -1);
    if (t == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    if (t != LUA_TTABLE) luaL_error(L, "kb.on: %s must be a list of script or hook names", field);
    const lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, -1));
    for (lua_Integer i = 1; i <= n; ++i) {
        if (lua_rawgeti(L, -1, i) != LUA_TSTRING) luaL_error(L, "kb.on: %s[%d] must be a string", field, static_cast<int>(i));
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return n;
}

// Copies option list `field` into `out`; "other.lua" means the hook "lua:other.lua".
static void copyNames(lua_State* L, ScriptContext& c, int opts, const char* field, std::vector<std::string>& out, lua_Integer n) {
    lua_getfield(L, opts, field);
    for (lua_Integer i = 1; i <= n; ++i) {
        lua_rawgeti(L, -1, i);
        std::size_t len = 0;
        const char* s = lua_tolstring(L, -1, &len);
        if (!cxx(c, [&] {
                std::string name(s, len);
                out.push_back(name.find(':') == std::string::npos ? "lua:" + name : name);
            }))
            fail(L, "kb.on", c);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

static void registerHook(lua_State* L, bool async) {
    ScriptContext& c = ctxOf(L);
    const char* fn = async ? "kb.subscribe" : "kb.on";
    requireLoading(L, c, fn);
    std::size_t n = 0;
    const char* event = luaL_checklstring(L, 1, &n);
    checkEventName(L, event, n, 1);
    const bool hasOptions = lua_type(L, 2) == LUA_TTABLE;
    const int fnIndex = hasOptions ? 3 : 2;
    luaL_checktype(L, fnIndex, LUA_TFUNCTION);
    Phase phase = Phase::Decide;
    lua_Integer nAfter = 0, nBefore = 0;
    bool batch = false;
    if (hasOptions && async) {
        checkOptionKeys(L, 2, fn, {"batch"});
        const int t = lua_getfield(L, 2, "batch");
        if (t != LUA_TNIL && t != LUA_TBOOLEAN) luaL_error(L, "kb.subscribe: batch must be true or false");
        batch = lua_toboolean(L, -1) != 0;
        lua_pop(L, 1);
        if (batch && c.mode != ScriptMode::Plugin)
            luaL_error(L, "kb.subscribe: {batch = true} is for Lua plugins (a hook script has no kb.db to write a batch with)");
    } else if (hasOptions) {
        checkOptionKeys(L, 2, fn, {"phase", "after", "before"});
        phase = phaseOption(L, 2);
        nAfter = nameList(L, 2, "after");
        nBefore = nameList(L, 2, "before");
    }
    const int line = callerLine(L);
    if (!cxx(c, [&] {
            HookRegistration h;
            h.event.assign(event, n);
            h.async = async;
            h.batch = batch;
            h.spec.phase = phase;
            h.line = line;
            c.hooks.push_back(std::move(h));
        }))
        fail(L, fn, c);
    const std::size_t self = c.hooks.size() - 1;
    if (hasOptions && !async) {
        copyNames(L, c, 2, "after", c.hooks[self].spec.after, nAfter);
        copyNames(L, c, 2, "before", c.hooks[self].spec.before, nBefore);
    }
    // One script hooks one event with one set of options: it is one hook on the bus.
    for (std::size_t i = 0; i < self; ++i) {
        const HookRegistration& o = c.hooks[i];
        if (o.async || async || o.event != c.hooks[self].event) continue;
        if (o.spec.phase != c.hooks[self].spec.phase || o.spec.after != c.hooks[self].spec.after ||
            o.spec.before != c.hooks[self].spec.before)
            luaL_error(L, "kb.on: %s is already hooked on line %d with other options (one phase/after/before per event)",
                       c.hooks[self].event.c_str(), o.line);
    }
    lua_pushvalue(L, fnIndex);
    c.hooks[self].ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

// kb.on(event, [options,] fn): a sync hook; fn(event) may change event.payload or kb.reject
int kbOn(lua_State* L) {
    registerHook(L, false);
    return 0;
}

// kb.subscribe(event, [{batch = true},] fn): an async handler, called after the event
// happened; with batch (Lua plugins), fn(events) gets an array of the events queued at once
int kbSubscribe(lua_State* L) {
    registerHook(L, true);
    return 0;
}

}  // namespace klinikbox::lua::kbapi
