// kb.test, kb.fire, kb.sent, kb.set_now and the assert_* helpers of `klinikbox lua test`.
#include "lua/KbInternal.h"

#include <klinikbox/Clock.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include <chrono>
#include <cstdio>
#include <cstring>

namespace klinikbox::lua::kbapi {

// kb.test(name, fn): a test case for `klinikbox lua test`; ignored when the script is deployed
int kbTest(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    std::size_t n = 0;
    const char* name = luaL_checklstring(L, 1, &n);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    requireLoading(L, c, "kb.test");
    if (!c.testing) return 0;
    const int line = callerLine(L);
    if (!cxx(c, [&] { c.tests.push_back(TestRegistration{std::string(name, n), 0, line}); })) fail(L, "kb.test", c);
    lua_pushvalue(L, 2);
    c.tests.back().ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

// "booking.requested, phase decide" or "booking.created, kb.subscribe": the hook, for errors.
void hookLabel(const HookRegistration& h, char* buf, std::size_t n) {
    const char* phase = h.spec.phase == Phase::Validate ? "validate" : h.spec.phase == Phase::Finalize ? "finalize" : "decide";
    if (h.async) std::snprintf(buf, n, "%s, kb.subscribe", h.event.c_str());
    else std::snprintf(buf, n, "%s, phase %s", h.event.c_str(), phase);
}

// Runs the handlers of `event` (kind sync or async) with the event table at evIdx.
// Returns true when a sync hook vetoed. Rethrows a handler's error.
static bool runTestHandlers(lua_State* L, ScriptContext& c, const char* event, bool async, int evIdx) {
    Guard* g = guardOf(L);
    const CallKind previous = c.call;
    for (std::size_t i = 0; i < c.hooks.size(); ++i) {
        if (c.hooks[i].async != async || c.hooks[i].event != event) continue;
        c.call = async ? CallKind::AsyncHandler : CallKind::SyncHook;
        lua_pushcfunction(L, messageHandler);
        const int handler = lua_gettop(L);
        lua_rawgeti(L, LUA_REGISTRYINDEX, c.hooks[i].ref);
        if (c.hooks[i].batch) {
            lua_createtable(L, 1, 0);  // a batch handler gets the fired event as a batch of one
            lua_pushvalue(L, evIdx);
            lua_rawseti(L, -2, 1);
        } else {
            lua_pushvalue(L, evIdx);
        }
        // The handler records the hook's own line; the outer call's would be kb.fire's.
        const int savedLine = g->errorLine;
        g->errorLine = 0;
        const int st = lua_pcall(L, 1, 0, handler);
        lua_remove(L, handler);
        c.call = previous;
        if (g->rejected) {
            if (st != LUA_OK) lua_pop(L, 1);
            g->errorLine = savedLine;
            return true;
        }
        if (st != LUA_OK) {
            char where[120];
            hookLabel(c.hooks[i], where, sizeof where);
            recordHookError(L, where);
            lua_error(L);
        }
        g->errorLine = savedLine;
    }
    return false;
}

// kb.fire(event, payload [, user]) -> {vetoed = bool, reason = string|nil, payload = table|nil}
// Test mode: runs this script's sync hooks for the event as the box would (payload
// converted to JSON and back), then, unless vetoed, its kb.subscribe handlers.
int kbFire(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    requireTest(L, c, "kb.fire");
    std::size_t n = 0;
    const char* event = luaL_checklstring(L, 1, &n);
    checkEventName(L, event, n, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    if (!lua_isnoneornil(L, 3)) luaL_checktype(L, 3, LUA_TTABLE);
    lua_settop(L, 3);
    if (!cxx(c, [&] { c.tree.clear(); })) fail(L, "kb.fire", c);
    readValue(L, 2, c.tree, maxNodes(L), "kb.fire payload");
    lua_createtable(L, 0, 4);  // 4: the event
    lua_pushvalue(L, 1);
    lua_setfield(L, 4, "name");
    pushTreeOf(L, c);
    lua_setfield(L, 4, "payload");
    lua_pushliteral(L, "test");
    lua_setfield(L, 4, "request_id");
    if (lua_istable(L, 3)) {
        lua_pushvalue(L, 3);
        lua_setfield(L, 4, "user");
    }
    Guard* g = guardOf(L);
    g->rejected = false;
    const bool vetoed = runTestHandlers(L, c, event, false, 4);
    lua_createtable(L, 0, 3);  // 5: the result
    lua_pushboolean(L, vetoed);
    lua_setfield(L, 5, "vetoed");
    if (vetoed) {
        lua_pushlstring(L, g->rejectReason.data(), g->rejectReason.size());
        lua_setfield(L, 5, "reason");
        g->rejected = false;
        return 1;
    }
    if (lua_getfield(L, 4, "payload") != LUA_TTABLE) return luaL_error(L, "event.payload must stay a table");
    if (!cxx(c, [&] { c.tree.clear(); })) fail(L, "kb.fire", c);
    readValue(L, -1, c.tree, maxNodes(L), "event.payload");
    lua_pop(L, 1);
    pushTreeOf(L, c);
    lua_pushvalue(L, -1);
    lua_setfield(L, 5, "payload");
    lua_setfield(L, 4, "payload");
    runTestHandlers(L, c, event, true, 4);
    lua_settop(L, 5);
    return 1;
}

// kb.sent() -> {{channel =, payload =, idempotency_key =}, ...}: what kb.send queued (tests)
int kbSent(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    requireTest(L, c, "kb.sent");
    const std::size_t limit = maxNodes(L);
    if (!cxx(c, [&] {
            Poco::JSON::Array::Ptr list = new Poco::JSON::Array;
            for (const auto& m : c.sent) {
                Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
                o->set("channel", m.channel);
                o->set("payload", Poco::JSON::Parser().parse(m.payload));
                o->set("idempotency_key", m.idempotencyKey);
                list->add(o);
            }
            c.tree.clear();
            appendVar(c.tree, list, limit);
        }))
        fail(L, "kb.sent", c);
    pushTreeOf(L, c);
    return 1;
}

// kb.set_now(epoch_seconds | "YYYY-MM-DD" | "YYYY-MM-DDTHH:MM[:SS]"): moves the test clock
// (a date alone means noon, local time)
int kbSetNow(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    requireTest(L, c, "kb.set_now");
    long long epoch = 0;
    if (lua_type(L, 1) == LUA_TNUMBER) {
        epoch = luaL_checkinteger(L, 1);
    } else {
        // As kb.time.parse reads it (a day that exists, a time of day that exists there, an
        // offset honoured), but a day alone is its noon: sscanf and mktime took "2026-02-30"
        // for 2 March, dropped "Z" and "+05:00", and ignored what followed.
        std::size_t n = 0;
        const char* s = luaL_checklstring(L, 1, &n);
        if (n == 10) {
            const auto day = Clock::parseDate(std::string_view(s, n));
            const auto noon = day ? Clock::fromLocal(*day, std::chrono::hours{12}) : std::nullopt;
            if (!noon) return luaL_argerror(L, 1, "\"YYYY-MM-DD\" (a day that exists) or \"YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM]\" expected");
            epoch = noon->time_since_epoch().count();
        } else if (const char* why = parseIsoTime(s, n, epoch)) {
            return luaL_argerror(L, 1, why);
        }
    }
    const auto t = std::chrono::system_clock::time_point(std::chrono::seconds(epoch));
    if (c.testClock) c.testClock->set(t);
    else if (c.services && c.services->testClock) c.services->testClock->set(t);
    return 0;
}

// The assertion helpers, in Lua: their errors point at the test's line (level 2).
extern const char* const kPrelude = R"lua(
local type, pairs, tostring, error, pcall, ipairs = type, pairs, tostring, error, pcall, ipairs
local format, find, sort, concat = string.format, string.find, table.sort, table.concat
local M = {}

local function repr(v, depth)
  local t = type(v)
  if t == "string" then return format("%q", v) end
  if t ~= "table" then return tostring(v) end
  if depth > 2 then return "{...}" end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  sort(keys, function(a, b)
    local ta, tb = type(a), type(b)
    if ta ~= tb then return ta < tb end
    if ta == "number" or ta == "string" then return a < b end
    return tostring(a) < tostring(b)
  end)
  local parts = {}
  for i, k in ipairs(keys) do
    if i > 20 then parts[#parts + 1] = "..." break end
    local key = type(k) == "string" and k or "[" .. tostring(k) .. "]"
    parts[#parts + 1] = key .. "=" .. repr(v[k], depth + 1)
  end
  return "{" .. concat(parts, ", ") .. "}"
end

local function equal(a, b, depth)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" or depth > 20 then return false end
  for k, va in pairs(a) do
    if not equal(va, b[k], depth + 1) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

local function prefix(message)
  return message and (tostring(message) .. ": ") or ""
end

function M.assert_eq(actual, expected, message)
  if not equal(actual, expected, 0) then
    error(prefix(message) .. "expected " .. repr(expected, 0) .. ", got " .. repr(actual, 0), 2)
  end
end

function M.assert_ne(actual, unexpected, message)
  if equal(actual, unexpected, 0) then
    error(prefix(message) .. "expected anything but " .. repr(unexpected, 0), 2)
  end
end

function M.assert_true(value, message)
  if not value then error(prefix(message) .. "expected a true value, got " .. repr(value, 0), 2) end
end

function M.assert_false(value, message)
  if value then error(prefix(message) .. "expected false or nil, got " .. repr(value, 0), 2) end
end

function M.assert_error(fn, contains, message)
  local ok, err = pcall(fn)
  if ok then error(prefix(message) .. "expected an error", 2) end
  err = tostring(err)
  if contains and not find(err, contains, 1, true) then
    error(prefix(message) .. "expected an error containing " .. repr(contains, 0) .. ", got " .. repr(err, 0), 2)
  end
  return err
end

return M
)lua";

}  // namespace klinikbox::lua::kbapi
