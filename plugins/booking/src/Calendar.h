// Swedish calendar facts the booking plugin computes instead of storing: public holidays
// (helgdagar, and the de facto closed eves); and the box's local time (box.timezone, Swedish
// time unless set otherwise), read from the zone's tzdata through the SDK's Clock, so slots,
// messages and the console agree, on the two change days too.
#pragma once

#include <klinikbox/Clock.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace booking {

using Days = std::chrono::sys_days;

struct Holiday {
    std::chrono::year_month_day date;
    std::string name;  // Swedish, e.g. "Långfredagen"
    bool eve = false;  // a de facto closed eve (midsommarafton, julafton, nyårsafton), not a helgdag by law
};

// Easter Sunday (Gregorian computus, Meeus/Jones/Butcher).
[[nodiscard]] std::chrono::year_month_day easterSunday(int year);
// Every Swedish public holiday and closed eve of the year, in date order.
[[nodiscard]] std::vector<Holiday> swedishHolidays(int year);
// The holiday on that date, if any.
[[nodiscard]] std::optional<Holiday> holidayOn(std::chrono::year_month_day date);

// ISO weekday: 1 = Monday ... 7 = Sunday.
[[nodiscard]] int isoWeekday(std::chrono::year_month_day date);

// UTC offset in minutes of the box's zone at a UTC instant (60 or 120 in Sweden).
[[nodiscard]] int localOffsetMinutes(std::chrono::sys_seconds utc);
// The UTC instant of a local wall-clock time, or nullopt if that local time does not
// exist (the spring-forward hour). An ambiguous time (the autumn hour that occurs twice)
// resolves to its first occurrence (summer time).
[[nodiscard]] std::optional<std::chrono::sys_seconds> localToUtc(std::chrono::year_month_day date, int minuteOfDay);
// The first instant of a local day: its midnight, or when the clocks jump where a zone moves
// them at midnight. A day runs from dayStart(d) to dayStart(d + 1): 23 or 25 hours on the
// days summer time begins and ends, never "24 hours from midnight".
[[nodiscard]] std::chrono::sys_seconds dayStart(std::chrono::year_month_day date);
// The local calendar date of an instant.
[[nodiscard]] std::chrono::year_month_day localDate(std::chrono::sys_seconds utc);
// ISO 8601 with offset in local time, e.g. "2026-11-25T09:00:00+01:00".
[[nodiscard]] std::string isoLocal(std::chrono::sys_seconds utc);
// The same text written into `out` (kIsoLocalSize bytes, no terminator) without
// allocating: a unit's week view formats two of these per slot.
inline constexpr std::size_t kIsoLocalSize = klinikbox::Clock::kLocalIsoSize;
void formatIsoLocal(std::chrono::sys_seconds utc, char* out);
// "2026-11-25"
[[nodiscard]] std::string isoDate(std::chrono::year_month_day date);
// Parses "YYYY-MM-DD" (a valid calendar date) or returns nullopt.
[[nodiscard]] std::optional<std::chrono::year_month_day> parseDate(const std::string& text);
// Parses "HH:MM" (00:00..24:00) into minutes of the day, or nullopt.
[[nodiscard]] std::optional<int> parseClock(const std::string& text);

}  // namespace booking
