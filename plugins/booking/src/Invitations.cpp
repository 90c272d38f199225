// Invitations (kallelser): a clinic invites a patient to book a given visit through a link.
#include <klinikbox/Schema.h>
#include "BookingPlugin.h"

#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <sstream>

namespace booking {

std::optional<BookingPlugin::Invitation> BookingPlugin::loadInvitation(db::Connection& c, const std::string& where, const std::string& key) {
    auto st = c.prepare("SELECT i.id, i.patient, i.unit, u.name, u.address, i.visit_type, v.name, i.purpose, i.kind,"
                        " i.phone, i.email, i.questions, COALESCE(i.answers, ''), i.booking_id, i.expires_at"
                        " FROM booking_invitations i JOIN booking_units u ON u.hsa_id = i.unit"
                        " JOIN booking_visit_types v ON v.id = i.visit_type WHERE " + where);
    st.bind(1, key);
    if (!st.step()) return std::nullopt;
    Invitation x;
    x.id = st.getInt(0);
    x.patient = st.getText(1);
    x.unit = st.getText(2);
    x.unitName = st.getText(3);
    x.address = st.getText(4);
    x.visitType = st.getText(5);
    x.visitTypeName = st.getText(6);
    x.purpose = st.getText(7);
    x.kind = st.getText(8);
    x.phone = st.getText(9);
    x.email = st.getText(10);
    x.questions = st.getText(11);
    x.answers = st.getText(12);
    x.bookingId = st.getOptionalInt(13);
    x.expires = st.getInt(14);
    return x;
}

// The patient opens the link and proves who they are with their personnummer.
BookingPlugin::Invitation BookingPlugin::openInvitation(const Request& req, const std::string& token,
                                                        const std::string& patientText) {
    const auto patient = parsePatient(patientText);
    std::optional<Invitation> inv;
    ctx_->store().read([&](db::Connection& c) { inv = loadInvitation(c, "i.token_hash = ?", sha256Hex(token)); });
    vipThrottle(req, false);
    if (!inv || inv->patient != patient) {
        vipThrottle(req, true);
        ctx_->audit().record(req, {"booking.invitation.refused", "", kPurposeCare, "denied", "wrong link or personnummer"});
        throw Problem(403, "/problems/invitation", "Kallelsen hittades inte",
                      "the link and the personnummer do not match an invitation");
    }
    if (inv->expires <= now()) throw Problem(410, "/problems/invitation-expired", "Kallelsen har gått ut", "the invitation has expired");
    return *inv;
}

Object::Ptr BookingPlugin::invitationJson(const Invitation& inv, bool forPatient) {
    Object::Ptr o = new Object;
    o->set("id", inv.id);
    o->set("isInvitation", true);
    o->set("kind", inv.kind);
    o->set("purpose", inv.purpose);
    o->set("healthcare_facility", inv.unit);
    o->set("healthcare_facility_name", inv.unitName);
    o->set("address", inv.address);
    o->set("visit_type", inv.visitType);
    o->set("visit_type_name", inv.visitTypeName);
    o->set("expires", isoLocal(fromSec(inv.expires)));
    Poco::JSON::Parser p;
    o->set("questions", p.parse(inv.questions));
    if (!inv.answers.empty()) {
        Poco::JSON::Parser p2;
        o->set("answers", p2.parse(inv.answers));
    }
    if (!forPatient) o->set("subject_of_care", inv.patient);
    if (inv.bookingId) {
        const auto b = requireBooking(*inv.bookingId);
        Object::Ptr bo = new Object;
        bo->set("bookingId", b.id);
        bo->set("status", b.status);
        bo->set("startTimeInclusive", isoLocal(fromSec(b.start)));
        bo->set("endTimeExclusive", isoLocal(fromSec(b.end)));
        bo->set("visit_form", b.visitForm);
        bo->set("cancel_booking_allowed", b.status == "booked" && now() < b.start - static_cast<long long>(s_.cancelLatestHours) * 3600);
        o->set("booking", bo);
    }
    return o;
}

void BookingPlugin::queueInvitationMessage(db::Connection& c, const Invitation& inv, const std::string& token) {
    const std::string link = s_.publicUrl + "/plugins/booking/invite.html#" + token;
    const std::string text = "Du har fått en kallelse från " + inv.unitName + ". Öppna länken och ange ditt personnummer: " + link;
    Object o;
    o.set("kind", "invitation");
    o.set("text", text);
    auto q = [&](const std::string& channel, const std::string& to) {
        o.set("to", to);
        std::ostringstream js;
        o.stringify(js);
        ctx_->outbox().enqueue(c, {channel, js.str(), "invitation-" + std::to_string(inv.id) + "-" + channel});
    };
    if (const auto phone = booking::normalisePhone(inv.phone)) q("booking.invsms", *phone);
    if (!inv.email.empty()) q("booking.invemail", inv.email);
}

// The invitation of `in` (the fields of POST /invitations): stored, its message queued and
// audit-logged in one transaction; a timed one books its slot first. Returns {id, link, bookingId?}.
Object::Ptr BookingPlugin::createInvitation(const Request& req, const JsonInput& in) {
    Invitation inv;
    inv.patient = parsePatient(in.str("patient", 20));
    inv.unit = requireHsa(in, "unit");
    inv.visitType = in.str("visit_type", 40);
    inv.purpose = in.str("purpose", 500);
    inv.kind = in.optStr("kind", 10).value_or("open");
    if (inv.kind != "open" && inv.kind != "timed") throw invalid("kind", "open or timed");
    const auto questions = readStringArray(in, "questions", 20, 300, false);
    Array qa;
    for (const auto& q : questions) qa.add(q);
    std::ostringstream qs;
    qa.stringify(qs);
    inv.questions = qs.str();
    inv.phone = in.optStr("phone", 30).value_or("");
    if (!inv.phone.empty() && !booking::normalisePhone(inv.phone)) throw invalid("phone", "not a phone number", "phone");
    inv.email = in.optStr("email", 254).value_or("");
    if (!inv.email.empty() && !booking::plausibleEmail(inv.email)) throw invalid("email", "not an e-mail address", "email");
    if (inv.phone.empty() && inv.email.empty()) throw invalid("phone", "a phone number or an e-mail address is needed to send the invitation", "contact-required");
    requireExists("SELECT 1 FROM booking_visit_types WHERE id = ?", inv.visitType, "visit_type", "no visit type " + inv.visitType);
    requireExists("SELECT 1 FROM booking_units WHERE hsa_id = ?", inv.unit, "unit", "no care unit " + inv.unit);
    std::optional<BookingRow> timed;
    if (inv.kind == "timed") {
        BookInput bi;
        bi.slotId = in.integer("slot_id", 1, 9'000'000'000'000'000'000LL);
        bi.patient = inv.patient;
        bi.purpose = inv.purpose;
        bi.phone = inv.phone;
        bi.email = inv.email;
        bi.channel = "invitation";
        timed = book(req, bi);
        publish("booking.created", *timed, req);
    } else if (in.has("slot_id")) {
        throw invalid("slot_id", "only a timed invitation has a slot; an open one lets the patient choose");
    }
    const std::string token = randomToken();
    inv.expires = timed ? timed->start : now() + static_cast<long long>(s_.invitationValidDays) * 86400;
    ctx_->store().write([&](db::Connection& c) {
        auto ins = c.prepare("INSERT INTO booking_invitations(token_hash, patient, unit, visit_type, purpose, questions, kind,"
                             " booking_id, phone, email, expires_at, created_at, created_by) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)");
        ins.bind(1, sha256Hex(token)).bind(2, inv.patient).bind(3, inv.unit).bind(4, inv.visitType).bind(5, inv.purpose)
            .bind(6, inv.questions).bind(7, inv.kind);
        if (timed) ins.bind(8, timed->id);
        else ins.bindNull(8);
        ins.bind(9, inv.phone).bind(10, inv.email).bind(11, inv.expires).bind(12, now()).bind(13, who(req)).exec();
        inv.id = c.lastInsertId();
        if (timed)
            c.prepare("UPDATE booking_bookings SET invitation_id = ? WHERE id = ?").bind(1, inv.id).bind(2, timed->id).exec();
        std::optional<Invitation> full = loadInvitation(c, "i.id = ?", std::to_string(inv.id));
        queueInvitationMessage(c, *full, token);
        audit(req, "booking.invitation.create", inv.patient, "invitation " + std::to_string(inv.id) + " (" + inv.kind + ")", &c);
    });
    Object::Ptr o = new Object;
    o->set("id", inv.id);
    o->set("link", s_.publicUrl + "/plugins/booking/invite.html#" + token);
    if (timed) o->set("bookingId", timed->id);
    return o;
}

void BookingPlugin::registerInvitationRoutes() {
    using namespace klinikbox::schema;
    ctx_->outbox().registerChannel("booking.invsms", [this](const QueuedMessage& m) {
        Poco::JSON::Parser p;
        const auto o = p.parse(m.payload).extract<Object::Ptr>();
        return booking::sendSms(s_.sms, o->getValue<std::string>("to"), o->getValue<std::string>("text"));
    });
    ctx_->outbox().registerChannel("booking.invemail", [this](const QueuedMessage& m) {
        Poco::JSON::Parser p;
        const auto o = p.parse(m.payload).extract<Object::Ptr>();
        return booking::sendEmail(s_.email, o->getValue<std::string>("to"), "Kallelse", o->getValue<std::string>("text"));
    });
    auto& r = ctx_->router();
    r.add("POST", "/api/v1/booking/invitations", Access::only(kStaff), [this](Request& req) {
        JsonInput in(req.json(), {"patient", "unit", "visit_type", "purpose", "questions", "kind", "slot_id", "phone", "email"});
        return Response::json(createInvitation(req, in), 201);
    }, RouteSpec{.summary = "Send an invitation (kallelse): timed (a booked time) or open (the patient chooses)", .tag = "booking", .body = object({req("patient", personnummer()), req("unit", hsaId()), req("visit_type", text(40)), req("purpose", text(500)), opt("questions", arrayOf(text(300), 20)), opt("kind", oneOf({"open", "timed"})), opt("slot_id", integer(1, 9'000'000'000'000'000'000LL)), opt("phone", text(30, 0)), opt("email", text(254, 0))}), .status = 201, .problems = {404, 409, 422}});

    r.add("GET", "/api/v1/booking/invitations", Access::only(kStaff), [this](Request& req) {
        const auto unit = queryHsa(req, "unit");
        Array::Ptr arr = new Array;
        std::set<std::string> patients;
        ctx_->store().read([&](db::Connection& c) {
            auto st = c.prepare("SELECT i.id FROM booking_invitations i WHERE i.unit = ? ORDER BY i.id DESC LIMIT 200");
            st.bind(1, unit);
            std::vector<long long> ids;
            while (st.step()) ids.push_back(st.getInt(0));
            for (auto id : ids)
                if (auto inv = loadInvitation(c, "i.id = ?", std::to_string(id))) {
                    arr->add(invitationJson(*inv, false));
                    patients.insert(inv->patient);
                }
        });
        // One record of the list, naming every patient shown as its subjects.
        ctx_->audit().recordSubjects(req, AuditEntry{"booking.invitation.read", "", kPurposeCare, "ok", "invitation list of " + unit},
                                     std::vector<std::string>(patients.begin(), patients.end()));
        Object::Ptr o = new Object;
        o->set("invitations", arr);
        return Response::json(o);
    }, RouteSpec{.summary = "The unit's invitations with their answers and bookings", .tag = "booking", .status = 200, .query = {{"unit", hsaId(), true, ""}}});

    // The invitation link's token travels in the body (never in a path a log could keep).
    const auto kToken = described(text(64), "the token of the invitation link");
    r.add("POST", "/api/v1/booking/invite/open", Access::anyone(), [this](Request& req) {
        JsonInput in(req.json(), {"token", "patient"});
        const auto inv = openInvitation(req, in.str("token", 64), in.str("patient", 20));
        auto o = invitationJson(inv, true);
        if (inv.kind == "open" && !inv.bookingId) {
            const auto to = std::min(sys_days{horizonEnd()}, floor<days>(fromSec(inv.expires)));
            o->set("timeslots", freeSlots(inv.unit, inv.visitType, "", today(), year_month_day{to}, 60));
        }
        ctx_->audit().record(req, {"booking.invitation.open", inv.patient, kPurposeCare, "ok", "invitation " + std::to_string(inv.id)});
        return Response::json(o);
    }, RouteSpec{.summary = "Patient: open an invitation (the link's token and the personnummer in the body)", .tag = "booking", .body = object({req("token", kToken), req("patient", personnummer())}), .status = 200, .problems = {403, 410}});

    r.add("POST", "/api/v1/booking/invite/book", Access::anyone(), [this](Request& req) {
        JsonInput in(req.json(), {"token", "patient", "slot_id"});
        const auto inv = openInvitation(req, in.str("token", 64), in.str("patient", 20));
        if (inv.kind != "open") throw Problem::conflict("/problems/invitation-timed", "this invitation already has a time");
        if (inv.bookingId) {
            const auto existing = requireBooking(*inv.bookingId);
            if (existing.status == "booked") throw Problem::conflict("/problems/invitation-used", "a time is already booked");
        }
        BookInput bi;
        bi.slotId = in.integer("slot_id", 1, 9'000'000'000'000'000'000LL);
        bi.patient = inv.patient;
        bi.purpose = inv.purpose;
        bi.phone = inv.phone;
        bi.email = inv.email;
        bi.channel = "invitation";
        bi.invitationId = inv.id;
        std::string slotType;
        ctx_->store().read([&](db::Connection& c) {
            auto st = c.prepare("SELECT visit_type FROM booking_slots WHERE id = ? AND unit = ?");
            st.bind(1, bi.slotId).bind(2, inv.unit);
            if (st.step()) slotType = st.getText(0);
        });
        if (slotType != inv.visitType) throw Problem::badRequest("/problems/wrong-slot", "the slot is not one the invitation offers");
        const auto b = book(req, bi);
        ctx_->store().write([&](db::Connection& c) {
            c.prepare("UPDATE booking_invitations SET booking_id = ? WHERE id = ?").bind(1, b.id).bind(2, inv.id).exec();
        });
        publish("booking.created", b, req);
        Object::Ptr o = new Object;
        o->set("bookingId", b.id);
        o->set("startTimeInclusive", isoLocal(fromSec(b.start)));
        return Response::json(o, 201);
    }, RouteSpec{.summary = "Patient: choose a time for an open invitation", .tag = "booking", .body = object({req("token", kToken), req("patient", personnummer()), req("slot_id", integer(1, 9'000'000'000'000'000'000LL))}), .status = 201, .problems = {403, 409, 410, 422}});

    r.add("POST", "/api/v1/booking/invite/answers", Access::anyone(), [this](Request& req) {
        JsonInput in(req.json(), {"token", "patient", "answers"});
        const auto inv = openInvitation(req, in.str("token", 64), in.str("patient", 20));
        Poco::JSON::Parser p;
        const auto questions = p.parse(inv.questions).extract<Array::Ptr>();
        const auto answers = readStringArray(in, "answers", 20, 2000, true);
        if (answers.size() != questions->size())
            throw invalid("answers", "expected " + std::to_string(questions->size()) + " answers, one per question");
        Array a;
        for (const auto& s : answers) a.add(s);
        std::ostringstream as;
        a.stringify(as);
        ctx_->store().write([&](db::Connection& c) {
            c.prepare("UPDATE booking_invitations SET answers = ? WHERE id = ?").bind(1, as.str()).bind(2, inv.id).exec();
            ctx_->audit().record(req, {"booking.invitation.answer", inv.patient, kPurposeCare, "ok", "invitation " + std::to_string(inv.id)}, c);
        });
        return Response::noContent();
    }, RouteSpec{.summary = "Patient: answer the invitation's questions before the visit", .tag = "booking", .body = object({req("token", kToken), req("patient", personnummer()), req("answers", arrayOf(text(2000), 20))}), .status = 204, .problems = {403, 409, 410}});

    r.add("POST", "/api/v1/booking/invite/cancel", Access::anyone(), [this](Request& req) {
        JsonInput in(req.json(), {"token", "patient"});
        const auto inv = openInvitation(req, in.str("token", 64), in.str("patient", 20));
        if (!inv.bookingId) throw Problem::conflict("/problems/no-booking", "no time is booked");
        const auto b = requireBooking(*inv.bookingId);
        (void)checkChangeAllowed(req, b, std::nullopt);
        cancel(req, b, "patient");
        return Response::noContent();
    }, RouteSpec{.summary = "Patient: cancel the time of an invitation (until the latest time)", .tag = "booking", .body = object({req("token", kToken), req("patient", personnummer())}), .status = 204, .problems = {403, 409, 410}});
}

}  // namespace booking
