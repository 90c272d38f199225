#include "Calendar.h"

#include <klinikbox/Clock.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace booking {

using namespace std::chrono;

year_month_day easterSunday(int y) {
    const int a = y % 19, b = y / 100, c = y % 100, d = b / 4, e = b % 4;
    const int f = (b + 8) / 25, g = (b - f + 1) / 3, h = (19 * a + b - d - g + 15) % 30;
    const int i = c / 4, k = c % 4, l = (32 + 2 * e + 2 * i - h - k) % 7;
    const int m = (a + 11 * h + 22 * l) / 451;
    const int month = (h + l - 7 * m + 114) / 31, day = ((h + l - 7 * m + 114) % 31) + 1;
    return year_month_day{year{y}, std::chrono::month{static_cast<unsigned>(month)}, std::chrono::day{static_cast<unsigned>(day)}};
}

int isoWeekday(year_month_day date) { return static_cast<int>(weekday{sys_days{date}}.iso_encoding()); }

namespace {
year_month_day ymd(int y, unsigned m, unsigned d) { return year_month_day{year{y}, month{m}, day{d}}; }
year_month_day plusDays(year_month_day d, int n) { return year_month_day{sys_days{d} + days{n}}; }
// The first date in [from, from+6] that falls on the ISO weekday.
year_month_day firstWeekdayFrom(year_month_day from, int iso) {
    for (int i = 0; i < 7; ++i)
        if (isoWeekday(plusDays(from, i)) == iso) return plusDays(from, i);
    return from;
}
}  // namespace

std::vector<Holiday> swedishHolidays(int y) {
    const auto easter = easterSunday(y);
    std::vector<Holiday> h = {
        {ymd(y, 1, 1), "Nyårsdagen"},
        {ymd(y, 1, 6), "Trettondedag jul"},
        {plusDays(easter, -2), "Långfredagen"},
        {easter, "Påskdagen"},
        {plusDays(easter, 1), "Annandag påsk"},
        {ymd(y, 5, 1), "Första maj"},
        {plusDays(easter, 39), "Kristi himmelsfärdsdag"},
        {plusDays(easter, 49), "Pingstdagen"},
        {ymd(y, 6, 6), "Sveriges nationaldag"},
        {firstWeekdayFrom(ymd(y, 6, 19), 5), "Midsommarafton", true},
        {firstWeekdayFrom(ymd(y, 6, 20), 6), "Midsommardagen"},
        {firstWeekdayFrom(ymd(y, 10, 31), 6), "Alla helgons dag"},
        {ymd(y, 12, 24), "Julafton", true},
        {ymd(y, 12, 25), "Juldagen"},
        {ymd(y, 12, 26), "Annandag jul"},
        {ymd(y, 12, 31), "Nyårsafton", true},
    };
    std::sort(h.begin(), h.end(), [](const Holiday& a, const Holiday& b) { return sys_days{a.date} < sys_days{b.date}; });
    return h;
}

std::optional<Holiday> holidayOn(year_month_day date) {
    for (auto& h : swedishHolidays(static_cast<int>(date.year())))
        if (h.date == date) return h;
    return std::nullopt;
}

int localOffsetMinutes(sys_seconds utc) { return klinikbox::Clock::localOffsetSeconds(utc) / 60; }

std::optional<sys_seconds> localToUtc(year_month_day date, int minuteOfDay) {
    return klinikbox::Clock::fromLocal(date, minutes{minuteOfDay});
}

sys_seconds dayStart(year_month_day date) {
    if (const auto t = localToUtc(date, 0)) return *t;
    // Midnight does not exist: the day starts when the clocks jump, at midnight of the offset before.
    const sys_seconds wall{sys_days{date}};
    return wall - seconds{klinikbox::Clock::localOffsetSeconds(wall - days{1})};
}

year_month_day localDate(sys_seconds utc) {
    return year_month_day{floor<days>(utc + seconds{klinikbox::Clock::localOffsetSeconds(utc)})};
}

std::string isoDate(year_month_day d) {
    char b[16];
    std::snprintf(b, sizeof b, "%04d-%02u-%02u", static_cast<int>(d.year()), static_cast<unsigned>(d.month()),
                  static_cast<unsigned>(d.day()));
    return b;
}

void formatIsoLocal(sys_seconds utc, char* out) { klinikbox::Clock::formatLocalIso(utc, out); }

std::string isoLocal(sys_seconds utc) {
    std::string s(kIsoLocalSize, '\0');
    formatIsoLocal(utc, s.data());
    return s;
}

std::optional<year_month_day> parseDate(const std::string& s) {
    const auto r = Clock::parseDate(s);
    if (!r || r->year() < year{2000} || r->year() > year{2200}) return std::nullopt;
    return r;
}

std::optional<int> parseClock(const std::string& s) {
    if (s.size() != 5 || s[2] != ':') return std::nullopt;
    for (std::size_t i : {0u, 1u, 3u, 4u})
        if (s[i] < '0' || s[i] > '9') return std::nullopt;
    const int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && m != 0)) return std::nullopt;
    return h * 60 + m;
}

}  // namespace booking
