// VIP codes: codes that let a patient book visit types beyond the normal rules, with throttling
// of wrong guesses.
#include <klinikbox/Schema.h>
#include "BookingPlugin.h"

#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <sstream>

namespace booking {

// Invitations and VIP codes share this counter per address (AttemptLimiter: bounded, never
// cleared wholesale): 9 wrong tries are answered, the 10th try is refused before it is checked.
void BookingPlugin::vipThrottle(const Request& req, bool failed) {
    if (failed) {
        wrongCodes_->count(req.remoteAddress);
        return;
    }
    if (wrongCodes_->blocked(req.remoteAddress))
        throw Problem(429, "/problems/too-many-attempts", "För många försök",
                      "too many wrong codes from this address; try again in 10 minutes")
            .with("retry_after_seconds", wrongCodes_->retryAfter(req.remoteAddress));
}

BookingPlugin::Vip BookingPlugin::checkVip(const Request& req, const std::string& code, const std::string& patient) {
    vipThrottle(req, false);
    std::optional<Vip> v;
    ctx_->store().read([&](db::Connection& c) {
        auto st = c.prepare("SELECT id, patient, visit_types, max_active, horizon_days FROM booking_vip_codes"
                            " WHERE code_hash = ? AND revoked_at IS NULL AND expires_at > ?");
        st.bind(1, sha256Hex(normaliseCode(code))).bind(2, now());
        if (!st.step()) return;
        Vip x;
        x.id = st.getInt(0);
        x.patient = st.getText(1);
        for (const auto& t : splitList(st.getText(2))) x.visitTypes.insert(t);
        x.maxActive = st.getInt(3);
        x.horizonDays = st.getInt(4);
        v = x;
    });
    if (!v || v->patient != patient) {
        vipThrottle(req, true);
        ctx_->audit().record(req, {"booking.vip.refused", "", kPurposeCare, "denied", "wrong, expired or revoked VIP code"});
        throw Problem(403, "/problems/vip-code", "Koden gäller inte",
                      "the code is wrong, expired, revoked or belongs to another patient");
    }
    return *v;
}

void BookingPlugin::registerVipRoutes() {
    using namespace klinikbox::schema;
    const std::vector<ParamSpec> idPath = {{"id", integer(1, 9'000'000'000'000'000'000LL), true, ""}};
    auto& r = ctx_->router();
    r.add("POST", "/api/v1/booking/vipcodes", Access::only(kStaff), [this](Request& req) {
        JsonInput in(req.json(), {"patient", "visit_types", "max_active", "horizon_days", "valid_days"});
        const auto patient = parsePatient(in.str("patient", 20));
        const auto types = readStringArray(in, "visit_types", 20, 40, true);
        if (types.empty()) throw invalid("visit_types", "at least one visit type");
        const auto maxActive = in.optInteger("max_active", 1, 10).value_or(1);
        const auto horizon = in.optInteger("horizon_days", 1, 365).value_or(30);
        const auto validDays = in.optInteger("valid_days", 1, 730).value_or(365);
        const std::string code = vipCode();
        long long id = 0;
        ctx_->store().write([&](db::Connection& c) {
            std::string list;
            for (const auto& t : types) {
                auto st = c.prepare("SELECT vip_bookable FROM booking_visit_types WHERE id = ?");
                st.bind(1, t);
                if (!st.step()) throw invalid("visit_types", "no visit type " + t);
                if (!st.getInt(0)) throw invalid("visit_types", t + " is not open for VIP booking (vip_bookable)");
                list += (list.empty() ? "" : ",") + t;
            }
            c.prepare("INSERT INTO booking_vip_codes(code_hash, patient, visit_types, max_active, horizon_days, expires_at,"
                      " created_at, created_by) VALUES(?,?,?,?,?,?,?,?)")
                .bind(1, sha256Hex(normaliseCode(code))).bind(2, patient).bind(3, list).bind(4, maxActive)
                .bind(5, horizon).bind(6, now() + validDays * 86400).bind(7, now()).bind(8, who(req)).exec();
            id = c.lastInsertId();
            audit(req, "booking.vip.create", patient, "VIP code " + std::to_string(id), &c);
        });
        Object::Ptr o = new Object;
        o->set("id", id);
        o->set("code", code);
        o->set("expires", isoLocal(fromSec(now() + validDays * 86400)));
        o->set("link", s_.publicUrl + "/plugins/booking/vip.html");
        return Response::json(o, 201);
    }, RouteSpec{.summary = "Give a patient a VIP code (shown once) for direct booking of some visit types", .tag = "booking", .body = object({req("patient", personnummer()), req("visit_types", arrayOf(text(40), 20, 1)), opt("max_active", integer(1, 10)), opt("horizon_days", integer(1, 365)), opt("valid_days", integer(1, 730))}), .status = 201});

    r.add("GET", "/api/v1/booking/vipcodes", Access::only(kStaff), [this](Request& req) {
        const auto patient = parsePatient(req.queryParam("patient").value_or(""));
        Array::Ptr arr = new Array;
        ctx_->store().read([&](db::Connection& c) {
            auto st = c.prepare("SELECT id, visit_types, max_active, horizon_days, expires_at, revoked_at, created_by"
                                " FROM booking_vip_codes WHERE patient = ? ORDER BY id DESC");
            st.bind(1, patient);
            while (st.step()) {
                Object::Ptr o = new Object;
                o->set("id", st.getInt(0));
                o->set("visit_types", stringArray(splitList(st.getText(1))));
                o->set("max_active", st.getInt(2));
                o->set("horizon_days", st.getInt(3));
                o->set("expires", isoLocal(fromSec(st.getInt(4))));
                o->set("revoked", !st.isNull(5));
                o->set("active", st.isNull(5) && st.getInt(4) > now());
                o->set("created_by", st.getText(6));
                arr->add(o);
            }
        });
        audit(req, "booking.vip.read", patient, "VIP codes of the patient");
        Object::Ptr o = new Object;
        o->set("codes", arr);
        return Response::json(o);
    }, RouteSpec{.summary = "A patient's VIP codes (never the codes themselves)", .tag = "booking", .status = 200, .query = {{"patient", personnummer(), true, ""}}});

    r.add("POST", "/api/v1/booking/vipcodes/{id}/revoke", Access::only(kStaff), [this](Request& req) {
        req.noBody();
        const long long id = req.intParam("id");
        ctx_->store().write([&](db::Connection& c) {
            auto st = c.prepare("SELECT patient FROM booking_vip_codes WHERE id = ?");
            st.bind(1, id);
            if (!st.step()) throw Problem::notFound("no VIP code " + std::to_string(id));
            const auto patient = st.getText(0);
            c.prepare("UPDATE booking_vip_codes SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL").bind(1, now()).bind(2, id).exec();
            audit(req, "booking.vip.revoke", patient, "VIP code " + std::to_string(id), &c);
        });
        return Response::noContent();
    }, RouteSpec{.summary = "Revoke a VIP code", .tag = "booking", .status = 204, .path = idPath});

    // The patient's side (no login): the code and the personnummer together.
    r.add("POST", "/api/v1/booking/vip/availability", Access::anyone(), [this](Request& req) {
        JsonInput in(req.json(), {"code", "patient"});
        const auto patient = parsePatient(in.str("patient", 20));
        const auto vip = checkVip(req, in.str("code", 20), patient);
        Array::Ptr slots = new Array;
        Array::Ptr types = new Array;
        const auto to = year_month_day{sys_days{today()} + days{vip.horizonDays}};
        ctx_->store().read([&](db::Connection& c) {
            for (const auto& t : vip.visitTypes) {
                auto st = c.prepare("SELECT name, visit_form FROM booking_visit_types WHERE id = ?");
                st.bind(1, t);
                if (!st.step()) continue;
                Object::Ptr o = new Object;
                o->set("id", t);
                o->set("name", st.getText(0));
                o->set("visit_form", st.getText(1));
                types->add(o);
            }
        });
        std::vector<std::string> units;
        ctx_->store().read([&](db::Connection& c) {
            auto st = c.prepare("SELECT hsa_id FROM booking_units");
            while (st.step()) units.push_back(st.getText(0));
        });
        for (const auto& u : units)
            for (const auto& t : vip.visitTypes) {
                const auto a = freeSlots(u, t, "", today(), to, 100);
                for (std::size_t i = 0; i < a->size(); ++i) {
                    auto o = a->getObject(static_cast<unsigned>(i));
                    o->remove("performer");  // the patient sees the profession, not staff HSA-ids
                    o->set("healthcare_facility", u);
                    slots->add(o);
                }
            }
        ctx_->audit().record(req, {"booking.vip.use", patient, kPurposeCare, "ok", "availability, VIP code " + std::to_string(vip.id)});
        Object::Ptr o = new Object;
        o->set("visit_types", types);
        o->set("timeslots", slots);
        return Response::json(o);
    }, RouteSpec{.summary = "VIP: the times a code lets its patient book", .tag = "booking", .body = object({req("code", text(20)), req("patient", personnummer())}), .status = 200, .problems = {403, 429}});

    r.add("POST", "/api/v1/booking/vip/book", Access::anyone(), [this](Request& req) {
        JsonInput in(req.json(), {"code", "patient", "slot_id", "phone", "email"});
        const auto patient = parsePatient(in.str("patient", 20));
        const auto vip = checkVip(req, in.str("code", 20), patient);
        BookInput bi = readBookInput(in, "vip");
        std::string visitType;
        long long start = 0, active = 0;
        ctx_->store().read([&](db::Connection& c) {
            auto st = c.prepare("SELECT visit_type, start_at FROM booking_slots WHERE id = ?");
            st.bind(1, bi.slotId);
            if (st.step()) {
                visitType = st.getText(0);
                start = st.getInt(1);
            }
            auto n = c.prepare("SELECT COUNT(*) FROM booking_bookings b JOIN booking_slots s ON s.id = b.slot_id"
                               " WHERE b.patient = ? AND b.channel = 'vip' AND b.status = 'booked' AND s.start_at > ?");
            n.bind(1, patient).bind(2, now());
            if (n.step()) active = n.getInt(0);
        });
        if (!vip.visitTypes.count(visitType))
            throw Problem(403, "/problems/vip-visit-type", "Koden gäller inte den tiden", "the code does not cover this visit type");
        if (start > now() + vip.horizonDays * 86400)
            throw Problem(403, "/problems/vip-horizon", "Tiden ligger för långt fram",
                          "the code lets you book " + std::to_string(vip.horizonDays) + " days ahead");
        if (active >= vip.maxActive)
            throw Problem(409, "/problems/vip-limit", "Du har redan bokade tider",
                          "the code allows " + std::to_string(vip.maxActive) + " booked times at once");
        const auto b = book(req, bi);
        publish("booking.created", b, req);
        Object::Ptr o = new Object;
        o->set("bookingId", b.id);
        o->set("startTimeInclusive", isoLocal(fromSec(b.start)));
        o->set("healthcare_facility_name", b.unitName);
        o->set("address", b.address);
        o->set("visit_form", b.visitForm);
        return Response::json(o, 201);
    }, RouteSpec{.summary = "VIP: book with a code", .tag = "booking", .body = object({req("code", text(20)), req("patient", personnummer()), req("slot_id", integer(1, 9'000'000'000'000'000'000LL)), opt("phone", text(30, 0)), opt("email", text(254, 0))}), .status = 201, .problems = {403, 409, 422, 429}});
}

}  // namespace booking
