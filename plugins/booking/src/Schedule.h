// Slots from schedules: a practitioner's weekly opening hours (per weekday, with breaks and
// a validity period) cut into slots of the visit type's length, on every day that is not a
// public holiday, a closed eve (unless the clinic opens then) or one of the unit's own
// closed days. Pure: the plugin stores what this returns.
#pragma once

#include "Calendar.h"

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace booking {

struct Break {
    int start = 0, end = 0;  // minutes of the day
};

// The longest slot a visit type may make (and a visit type's longest length).
inline constexpr int kMaxSlotMinutes = 480;

struct ScheduleRule {
    long long id = 0;
    std::string practitioner;  // HSA-id
    std::string unit;          // HSA-id
    std::string visitType;     // id
    int slotMinutes = 20;
    std::set<int> weekdays;    // ISO 1..7
    int start = 8 * 60, end = 17 * 60;  // opening hours, minutes of the day
    std::vector<Break> breaks;
    std::chrono::year_month_day validFrom{}, validTo{};  // inclusive
    long long roomId = 0;      // 0: none
    // When the schedule was ended (Avsluta), if it was: it makes no slot starting after it.
    std::optional<std::chrono::sys_seconds> endedAt;
};

struct SlotSpec {
    long long scheduleId = 0;
    std::string practitioner, unit, visitType;
    std::chrono::sys_seconds start{}, end{};
    long long roomId = 0;
};

struct ClosedDays {
    std::set<std::string> unitDates;  // "<unit>|YYYY-MM-DD"
    bool closeOnEves = true;
};

// Validates a rule; returns the reasons it cannot be used (empty when fine).
[[nodiscard]] std::vector<std::string> checkRule(const ScheduleRule& r);

// Slots of `rules` on the dates [from, to] (inclusive), in start order.
[[nodiscard]] std::vector<SlotSpec> generateSlots(const std::vector<ScheduleRule>& rules, std::chrono::year_month_day from,
                                                  std::chrono::year_month_day to, const ClosedDays& closed);

}  // namespace booking
