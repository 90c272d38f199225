// The reception's routes: check-in at the desk, payments, refunds and the day report.
#include <klinikbox/Schema.h>
#include "CheckinPlugin.h"

#include <Poco/JSON/Parser.h>

#include <sstream>

namespace checkin::plugin {

void CheckinPlugin::registerStaffRoutes() {
    using namespace klinikbox::schema;
    const std::vector<ParamSpec> idPath = {{"id", integer(1, 9'000'000'000'000'000'000LL), true, ""}};
    auto& r = ctx_->router();
    r.add("POST", "/api/v1/checkin/desk/arrivals", Access::only(kStaff), [this](Request& req) {
        JsonInput in(req.json(), {"patient"});
        return Response::json(checkIn(req, in.str("patient", 20), "desk"), 201);
    }, RouteSpec{.summary = "Staff check a patient in at the desk", .tag = "checkin", .body = object({req("patient", personnummer())}), .status = 201, .problems = {503, 404, 409, 422}});

    r.add("POST", "/api/v1/checkin/visits/{id}/payment", Access::only(kStaff), [this](Request& req) {
        JsonInput in(req.json(), {"method"});
        const auto method = in.str("method", 10);
        if (method != "desk" && method != "invoice") throw JsonInput::invalid("method", "desk or invoice");
        std::optional<Visit> v;
        ctx_->store().read([&](db::Connection& c) { v = loadVisit(c, "id = ?", std::to_string(req.intParam("id"))); });
        if (!v) throw Problem::notFound("no visit");
        auto st = pay(req, *v, method, req.principal->username);
        std::optional<Payment> p;
        ctx_->store().read([&](db::Connection& c) { p = livePayment(c, v->id); });
        if (p && method == "desk" && p->status == "created") applyPaid(p->id, "", req.principal->username);
        return Response::json(statusJson(*v), 201);
    }, RouteSpec{.summary = "Staff take payment at the desk (paid at once) or send an invoice", .tag = "checkin", .body = object({req("method", oneOf({"desk", "invoice"}))}), .status = 201, .path = idPath, .problems = {409}});

    r.add("POST", "/api/v1/checkin/payments/{id}/paid", Access::only(kStaff), [this](Request& req) {
        const long long id = req.intParam("id");
        if (!applyPaid(id, "", req.principal->username))
            throw Problem::conflict("/problems/payment-state", "the payment is not waiting to be paid");
        ctx_->audit().record(req, {"checkin.paid", "", "vård", "ok", "payment " + std::to_string(id) + " marked paid"});
        return Response::noContent();
    }, RouteSpec{.summary = "Mark a desk payment or an invoice as paid", .tag = "checkin", .status = 204, .path = idPath, .problems = {409}});

    r.add("POST", "/api/v1/checkin/payments/{id}/refund", Access::only({Role::Admin}), [this](Request& req) {
        JsonInput in(req.json(), {"amount_ore"});
        const long long id = req.intParam("id");
        std::optional<Payment> p;
        std::string patient;
        ctx_->store().read([&](db::Connection& c) {
            p = paymentWhere(c, "id = ?", std::to_string(id));
            if (!p) return;
            auto st = c.prepare("SELECT patient FROM checkin_visits WHERE id = ?");
            st.bind(1, p->visitId);
            if (st.step()) patient = st.getText(0);
        });
        if (!p) throw Problem::notFound("no payment");
        if (p->status != "paid") throw Problem::conflict("/problems/payment-state", "only a paid payment can be refunded");
        const long long amount = in.integer("amount_ore", 1, p->amountOre - p->refundedOre);
        std::string refundId;
        if (p->method == "swish") {
            refundId = checkin::newInstructionId();
            const auto a = checkin::createRefund(swish_, refundId, p->reference, amount, "Återbetalning");
            if (a.status != 201) throw Problem(502, "/problems/swish-refused", "Swish tog inte emot återbetalningen", a.errors);
        }
        ctx_->store().write([&](db::Connection& c) {
            c.prepare("UPDATE checkin_payments SET refunded_ore = refunded_ore + ? WHERE id = ? AND refunded_ore + ? <= amount_ore")
                .bind(1, amount).bind(2, id).bind(3, amount).exec();
            if (c.changes() != 1) throw Problem::conflict("/problems/refund-too-large", "more than was paid");
            if (refundId.empty()) {
                // A desk refund's id numbers the payment's refunds inside this write
                // transaction, so two in the same second cannot collide (they did as
                // desk-<seconds>).
                auto n = c.prepare("SELECT COUNT(*) FROM checkin_refunds WHERE payment_id = ?");
                n.bind(1, id);
                const long long earlier = n.step() ? n.getInt(0) : 0;
                refundId = "desk-" + std::to_string(id) + "-" + std::to_string(earlier + 1);
            }
            c.prepare("INSERT INTO checkin_refunds(payment_id, instruction_id, amount_ore, status, created_at, created_by) VALUES(?,?,?,?,?,?)")
                .bind(1, id).bind(2, refundId).bind(3, amount)
                .bind(4, "done").bind(5, now()).bind(6, req.principal->username).exec();
            const long long refundRow = c.lastInsertId();
            Object o;
            o.set("payment_id", "checkin-" + std::to_string(id));
            o.set("refund_id", std::to_string(refundRow));
            o.set("refunded_ore", amount);
            ctx_->outbox().enqueue(c, {"checkin.feerefund", json(o), "refund-" + std::to_string(refundRow)});
            ctx_->audit().record(req, {"checkin.refund", patient, "vård", "ok", "payment " + std::to_string(id) + " refunded " + std::to_string(amount)}, c);
        });
        return Response::noContent();
    }, RouteSpec{.summary = "Refund a payment, fully or partly (the fee is corrected in eFrikort)", .tag = "checkin", .body = object({req("amount_ore", integer(1, 100'000'000))}), .status = 204, .path = idPath, .problems = {409, 502}});

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
        for (const auto& p : patients) ctx_->audit().record(req, {"checkin.read", p, "vård", "ok", "day report " + date});
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
}

}  // namespace checkin::plugin
