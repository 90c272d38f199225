#include <klinikbox/Clock.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <ctime>
#include <limits>
#include <stdexcept>
#include <string>

namespace klinikbox {

std::chrono::year_month_day Clock::today() const { return localDate(now()); }

namespace {

std::atomic<std::uint64_t> zoneGeneration{1};

// The process time zone is the box's (TZ is set from box.timezone at start).
long long rawOffset(long long utc) {
    const std::time_t t = static_cast<std::time_t>(utc);
    std::tm tm{};
    if (!localtime_r(&t, &tm)) return 0;
    return tm.tm_gmtoff;
}

// One UTC day's offsets: `before` until `change`, `after` from it (the same when the day has
// no change).
struct ZoneDay {
    std::uint64_t generation = 0;
    long long day = 0;
    long long change = 0;
    int before = 0, after = 0;
};

int offsetAt(long long utc) {
    constexpr long long kDay = 86400;
    thread_local ZoneDay cache[16];
    const long long day = utc >= 0 ? utc / kDay : -((-utc + kDay - 1) / kDay);
    ZoneDay& z = cache[static_cast<std::uint64_t>(day) % 16];
    const std::uint64_t generation = zoneGeneration.load(std::memory_order_acquire);
    if (z.generation != generation || z.day != day) {
        const long long first = day * kDay, last = first + kDay - 1;
        z.before = static_cast<int>(rawOffset(first));
        z.after = static_cast<int>(rawOffset(last));
        z.change = std::numeric_limits<long long>::max();
        if (z.before != z.after) {  // the first second with the new offset
            long long lo = first, hi = last;
            while (hi - lo > 1) {
                const long long mid = lo + (hi - lo) / 2;
                (rawOffset(mid) == z.before ? lo : hi) = mid;
            }
            z.change = hi;
        }
        z.day = day;
        z.generation = generation;
    }
    return utc < z.change ? z.before : z.after;
}

}  // namespace

void Clock::timeZoneChanged() { zoneGeneration.fetch_add(1, std::memory_order_acq_rel); }

int Clock::localOffsetSeconds(std::chrono::sys_seconds utc) { return offsetAt(utc.time_since_epoch().count()); }

std::optional<std::chrono::sys_seconds> Clock::fromLocal(std::chrono::year_month_day day, std::chrono::seconds timeOfDay) {
    using namespace std::chrono;
    const sys_seconds wall = sys_seconds{sys_days{day}} + timeOfDay;
    // The offsets in force around that time: a day before and after covers any change.
    int a = localOffsetSeconds(wall - days{1}), b = localOffsetSeconds(wall + days{1});
    if (a < b) std::swap(a, b);  // the larger offset is the earlier instant
    for (int off : {a, b}) {
        const sys_seconds utc = wall - seconds{off};
        if (localOffsetSeconds(utc) == off) return utc;
    }
    return std::nullopt;
}

void Clock::formatLocalIso(std::chrono::sys_seconds utc, char* out) {
    using namespace std::chrono;
    const int offSeconds = localOffsetSeconds(utc);
    const auto local = utc + seconds{offSeconds};
    const auto day = floor<days>(local);
    const year_month_day d{day};
    const auto secs = (local - day).count();  // 0 .. 86399
    auto two = [&](std::size_t at, long long v) {
        out[at] = static_cast<char>('0' + v / 10 % 10);
        out[at + 1] = static_cast<char>('0' + v % 10);
    };
    const int y = std::clamp(static_cast<int>(d.year()), 0, 9999);
    two(0, y / 100);
    two(2, y % 100);
    out[4] = '-';
    two(5, static_cast<unsigned>(d.month()));
    out[7] = '-';
    two(8, static_cast<unsigned>(d.day()));
    out[10] = 'T';
    two(11, secs / 3600);
    out[13] = ':';
    two(14, secs / 60 % 60);
    out[16] = ':';
    two(17, secs % 60);
    const int offMinutes = (offSeconds < 0 ? -offSeconds : offSeconds) / 60;
    out[19] = offSeconds < 0 ? '-' : '+';
    two(20, offMinutes / 60);
    out[22] = ':';
    two(23, offMinutes % 60);
}

std::chrono::year_month_day Clock::localDate(std::chrono::system_clock::time_point when) {
    const auto utc = std::chrono::floor<std::chrono::seconds>(when);
    return std::chrono::year_month_day{std::chrono::floor<std::chrono::days>(utc + std::chrono::seconds{localOffsetSeconds(utc)})};
}

std::chrono::system_clock::time_point Clock::localMidnight(std::chrono::year_month_day day) {
    // 2200-01-01 is the start of the last day a period "to 2199-12-31" needs.
    if (!inRange(day) && day != std::chrono::year_month_day{std::chrono::year{2200}, std::chrono::January, std::chrono::day{1}})
        throw std::invalid_argument("a day between 1900-01-01 and 2199-12-31 is expected");
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
    std::string s(kLocalIsoSize, '\0');
    formatLocalIso(std::chrono::floor<std::chrono::seconds>(when), s.data());
    return s;
}

}  // namespace klinikbox
