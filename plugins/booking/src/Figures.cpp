// The booking plugin's figures on the console's dashboard ("Dagens arbete"): today's
// bookings, what is left of the day, no-shows, and bookings per day of the current week.
// Counts only, no patient data, so nothing here is audit-logged.
#include "BookingPlugin.h"

namespace booking {

void BookingPlugin::registerFigureRoutes() {
    ctx_->router().add("GET", "/api/v1/booking/figures", Access::only(kStaff), [this](Request&) {
        const auto day = today();
        const auto monday = sys_days{day} - days{(weekday{sys_days{day}}.iso_encoding() - 1)};
        auto startOf = [](year_month_day d) {
            return toSec(booking::dayStart(d));
        };
        long long booked = 0, left = 0, noshow = 0;
        Array::Ptr week = new Array;
        ctx_->store().read([&](db::Connection& c) {
            auto count = c.prepare(
                "SELECT COUNT(*), COALESCE(SUM(b.status = 'booked' AND s.start_at > ?3), 0), COALESCE(SUM(b.status = 'noshow'), 0)"
                " FROM booking_bookings b JOIN booking_slots s ON s.id = b.slot_id"
                " WHERE b.status IN ('booked','arrived','noshow') AND s.start_at >= ?1 AND s.start_at < ?2");
            count.bind(1, startOf(day)).bind(2, startOf(year_month_day{sys_days{day} + days{1}})).bind(3, now());
            if (count.step()) {
                booked = count.getInt(0);
                left = count.getInt(1);
                noshow = count.getInt(2);
            }
            for (int i = 0; i < 7; ++i) {
                const year_month_day d{monday + days{i}};
                auto st = c.prepare(
                    "SELECT COUNT(*) FROM booking_bookings b JOIN booking_slots s ON s.id = b.slot_id"
                    " WHERE b.status IN ('booked','arrived','noshow') AND s.start_at >= ? AND s.start_at < ?");
                st.bind(1, startOf(d)).bind(2, startOf(year_month_day{sys_days{d} + days{1}}));
                Object::Ptr o = new Object;
                o->set("date", isoDate(d));
                o->set("value", st.step() ? st.getInt(0) : 0);
                week->add(o);
            }
        });
        auto figure = [](const std::string& key, const std::string& label, long long value, const std::string& href) {
            Object::Ptr o = new Object;
            o->set("key", key);
            o->set("label", label);
            o->set("value", value);
            o->set("href", href);
            return o;
        };
        Array::Ptr figs = new Array;
        figs->add(figure("bookings_today", "Bokade besök idag", booked, "#/page/booking/day"));
        figs->add(figure("bookings_left", "Kvar att ta emot idag", left, "#/page/booking/day"));
        figs->add(figure("noshows_today", "Uteblivna idag", noshow, "#/page/booking/day"));
        Object::Ptr chart = new Object;
        chart->set("title", "Bokade besök den här veckan");
        chart->set("days", week);
        Object::Ptr o = new Object;
        o->set("figures", figs);
        o->set("chart", chart);
        return Response::json(o);
    }, RouteSpec{.summary = "The dashboard's figures: today's bookings, those left, no-shows, and the week per day", .tag = "booking", .status = 200});
}

}  // namespace booking
