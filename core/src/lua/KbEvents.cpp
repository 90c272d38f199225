// kb.events.publish: a Lua plugin's async events.
#include "lua/KbInternal.h"

#include <klinikbox/PluginContext.h>

#include <Poco/JSON/Stringifier.h>

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

}  // namespace klinikbox::lua::kbapi
