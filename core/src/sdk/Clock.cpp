#include <klinikbox/Clock.h>

#include <ctime>
#include <string>

namespace klinikbox {

std::chrono::year_month_day Clock::today() const { return localDate(now()); }

std::chrono::year_month_day Clock::localDate(std::chrono::system_clock::time_point when) {
    // The process time zone is the box's (TZ is set from box.timezone at start).
    const std::time_t t = std::chrono::system_clock::to_time_t(when);
    std::tm tm{};
    localtime_r(&t, &tm);
    return std::chrono::year_month_day{std::chrono::year{tm.tm_year + 1900},
                                       std::chrono::month{static_cast<unsigned>(tm.tm_mon + 1)},
                                       std::chrono::day{static_cast<unsigned>(tm.tm_mday)}};
}

std::chrono::system_clock::time_point Clock::localMidnight(std::chrono::year_month_day day) {
    std::tm tm{};
    tm.tm_year = static_cast<int>(day.year()) - 1900;
    tm.tm_mon = static_cast<int>(static_cast<unsigned>(day.month())) - 1;
    tm.tm_mday = static_cast<int>(static_cast<unsigned>(day.day()));
    tm.tm_isdst = -1;  // whether summer time applies is the zone's to say
    return std::chrono::system_clock::from_time_t(std::mktime(&tm));
}

std::optional<std::chrono::year_month_day> Clock::parseDate(std::string_view s) {
    if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
    int v[3] = {0, 0, 0};
    const std::size_t start[3] = {0, 5, 8}, len[3] = {4, 2, 2};
    for (int i = 0; i < 3; ++i)
        for (std::size_t j = start[i]; j < start[i] + len[i]; ++j) {
            if (s[j] < '0' || s[j] > '9') return std::nullopt;
            v[i] = v[i] * 10 + (s[j] - '0');
        }
    const std::chrono::year_month_day d{std::chrono::year{v[0]}, std::chrono::month{static_cast<unsigned>(v[1])},
                                        std::chrono::day{static_cast<unsigned>(v[2])}};
    if (!d.ok()) return std::nullopt;
    return d;
}

namespace {
// n digits at s[at..], or -1.
int digits(std::string_view s, std::size_t at, std::size_t n) {
    if (at + n > s.size()) return -1;
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}
}  // namespace

std::optional<std::chrono::system_clock::time_point> Clock::parseInstant(std::string_view s) {
    if (s.size() < 17 || s[10] != 'T' || s[13] != ':') return std::nullopt;
    const auto day = parseDate(s.substr(0, 10));
    const int hh = digits(s, 11, 2), mm = digits(s, 14, 2);
    if (!day || hh < 0 || hh > 23 || mm < 0 || mm > 59) return std::nullopt;
    std::size_t i = 16;
    int ss = 0;
    if (i < s.size() && s[i] == ':') {
        ss = digits(s, i + 1, 2);
        if (ss < 0 || ss > 59) return std::nullopt;  // a leap second is not a booking's start
        i += 3;
        if (i < s.size() && s[i] == '.') {
            ++i;
            const std::size_t first = i;
            while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
            if (i == first || i - first > 9) return std::nullopt;
        }
    }
    long long offset = 0;
    if (i + 1 == s.size() && s[i] == 'Z') {
        offset = 0;
    } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
        const int oh = digits(s, i + 1, 2), om = digits(s, i + 4, 2);
        if (oh < 0 || oh > 18 || om < 0 || om > 59) return std::nullopt;
        offset = (oh * 3600LL + om * 60LL) * (s[i] == '-' ? -1 : 1);
    } else {
        return std::nullopt;
    }
    const auto local = std::chrono::sys_days{*day} + std::chrono::hours{hh} + std::chrono::minutes{mm} + std::chrono::seconds{ss};
    return std::chrono::system_clock::time_point(local - std::chrono::seconds{offset});
}

std::string Clock::localIso(std::chrono::system_clock::time_point when) {
    const std::time_t t = std::chrono::system_clock::to_time_t(when);
    std::tm tm{};
    localtime_r(&t, &tm);
    char b[40], zone[8];
    std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S", &tm);
    std::strftime(zone, sizeof zone, "%z", &tm);  // +0100
    return std::string(b) + std::string(zone, 3) + ":" + std::string(zone + 3, 2);
}

}  // namespace klinikbox
