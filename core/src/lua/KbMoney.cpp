// kb.money.*: parsing and formatting amounts in integer öre.
#include "lua/KbInternal.h"

#include <klinikbox/Money.h>

namespace klinikbox::lua::kbapi {

// kb.money.parse(text) -> öre (integer) | nil, "invalid-amount"
int kbMoneyParse(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    std::size_t n = 0;
    const char* text = luaL_checklstring(L, 1, &n);
    long long ore = 0;
    bool ok = false;
    if (!cxx(c, [&] {
            if (auto m = Money::parse(std::string_view(text, n))) {
                ore = m->ore();
                ok = true;
            }
        }))
        fail(L, "kb.money.parse", c);
    if (!ok) {
        lua_pushnil(L);
        lua_pushliteral(L, "invalid-amount");
        return 2;
    }
    lua_pushinteger(L, ore);
    return 1;
}

// kb.money.format(ore) -> "1 234,50 kr"
int kbMoneyFormat(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    const lua_Integer ore = luaL_checkinteger(L, 1);
    if (!cxx(c, [&] { c.text = Money::fromOre(ore).toDisplaySv(); })) fail(L, "kb.money.format", c);
    lua_pushlstring(L, c.text.data(), c.text.size());
    return 1;
}

}  // namespace klinikbox::lua::kbapi
