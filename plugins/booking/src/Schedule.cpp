#include "Schedule.h"

#include <algorithm>

namespace booking {

using namespace std::chrono;

std::vector<std::string> checkRule(const ScheduleRule& r) {
    std::vector<std::string> why;
    if (r.weekdays.empty()) why.emplace_back("weekdays: at least one day (1 = Monday ... 7 = Sunday)");
    for (int d : r.weekdays)
        if (d < 1 || d > 7) why.emplace_back("weekdays: " + std::to_string(d) + " is not 1..7");
    if (r.start < 0 || r.end > 24 * 60 || r.start >= r.end) why.emplace_back("opening hours: start must be before end");
    if (r.slotMinutes < 5 || r.slotMinutes > kMaxSlotMinutes) why.emplace_back("slot length must be 5..480 minutes");
    for (const auto& b : r.breaks)
        if (b.start >= b.end || b.start < r.start || b.end > r.end)
            why.emplace_back("a break must lie inside the opening hours and end after it starts");
    if (!r.validFrom.ok() || !r.validTo.ok() || sys_days{r.validTo} < sys_days{r.validFrom})
        why.emplace_back("valid_to must not be before valid_from");
    return why;
}

std::vector<SlotSpec> generateSlots(const std::vector<ScheduleRule>& rules, year_month_day from, year_month_day to,
                                    const ClosedDays& closed) {
    std::vector<SlotSpec> out;
    for (sys_days d{from}; d <= sys_days{to}; d += days{1}) {
        const year_month_day date{d};
        const auto holiday = holidayOn(date);
        if (holiday && (!holiday->eve || closed.closeOnEves)) continue;
        const int wd = isoWeekday(date);
        const std::string iso = isoDate(date);
        for (const auto& r : rules) {
            if (!r.weekdays.count(wd) || d < sys_days{r.validFrom} || d > sys_days{r.validTo}) continue;
            if (closed.unitDates.count(r.unit + "|" + iso)) continue;
            for (int t = r.start; t + r.slotMinutes <= r.end; t += r.slotMinutes) {
                const int slotEnd = t + r.slotMinutes;
                const bool inBreak = std::any_of(r.breaks.begin(), r.breaks.end(),
                                                 [&](const Break& b) { return t < b.end && slotEnd > b.start; });
                if (inBreak) {
                    // Continue right after the break instead of on the old grid.
                    for (const auto& b : r.breaks)
                        if (t < b.end && slotEnd > b.start) t = b.end - r.slotMinutes;
                    continue;
                }
                const auto start = localToUtc(date, t);
                if (!start) continue;  // the hour that does not exist on the spring-forward day
                if (r.endedAt && *start > *r.endedAt) continue;  // after the schedule was ended
                out.push_back({r.id, r.practitioner, r.unit, r.visitType, *start, *start + minutes{r.slotMinutes}, r.roomId});
            }
        }
    }
    std::sort(out.begin(), out.end(), [](const SlotSpec& a, const SlotSpec& b) {
        return a.start != b.start ? a.start < b.start : a.practitioner < b.practitioner;
    });
    return out;
}

}  // namespace booking
