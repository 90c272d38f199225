// Bookings: the one path every channel uses to book, rebook, cancel and mark no-shows, and
// the JSON of a booking (crm:scheduling names).
#include <klinikbox/Schema.h>
#include "BookingPlugin.h"

#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <sstream>

namespace booking {

Object::Ptr BookingPlugin::bookingJson(const BookingRow& b) const {
    Object::Ptr o = new Object;
    o->set("bookingId", b.id);
    o->set("slot_id", b.slotId);
    o->set("subject_of_care", b.patient);
    o->set("status", b.status);
    o->set("healthcare_facility", b.unit);
    o->set("healthcare_facility_name", b.unitName);
    o->set("address", b.address);
    o->set("performer", b.practitioner);
    o->set("performerName", b.practitionerName);
    o->set("profession", b.profession);
    o->set("resourceName", b.room);
    o->set("startTimeInclusive", isoLocal(fromSec(b.start)));
    o->set("endTimeExclusive", isoLocal(fromSec(b.end)));
    o->set("timeTypeID", b.timeTypeId);
    o->set("timeTypeName", b.timeTypeName);
    o->set("careTypeID", b.careTypeId);
    o->set("careTypeName", b.careTypeName);
    o->set("visit_type", b.visitType);
    o->set("visit_type_name", b.visitTypeName);
    o->set("visit_form", b.visitForm);
    o->set("purpose", b.purpose);
    o->set("reason", b.reason);
    o->set("note", b.note);
    o->set("phone", b.phone);
    o->set("email", b.email);
    o->set("guardian", b.guardian);
    o->set("channel", b.channel);
    o->set("isInvitation", b.channel == "invitation");
    const bool live = b.status == "booked";
    const bool inTime = now() < b.start - static_cast<long long>(s_.cancelLatestHours) * 3600;
    o->set("cancel_booking_allowed", live && inTime);
    o->set("rebooking_allowed", live && inTime);
    if (b.rebookedTo) o->set("rebooked_to", *b.rebookedTo);
    o->set("triage", b.triage);
    if (b.urgencyDays) o->set("urgency_days", *b.urgencyDays);
    return o;
}

Poco::JSON::Array::Ptr BookingPlugin::freeSlotsLike(long long slotId) {
    Poco::JSON::Array::Ptr out = new Poco::JSON::Array;
    ctx_->store().read([&](db::Connection& c) {
        auto one = c.prepare("SELECT s.start_at, s.unit, v.visit_form FROM booking_slots s JOIN booking_visit_types v ON v.id = s.visit_type"
                             " WHERE s.id = ?");
        one.bind(1, slotId);
        if (!one.step()) return;
        const auto day = localDate(fromSec(one.getInt(0)));
        const auto from = dayStart(day);
        const auto to = dayStart(year_month_day{sys_days{day} + days{1}});
        auto st = c.prepare(
            "SELECT s.id, s.start_at, s.end_at, s.practitioner, p.name, p.profession, s.visit_type FROM booking_slots s"
            " JOIN booking_practitioners p ON p.hsa_id = s.practitioner JOIN booking_visit_types v ON v.id = s.visit_type"
            " WHERE s.unit = ? AND v.visit_form = ? AND s.withdrawn = 0 AND s.start_at >= ? AND s.start_at < ? AND s.start_at > ?"
            " AND NOT EXISTS (SELECT 1 FROM booking_bookings b WHERE b.slot_id = s.id AND b.status IN ('booked','arrived','noshow'))"
            " ORDER BY s.start_at, s.practitioner LIMIT 50");
        st.bind(1, one.getText(1)).bind(2, one.getText(2)).bind(3, toSec(from))
            .bind(4, toSec(to)).bind(5, now());
        while (st.step()) {
            Object::Ptr o = new Object;
            o->set("slot_id", st.getInt(0));
            o->set("start", isoLocal(fromSec(st.getInt(1))));
            o->set("end", isoLocal(fromSec(st.getInt(2))));
            o->set("practitioner", st.getText(3));
            o->set("practitioner_name", st.getText(4));
            o->set("profession", st.getText(5));
            o->set("visit_type", st.getText(6));
            out->add(o);
        }
    });
    return out;
}

// Runs booking.requested (hooks may change slot_id, note, purpose or veto), then inserts
// the booking, its audit record and its messages in one transaction.
BookingRow BookingPlugin::book(const Request& req, BookInput in, std::optional<long long> replaces, const std::string& why) {
    Object::Ptr payload;
    auto describe = [&](long long slotId) {
        Object::Ptr p = new Object;
        bool found = false;
        ctx_->store().read([&](db::Connection& c) {
            auto st = c.prepare(
                "SELECT s.start_at, s.end_at, s.unit, s.practitioner, p.profession, v.visit_form, v.id, v.name, s.withdrawn"
                " FROM booking_slots s JOIN booking_practitioners p ON p.hsa_id = s.practitioner"
                " JOIN booking_visit_types v ON v.id = s.visit_type WHERE s.id = ?");
            st.bind(1, slotId);
            if (!st.step() || st.getInt(8)) return;
            found = true;
            if (st.getInt(0) <= now())
                throw Problem(409, "/problems/slot-passed", "Tiden har passerat", "the slot has already started");
            p->set("start", isoLocal(fromSec(st.getInt(0))));
            p->set("end", isoLocal(fromSec(st.getInt(1))));
            p->set("care_unit", st.getText(2));
            p->set("practitioner", st.getText(3));
            p->set("profession", st.getText(4));
            p->set("visit_form", st.getText(5));
            p->set("visit_type", st.getText(6));
            p->set("visit_type_name", st.getText(7));
        });
        if (!found) throw Problem(404, "/problems/no-such-slot", "Tiden finns inte", "no slot " + std::to_string(slotId));
        return p;
    };
    payload = describe(in.slotId);
    payload->set("patient", in.patient);
    payload->set("slot_id", in.slotId);
    payload->set("channel", in.channel);
    payload->set("note", in.note);
    payload->set("purpose", in.purpose);
    if (!in.reason.empty()) payload->set("reason", in.reason);
    if (in.urgencyDays) payload->set("urgency_days", *in.urgencyDays);
    if (!in.guardian.empty()) payload->set("guardian", in.guardian);
    if (!in.phone.empty()) payload->set("phone", in.phone);
    if (!in.email.empty()) payload->set("email", in.email);
    // The reminder schedule (hours before the visit) a hook may change, and the free slots
    // of the same visit form that day a routing hook may choose from (slot_id).
    Poco::JSON::Array::Ptr reminders = new Poco::JSON::Array;
    for (int h : s_.reminderHours) reminders->add(h);
    payload->set("reminders", reminders);
    Event ev{"booking.requested", payload, req.principal, req.requestId};
    // free_slots is made only when a hook reads it (a routing hook): a query that walks past
    // the day's booked slots, and 50 objects (12 % of a booking's CPU on a full day).
    ev.lazy.push_back({"free_slots", [this, slot = in.slotId] { return Poco::Dynamic::Var(freeSlotsLike(slot)); }, {}});
    const std::string practitioner = payload->getValue<std::string>("practitioner");
    const auto outcome = ctx_->events().publishSync(ev);
    // A hook that broke (error, timeout, memory) also refuses: fail closed.
    if (outcome.failed)
        throw Problem(422, "/problems/hook-failed", "Bokningen kunde inte kontrolleras", outcome.reason).with("hook", outcome.hook);
    if (outcome.vetoed)
        throw Problem(422, "/problems/booking-refused", "Bokningen godtogs inte", outcome.reason).with("hook", outcome.hook);
    // What a hook may change: the slot (another time), the practitioner (the same time
    // and visit type with another practitioner: routing), the note and the purpose; it may
    // add triage and urgency_days, which are stored. The patient and the channel stay.
    const long long routed = ev.payload->optValue<long long>("slot_id", in.slotId);
    if (routed != in.slotId) {
        (void)describe(routed);
        in.slotId = routed;
    }
    const std::string toPractitioner = ev.payload->optValue<std::string>("practitioner", practitioner);
    if (toPractitioner != practitioner) {
        std::optional<long long> other;
        ctx_->store().read([&](db::Connection& c) {
            auto st = c.prepare(
                "SELECT o.id FROM booking_slots s JOIN booking_slots o ON o.start_at = s.start_at AND o.visit_type = s.visit_type"
                " AND o.practitioner = ? AND o.withdrawn = 0 WHERE s.id = ? AND NOT EXISTS (SELECT 1 FROM booking_bookings b"
                " WHERE b.slot_id = o.id AND b.status IN ('booked','arrived','noshow'))");
            st.bind(1, toPractitioner).bind(2, in.slotId);
            if (st.step()) other = st.getInt(0);
        });
        if (!other)
            throw Problem(409, "/problems/no-slot-for-routing", "Ingen ledig tid hos den vårdgivaren",
                          "a hook routed the booking to " + toPractitioner + ", who has no free slot of this type at that time");
        in.slotId = *other;
    }
    in.note = ev.payload->optValue<std::string>("note", in.note).substr(0, 500);
    in.purpose = ev.payload->optValue<std::string>("purpose", in.purpose).substr(0, 500);
    in.triage = ev.payload->optValue<std::string>("triage", "").substr(0, 60);
    if (ev.payload->has("urgency_days") && ev.payload->get("urgency_days").isInteger())
        in.urgencyDays = std::clamp(ev.payload->getValue<int>("urgency_days"), 0, 365);
    in.reminderHours = remindersOf(ev.payload);

    BookingRow b;
    std::optional<year_month_day> freed;
    try {
        ctx_->store().write([&](db::Connection& c) {
            // The slot was read before the hooks ran: a schedule ended or a day closed since
            // withdraws it (a free slot is withdrawn in the same transaction that ends it).
            auto open = c.prepare("SELECT withdrawn FROM booking_slots WHERE id = ?");
            open.bind(1, in.slotId);
            if (!open.step() || open.getInt(0))
                throw Problem(404, "/problems/no-such-slot", "Tiden finns inte",
                              "slot " + std::to_string(in.slotId) + " was withdrawn meanwhile (its schedule ended or the day was closed)");
            if (replaces) {
                c.prepare("UPDATE booking_bookings SET status='rebooked', changed_at=? WHERE id=? AND status='booked'")
                    .bind(1, now()).bind(2, *replaces).exec();
                if (c.changes() != 1)
                    throw Problem::conflict("/problems/booking-changed", "the booking is no longer booked");
            }
            auto ins = c.prepare(
                "INSERT INTO booking_bookings(slot_id, patient, status, channel, purpose, reason, note, phone, email, guardian,"
                " invitation_id, created_at, created_by, changed_at, triage, urgency_days, request_key)"
                " VALUES(?,?,'booked',?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
            ins.bind(1, in.slotId).bind(2, in.patient).bind(3, in.channel).bind(4, in.purpose).bind(5, in.reason)
                .bind(6, in.note).bind(7, in.phone).bind(8, in.email).bind(9, in.guardian);
            if (in.invitationId) ins.bind(10, *in.invitationId);
            else ins.bindNull(10);
            ins.bind(11, now()).bind(12, in.createdBy.empty() ? who(req) : in.createdBy).bind(13, now()).bind(14, in.triage);
            if (in.urgencyDays) ins.bind(15, *in.urgencyDays);
            else ins.bindNull(15);
            if (!in.requestKey.empty()) ins.bind(16, in.requestKey);
            else ins.bindNull(16);
            ins.exec();
            const long long id = c.lastInsertId();
            if (replaces) {
                c.prepare("UPDATE booking_bookings SET rebooked_to=? WHERE id=?").bind(1, id).bind(2, *replaces).exec();
                if (const auto old = loadBooking(c, *replaces)) freed = releaseSlot(c, old->slotId);
            }
            b = *loadBooking(c, id);
            audit(req, replaces ? "booking.rebook" : "booking.create", b.patient,
                  "booking " + std::to_string(id) + (replaces ? " replaces " + std::to_string(*replaces) : "") + " via " + in.channel +
                      (why.empty() ? "" : " (" + why + ")"),
                  &c);
            queueMessages(c, b, replaces ? "rebooked" : "confirmation");
            // Reminders follow the (new) time; the old booking's are skipped when due.
            queueReminders(c, b, in.reminderHours.value_or(s_.reminderHours));
        });
    } catch (const db::ConstraintError&) {
        throw Problem(409, "/problems/slot-taken", "Tiden är redan bokad", "the slot was booked by someone else");
    }
    if (freed) forgetGeneratedDay(*freed);
    return b;
}

void BookingPlugin::publish(const std::string& name, const BookingRow& b, const Request& req,
                            const std::function<void(Object&)>& extra) {
    auto p = eventPayload(b);
    if (extra) extra(*p);
    ctx_->events().publish(Event{name, p, req.principal, req.requestId});
}

BookingPlugin::BookInput BookingPlugin::readBookInput(const JsonInput& in, const std::string& channel) const {
    BookInput b;
    b.slotId = in.integer("slot_id", 1, 9'000'000'000'000'000'000LL);
    b.patient = parsePatient(in.str("patient", 20));
    b.purpose = in.optStr("purpose", 500).value_or("");
    b.reason = in.optStr("reason", 1000).value_or("");
    b.note = in.optStr("note", 500).value_or("");
    b.phone = in.optStr("phone", 30).value_or("");
    if (!b.phone.empty() && !booking::normalisePhone(b.phone)) throw invalid("phone", "not a phone number", "phone");
    b.email = in.optStr("email", 254).value_or("");
    if (!b.email.empty() && !booking::plausibleEmail(b.email)) throw invalid("email", "not an e-mail address", "email");
    if (const auto g = in.optStr("guardian", 20); g && !g->empty()) b.guardian = parsePatient(*g, "guardian");
    if (const auto u = in.optInteger("urgency_days", 0, 365)) b.urgencyDays = static_cast<int>(*u);
    b.channel = channel;
    return b;
}

BookingRow BookingPlugin::requireBooking(long long id) {
    std::optional<BookingRow> b;
    ctx_->store().read([&](db::Connection& c) { b = loadBooking(c, id); });
    if (!b) throw Problem::notFound("no booking " + std::to_string(id));
    return *b;
}

std::string BookingPlugin::checkChangeAllowed(const Request& req, const BookingRow& b,
                                              const std::optional<std::string>& staffReason) const {
    if (b.status != "booked")
        throw Problem(409, "/problems/booking-not-active", "Bokningen är inte aktiv", "the booking is " + b.status + ", not booked")
            .with("status_now", b.status);
    if (now() >= b.start)
        throw Problem(409, "/problems/booking-started", "Tiden har redan börjat", "the booking has started and can no longer be changed");
    const long long latest = b.start - static_cast<long long>(s_.cancelLatestHours) * 3600;
    if (now() < latest) return {};
    const bool staff = req.principal && (req.principal->role == Role::Staff || req.principal->role == Role::Admin);
    if (!staff)
        throw Problem(409, "/problems/too-late", "För sent att ändra",
                      "bookings can be changed until " + std::to_string(s_.cancelLatestHours) + " hours before they start")
            .with("hours", s_.cancelLatestHours);
    if (!staffReason || staffReason->empty())
        throw Problem(409, "/problems/late-change-needs-reason", "Ange orsak till den sena ändringen",
                      "a change within " + std::to_string(s_.cancelLatestHours) + " hours of the start needs a reason")
            .with("hours", s_.cancelLatestHours);
    return "late change, reason: " + *staffReason;
}

BookingRow BookingPlugin::cancel(const Request& req, const BookingRow& b, const std::string& by, const std::string& why) {
    BookingRow out;
    std::optional<year_month_day> freed;
    ctx_->store().write([&](db::Connection& c) {
        c.prepare("UPDATE booking_bookings SET status='cancelled', changed_at=? WHERE id=? AND status='booked'")
            .bind(1, now()).bind(2, b.id).exec();
        if (c.changes() != 1) throw Problem::conflict("/problems/booking-changed", "the booking is no longer booked");
        freed = releaseSlot(c, b.slotId);
        out = *loadBooking(c, b.id);
        audit(req, "booking.cancel", b.patient,
              "booking " + std::to_string(b.id) + " cancelled by " + by + (why.empty() ? "" : " (" + why + ")"), &c);
        queueMessages(c, out, "cancelled");
    });
    if (freed) forgetGeneratedDay(*freed);
    publish("booking.cancelled", out, req, [&](Object& o) { o.set("cancelled_by", by); });
    return out;
}

void BookingPlugin::registerBookingRoutes() {
    using namespace klinikbox::schema;
    const std::vector<ParamSpec> idPath = {{"id", integer(1, 9'000'000'000'000'000'000LL), true, ""}};
    auto& r = ctx_->router();
    r.add("POST", "/api/v1/booking/bookings", Access::only(kStaff), [this](Request& req) {
        JsonInput in(req.json(), {"slot_id", "patient", "purpose", "reason", "note", "phone", "email", "guardian", "urgency_days"});
        const auto b = book(req, readBookInput(in, "console"));
        publish("booking.created", b, req);
        return Response::json(bookingJson(b), 201);
    }, RouteSpec{.summary = "MakeBooking: book a slot for a patient (runs booking.requested hooks)", .tag = "booking", .body = object({req("slot_id", integer(1, 9'000'000'000'000'000'000LL)), req("patient", personnummer()), opt("purpose", text(500, 0)), opt("reason", text(1000, 0)), opt("note", text(500, 0)), opt("phone", text(30, 0)), opt("email", text(254, 0)), opt("guardian", text(20, 0)), opt("urgency_days", integer(0, 365))}), .status = 201, .problems = {404, 409, 422}});

    r.add("GET", "/api/v1/booking/bookings/{id}", Access::only(kStaff), [this](Request& req) {
        const auto b = requireBooking(req.intParam("id"));
        audit(req, "booking.read", b.patient, "booking " + std::to_string(b.id));
        return Response::json(bookingJson(b));
    }, RouteSpec{.summary = "GetBookingDetails", .tag = "booking", .status = 200, .path = idPath});

    r.add("POST", "/api/v1/booking/bookings/{id}/cancel", Access::only(kStaff), [this](Request& req) {
        JsonInput in(req.json(), {"reason", "by"});
        const auto b = requireBooking(req.intParam("id"));
        const auto why = checkChangeAllowed(req, b, in.optStr("reason", 500));
        const auto by = in.optStr("by", 10).value_or("staff");
        if (by != "staff" && by != "patient") throw invalid("by", "staff or patient");
        return Response::json(bookingJson(cancel(req, b, by, why)));
    }, RouteSpec{.summary = "CancelBooking: any booking that has not started; within cancel_latest_hours with a reason", .tag = "booking", .body = object({opt("reason", text(500, 0)), opt("by", oneOf({"staff", "patient"}))}), .status = 200, .path = idPath, .problems = {409, 422}});

    r.add("POST", "/api/v1/booking/bookings/{id}/rebook", Access::only(kStaff), [this](Request& req) {
        JsonInput in(req.json(), {"slot_id", "reason"});
        const auto old = requireBooking(req.intParam("id"));
        const auto why = checkChangeAllowed(req, old, in.optStr("reason", 500));
        BookInput bi;
        bi.slotId = in.integer("slot_id", 1, 9'000'000'000'000'000'000LL);
        bi.patient = old.patient;
        bi.purpose = old.purpose;
        bi.reason = old.reason;
        bi.note = old.note;
        bi.phone = old.phone;
        bi.email = old.email;
        bi.guardian = old.guardian;
        bi.triage = old.triage;
        if (old.urgencyDays) bi.urgencyDays = static_cast<int>(*old.urgencyDays);
        bi.channel = old.channel;
        const auto b = book(req, bi, old.id, why);
        publish("booking.rebooked", b, req, [&](Object& o) {
            o.set("old_booking_id", old.id);
            o.set("old_start", isoLocal(fromSec(old.start)));
            o.set("old_end", isoLocal(fromSec(old.end)));
        });
        return Response::json(bookingJson(b), 201);
    }, RouteSpec{.summary = "UpdateBooking: move a booking to another slot (the old slot is freed)", .tag = "booking", .body = object({req("slot_id", integer(1, 9'000'000'000'000'000'000LL)), opt("reason", text(500, 0))}), .status = 201, .path = idPath, .problems = {409, 422}});

    r.add("POST", "/api/v1/booking/bookings/{id}/noshow", Access::only(kStaff), [this](Request& req) {
        const auto b = requireBooking(req.intParam("id"));
        if (b.status != "booked")
            throw Problem(409, "/problems/booking-not-active", "Bokningen är inte aktiv", "the booking is " + b.status);
        if (now() < b.start)
            throw Problem(409, "/problems/not-started", "Tiden har inte börjat", "a booking can be marked no-show once it has started");
        long long count = 0;
        BookingRow out;
        ctx_->store().write([&](db::Connection& c) {
            c.prepare("UPDATE booking_bookings SET status='noshow', changed_at=? WHERE id=? AND status='booked'")
                .bind(1, now()).bind(2, b.id).exec();
            if (c.changes() != 1) throw Problem::conflict("/problems/booking-changed", "the booking changed meanwhile");
            auto n = c.prepare("SELECT COUNT(*) FROM booking_bookings WHERE patient = ? AND status = 'noshow'");
            n.bind(1, b.patient);
            if (n.step()) count = n.getInt(0);
            out = *loadBooking(c, b.id);
            audit(req, "booking.noshow", b.patient, "booking " + std::to_string(b.id) + ", no-show number " + std::to_string(count), &c);
        });
        publish("booking.noshow", out, req, [&](Object& o) { o.set("noshow_count", count); });
        auto o = bookingJson(out);
        o->set("noshow_count", count);
        return Response::json(o);
    }, RouteSpec{.summary = "Mark a booking as a no-show (publishes booking.noshow with the patient's count)", .tag = "booking", .status = 200, .path = idPath, .problems = {409}});

    // A no-show marked by mistake (the patient was in the waiting room) is undone the same
    // day; the undo is audit-logged like the marking.
    r.add("POST", "/api/v1/booking/bookings/{id}/noshow/undo", Access::only(kStaff), [this](Request& req) {
        const auto b = requireBooking(req.intParam("id"));
        if (b.status != "noshow")
            throw Problem(409, "/problems/not-noshow", "Bokningen är inte markerad som uteblev", "the booking is " + b.status);
        if (booking::localDate(fromSec(b.start)) != today())
            throw Problem(409, "/problems/noshow-undo-too-late", "Uteblivet besök kan bara ångras samma dag",
                          "a no-show can be undone on the day of the visit only");
        BookingRow out;
        ctx_->store().write([&](db::Connection& c) {
            c.prepare("UPDATE booking_bookings SET status='booked', changed_at=? WHERE id=? AND status='noshow'")
                .bind(1, now()).bind(2, b.id).exec();
            if (c.changes() != 1) throw Problem::conflict("/problems/booking-changed", "the booking changed meanwhile");
            out = *loadBooking(c, b.id);
            audit(req, "booking.noshow.undo", b.patient, "booking " + std::to_string(b.id) + ", no-show undone", &c);
        });
        return Response::json(bookingJson(out));
    }, RouteSpec{.summary = "Undo a no-show marked by mistake (the same day)", .tag = "booking", .status = 200, .path = idPath, .problems = {409}});

    r.add("GET", "/api/v1/booking/patients/{patient}/schedule", Access::only(kStaff), [this](Request& req) {
        const auto patient = parsePatient(req.pathParams.at("patient"));
        const bool all = req.queryParam("include_past").value_or("") == "true";
        Array::Ptr arr = new Array;
        long long noshows = 0;
        ctx_->store().read([&](db::Connection& c) {
            auto st = c.prepare(std::string(kBookingSelect) + "WHERE b.patient = ? AND (? OR s.end_at > ?) ORDER BY s.start_at");
            st.bind(1, patient).bind(2, all ? 1 : 0).bind(3, now());
            while (st.step()) arr->add(bookingJson(readBooking(st)));
            auto n = c.prepare("SELECT COUNT(*) FROM booking_bookings WHERE patient = ? AND status = 'noshow'");
            n.bind(1, patient);
            if (n.step()) noshows = n.getInt(0);
        });
        audit(req, "booking.read", patient, "schedule of the patient");
        Object::Ptr o = new Object;
        o->set("subject_of_care", patient);
        o->set("noshow_count", noshows);
        o->set("bookings", arr);
        return Response::json(o);
    }, RouteSpec{.summary = "GetSubjectOfCareSchedule: a patient's bookings", .tag = "booking", .status = 200, .query = {{"include_past", oneOf({"true", "false"}), false, ""}}, .path = {{"patient", personnummer(), true, ""}}});
}

}  // namespace booking
