// The day and week view of a unit (GET /api/v1/booking/calendar): every slot of the unit in
// the range with its live booking. The hottest read of the console, so its query is kept
// narrow: the slots come from a covering index (booking_slots_by_unit_time, migration 0005)
// joined only with their live booking; the names of the practitioners, visit types and rooms
// (small tables) are read once per view, not joined into each of a day's hundreds of rows.
// The rows of one start time are ordered by practitioner name here (ties by HSA-id), the
// order the view always had.
#pragma once

namespace booking {

// ?1 unit, ?2 from (unix seconds, inclusive), ?3 to (exclusive), ?4 practitioner ('' = all).
// Columns: slot id, start, end, practitioner, visit type, room id (NULL for none), and the
// live booking's id, patient, status and channel (NULL when the slot is free). A withdrawn
// slot is shown only while it still holds a booking. DayViewQueryPlan checks its plan.
inline constexpr const char* kDayViewSlots =
    "SELECT s.id, s.start_at, s.end_at, s.practitioner, s.visit_type, s.room_id, b.id, b.patient, b.status, b.channel"
    " FROM booking_slots s LEFT JOIN booking_bookings b ON b.slot_id = s.id AND b.status IN ('booked','arrived','noshow')"
    " WHERE s.unit = ?1 AND s.start_at >= ?2 AND s.start_at < ?3 AND (?4 = '' OR s.practitioner = ?4)"
    " AND (s.withdrawn = 0 OR b.id IS NOT NULL) ORDER BY s.start_at";

}  // namespace booking
