// kb.config: a script's (or Lua plugin's) settings, read by dotted key.
#include "lua/KbInternal.h"

#include <klinikbox/PluginContext.h>

#include <Poco/JSON/Array.h>

namespace klinikbox::lua::kbapi {

// kb.config(key) -> value | nil; "a.b" reads a nested setting
int kbConfig(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    std::size_t kl = 0;
    const char* key = luaL_checklstring(L, 1, &kl);
    const std::size_t limit = maxNodes(L);
    bool found = false;
    if (!cxx(c, [&] {
            c.tree.clear();
            Poco::JSON::Object::Ptr cfg;
            if (c.testConfigSet) cfg = c.testConfig;
            else if (c.plugin) cfg = c.plugin->config();
            else if (c.services && c.services->config) cfg = c.services->config(c.name);
            if (!cfg) return;
            Poco::Dynamic::Var v = cfg;
            std::string_view rest(key, kl);
            while (true) {
                const auto dot = rest.find('.');
                const std::string part(rest.substr(0, dot));
                if (v.type() != typeid(Poco::JSON::Object::Ptr)) return;
                auto o = v.extract<Poco::JSON::Object::Ptr>();
                if (!o || !o->has(part)) return;
                v = o->get(part);
                if (dot == std::string_view::npos) break;
                rest.remove_prefix(dot + 1);
            }
            appendVar(c.tree, v, limit);
            found = true;
        }))
        fail(L, "kb.config", c);
    if (!found) {
        lua_pushnil(L);
        return 1;
    }
    pushTreeOf(L, c);
    return 1;
}

// kb.set_config(t | nil): tests only; kb.config reads `t` for the rest of the test case
// (nil: no settings at all). Each case starts with the --config file's settings.
int kbSetConfig(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    requireTest(L, c, "kb.set_config");
    if (!lua_isnoneornil(L, 1)) luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    if (!cxx(c, [&] { c.tree.clear(); })) fail(L, "kb.set_config", c);
    if (!lua_isnil(L, 1)) readValue(L, 1, c.tree, maxNodes(L), "kb.set_config settings");
    bool ok = false;
    if (!cxx(c, [&] {
            c.testConfigSet = true;
            c.testConfig = nullptr;
            if (c.tree.empty()) {
                ok = true;
                return;
            }
            std::size_t pos = 0;
            const auto v = toVar(c.tree, pos);
            if (v.type() == typeid(Poco::JSON::Object::Ptr)) {
                c.testConfig = v.extract<Poco::JSON::Object::Ptr>();
                ok = true;
            } else if (v.type() == typeid(Poco::JSON::Array::Ptr) && v.extract<Poco::JSON::Array::Ptr>()->size() == 0) {
                c.testConfig = new Poco::JSON::Object;  // {} read as an empty list
                ok = true;
            }
            // A plugin's test gets what the box would run with: its schema's defaults for the
            // settings not given, and a setting the schema refuses is an error here too.
            if (ok && c.services && c.services->checkTestConfig) c.testConfig = c.services->checkTestConfig(c.testConfig);
        }))
        fail(L, "kb.set_config", c);
    if (!ok) return luaL_argerror(L, 1, "a table of named settings expected");
    return 0;
}

}  // namespace klinikbox::lua::kbapi
