// The loaded view of one booking (joined with its slot, unit, practitioner, visit type and
// room), how it is read from the database, and the payload of the booking.* events.
#pragma once

#include "Support.h"

#include <klinikbox/Db.h>

#include <optional>
#include <string>

namespace booking {

struct BookingRow {
    long long id = 0, slotId = 0;
    std::string patient, status, channel, purpose, reason, note, phone, email, guardian;
    long long start = 0, end = 0;
    std::string unit, unitName, address, practitioner, practitionerName, profession;
    std::string visitType, visitTypeName, visitForm, timeTypeId, timeTypeName, careTypeId, careTypeName;
    std::string room;
    long long createdAt = 0;
    std::string createdBy;
    std::optional<long long> rebookedTo;
    std::string triage;
    std::optional<long long> urgencyDays;
};

inline constexpr const char* kBookingSelect =
    "SELECT b.id, b.slot_id, b.patient, b.status, b.channel, b.purpose, b.reason, b.note, b.phone, b.email, b.guardian,"
    " s.start_at, s.end_at, s.unit, u.name, u.address, s.practitioner, p.name, p.profession,"
    " v.id, v.name, v.visit_form, v.time_type_id, v.time_type_name, v.care_type_id, v.care_type_name,"
    " COALESCE(r.name, ''), b.created_at, b.created_by, b.rebooked_to, b.triage, b.urgency_days"
    " FROM booking_bookings b JOIN booking_slots s ON s.id = b.slot_id"
    " JOIN booking_units u ON u.hsa_id = s.unit JOIN booking_practitioners p ON p.hsa_id = s.practitioner"
    " JOIN booking_visit_types v ON v.id = s.visit_type LEFT JOIN booking_rooms r ON r.id = s.room_id ";

// A patient's bookings at a unit in a time range (the check-in's look-up), with kBookingSelect.
// The unary + keeps SQLite from driving the join from the unit's slots in the range (all
// slots of the day, each then matched against every booking of the patient): it starts from
// the patient's bookings instead, a handful for most patients (BookingQueryPlan test).
inline constexpr const char* kPatientBookingsAtUnitBetween =
    "WHERE b.patient = ?1 AND +s.unit = ?2 AND +s.start_at >= ?3 AND +s.start_at < ?4"
    " AND b.status IN ('booked','arrived') ORDER BY s.start_at";

BookingRow readBooking(db::Statement& st);

std::optional<BookingRow> loadBooking(db::Connection& c, long long id);

// The event payload (contracts: booking.created/cancelled/rebooked/noshow).
Object::Ptr eventPayload(const BookingRow& b);

}  // namespace booking
