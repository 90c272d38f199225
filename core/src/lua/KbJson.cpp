// kb.json.encode and kb.json.decode: JSON text <-> Lua values, with the same mapping as
// event payloads (ValueTree.h: kb.array marks an array, null <-> nil) and the same limits.
#include "lua/KbInternal.h"

#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include <sstream>

namespace klinikbox::lua::kbapi {

// kb.json.encode(value [, {pretty = true}]) -> string; raises on what JSON cannot hold
int kbJsonEncode(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    luaL_checkany(L, 1);
    bool pretty = false;
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        checkOptionKeys(L, 2, "kb.json.encode", {"pretty"});
        lua_getfield(L, 2, "pretty");
        pretty = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    lua_settop(L, 1);
    if (!cxx(c, [&] { c.tree.clear(); })) fail(L, "kb.json.encode", c);
    readValue(L, 1, c.tree, maxNodes(L), "kb.json.encode value");
    if (!cxx(c, [&] {
            std::size_t pos = 0;
            const Poco::Dynamic::Var v = toVar(c.tree, pos);
            std::ostringstream out;
            if (v.isEmpty()) out << "null";
            else if (v.type() == typeid(Poco::JSON::Object::Ptr) || v.type() == typeid(Poco::JSON::Array::Ptr))
                Poco::JSON::Stringifier::stringify(v, out, pretty ? 2 : 0);
            else Poco::JSON::Stringifier::stringify(v, out);
            c.text = out.str();
        }))
        fail(L, "kb.json.encode", c);
    lua_pushlstring(L, c.text.data(), c.text.size());
    return 1;
}

// kb.json.decode(text) -> value | nil, error; JSON null (and a null member) is nil
int kbJsonDecode(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    std::size_t n = 0;
    const char* text = luaL_checklstring(L, 1, &n);
    const std::size_t limit = maxNodes(L);
    bool parsed = false;
    if (!cxx(c, [&] {
            c.tree.clear();
            Poco::Dynamic::Var v;
            try {
                // As the box reads a request body: a member named twice is refused, not
                // decided by whichever reader keeps the first or the last.
                // A scalar document ("null", "5", "\"x\"", which kb.json.encode writes) is
                // read as the one element of an array: the body parser takes objects and
                // arrays only, and answered "Attempt to set value on an empty stack".
                const std::string_view sv(text, n);
                const auto first = sv.find_first_not_of(" \t\r\n");
                if (first != std::string_view::npos && sv[first] != '{' && sv[first] != '[') {
                    const auto arr = parseJsonUnique("[" + std::string(sv) + "\n]");
                    const auto a = arr.extract<Poco::JSON::Array::Ptr>();
                    if (!a || a->size() != 1) {
                        c.text = "not JSON: one value expected";
                        return;
                    }
                    v = a->get(0);
                } else {
                    v = parseJsonUnique(std::string(text, n));
                }
            } catch (const Problem& e) {
                c.text = "not JSON: " + e.detail();
                return;
            } catch (const Poco::Exception& e) {
                c.text = "not JSON: " + e.message();
                return;
            }
            appendVar(c.tree, v, limit);
            parsed = true;
        }))
        fail(L, "kb.json.decode", c);
    if (!parsed) {
        lua_pushnil(L);
        lua_pushlstring(L, c.text.data(), c.text.size());
        return 2;
    }
    pushTreeOf(L, c);
    return 1;
}

}  // namespace klinikbox::lua::kbapi
