// Setup (admin): units, practitioners, visit types, rooms, schedules and closed days.
#include <klinikbox/Schema.h>
#include "BookingPlugin.h"

#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <sstream>

namespace booking {

void BookingPlugin::registerSetupRoutes() {
    using namespace klinikbox::schema;
    const std::vector<ParamSpec> idPath = {{"id", integer(1, 9'000'000'000'000'000'000LL), true, ""}};
    auto& r = ctx_->router();
    r.add("GET", "/api/v1/booking/setup", Access::only(kStaff), [this](Request&) {
        Object::Ptr o = new Object;
        ctx_->store().read([&](db::Connection& c) {
            auto list = [&](const char* sql, const std::vector<std::string>& names) {
                Array::Ptr a = new Array;
                auto st = c.prepare(sql);
                while (st.step()) {
                    Object::Ptr row = new Object;
                    for (int i = 0; i < static_cast<int>(names.size()); ++i) {
                        if (st.isNull(i)) row->set(names[static_cast<std::size_t>(i)], Poco::Dynamic::Var());
                        else if (st.columnType(i) == 1) row->set(names[static_cast<std::size_t>(i)], st.getInt(i));
                        else row->set(names[static_cast<std::size_t>(i)], st.getText(i));
                    }
                    a->add(row);
                }
                return a;
            };
            o->set("units", list("SELECT hsa_id, name, address FROM booking_units ORDER BY name", {"hsa_id", "name", "address"}));
            o->set("practitioners", list("SELECT hsa_id, name, profession, unit FROM booking_practitioners ORDER BY name",
                                         {"hsa_id", "name", "profession", "unit"}));
            o->set("rooms", list("SELECT id, unit, name FROM booking_rooms ORDER BY unit, name", {"id", "unit", "name"}));
            o->set("visit_types",
                   list("SELECT id, name, visit_form, minutes, profession, time_type_id, time_type_name, care_type_id,"
                        " care_type_name, vip_bookable FROM booking_visit_types ORDER BY name",
                        {"id", "name", "visit_form", "minutes", "profession", "time_type_id", "time_type_name",
                         "care_type_id", "care_type_name", "vip_bookable"}));
            o->set("schedules",
                   list("SELECT id, practitioner, visit_type, room_id, weekdays, start_min, end_min, breaks, valid_from,"
                        " valid_to FROM booking_schedules ORDER BY practitioner, id",
                        {"id", "practitioner", "visit_type", "room_id", "weekdays", "start_min", "end_min", "breaks",
                         "valid_from", "valid_to"}));
            o->set("closed_days", list("SELECT unit, date, reason FROM booking_closed_days ORDER BY date",
                                       {"unit", "date", "reason"}));
        });
        return Response::json(o);
    }, RouteSpec{.summary = "Units, practitioners, rooms, visit types, schedules and closed days", .tag = "booking", .status = 200});

    r.add("POST", "/api/v1/booking/units", Access::only(kAdmin), [this](Request& req) {
        JsonInput in(req.json(), {"hsa_id", "name", "address"});
        const auto hsa = requireHsa(in, "hsa_id");
        const auto name = in.str("name", 120);
        const auto address = in.optStr("address", 200).value_or("");
        insertOrConflict(req, "INSERT INTO booking_units(hsa_id, name, address) VALUES(?,?,?)", {hsa, name, address},
                         "a care unit with HSA-id " + hsa + " exists already", "booking.unit.create", hsa);
        return created(hsa);
    }, RouteSpec{.summary = "Add a care unit (vårdenhet)", .tag = "booking", .body = object({req("hsa_id", hsaId()), req("name", text(120)), opt("address", text(200, 0))}), .status = 201, .problems = {409}});

    r.add("POST", "/api/v1/booking/practitioners", Access::only(kAdmin), [this](Request& req) {
        JsonInput in(req.json(), {"hsa_id", "name", "profession", "unit"});
        const auto hsa = requireHsa(in, "hsa_id");
        const auto name = in.str("name", 120);
        const auto profession = in.str("profession", 60);
        const auto unit = requireHsa(in, "unit");
        requireExists("SELECT 1 FROM booking_units WHERE hsa_id = ?", unit, "unit", "no care unit " + unit);
        insertOrConflict(req, "INSERT INTO booking_practitioners(hsa_id, name, profession, unit) VALUES(?,?,?,?)",
                         {hsa, name, profession, unit}, "a practitioner with HSA-id " + hsa + " exists already",
                         "booking.practitioner.create", hsa);
        return created(hsa);
    }, RouteSpec{.summary = "Add a practitioner (performer)", .tag = "booking", .body = object({req("hsa_id", hsaId()), req("name", text(120)), req("profession", text(60)), req("unit", hsaId())}), .status = 201, .problems = {404, 409}});

    r.add("POST", "/api/v1/booking/rooms", Access::only(kAdmin), [this](Request& req) {
        JsonInput in(req.json(), {"unit", "name"});
        const auto unit = requireHsa(in, "unit");
        const auto name = in.str("name", 60);
        requireExists("SELECT 1 FROM booking_units WHERE hsa_id = ?", unit, "unit", "no care unit " + unit);
        long long id = 0;
        try {
            ctx_->store().write([&](db::Connection& c) {
                c.prepare("INSERT INTO booking_rooms(unit, name) VALUES(?,?)").bind(1, unit).bind(2, name).exec();
                id = c.lastInsertId();
                ctx_->audit().record(req, {"booking.room.create", "", "administration", "ok", unit + ": " + name}, c);
            });
        } catch (const db::ConstraintError&) {
            throw Problem::conflict("/problems/exists", "the unit has a room named " + name);
        }
        Object::Ptr o = new Object;
        o->set("id", id);
        return Response::json(o, 201);
    }, RouteSpec{.summary = "Add a room (resource)", .tag = "booking", .body = object({req("unit", hsaId()), req("name", text(60))}), .status = 201, .problems = {404, 409}});

    r.add("POST", "/api/v1/booking/visittypes", Access::only(kAdmin), [this](Request& req) {
        JsonInput in(req.json(), {"id", "name", "visit_form", "minutes", "profession", "time_type_id", "time_type_name",
                                  "care_type_id", "care_type_name", "vip_bookable"});
        const auto id = in.str("id", 40);
        for (char ch : id)
            if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_')
                throw invalid("id", "letters, digits, '-' and '_' only");
        const auto name = in.str("name", 80);
        const auto form = in.str("visit_form", 10);
        if (form != "physical" && form != "video" && form != "phone")
            throw invalid("visit_form", "one of physical, video, phone");
        const auto minutes = in.integer("minutes", 5, booking::kMaxSlotMinutes);
        const auto profession = in.str("profession", 60);
        const auto ttId = in.optStr("time_type_id", 40).value_or(id);
        const auto ttName = in.optStr("time_type_name", 80).value_or(name);
        const auto ctId = in.optStr("care_type_id", 40).value_or("1");
        const auto ctName = in.optStr("care_type_name", 80).value_or("Öppenvård");
        const bool vip = in.optBoolean("vip_bookable").value_or(false);
        try {
            ctx_->store().write([&](db::Connection& c) {
                c.prepare("INSERT INTO booking_visit_types(id, name, visit_form, minutes, profession, time_type_id,"
                          " time_type_name, care_type_id, care_type_name, vip_bookable) VALUES(?,?,?,?,?,?,?,?,?,?)")
                    .bind(1, id).bind(2, name).bind(3, form).bind(4, minutes).bind(5, profession).bind(6, ttId)
                    .bind(7, ttName).bind(8, ctId).bind(9, ctName).bind(10, vip ? 1 : 0).exec();
                ctx_->audit().record(req, {"booking.visittype.create", "", "administration", "ok", id}, c);
            });
        } catch (const db::ConstraintError&) {
            throw Problem::conflict("/problems/exists", "a visit type with id " + id + " exists already");
        }
        return created(id);
    }, RouteSpec{.summary = "Add a visit type (timeType/careType, visit form, length)", .tag = "booking", .body = object({req("id", pattern("^[A-Za-z0-9_-]{1,40}$", 40, "lak30")), req("name", text(80)), req("visit_form", oneOf({"physical", "video", "phone"})), req("minutes", integer(5, booking::kMaxSlotMinutes)), req("profession", text(60)), opt("time_type_id", text(40, 0)), opt("time_type_name", text(80, 0)), opt("care_type_id", text(40, 0)), opt("care_type_name", text(80, 0)), opt("vip_bookable", boolean())}), .status = 201, .problems = {409}});

    r.add("POST", "/api/v1/booking/schedules", Access::only(kAdmin), [this](Request& req) {
        JsonInput in(req.json(), {"practitioner", "visit_type", "room_id", "weekdays", "start", "end", "breaks",
                                  "valid_from", "valid_to"});
        booking::ScheduleRule rule;
        rule.practitioner = requireHsa(in, "practitioner");
        rule.visitType = in.str("visit_type", 40);
        rule.roomId = in.optInteger("room_id", 1, 1'000'000'000).value_or(0);
        if (!in.has("weekdays") || in.object()->get("weekdays").type() != typeid(Array::Ptr))
            throw invalid("weekdays", "expected an array of ISO weekdays (1 = Monday ... 7 = Sunday)");
        const auto wd = in.object()->getArray("weekdays");
        for (std::size_t i = 0; i < wd->size(); ++i) {
            const auto v = wd->get(static_cast<unsigned>(i));
            if (!v.isInteger()) throw invalid("weekdays", "expected integers 1..7");
            rule.weekdays.insert(v.convert<int>());
        }
        const auto start = booking::parseClock(in.str("start", 5));
        const auto end = booking::parseClock(in.str("end", 5));
        if (!start) throw invalid("start", "a time HH:MM");
        if (!end) throw invalid("end", "a time HH:MM");
        rule.start = *start;
        rule.end = *end;
        for (const auto& b : readStringArray(in, "breaks", 10, 11, false)) {
            const auto dash = b.find('-');
            const auto bs = dash == std::string::npos ? std::nullopt : booking::parseClock(b.substr(0, dash));
            const auto be = dash == std::string::npos ? std::nullopt : booking::parseClock(b.substr(dash + 1));
            if (!bs || !be) throw invalid("breaks", "each break is \"HH:MM-HH:MM\", got '" + b + "'");
            rule.breaks.push_back({*bs, *be});
        }
        const auto vf = booking::parseDate(in.str("valid_from", 10));
        const auto vt = booking::parseDate(in.str("valid_to", 10));
        if (!vf) throw invalid("valid_from", "a date YYYY-MM-DD");
        if (!vt) throw invalid("valid_to", "a date YYYY-MM-DD");
        rule.validFrom = *vf;
        rule.validTo = *vt;
        long long id = 0;
        ctx_->store().write([&](db::Connection& c) {
            auto vt2 = c.prepare("SELECT minutes FROM booking_visit_types WHERE id = ?");
            vt2.bind(1, rule.visitType);
            if (!vt2.step()) throw invalid("visit_type", "no visit type " + rule.visitType);
            rule.slotMinutes = static_cast<int>(vt2.getInt(0));
            auto pr = c.prepare("SELECT unit FROM booking_practitioners WHERE hsa_id = ?");
            pr.bind(1, rule.practitioner);
            if (!pr.step()) throw invalid("practitioner", "no practitioner " + rule.practitioner);
            rule.unit = pr.getText(0);
            if (rule.roomId) {
                auto rm = c.prepare("SELECT 1 FROM booking_rooms WHERE id = ? AND unit = ?");
                rm.bind(1, rule.roomId).bind(2, rule.unit);
                if (!rm.step()) throw invalid("room_id", "no such room at the practitioner's unit");
            }
            if (const auto why = checkRule(rule); !why.empty()) {
                Problem p = Problem::badRequest("/problems/invalid-schedule", why.front());
                p.with("errors", stringArray(why));
                throw p;
            }
            // Two rules of one practitioner must not overlap (one slot per start time).
            for (const auto& other : loadRules(c)) {
                if (other.practitioner != rule.practitioner) continue;
                const bool days = std::any_of(rule.weekdays.begin(), rule.weekdays.end(),
                                              [&](int d) { return other.weekdays.count(d) > 0; });
                const bool period = sys_days{rule.validFrom} <= sys_days{other.validTo} &&
                                    sys_days{other.validFrom} <= sys_days{rule.validTo};
                const bool hours_ = rule.start < other.end && other.start < rule.end;
                if (days && period && hours_)
                    throw Problem::conflict("/problems/schedule-overlap",
                                            "the practitioner already has schedule " + std::to_string(other.id) +
                                                " on these days and hours");
            }
            std::string breaks;
            for (const auto& b : rule.breaks)
                breaks += (breaks.empty() ? "" : ",") + std::to_string(b.start) + "-" + std::to_string(b.end);
            auto ins = c.prepare(
                "INSERT INTO booking_schedules(practitioner, visit_type, room_id, weekdays, start_min, end_min, breaks,"
                " valid_from, valid_to, created_at) VALUES(?,?,?,?,?,?,?,?,?,?)");
            ins.bind(1, rule.practitioner).bind(2, rule.visitType);
            if (rule.roomId) ins.bind(3, rule.roomId);
            else ins.bindNull(3);
            ins.bind(4, joinInts(rule.weekdays)).bind(5, rule.start).bind(6, rule.end).bind(7, breaks)
                .bind(8, isoDate(rule.validFrom)).bind(9, isoDate(rule.validTo)).bind(10, now()).exec();
            id = c.lastInsertId();
            ctx_->audit().record(req, {"booking.schedule.create", "", "administration", "ok",
                                       "schedule " + std::to_string(id) + " for " + rule.practitioner}, c);
        });
        forgetGeneratedDays();
        Object::Ptr o = new Object;
        o->set("id", id);
        return Response::json(o, 201);
    }, RouteSpec{.summary = "Add a weekly schedule (opening hours, breaks, validity) for a practitioner", .tag = "booking", .body = object({req("practitioner", hsaId()), req("visit_type", text(40)), opt("room_id", integer(1, 1'000'000'000)), req("weekdays", arrayOf(integer(1, 7), 7, 1)), req("start", clockTime()), req("end", clockTime()), opt("breaks", arrayOf(pattern("^[0-9]{2}:[0-9]{2}-[0-9]{2}:[0-9]{2}$", 11, "12:00-13:00"), 10)), req("valid_from", date()), req("valid_to", date())}), .status = 201, .problems = {404, 409}});

    r.add("DELETE", "/api/v1/booking/schedules/{id}", Access::only(kAdmin), [this](Request& req) {
        const long long id = req.intParam("id");
        long long kept = 0;
        ctx_->store().write([&](db::Connection& c) {
            auto ex = c.prepare("SELECT 1 FROM booking_schedules WHERE id = ?");
            ex.bind(1, id);
            if (!ex.step()) throw Problem::notFound("no schedule " + std::to_string(id));
            // Free future slots disappear; booked ones stay (staff rebook or cancel them).
            c.prepare("UPDATE booking_slots SET withdrawn = 1 WHERE schedule_id = ? AND start_at > ? AND NOT EXISTS"
                      " (SELECT 1 FROM booking_bookings b WHERE b.slot_id = booking_slots.id AND b.status IN ('booked','arrived','noshow'))")
                .bind(1, id).bind(2, now()).exec();
            auto k = c.prepare("SELECT COUNT(*) FROM booking_slots WHERE schedule_id = ? AND withdrawn = 0 AND start_at > ?");
            k.bind(1, id).bind(2, now());
            if (k.step()) kept = k.getInt(0);
            // The rule ends now: it makes no slot after this instant, today's later ones
            // included; one that ended before keeps its end (ending it again must not bring
            // back the days since).
            c.prepare("UPDATE booking_schedules SET valid_to = min(valid_to, ?), ended_at = COALESCE(ended_at, ?) WHERE id = ?")
                .bind(1, isoDate(today())).bind(2, now()).bind(3, id).exec();
            ctx_->audit().record(req, {"booking.schedule.end", "", "administration", "ok",
                                       "schedule " + std::to_string(id) + ", " + std::to_string(kept) + " booked future slots kept"}, c);
        });
        Object::Ptr o = new Object;
        o->set("booked_slots_kept", kept);
        return Response::json(o);
    }, RouteSpec{.summary = "End a schedule: its free future slots are withdrawn, booked ones kept", .tag = "booking", .status = 200, .path = idPath});

    r.add("POST", "/api/v1/booking/closeddays", Access::only(kAdmin), [this](Request& req) {
        JsonInput in(req.json(), {"unit", "date", "reason"});
        const auto unit = requireHsa(in, "unit");
        const auto date = booking::parseDate(in.str("date", 10));
        if (!date) throw invalid("date", "a date YYYY-MM-DD");
        const auto reason = in.optStr("reason", 120).value_or("");
        long long affected = 0;
        try {
            ctx_->store().write([&](db::Connection& c) {
                auto known = c.prepare("SELECT 1 FROM booking_units WHERE hsa_id = ?");
                known.bind(1, unit);
                if (!known.step()) throw Problem::notFound("no unit " + unit);
                c.prepare("INSERT INTO booking_closed_days(unit, date, reason) VALUES(?,?,?)")
                    .bind(1, unit).bind(2, isoDate(*date)).bind(3, reason).exec();
                // The local day: 23 or 25 hours on the days summer time begins and ends.
                const auto from = booking::dayStart(*date), to = booking::dayStart(year_month_day{sys_days{*date} + days{1}});
                c.prepare("UPDATE booking_slots SET withdrawn = 1 WHERE unit = ? AND start_at >= ? AND start_at < ? AND NOT EXISTS"
                          " (SELECT 1 FROM booking_bookings b WHERE b.slot_id = booking_slots.id AND b.status IN ('booked','arrived','noshow'))")
                    .bind(1, unit).bind(2, toSec(from)).bind(3, toSec(to)).exec();
                auto k = c.prepare("SELECT COUNT(*) FROM booking_bookings b JOIN booking_slots s ON s.id = b.slot_id"
                                   " WHERE s.unit = ? AND s.start_at >= ? AND s.start_at < ? AND b.status = 'booked'");
                k.bind(1, unit).bind(2, toSec(from)).bind(3, toSec(to));
                if (k.step()) affected = k.getInt(0);
                ctx_->audit().record(req, {"booking.closedday.create", "", "administration", "ok", unit + " " + isoDate(*date)}, c);
            });
        } catch (const db::ConstraintError&) {
            throw Problem::conflict("/problems/exists", "that day is already closed");
        }
        Object::Ptr o = new Object;
        o->set("bookings_on_that_day", affected);
        return Response::json(o, 201);
    }, RouteSpec{.summary = "Close a unit for a day (free slots withdrawn; existing bookings are reported)", .tag = "booking", .body = object({req("unit", hsaId()), req("date", date()), opt("reason", text(120, 0))}), .status = 201, .problems = {404, 409}});

    // A day closed by mistake (or no longer closed) opens again: the schedules' slots of that
    // day come back, except those of a schedule ended since; bookings were never touched.
    r.add("DELETE", "/api/v1/booking/closeddays/{unit}/{date}", Access::only(kAdmin), [this](Request& req) {
        const std::string unit = req.pathParams.at("unit");
        const auto date = booking::parseDate(req.pathParams.at("date"));
        if (!date) throw Problem::badRequest("/problems/invalid-parameter", "date: a date YYYY-MM-DD");
        ctx_->store().write([&](db::Connection& c) {
            c.prepare("DELETE FROM booking_closed_days WHERE unit = ? AND date = ?").bind(1, unit).bind(2, isoDate(*date)).exec();
            if (c.changes() != 1) throw Problem::notFound("the unit is not closed on " + isoDate(*date));
            ctx_->audit().record(req, {"booking.closedday.delete", "", "administration", "ok", unit + " " + isoDate(*date)}, c);
        });
        forgetGeneratedDay(*date);
        ensureSlots(*date, *date);
        long long free = 0;
        ctx_->store().read([&](db::Connection& c) {
            auto k = c.prepare("SELECT COUNT(*) FROM booking_slots s WHERE s.unit = ? AND s.start_at >= ? AND s.start_at < ?"
                               " AND s.withdrawn = 0 AND NOT EXISTS (SELECT 1 FROM booking_bookings b WHERE b.slot_id = s.id"
                               " AND b.status IN ('booked','arrived','noshow'))");
            k.bind(1, unit).bind(2, toSec(booking::dayStart(*date))).bind(3, toSec(booking::dayStart(year_month_day{sys_days{*date} + days{1}})));
            if (k.step()) free = k.getInt(0);
        });
        Object::Ptr o = new Object;
        o->set("free_slots", free);
        return Response::json(o);
    }, RouteSpec{.summary = "Open a closed day again: the schedules' free slots of that day come back", .tag = "booking", .status = 200, .path = {{"unit", hsaId(), true, ""}, {"date", date(), true, ""}}, .problems = {404}});

    r.add("GET", "/api/v1/booking/holidays", Access::loggedIn(), [this](Request& req) {
        const int year = static_cast<int>(req.intQuery("year", static_cast<int>(today().year()), 2000, 2200));
        Array::Ptr a = new Array;
        for (const auto& h : booking::swedishHolidays(year)) {
            Object::Ptr o = new Object;
            o->set("date", isoDate(h.date));
            o->set("name", h.name);
            o->set("eve", h.eve);
            o->set("closed", !h.eve || s_.closeOnEves);
            a->add(o);
        }
        Object::Ptr o = new Object;
        o->set("year", year);
        o->set("holidays", a);
        return Response::json(o);
    }, RouteSpec{.summary = "Swedish public holidays and closed eves of a year (computed)", .tag = "booking", .status = 200, .query = {{"year", integer(2000, 2200), false, ""}}});
}

void BookingPlugin::insertOrConflict(const Request& req, const std::string& sql, const std::vector<std::string>& values,
                                     const std::string& conflict, const std::string& action, const std::string& what) {
    try {
        ctx_->store().write([&](db::Connection& c) {
            auto st = c.prepare(sql);
            for (std::size_t i = 0; i < values.size(); ++i) st.bind(static_cast<int>(i + 1), values[i]);
            st.exec();
            ctx_->audit().record(req, {action, "", "administration", "ok", what}, c);
        });
    } catch (const db::ConstraintError&) {
        throw Problem::conflict("/problems/exists", conflict);
    }
}

void BookingPlugin::requireExists(const std::string& sql, const std::string& value, const std::string& field, const std::string& why) {
    bool found = false;
    ctx_->store().read([&](db::Connection& c) {
        auto st = c.prepare(sql);
        st.bind(1, value);
        found = st.step();
    });
    if (!found) throw invalid(field, why);
}

Response BookingPlugin::created(const std::string& id) {
    Object::Ptr o = new Object;
    o->set("id", id);
    return Response::json(o, 201);
}

}  // namespace booking
