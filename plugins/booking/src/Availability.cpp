// Availability: slot generation from the schedules and the free dates and times (no patient data).
#include <klinikbox/Schema.h>
#include "BookingPlugin.h"

#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <climits>
#include <map>
#include <sstream>

namespace booking {

std::vector<booking::ScheduleRule> BookingPlugin::loadRules(db::Connection& c) {
    std::vector<booking::ScheduleRule> rules;
    auto st = c.prepare(
        "SELECT s.id, s.practitioner, p.unit, s.visit_type, v.minutes, s.weekdays, s.start_min, s.end_min, s.breaks,"
        " s.valid_from, s.valid_to, COALESCE(s.room_id, 0), s.ended_at FROM booking_schedules s"
        " JOIN booking_practitioners p ON p.hsa_id = s.practitioner JOIN booking_visit_types v ON v.id = s.visit_type");
    while (st.step()) {
        booking::ScheduleRule r;
        r.id = st.getInt(0);
        r.practitioner = st.getText(1);
        r.unit = st.getText(2);
        r.visitType = st.getText(3);
        r.slotMinutes = static_cast<int>(st.getInt(4));
        for (const auto& d : splitList(st.getText(5))) r.weekdays.insert(std::stoi(d));
        r.start = static_cast<int>(st.getInt(6));
        r.end = static_cast<int>(st.getInt(7));
        for (const auto& b : splitList(st.getText(8))) {
            const auto dash = b.find('-');
            r.breaks.push_back({std::stoi(b.substr(0, dash)), std::stoi(b.substr(dash + 1))});
        }
        r.validFrom = *booking::parseDate(st.getText(9));
        r.validTo = *booking::parseDate(st.getText(10));
        r.roomId = st.getInt(11);
        if (!st.isNull(12)) r.endedAt = fromSec(st.getInt(12));
        rules.push_back(std::move(r));
    }
    return rules;
}

// Makes sure the slots of [from, to] exist. Idempotent (UNIQUE practitioner+start), so a
// restart or two requests at once only cost time.
void BookingPlugin::ensureSlots(year_month_day from, year_month_day to) {
    std::lock_guard lock(genMu_);
    std::vector<year_month_day> missing;
    for (sys_days d{from}; d <= sys_days{to}; d += days{1})
        if (!generatedDays_.count(isoDate(year_month_day{d}))) missing.emplace_back(d);
    if (missing.empty()) return;
    ctx_->store().write([&](db::Connection& c) {
        booking::ClosedDays closed;
        closed.closeOnEves = s_.closeOnEves;
        auto cd = c.prepare("SELECT unit, date FROM booking_closed_days");
        while (cd.step()) closed.unitDates.insert(cd.getText(0) + "|" + cd.getText(1));
        const auto rules = loadRules(c);
        const auto slots = booking::generateSlots(rules, missing.front(), missing.back(), closed);
        if (slots.empty()) return;
        // Each practitioner's slots around these days (start, end, withdrawn), read once: a
        // slot that is there is not written again; one that would overlap a slot in use is not
        // made; a withdrawn one at the same start (its schedule ended) takes the new schedule's
        // place. A probe per slot in SQL (an upsert with NOT EXISTS) made generating 400 days
        // of 5-minute slots 2-4 times slower than the INSERT OR IGNORE before it.
        long long lo = toSec(slots.front().start), hi = toSec(slots.front().end);
        struct Span {
            long long start, end;
            bool withdrawn;
        };
        std::map<std::string, std::vector<Span>> known;
        for (const auto& s : slots) {
            lo = std::min(lo, toSec(s.start));
            hi = std::max(hi, toSec(s.end));
            known[s.practitioner];
        }
        auto read = c.prepare(
            "SELECT start_at, end_at, withdrawn FROM booking_slots WHERE practitioner = ? AND start_at > ? AND start_at < ?"
            " ORDER BY start_at");
        for (auto& [practitioner, spans] : known) {
            read.reset();
            read.bind(1, practitioner).bind(2, lo - static_cast<long long>(booking::kMaxSlotMinutes) * 60).bind(3, hi);
            while (read.step()) spans.push_back({read.getInt(0), read.getInt(1), read.getInt(2) != 0});
        }
        auto ins = c.prepare(
            "INSERT INTO booking_slots(schedule_id, practitioner, unit, visit_type, room_id, start_at, end_at)"
            " VALUES(?,?,?,?,?,?,?)");
        auto revive = c.prepare(
            "UPDATE booking_slots SET schedule_id = ?1, unit = ?3, visit_type = ?4, room_id = ?5, end_at = ?7, withdrawn = 0"
            " WHERE practitioner = ?2 AND start_at = ?6 AND withdrawn = 1 AND NOT EXISTS (SELECT 1 FROM booking_bookings b"
            " WHERE b.slot_id = booking_slots.id AND b.status IN ('booked','arrived','noshow'))");
        const auto inUse = [](const Span& x) { return !x.withdrawn; };
        for (const auto& s : slots) {
            const long long start = toSec(s.start), end = toSec(s.end);
            auto& spans = known[s.practitioner];
            auto at = std::lower_bound(spans.begin(), spans.end(), start, [](const Span& x, long long t) { return x.start < t; });
            const bool same = at != spans.end() && at->start == start;
            if (same && !at->withdrawn) continue;  // there already
            // In use and overlapping: one that starts inside it, or the last before it running into it.
            auto after = same ? std::next(at) : at;
            auto inside = std::find_if(after, spans.end(), [&](const Span& x) { return x.start >= end || inUse(x); });
            if (inside != spans.end() && inside->start < end) continue;
            const long long reach = start - static_cast<long long>(booking::kMaxSlotMinutes) * 60;
            auto before = std::find_if(std::make_reverse_iterator(at), spans.rend(),
                                       [&](const Span& x) { return inUse(x) || x.start <= reach; });
            if (before != spans.rend() && inUse(*before) && before->end > start) continue;
            auto& st = same ? revive : ins;
            st.reset();
            st.bind(1, s.scheduleId).bind(2, s.practitioner).bind(3, s.unit).bind(4, s.visitType);
            if (s.roomId) st.bind(5, s.roomId);
            else st.bindNull(5);
            st.bind(6, start).bind(7, end).exec();
            if (c.changes() != 1) continue;
            if (same) *at = {start, end, false};
            else spans.insert(at, {start, end, false});
        }
    });
    for (const auto& d : missing) generatedDays_.insert(isoDate(d));
}

void BookingPlugin::forgetGeneratedDays() {
    std::lock_guard lock(genMu_);
    generatedDays_.clear();
}

void BookingPlugin::forgetGeneratedDay(year_month_day day) {
    std::lock_guard lock(genMu_);
    generatedDays_.erase(isoDate(day));
}

std::optional<year_month_day> BookingPlugin::releaseSlot(db::Connection& c, long long slotId) {
    auto st = c.prepare(
        "SELECT s.start_at, s.unit, r.valid_to, r.ended_at FROM booking_slots s LEFT JOIN booking_schedules r ON r.id = s.schedule_id"
        " WHERE s.id = ? AND s.withdrawn = 0");
    st.bind(1, slotId);
    if (!st.step()) return std::nullopt;
    const auto day = localDate(fromSec(st.getInt(0)));
    const std::string unit = st.getText(1);
    const auto validTo = st.isNull(2) ? std::nullopt : booking::parseDate(st.getText(2));
    const auto holiday = booking::holidayOn(day);
    const bool ended = !st.isNull(3) && st.getInt(0) > st.getInt(3);
    bool orphaned = !validTo || sys_days{*validTo} < sys_days{day} || ended || (holiday && (!holiday->eve || s_.closeOnEves));
    if (!orphaned) {
        auto cd = c.prepare("SELECT 1 FROM booking_closed_days WHERE unit = ? AND date = ?");
        cd.bind(1, unit).bind(2, isoDate(day));
        orphaned = cd.step();
    }
    if (!orphaned) return std::nullopt;
    c.prepare("UPDATE booking_slots SET withdrawn = 1 WHERE id = ? AND NOT EXISTS (SELECT 1 FROM booking_bookings b"
              " WHERE b.slot_id = booking_slots.id AND b.status IN ('booked','arrived','noshow'))")
        .bind(1, slotId)
        .exec();
    if (c.changes() != 1) return std::nullopt;
    return day;
}

void BookingPlugin::withdrawSlotsOnClosedEves() {
    if (!s_.closeOnEves) return;
    const int first = static_cast<int>(today().year());
    const int last = static_cast<int>(year_month_day{sys_days{today()} + days{s_.horizonDays}}.year()) + 1;
    ctx_->store().write([&](db::Connection& c) {
        std::vector<std::string> units;
        auto u = c.prepare("SELECT hsa_id FROM booking_units");
        while (u.step()) units.push_back(u.getText(0));
        // By unit: the day view's index (unit, start_at, ...) finds each day's slots.
        auto wd = c.prepare(
            "UPDATE booking_slots SET withdrawn = 1 WHERE unit = ? AND start_at >= ? AND start_at < ? AND start_at > ?"
            " AND withdrawn = 0 AND NOT EXISTS (SELECT 1 FROM booking_bookings b WHERE b.slot_id = booking_slots.id"
            " AND b.status IN ('booked','arrived','noshow'))");
        for (int y = first; y <= last; ++y)
            for (const auto& h : booking::swedishHolidays(y)) {
                if (!h.eve) continue;
                for (const auto& unit : units) {
                    wd.reset();
                    wd.bind(1, unit).bind(2, toSec(booking::dayStart(h.date)))
                        .bind(3, toSec(booking::dayStart(year_month_day{sys_days{h.date} + days{1}}))).bind(4, now()).exec();
                }
            }
    });
}

// Free slots: not withdrawn, in the future, without a live booking.
Array::Ptr BookingPlugin::freeSlots(const std::string& unit, const std::string& visitType, const std::string& practitioner,
                                    year_month_day from, year_month_day to, int limit) {
    ensureSlots(from, to);
    Array::Ptr arr = new Array;
    const auto start = booking::dayStart(from);
    const auto end = booking::dayStart(year_month_day{sys_days{to} + days{1}});
    ctx_->store().read([&](db::Connection& c) {
        auto st = c.prepare(
            "SELECT s.id, s.start_at, s.end_at, s.practitioner, p.name, p.profession, s.visit_type, v.name, v.visit_form,"
            " COALESCE(r.name, '') FROM booking_slots s JOIN booking_practitioners p ON p.hsa_id = s.practitioner"
            " JOIN booking_visit_types v ON v.id = s.visit_type LEFT JOIN booking_rooms r ON r.id = s.room_id"
            " WHERE s.unit = ?1 AND s.withdrawn = 0 AND s.start_at >= ?2 AND s.start_at < ?3 AND s.start_at > ?4"
            " AND (?5 = '' OR s.visit_type = ?5) AND (?6 = '' OR s.practitioner = ?6)"
            " AND NOT EXISTS (SELECT 1 FROM booking_bookings b WHERE b.slot_id = s.id AND b.status IN ('booked','arrived','noshow'))"
            " ORDER BY s.start_at, s.practitioner LIMIT ?7");
        st.bind(1, unit).bind(2, toSec(start)).bind(3, toSec(end)).bind(4, now()).bind(5, visitType).bind(6, practitioner)
            .bind(7, limit);
        while (st.step()) {
            Object::Ptr o = new Object;
            o->set("slot_id", st.getInt(0));
            o->set("startTimeInclusive", isoLocal(fromSec(st.getInt(1))));
            o->set("endTimeExclusive", isoLocal(fromSec(st.getInt(2))));
            o->set("performer", st.getText(3));
            o->set("performerName", st.getText(4));
            o->set("profession", st.getText(5));
            o->set("timeTypeID", st.getText(6));
            o->set("timeTypeName", st.getText(7));
            o->set("visit_form", st.getText(8));
            o->set("resourceName", st.getText(9));
            arr->add(o);
        }
    });
    return arr;
}

void BookingPlugin::registerAvailabilityRoutes() {
    using namespace klinikbox::schema;
    auto& r = ctx_->router();
    r.add("GET", "/api/v1/booking/availabledates", Access::only(kStaff), [this](Request& req) {
        const auto unit = queryHsa(req, "unit");
        const auto visitType = req.queryParam("visit_type").value_or("");
        const auto from = queryDate(req, "from", today());
        const auto to = std::min(sys_days{queryDate(req, "to", horizonEnd())}, sys_days{horizonEnd()});
        if (sys_days{from} > to) throw Problem::badRequest("/problems/invalid-parameter", "'from' is after 'to'");
        ensureSlots(from, year_month_day{to});
        std::set<std::string> dates;
        const auto slots = freeSlots(unit, visitType, "", from, year_month_day{to}, 5000);
        for (std::size_t i = 0; i < slots->size(); ++i)
            dates.insert(slots->getObject(static_cast<unsigned>(i))->getValue<std::string>("startTimeInclusive").substr(0, 10));
        Object::Ptr o = new Object;
        o->set("healthcare_facility", unit);
        o->set("dates", stringArray({dates.begin(), dates.end()}));
        return Response::json(o);
    }, RouteSpec{.summary = "GetAvailableDates: dates with free slots at a unit", .tag = "booking", .status = 200, .query = {{"unit", hsaId(), true, ""}, {"visit_type", text(40, 0), false, ""}, {"from", date(), false, ""}, {"to", date(), false, ""}}});

    r.add("GET", "/api/v1/booking/timeslots", Access::only(kStaff), [this](Request& req) {
        const auto unit = queryHsa(req, "unit");
        const auto date = queryDate(req, "date", std::nullopt);
        const auto days_ = static_cast<int>(req.intQuery("days", 1, 1, 14));
        const auto to = year_month_day{sys_days{date} + days{days_ - 1}};
        const auto practitioner = queryHsa(req, "practitioner", false);
        Object::Ptr o = new Object;
        o->set("healthcare_facility", unit);
        o->set("timeslots", freeSlots(unit, req.queryParam("visit_type").value_or(""), practitioner, date, to, 1000));
        return Response::json(o);
    }, RouteSpec{.summary = "GetAvailableTimeslots: free slots at a unit on a date", .tag = "booking", .status = 200, .query = {{"unit", hsaId(), true, ""}, {"date", date(), true, ""}, {"days", integer(1, 14), false, ""}, {"visit_type", text(40, 0), false, ""}, {"practitioner", hsaId(), false, ""}}});
}

}  // namespace booking
