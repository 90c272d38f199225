// kb.time.parse, kb.time.format and kb.time.weekday: ISO 8601 <-> seconds since 1970 and
// the weekday, in the box's time zone (box.timezone, Swedish time unless set otherwise;
// `klinikbox lua test` uses the zone of --config's box.timezone, else Europe/Stockholm).
#include "lua/KbInternal.h"

#include <klinikbox/Clock.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace klinikbox::lua::kbapi {

using namespace std::chrono;

namespace {

// Seconds east of UTC in the box's zone at `utc`.
int localOffset(sys_seconds utc) { return klinikbox::Clock::localOffsetSeconds(utc); }

bool digits(const char* s, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

int num(const char* s, std::size_t n) {
    int v = 0;
    for (std::size_t i = 0; i < n; ++i) v = v * 10 + (s[i] - '0');
    return v;
}

// "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS]" with an optional "Z" or "+HH:MM"/"-HH:MM"; without
// an offset the time (a date alone: midnight) is the box's local time. Returns nullptr or why not.
const char* parseIso(const char* s, std::size_t n, long long& epoch) {
    if (n < 10 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' || !digits(s + 8, 2))
        return "expected \"YYYY-MM-DD\" or \"YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM]\"";
    const year_month_day d{year{num(s, 4)}, month{static_cast<unsigned>(num(s + 5, 2))}, day{static_cast<unsigned>(num(s + 8, 2))}};
    if (!d.ok()) return "no such date";
    int h = 0, mi = 0, sec = 0;
    std::size_t i = 10;
    if (i < n) {
        if ((s[i] != 'T' && s[i] != ' ') || n < i + 6 || !digits(s + i + 1, 2) || s[i + 3] != ':' || !digits(s + i + 4, 2))
            return "expected \"THH:MM\" after the date";
        h = num(s + i + 1, 2);
        mi = num(s + i + 4, 2);
        i += 6;
        if (i < n && s[i] == ':') {
            if (n < i + 3 || !digits(s + i + 1, 2)) return "expected \":SS\"";
            sec = num(s + i + 1, 2);
            i += 3;
            if (i < n && (s[i] == '.' || s[i] == ',')) {  // fractions of a second are dropped
                ++i;
                while (i < n && s[i] >= '0' && s[i] <= '9') ++i;
            }
        }
        if (h > 23 || mi > 59 || sec > 60) return "no such time of day";
    }
    const sys_seconds wall = sys_seconds{sys_days{d}} + hours{h} + minutes{mi} + seconds{sec};
    sys_seconds utc;
    if (i == n) {
        const auto local = klinikbox::Clock::fromLocal(d, hours{h} + minutes{mi} + seconds{sec});
        if (!local) return "that time does not exist in the box's time zone (the clocks moved forward)";
        utc = *local;
    } else if (s[i] == 'Z' && i + 1 == n) {
        utc = wall;
    } else if ((s[i] == '+' || s[i] == '-') && n == i + 6 && digits(s + i + 1, 2) && s[i + 3] == ':' && digits(s + i + 4, 2)) {
        const int off = num(s + i + 1, 2) * 60 + num(s + i + 4, 2);
        if (off > 18 * 60) return "the offset is out of range";
        utc = wall - minutes{s[i] == '-' ? -off : off};
    } else {
        return "expected \"Z\" or \"+HH:MM\" after the time";
    }
    epoch = utc.time_since_epoch().count();
    return nullptr;
}

}  // namespace

const char* parseIsoTime(const char* s, std::size_t n, long long& epoch) { return parseIso(s, n, epoch); }

// kb.time.parse(iso) -> seconds since 1970 | nil, error; no offset means the box's time
int kbTimeParse(lua_State* L) {
    std::size_t n = 0;
    const char* s = luaL_checklstring(L, 1, &n);
    long long epoch = 0;
    if (const char* why = parseIso(s, n, epoch)) {
        lua_pushnil(L);
        lua_pushstring(L, why);
        return 2;
    }
    lua_pushinteger(L, static_cast<lua_Integer>(epoch));
    return 1;
}

// kb.time.format(epoch [, "datetime"|"date"|"time"]) -> "2026-01-15T13:00:00+01:00" | "2026-01-15" | "13:00", the box's time
int kbTimeFormat(lua_State* L) {
    const lua_Integer epoch = luaL_checkinteger(L, 1);
    static const char* const kinds[] = {"datetime", "date", "time", nullptr};
    const int kind = luaL_checkoption(L, 2, "datetime", kinds);
    constexpr lua_Integer kLimit = 253402300799;  // 9999-12-31T23:59:59Z
    if (epoch < -kLimit || epoch > kLimit) return luaL_argerror(L, 1, "out of range");
    const sys_seconds utc{seconds{epoch}};
    const int off = localOffset(utc);
    const auto local = utc + seconds{off};
    const auto dayStart = floor<days>(local);
    const year_month_day d{dayStart};
    const hh_mm_ss t{local - dayStart};
    char buf[96];
    if (kind == 1)
        std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(d.year()), static_cast<unsigned>(d.month()),
                      static_cast<unsigned>(d.day()));
    else if (kind == 2)
        std::snprintf(buf, sizeof buf, "%02d:%02d", static_cast<int>(t.hours().count()), static_cast<int>(t.minutes().count()));
    else
        std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d%c%02d:%02d", static_cast<int>(d.year()),
                      static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()), static_cast<int>(t.hours().count()),
                      static_cast<int>(t.minutes().count()), static_cast<int>(t.seconds().count()), off < 0 ? '-' : '+',
                      std::abs(off) / 3600, std::abs(off) / 60 % 60);
    lua_pushstring(L, buf);
    return 1;
}

// kb.time.weekday(epoch | iso) -> 1 (Monday) .. 7 (Sunday), of the box's local date
int kbTimeWeekday(lua_State* L) {
    long long epoch = 0;
    if (lua_type(L, 1) == LUA_TNUMBER) {
        epoch = luaL_checkinteger(L, 1);
    } else {
        std::size_t n = 0;
        const char* s = luaL_checklstring(L, 1, &n);
        if (n == 10) {  // a date alone: no time of day to convert
            std::chrono::year_month_day d;
            if (!parseDay(s, d)) return luaL_argerror(L, 1, "\"YYYY-MM-DD\" expected");
            lua_pushinteger(L, static_cast<lua_Integer>(weekday{sys_days{d}}.iso_encoding()));
            return 1;
        }
        if (const char* why = parseIso(s, n, epoch)) return luaL_argerror(L, 1, why);
    }
    constexpr long long kLimit = 253402300799;
    if (epoch < -kLimit || epoch > kLimit) return luaL_argerror(L, 1, "out of range");
    const sys_seconds utc{seconds{epoch}};
    const auto local = utc + seconds{localOffset(utc)};
    lua_pushinteger(L, static_cast<lua_Integer>(weekday{floor<days>(local)}.iso_encoding()));
    return 1;
}

}  // namespace klinikbox::lua::kbapi
