// Time, injected: tests and `klinikbox lua test` control "now".
#pragma once

#include <atomic>
#include <chrono>
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
    [[nodiscard]] static std::chrono::system_clock::time_point localMidnight(std::chrono::year_month_day day);
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
