#include <klinikbox/Clock.h>

#include <ctime>

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

}  // namespace klinikbox
