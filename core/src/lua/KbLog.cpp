// kb.log.info|warn|error and print: log lines of a script, masked and rate-limited.
#include "lua/KbInternal.h"

#include <klinikbox/Personnummer.h>
#include <klinikbox/PluginContext.h>
#include <algorithm>
#include <cstring>

namespace klinikbox::lua::kbapi {

static void emitLog(lua_State* L, ScriptContext& c, const char* level, const char* msg, std::size_t n) {
    Guard* g = guardOf(L);
    if (g->logLines >= g->limits.maxLogLinesPerCall) {
        if (g->droppedLogLines++ > 0) return;
        msg = "further log lines of this call are dropped (limit reached)";
        n = std::strlen(msg);
        level = "warn";
    } else {
        ++g->logLines;
    }
    // A failing log sink must never break a hook: its error is ignored.
    (void)cxx(c, [&] {
        const std::string m = maskPersonnummerInText(std::string_view(msg, std::min<std::size_t>(n, 4000)));
        if (c.mode == ScriptMode::Plugin && c.plugin) {
            Log& log = c.plugin->log();
            if (std::strcmp(level, "error") == 0) log.error(m);
            else if (std::strcmp(level, "warn") == 0) log.warning(m);
            else log.info(m);
        } else if (c.services && c.services->log) {
            c.services->log(level, c.name, m);
        }
    });
}

// kb.log.info(message), kb.log.warn(message), kb.log.error(message)
int kbLog(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    std::size_t n = 0;
    const char* msg = luaL_checklstring(L, 1, &n);
    emitLog(L, c, lua_tostring(L, lua_upvalueindex(2)), msg, n);
    return 0;
}

// print(...): one info line, arguments separated by tabs
int kbPrint(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    const int n = lua_gettop(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; ++i) {
        if (i > 1) luaL_addchar(&b, '\t');
        luaL_tolstring(L, i, nullptr);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    std::size_t len = 0;
    const char* s = lua_tolstring(L, -1, &len);
    emitLog(L, c, "info", s, len);
    return 0;
}

}  // namespace klinikbox::lua::kbapi
