// Time, injected: tests and `klinikbox lua test` control "now".
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string_view>

namespace klinikbox {

class Clock {
public:
    virtual ~Clock() = default;
    [[nodiscard]] virtual std::chrono::system_clock::time_point now() const = 0;
    // The calendar date today in the box's local time zone (Swedish time in production).
    [[nodiscard]] std::chrono::year_month_day today() const;
    // The calendar date of a moment in the box's local time zone: the day a booking belongs
    // to, whatever offset its text was written with.
    [[nodiscard]] static std::chrono::year_month_day localDate(std::chrono::system_clock::time_point t);
    // The moment a calendar day starts (00:00) in the box's local time zone. A period of days
    // that staff or a patient asked for ("2026-12-07") runs from localMidnight(from) to
    // localMidnight(to + 1 day): the days they see, not UTC days, which in Sweden start at
    // 01:00 or 02:00.
    // Days from 1900-01-01 to 2199-12-31 only (else std::invalid_argument, a 400 from a
    // route): a time_point counts nanoseconds and ends in 2262, and a period "to 9999-12-31"
    // wrapped round to 1677 and found nothing. Check a period's days with inRange first.
    [[nodiscard]] static std::chrono::system_clock::time_point localMidnight(std::chrono::year_month_day day);
    // Whether a day lies in the range the box's periods may name: 1900-01-01 .. 2199-12-31.
    [[nodiscard]] static bool inRange(std::chrono::year_month_day day) {
        return day.ok() && day.year() >= std::chrono::year{1900} && day.year() <= std::chrono::year{2199};
    }
    // A date written YYYY-MM-DD (ten characters, digits and dashes, a day that exists), else
    // nullopt: "2026-02-30", "2026-2-01" and "+026-02-01" are not dates.
    [[nodiscard]] static std::optional<std::chrono::year_month_day> parseDate(std::string_view text);
    // An instant written ISO 8601 with its offset, as plugins write times to each other:
    // "2026-12-07T09:00:00+01:00", "2026-12-07T08:00:00Z", "2026-12-07T08:00Z",
    // "2026-12-07T08:00:00.250Z" (the fraction is dropped). Anything else is nullopt, a time
    // without an offset too: its zone would be a guess.
    [[nodiscard]] static std::optional<std::chrono::system_clock::time_point> parseInstant(std::string_view text);
    // An instant in the box's local time zone with its offset, e.g. "2026-12-07T09:00:00+01:00".
    [[nodiscard]] static std::string localIso(std::chrono::system_clock::time_point t);

    // The box's zone for code that converts many times: a day view formats two per slot.
    // Every plugin reads the zone here (box.timezone, the process's TZ) rather than carrying
    // a rule of its own, so slots, messages, kiosk clocks, Lua's kb.time and the console agree
    // whatever zone the box is set to.
    //
    // Seconds east of UTC at an instant (3600 or 7200 in Sweden; -12600 in St. John's in
    // winter). Each thread keeps the offsets of the UTC days it asked about, with the instant
    // a change happens on such a day; a zone that changes its offset twice within one UTC day
    // (none has since 1970) would be read with its first change only.
    [[nodiscard]] static int localOffsetSeconds(std::chrono::sys_seconds utc);
    // The instant a wall-clock time on a day has in the box's zone, or nullopt when that time
    // does not exist there (the hour the clocks skip in spring). A time that happens twice
    // (the hour repeated in autumn) is its first occurrence, summer time.
    [[nodiscard]] static std::optional<std::chrono::sys_seconds> fromLocal(std::chrono::year_month_day day,
                                                                           std::chrono::seconds timeOfDay);
    // localIso's text written into `out` (kLocalIsoSize bytes, no terminator) without
    // allocating. The offset is whole minutes ("+05:30", "-03:30").
    static constexpr std::size_t kLocalIsoSize = 25;
    static void formatLocalIso(std::chrono::sys_seconds utc, char* out);
    // Drops the offsets every thread has kept. Call after changing TZ and calling tzset() in a
    // running process (the box sets its zone once, before any thread starts; tests change it).
    static void timeZoneChanged();
};

class SystemClock final : public Clock {
public:
    [[nodiscard]] std::chrono::system_clock::time_point now() const override {
        return std::chrono::system_clock::now();
    }
};

// The system clock shifted by a fixed offset: a development box that lives "as if" on another
// day (box.clock_start) while time still passes.
class OffsetClock final : public Clock {
public:
    explicit OffsetClock(std::chrono::system_clock::duration offset) : offset_(offset) {}
    [[nodiscard]] std::chrono::system_clock::time_point now() const override {
        return std::chrono::system_clock::now() + offset_;
    }

private:
    std::chrono::system_clock::duration offset_;
};

// A clock that stands still until moved; for tests.
class FixedClock final : public Clock {
public:
    explicit FixedClock(std::chrono::system_clock::time_point t) : ns_(t.time_since_epoch().count()) {}
    [[nodiscard]] std::chrono::system_clock::time_point now() const override {
        return std::chrono::system_clock::time_point(std::chrono::system_clock::duration(ns_.load()));
    }
    void set(std::chrono::system_clock::time_point t) { ns_ = t.time_since_epoch().count(); }
    void advance(std::chrono::system_clock::duration d) { ns_ += d.count(); }

private:
    std::atomic<std::chrono::system_clock::rep> ns_;
};

}  // namespace klinikbox
