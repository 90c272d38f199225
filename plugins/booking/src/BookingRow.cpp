// Reading bookings and their event payloads (see BookingRow.h).
#include "BookingRow.h"

namespace booking {

BookingRow readBooking(db::Statement& st) {
    BookingRow b;
    b.id = st.getInt(0);
    b.slotId = st.getInt(1);
    b.patient = st.getText(2);
    b.status = st.getText(3);
    b.channel = st.getText(4);
    b.purpose = st.getText(5);
    b.reason = st.getText(6);
    b.note = st.getText(7);
    b.phone = st.getText(8);
    b.email = st.getText(9);
    b.guardian = st.getText(10);
    b.start = st.getInt(11);
    b.end = st.getInt(12);
    b.unit = st.getText(13);
    b.unitName = st.getText(14);
    b.address = st.getText(15);
    b.practitioner = st.getText(16);
    b.practitionerName = st.getText(17);
    b.profession = st.getText(18);
    b.visitType = st.getText(19);
    b.visitTypeName = st.getText(20);
    b.visitForm = st.getText(21);
    b.timeTypeId = st.getText(22);
    b.timeTypeName = st.getText(23);
    b.careTypeId = st.getText(24);
    b.careTypeName = st.getText(25);
    b.room = st.getText(26);
    b.createdAt = st.getInt(27);
    b.createdBy = st.getText(28);
    b.rebookedTo = st.getOptionalInt(29);
    b.triage = st.getText(30);
    b.urgencyDays = st.getOptionalInt(31);
    return b;
}

std::optional<BookingRow> loadBooking(db::Connection& c, long long id) {
    auto st = c.prepare(std::string(kBookingSelect) + "WHERE b.id = ?");
    st.bind(1, id);
    if (!st.step()) return std::nullopt;
    return readBooking(st);
}

// The event payload (contracts: booking.created/cancelled/rebooked/noshow).
Object::Ptr eventPayload(const BookingRow& b) {
    Object::Ptr o = new Object;
    o->set("booking_id", b.id);
    o->set("slot_id", b.slotId);
    o->set("patient", b.patient);
    // How to reach the patient, when the booker gave it (a handler's own reminders, offers).
    if (!b.phone.empty()) o->set("phone", b.phone);
    if (!b.email.empty()) o->set("email", b.email);
    o->set("care_unit", b.unit);
    o->set("care_unit_name", b.unitName);
    o->set("practitioner", b.practitioner);
    o->set("practitioner_name", b.practitionerName);
    o->set("profession", b.profession);
    o->set("visit_form", b.visitForm);
    o->set("visit_type", b.visitType);
    o->set("visit_type_name", b.visitTypeName);
    o->set("start", isoLocal(fromSec(b.start)));
    o->set("end", isoLocal(fromSec(b.end)));
    o->set("location", b.room.empty() ? b.address : b.room + ", " + b.address);
    return o;
}

}  // namespace booking
