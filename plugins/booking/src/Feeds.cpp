// Feeds: a practitioner's bookings as an iCalendar feed behind a secret URL (no patient identities).
#include <klinikbox/Schema.h>
#include "BookingPlugin.h"

#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <sstream>

namespace booking {

void BookingPlugin::registerICalRoutes() {
    using namespace klinikbox::schema;
    auto& r = ctx_->router();
    r.add("POST", "/api/v1/booking/practitioners/{hsa}/icalfeed", Access::only(kStaff), [this](Request& req) {
        req.noBody();
        const auto hsa = req.pathParams.at("hsa");
        const std::string token = randomToken();
        ctx_->store().write([&](db::Connection& c) {
            auto st = c.prepare("SELECT 1 FROM booking_practitioners WHERE hsa_id = ?");
            st.bind(1, hsa);
            if (!st.step()) throw Problem::notFound("no practitioner " + hsa);
            c.prepare("INSERT INTO booking_ical_feeds(practitioner, token_hash, created_at) VALUES(?,?,?)"
                      " ON CONFLICT(practitioner) DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at")
                .bind(1, hsa).bind(2, sha256Hex(token)).bind(3, now()).exec();
            ctx_->audit().record(req, {"booking.ical.create", "", "administration", "ok", "feed of " + hsa + " (replaces an earlier one)"}, c);
        });
        Object::Ptr o = new Object;
        o->set("url", s_.publicUrl + "/api/v1/booking/ical/" + token + ".ics");
        return Response::json(o, 201);
    }, RouteSpec{.summary = "Create (or replace) a practitioner's secret iCalendar feed URL", .tag = "booking", .status = 201, .path = {{"hsa", hsaId(), true, ""}}});

    r.add("DELETE", "/api/v1/booking/practitioners/{hsa}/icalfeed", Access::only(kStaff), [this](Request& req) {
        const auto hsa = req.pathParams.at("hsa");
        ctx_->store().write([&](db::Connection& c) {
            c.prepare("DELETE FROM booking_ical_feeds WHERE practitioner = ?").bind(1, hsa).exec();
            ctx_->audit().record(req, {"booking.ical.revoke", "", "administration", "ok", "feed of " + hsa}, c);
        });
        return Response::noContent();
    }, RouteSpec{.summary = "Revoke a practitioner's iCalendar feed", .tag = "booking", .status = 204, .path = {{"hsa", hsaId(), true, ""}}});

    r.add("GET", "/api/v1/booking/ical/{token}", Access::anyone(), [this](Request& req) {
        std::string token = req.pathParams.at("token");
        if (token.size() > 4 && token.compare(token.size() - 4, 4, ".ics") == 0) token.resize(token.size() - 4);
        std::string practitioner, name;
        std::vector<booking::CalendarEvent> events;
        ctx_->store().read([&](db::Connection& c) {
            auto f = c.prepare("SELECT f.practitioner, p.name FROM booking_ical_feeds f JOIN booking_practitioners p"
                               " ON p.hsa_id = f.practitioner WHERE f.token_hash = ?");
            f.bind(1, sha256Hex(token));
            if (!f.step()) return;
            practitioner = f.getText(0);
            name = f.getText(1);
            auto id = c.prepare("SELECT uid FROM booking_box_identity WHERE id = 1");
            const std::string boxId = id.step() ? id.getText(0) : std::string("unknown");
            // Cancelled and moved bookings stay in the feed as STATUS:CANCELLED, or a
            // subscribed calendar would keep showing them as booked.
            std::string select = kBookingSelect;
            select.insert(select.find(" FROM booking_bookings"), ", b.changed_at");
            auto st = c.prepare(select +
                                "WHERE s.practitioner = ? AND s.start_at > ?"
                                " AND b.status IN ('booked','arrived','noshow','cancelled','rebooked')"
                                " ORDER BY s.start_at LIMIT 2000");
            st.bind(1, practitioner).bind(2, now() - 30 * 86400);
            while (st.step()) {
                const auto b = readBooking(st);
                const bool gone = b.status == "cancelled" || b.status == "rebooked";
                events.push_back({booking::bookingUid(b.id, boxId), fromSec(b.start), fromSec(b.end),
                                  fromSec(gone ? st.getInt(32) : b.createdAt), "Bokad tid: " + b.visitTypeName,
                                  b.visitForm == "video" ? "Video" : (b.room.empty() ? b.unitName : b.room + ", " + b.unitName),
                                  gone, gone ? 1 : 0});
            }
        });
        if (practitioner.empty()) throw Problem::notFound("no such calendar feed (it may have been revoked)");
        Response res = Response::text(booking::renderCalendar("Bokningar " + name, events), "text/calendar; charset=utf-8");
        res.headers.emplace_back("Cache-Control", "no-store");
        return res;
    }, RouteSpec{.summary = "A practitioner's bookings as iCalendar (secret URL; no patient identities)", .tag = "booking", .responseType = "text/calendar", .status = 200, .path = {{"token", text(200), true, ""}}});
}

}  // namespace booking
