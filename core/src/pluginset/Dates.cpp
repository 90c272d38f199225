#include "pluginset/Dates.h"

#include <klinikbox/Clock.h>

#include <cstdio>

namespace klinikbox::pluginset {

namespace {

bool digits(std::string_view s, std::size_t from, std::size_t n, int& out) {
    out = 0;
    for (std::size_t i = from; i < from + n; ++i) {
        if (i >= s.size() || s[i] < '0' || s[i] > '9') return false;
        out = out * 10 + (s[i] - '0');
    }
    return true;
}

}  // namespace

std::optional<std::chrono::sys_days> parseDate(std::string_view text) {
    const auto ymd = Clock::parseDate(text);
    if (!ymd) return std::nullopt;
    return std::chrono::sys_days{*ymd};
}

std::optional<TimePoint> parseInstant(std::string_view text) {
    const auto day = parseDate(text.substr(0, 10));
    if (!day) return std::nullopt;
    if (text.size() == 10) return TimePoint{*day};
    int h = 0, mi = 0, s = 0;
    if (text.size() != 20 || text[10] != 'T' || text[13] != ':' || text[16] != ':' ||
        text[19] != 'Z' || !digits(text, 11, 2, h) || !digits(text, 14, 2, mi) ||
        !digits(text, 17, 2, s) || h > 23 || mi > 59 || s > 59)
        return std::nullopt;
    return TimePoint{*day} + std::chrono::hours(h) + std::chrono::minutes(mi) +
           std::chrono::seconds(s);
}

std::string formatDate(std::chrono::sys_days d) {
    const std::chrono::year_month_day ymd{d};
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
    return buf;
}

std::string formatInstant(TimePoint t) {
    const auto day = std::chrono::floor<std::chrono::days>(t);
    const std::chrono::hh_mm_ss hms{std::chrono::floor<std::chrono::seconds>(t - day)};
    char buf[32];
    std::snprintf(buf, sizeof buf, "%sT%02d:%02d:%02dZ", formatDate(day).c_str(),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()));
    return buf;
}

std::string formatMoment(TimePoint t) {
    const auto day = std::chrono::floor<std::chrono::days>(t);
    return t == TimePoint{day} ? formatDate(day) : formatInstant(t);
}

}  // namespace klinikbox::pluginset
