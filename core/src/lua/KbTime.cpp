// kb.now and kb.today: the box's clock as a script sees it.
#include "lua/KbInternal.h"

#include <chrono>
#include <cstdio>
#include <cstring>

namespace klinikbox::lua::kbapi {

// kb.now() -> seconds since 1970 on the box's clock
int kbNow(lua_State* L) {
    lua_pushinteger(L, static_cast<lua_Integer>(std::chrono::system_clock::to_time_t(guardOf(L)->clock->now())));
    return 1;
}

void formatDay(std::chrono::year_month_day d, char* buf, std::size_t n) {
    std::snprintf(buf, n, "%04d-%02u-%02u", static_cast<int>(d.year()), static_cast<unsigned>(d.month()),
                  static_cast<unsigned>(d.day()));
}

bool parseDay(const char* s, std::chrono::year_month_day& out) {
    int y = 0;
    unsigned m = 0, d = 0;
    char tail = 0;
    if (std::strlen(s) != 10 || std::sscanf(s, "%4d-%2u-%2u%c", &y, &m, &d, &tail) != 3) return false;
    out = std::chrono::year_month_day{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
    return out.ok();
}

// kb.today() -> "YYYY-MM-DD" in the box's time zone
int kbToday(lua_State* L) {
    char buf[16];
    formatDay(guardOf(L)->clock->today(), buf, sizeof buf);
    lua_pushstring(L, buf);
    return 1;
}

}  // namespace klinikbox::lua::kbapi
