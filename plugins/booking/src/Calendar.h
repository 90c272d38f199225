// Swedish calendar facts the booking plugin computes instead of storing: public holidays
// (helgdagar, and the de facto closed eves), and Europe/Stockholm local time with the EU
// daylight-saving rule (CEST from 01:00 UTC on the last Sunday of March to 01:00 UTC on the
// last Sunday of October), so slots and messages are right on the two change days.
#pragma once

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

// UTC offset in minutes (60 or 120) of Europe/Stockholm at a UTC instant.
[[nodiscard]] int stockholmOffsetMinutes(std::chrono::sys_seconds utc);
// The UTC instant of a Stockholm wall-clock time, or nullopt if that local time does not
// exist (the spring-forward hour). An ambiguous time (the autumn hour that occurs twice)
// resolves to its first occurrence (summer time).
[[nodiscard]] std::optional<std::chrono::sys_seconds> stockholmToUtc(std::chrono::year_month_day date, int minuteOfDay);
// The Stockholm calendar date of an instant.
[[nodiscard]] std::chrono::year_month_day stockholmDate(std::chrono::sys_seconds utc);
// ISO 8601 with offset in Stockholm time, e.g. "2026-11-25T09:00:00+01:00".
[[nodiscard]] std::string isoStockholm(std::chrono::sys_seconds utc);
// The same text written into `out` (kIsoStockholmSize bytes, no terminator) without
// allocating: a unit's week view formats two of these per slot.
inline constexpr std::size_t kIsoStockholmSize = 25;
void formatIsoStockholm(std::chrono::sys_seconds utc, char* out);
// "2026-11-25"
[[nodiscard]] std::string isoDate(std::chrono::year_month_day date);
// Parses "YYYY-MM-DD" (a valid calendar date) or returns nullopt.
[[nodiscard]] std::optional<std::chrono::year_month_day> parseDate(const std::string& text);
// Parses "HH:MM" (00:00..24:00) into minutes of the day, or nullopt.
[[nodiscard]] std::optional<int> parseClock(const std::string& text);
// crm:scheduling's timestamp form YYYYMMDDhhmmss in Stockholm local time.
[[nodiscard]] std::string rivTimestamp(std::chrono::sys_seconds utc);

}  // namespace booking
