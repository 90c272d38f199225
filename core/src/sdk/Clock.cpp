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

}  // namespace klinikbox
