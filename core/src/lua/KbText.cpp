// kb.text.lower and kb.text.upper: case mapping that knows Swedish (å ä ö é ü and the rest
// of Latin-1 in UTF-8), where string.lower/upper only know ASCII.
#include "lua/KbInternal.h"

namespace klinikbox::lua::kbapi {

namespace {

// Maps `s` into a Lua buffer: ASCII letters and the two-byte UTF-8 letters U+00C0-U+00DE /
// U+00E0-U+00FE (except × and ÷, and ß/ÿ which have no one-letter partner here).
int mapCase(lua_State* L, bool upper) {
    std::size_t n = 0;
    const char* s = luaL_checklstring(L, 1, &n);
    luaL_Buffer b;
    char* out = luaL_buffinitsize(L, &b, n);
    for (std::size_t i = 0; i < n; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (upper && c >= 'a' && c <= 'z') out[i] = static_cast<char>(c - 32);
        else if (!upper && c >= 'A' && c <= 'Z') out[i] = static_cast<char>(c + 32);
        else if (c == 0xC3 && i + 1 < n) {
            const auto d = static_cast<unsigned char>(s[i + 1]);
            out[i] = s[i];
            if (upper && d >= 0xA0 && d <= 0xBE && d != 0xB7) out[i + 1] = static_cast<char>(d - 0x20);
            else if (!upper && d >= 0x80 && d <= 0x9E && d != 0x97) out[i + 1] = static_cast<char>(d + 0x20);
            else out[i + 1] = s[i + 1];
            ++i;
        } else {
            out[i] = s[i];
        }
    }
    luaL_pushresultsize(&b, n);
    return 1;
}

}  // namespace

// kb.text.lower(s) -> s in lower case ("ÅSA ÖST" -> "åsa öst")
int kbTextLower(lua_State* L) { return mapCase(L, false); }

// kb.text.upper(s) -> s in upper case ("åsa öst" -> "ÅSA ÖST")
int kbTextUpper(lua_State* L) { return mapCase(L, true); }

}  // namespace klinikbox::lua::kbapi
