// kb.config: a script's (or Lua plugin's) settings, read by dotted key.
#include "lua/KbInternal.h"

#include <klinikbox/PluginContext.h>

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
            if (c.plugin) cfg = c.plugin->config();
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

}  // namespace klinikbox::lua::kbapi
