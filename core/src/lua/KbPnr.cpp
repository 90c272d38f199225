// kb.pnr.*: personnummer (Swedish personal identity number) validation, parsing, age and masking.
#include "lua/KbInternal.h"

#include <klinikbox/Personnummer.h>
#include <chrono>
#include <cstdio>
#include <cstring>

namespace klinikbox::lua::kbapi {

struct PnrResult {
    bool ok;
    char error[48];
    char digits[16];
    char birth[16];
    int age;
    bool male;
    bool coordination;
};

// Parses argument 1 as of argument 2 (a date) or today.
static PnrResult parsePnr(lua_State* L, ScriptContext& c, const char* fn) {
    std::size_t n = 0;
    const char* text = luaL_checklstring(L, 1, &n);
    std::chrono::year_month_day day{};
    const bool dated = !lua_isnoneornil(L, 2);
    if (dated && !parseDay(luaL_checkstring(L, 2), day)) luaL_argerror(L, 2, "a date \"YYYY-MM-DD\" expected");
    const Clock* clock = guardOf(L)->clock;
    PnrResult r{};
    if (!cxx(c, [&] {
            if (!dated) day = clock->today();
            auto parsed = Personnummer::parse(std::string_view(text, n), day);
            if (auto* e = std::get_if<PersonnummerError>(&parsed)) {
                std::snprintf(r.error, sizeof r.error, "%s", std::string(toString(*e)).c_str());
                return;
            }
            const auto& p = std::get<Personnummer>(parsed);
            r.ok = true;
            std::snprintf(r.digits, sizeof r.digits, "%s", p.twelveDigits().c_str());
            formatDay(p.birthDate(), r.birth, sizeof r.birth);
            r.age = p.ageOn(day);
            r.male = p.sex() == Sex::Male;
            r.coordination = p.isCoordinationNumber();
        }))
        fail(L, fn, c);
    return r;
}

// kb.pnr.valid(text) -> boolean
int kbPnrValid(lua_State* L) {
    const PnrResult r = parsePnr(L, ctxOf(L), "kb.pnr.valid");
    lua_pushboolean(L, r.ok);
    return 1;
}

// kb.pnr.parse(text [, on_date]) -> {digits, birthdate, sex, age, coordination} | nil, error
int kbPnrParse(lua_State* L) {
    const PnrResult r = parsePnr(L, ctxOf(L), "kb.pnr.parse");
    if (!r.ok) {
        lua_pushnil(L);
        lua_pushstring(L, r.error);
        return 2;
    }
    lua_createtable(L, 0, 5);
    lua_pushstring(L, r.digits);
    lua_setfield(L, -2, "digits");
    lua_pushstring(L, r.birth);
    lua_setfield(L, -2, "birthdate");
    lua_pushstring(L, r.male ? "M" : "F");
    lua_setfield(L, -2, "sex");
    lua_pushinteger(L, r.age);
    lua_setfield(L, -2, "age");
    lua_pushboolean(L, r.coordination);
    lua_setfield(L, -2, "coordination");
    return 1;
}

// kb.pnr.age(text [, on_date]) -> years | nil, error
int kbPnrAge(lua_State* L) {
    const PnrResult r = parsePnr(L, ctxOf(L), "kb.pnr.age");
    if (!r.ok) {
        lua_pushnil(L);
        lua_pushstring(L, r.error);
        return 2;
    }
    lua_pushinteger(L, r.age);
    return 1;
}

// kb.pnr.mask(text) -> text with every personnummer masked (YYYYMMDD-****)
int kbPnrMask(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    std::size_t n = 0;
    const char* text = luaL_checklstring(L, 1, &n);
    if (!cxx(c, [&] { c.text = maskPersonnummerInText(std::string_view(text, n)); })) fail(L, "kb.pnr.mask", c);
    lua_pushlstring(L, c.text.data(), c.text.size());
    return 1;
}

}  // namespace klinikbox::lua::kbapi
