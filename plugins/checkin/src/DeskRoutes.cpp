// The reception's routes: check-in at the desk, payments and refunds (the day report is in
// DayReport.cpp).
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
}

}  // namespace checkin::plugin
