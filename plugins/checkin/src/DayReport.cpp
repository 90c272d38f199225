// The day report (what the reception checks at closing: checked in, paid by method, exempt,
// outstanding) and the dashboard's figures of today, both read-only views of the visits.
#include "CheckinPlugin.h"

#include <klinikbox/Schema.h>

#include <map>
#include <set>

namespace checkin::plugin {

void CheckinPlugin::registerDayReportRoutes() {
    using namespace klinikbox::schema;
    auto& r = ctx_->router();
    r.add("GET", "/api/v1/checkin/day", Access::only(kStaff), [this](Request& req) {
        const std::string unit = req.queryParam("unit").value_or(unit_);
        const std::string date = req.queryParam("date").value_or([&] {
            const auto d = ctx_->clock().today();
            char b[16];
            std::snprintf(b, sizeof b, "%04d-%02u-%02u", static_cast<int>(d.year()), static_cast<unsigned>(d.month()),
                          static_cast<unsigned>(d.day()));
            return std::string(b);
        }());
        Array::Ptr rows = new Array;
        long long checkedIn = 0, exempt = 0, outstanding = 0, outstandingOre = 0;
        std::map<std::string, long long> byMethod;
        std::set<std::string> patients;
        ctx_->store().read([&](db::Connection& c) {
            auto st = c.prepare("SELECT id FROM checkin_visits WHERE care_unit = ? AND visit_date = ? ORDER BY start_at");
            st.bind(1, unit).bind(2, date);
            std::vector<long long> ids;
            while (st.step()) ids.push_back(st.getInt(0));
            for (auto id : ids) {
                const auto v = *loadVisit(c, "id = ?", std::to_string(id));
                const auto p = livePayment(c, v.id);
                ++checkedIn;
                patients.insert(v.patient);
                Object::Ptr o = new Object;
                o->set("visit_id", v.id);
                o->set("time", v.start.substr(11, 5));
                o->set("patient", v.patient);
                o->set("tariff", v.tariff);
                o->set("fee_ore", v.feeOre);
                o->set("charge_ore", v.chargeOre);
                o->set("exempt_reason", v.exemptReason);
                o->set("card_status", v.cardStatus);
                o->set("card_source", v.cardSource);
                o->set("channel", v.channel);
                if (p) o->set("payment", paymentJson(*p));
                if (v.chargeOre == 0) ++exempt;
                else if (p && p->status == "paid") byMethod[p->method] += p->amountOre - p->refundedOre;
                else {
                    ++outstanding;
                    outstandingOre += v.chargeOre;
                }
                rows->add(o);
            }
        });
        // One record of the report, naming every patient shown as its subjects.
        ctx_->audit().recordSubjects(req, {"checkin.read", "", "vård", "ok", "day report " + date},
                                     std::vector<std::string>(patients.begin(), patients.end()));
        Object::Ptr paid = new Object;
        for (const auto& [m, ore] : byMethod) paid->set(m, ore);
        Object::Ptr o = new Object;
        o->set("unit", unit);
        o->set("date", date);
        o->set("checked_in", checkedIn);
        o->set("exempt", exempt);
        o->set("outstanding", outstanding);
        o->set("outstanding_ore", outstandingOre);
        o->set("paid_ore_by_method", paid);
        o->set("visits", rows);
        return Response::json(o);
    }, RouteSpec{.summary = "Day report of a unit: checked in, paid by method, exempt, outstanding", .tag = "checkin", .status = 200, .query = {{"unit", text(31), false, ""}, {"date", date(), false, ""}}});

    // The dashboard's figures: today's arrivals and visits still unpaid (counts only).
    r.add("GET", "/api/v1/checkin/figures", Access::only(kStaff), [this](Request&) {
        const auto d = ctx_->clock().today();
        char date[16];
        std::snprintf(date, sizeof date, "%04d-%02u-%02u", static_cast<int>(d.year()), static_cast<unsigned>(d.month()),
                      static_cast<unsigned>(d.day()));
        long long arrived = 0, unpaid = 0;
        ctx_->store().read([&](db::Connection& c) {
            auto st = c.prepare(
                "SELECT COUNT(*), COALESCE(SUM(v.charge_ore > 0 AND NOT EXISTS (SELECT 1 FROM checkin_payments p"
                " WHERE p.visit_id = v.id AND p.status IN ('paid','invoiced'))), 0)"
                " FROM checkin_visits v WHERE v.care_unit = ? AND v.visit_date = ?");
            st.bind(1, unit_).bind(2, std::string(date));
            if (st.step()) {
                arrived = st.getInt(0);
                unpaid = st.getInt(1);
            }
        });
        auto figure = [](const std::string& key, const std::string& label, long long value, bool warn) {
            Object::Ptr o = new Object;
            o->set("key", key);
            o->set("label", label);
            o->set("value", value);
            o->set("href", "#/page/checkin/day");
            if (warn) o->set("tone", "warn");
            return o;
        };
        Array::Ptr figs = new Array;
        figs->add(figure("arrivals_today", "Ankomna idag", arrived, false));
        figs->add(figure("unpaid_today", "Obetalda besök idag", unpaid, unpaid > 0));
        Object::Ptr o = new Object;
        o->set("figures", figs);
        return Response::json(o);
    }, RouteSpec{.summary = "The dashboard's figures: today's arrivals and unpaid visits", .tag = "checkin", .status = 200});
}

}  // namespace checkin::plugin
