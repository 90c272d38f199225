// kb.events.publish and kb.events.publish_sync: a Lua plugin's events; kb.answer stands in
// for the plugin that answers a sync event in the plugin's tests.
#include "lua/KbInternal.h"

#include <klinikbox/PluginContext.h>

#include <Poco/JSON/Stringifier.h>

#include <chrono>
#include <sstream>

namespace klinikbox::lua::kbapi {

// kb.events.publish(name, payload): an async event of the plugin (declared in plugin.yaml)
int kbPublish(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    requirePlugin(L, c, "kb.events.publish");
    std::size_t n = 0;
    const char* name = luaL_checklstring(L, 1, &n);
    checkEventName(L, name, n, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    if (!cxx(c, [&] { c.tree.clear(); })) fail(L, "kb.events.publish", c);
    readValue(L, 2, c.tree, maxNodes(L), "event payload");
    if (c.tree.empty() || c.tree[0].type != ValueNode::Type::Object)
        return luaL_argerror(L, 2, "a table with named fields expected");
    if (!cxx(c, [&] {
            std::size_t pos = 0;
            Event e;
            e.name.assign(name, n);
            e.payload = toVar(c.tree, pos).extract<Poco::JSON::Object::Ptr>();
            if (c.request) {
                e.principal = c.request->principal;
                e.requestId = c.request->requestId;
            }
            if (c.testing) {
                std::ostringstream json;
                Poco::JSON::Stringifier::stringify(e.payload, json);
                c.published.emplace_back(e.name, json.str());
            }
            c.plugin->events().publish(std::move(e));
        }))
        fail(L, "kb.events.publish", c);
    return 0;
}

namespace {
constexpr const char* kAnswers = "klinikbox.answers";  // registry: event name -> kb.answer's function
}

// kb.events.publish_sync(name, payload) -> payload | nil, reason, hook, failed
// A sync event of the plugin (declared under permissions.events.publish): the plugins that
// hook it run now and may change the payload (e.g. booking.book writes the booking into it).
// Returns the changed payload, or nil and the veto's (or failure's) reason, the hook's name
// and whether the hook failed rather than refused. Not inside kb.db.transaction: the hooks
// write to the database themselves and would wait for this transaction's lock.
int kbPublishSync(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    requirePlugin(L, c, "kb.events.publish_sync");
    std::size_t n = 0;
    const char* name = luaL_checklstring(L, 1, &n);
    checkEventName(L, name, n, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    if (c.call == CallKind::Load) return luaL_error(L, "kb.events.publish_sync: not while the plugin loads (top level)");
    if (c.tx)
        return luaL_error(L, "kb.events.publish_sync: not inside kb.db.transaction (the plugins that answer write to the "
                             "database too); call it before or after the transaction");
    if (!cxx(c, [&] { c.tree.clear(); })) fail(L, "kb.events.publish_sync", c);
    readValue(L, 2, c.tree, maxNodes(L), "event payload");
    if (c.tree.empty() || c.tree[0].type != ValueNode::Type::Object)
        return luaL_argerror(L, 2, "a table with named fields expected");
    Guard* g = guardOf(L);
    const std::size_t limit = maxNodes(L);
    if (!cxx(c, [&] {
            std::size_t pos = 0;
            Event e;
            e.name.assign(name, n);
            e.payload = toVar(c.tree, pos).extract<Poco::JSON::Object::Ptr>();
            if (c.request) {
                e.principal = c.request->principal;
                e.requestId = c.request->requestId;
            }
            const auto t0 = std::chrono::steady_clock::now();
            c.syncOutcome = c.plugin->events().publishSync(e);
            // The answering plugins' time is theirs (their hooks have budgets), not this
            // call's: a slow booking must not turn into this script's timeout after it was made.
            if (g->armed) g->deadline += std::chrono::steady_clock::now() - t0;
            c.tree.clear();
            if (!c.syncOutcome.vetoed) appendVar(c.tree, e.payload, limit);
        }))
        fail(L, "kb.events.publish_sync", c);
    if (c.syncOutcome.vetoed) {
        lua_pushnil(L);
        lua_pushlstring(L, c.syncOutcome.reason.data(), c.syncOutcome.reason.size());
        lua_pushlstring(L, c.syncOutcome.hook.data(), c.syncOutcome.hook.size());
        lua_pushboolean(L, c.syncOutcome.failed);
        return 4;
    }
    pushTreeOf(L, c);  // 3: the payload as the hooks left it
    if (!c.testing) return 1;
    // Tests: kb.answer's function plays the plugin that hooks the event.
    lua_getfield(L, LUA_REGISTRYINDEX, kAnswers);
    if (!lua_istable(L, -1) || lua_getfield(L, -1, name) != LUA_TFUNCTION) {
        lua_settop(L, 3);
        return 1;
    }
    lua_pushvalue(L, 3);
    lua_call(L, 1, 2);  // 5: its payload (or nil), 6: the refusal's reason
    if (lua_isnil(L, 5) && lua_type(L, 6) == LUA_TSTRING) {
        lua_pushnil(L);
        lua_pushvalue(L, 6);
        lua_pushliteral(L, "test:kb.answer");
        lua_pushboolean(L, 0);
        return 4;
    }
    lua_pushvalue(L, lua_istable(L, 5) ? 5 : 3);
    return 1;
}

// kb.answer(name, fn): in a plugin's tests, fn(payload) answers the plugin's
// kb.events.publish_sync(name, ...) as the hooking plugin would: it changes the payload or
// returns another table, or returns nil, reason to refuse.
int kbAnswer(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    requireTest(L, c, "kb.answer");
    std::size_t n = 0;
    const char* name = luaL_checklstring(L, 1, &n);
    checkEventName(L, name, n, 1);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_settop(L, 2);
    if (lua_getfield(L, LUA_REGISTRYINDEX, kAnswers) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, kAnswers);
    }
    lua_pushvalue(L, 2);
    lua_setfield(L, 3, name);
    return 0;
}

}  // namespace klinikbox::lua::kbapi
