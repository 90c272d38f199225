// installKb: assembles the kb table of one script from the module files (Kb<Module>.cpp),
// one sub-table per module, and the assertion helpers from KbTest.cpp.
#include "lua/KbApi.h"

#include "lua/KbInternal.h"

#include <cstring>
#include <utility>

namespace klinikbox::lua {

using namespace kbapi;

namespace {

void setClosure(lua_State* L, ScriptContext& ctx, const char* name, lua_CFunction f) {
    lua_pushlightuserdata(L, &ctx);
    lua_pushcclosure(L, f, 1);
    lua_setfield(L, -2, name);
}

}  // namespace

void installKb(lua_State* L, ScriptContext& ctx, int envIndex) {
    envIndex = lua_absindex(L, envIndex);
    lua_createtable(L, 0, 32);
    const int kb = lua_gettop(L);
    for (const auto& [name, f] : {std::pair<const char*, lua_CFunction>{"now", kbNow},
                                  {"today", kbToday},
                                  {"config", kbConfig},
                                  {"array", kbArray},
                                  {"reject", kbReject},
                                  {"on", kbOn},
                                  {"subscribe", kbSubscribe},
                                  {"send", kbSend},
                                  {"test", kbTest},
                                  {"fire", kbFire},
                                  {"sent", kbSent},
                                  {"set_now", kbSetNow},
                                  {"route", kbRoute},
                                  {"page", kbPage},
                                  {"audit", kbAudit},
                                  {"schedule", kbSchedule},
                                  {"request", kbRequest},
                                  {"published", kbPublished},
                                  {"run_due", kbRunDue}}) {
        setClosure(L, ctx, name, f);
    }
    lua_createtable(L, 0, 3);
    for (const char* level : {"info", "warn", "error"}) {
        lua_pushlightuserdata(L, &ctx);
        lua_pushstring(L, level);
        lua_pushcclosure(L, kbLog, 2);
        lua_setfield(L, -2, level);
    }
    lua_setfield(L, kb, "log");
    lua_createtable(L, 0, 4);
    setClosure(L, ctx, "valid", kbPnrValid);
    setClosure(L, ctx, "parse", kbPnrParse);
    setClosure(L, ctx, "age", kbPnrAge);
    setClosure(L, ctx, "mask", kbPnrMask);
    lua_setfield(L, kb, "pnr");
    lua_createtable(L, 0, 2);
    setClosure(L, ctx, "parse", kbMoneyParse);
    setClosure(L, ctx, "format", kbMoneyFormat);
    lua_setfield(L, kb, "money");
    lua_createtable(L, 0, 3);
    setClosure(L, ctx, "query", kbDbQuery);
    setClosure(L, ctx, "exec", kbDbExec);
    setClosure(L, ctx, "transaction", kbDbTransaction);
    lua_setfield(L, kb, "db");
    lua_createtable(L, 0, 1);
    setClosure(L, ctx, "publish", kbPublish);
    lua_setfield(L, kb, "events");

    // The assertion helpers, compiled into this script's environment.
    if (luaL_loadbufferx(L, kPrelude, std::strlen(kPrelude), "=kb", "t") != LUA_OK) lua_error(L);
    lua_pushvalue(L, envIndex);
    lua_setupvalue(L, -2, 1);
    lua_call(L, 0, 1);
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, kb);
    }
    lua_pop(L, 1);

    lua_pushvalue(L, kb);
    lua_setfield(L, envIndex, "kb");
    lua_pushlightuserdata(L, &ctx);
    lua_pushcclosure(L, kbPrint, 1);
    lua_setfield(L, envIndex, "print");
    // A Lua plugin's require: its own lua/ files only (hook scripts keep the sandbox's
    // "require is not available").
    if (ctx.files) {
        lua_pushlightuserdata(L, &ctx);
        lua_pushcclosure(L, kbRequire, 1);
        lua_setfield(L, envIndex, "require");
    }
    lua_pop(L, 1);
}

}  // namespace klinikbox::lua
