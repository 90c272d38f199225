// Payments: paying by Swish, at the desk or by invoice, refunds, and the fee reports
// (checkin.fee.paid / refunded) the outbox delivers to the e-frikort plugin.
#include "CheckinPlugin.h"

#include <Poco/JSON/Parser.h>

#include <sstream>

namespace checkin::plugin {

Object::Ptr CheckinPlugin::paymentJson(const Payment& p) {
    Object::Ptr o = new Object;
    o->set("id", p.id);
    o->set("method", p.method);
    o->set("status", p.status);
    o->set("amount_ore", p.amountOre);
    o->set("refunded_ore", p.refundedOre);
    if (!p.reference.empty()) o->set("reference", p.reference);
    return o;
}

// Marks a payment paid and queues the fee report in the same transaction (once).
bool CheckinPlugin::applyPaid(long long paymentId, const std::string& reference, const std::string& by) {
    bool changed = false;
    std::string patient;
    ctx_->store().write([&](db::Connection& c) {
        c.prepare("UPDATE checkin_payments SET status = 'paid', paid_at = ?, payment_reference = NULLIF(?, '')"
                  " WHERE id = ? AND status IN ('created', 'invoiced')")
            .bind(1, now()).bind(2, reference).bind(3, paymentId).exec();
        if (c.changes() != 1) return;
        changed = true;
        auto st = c.prepare("SELECT v.patient, v.care_unit, v.visit_date, v.fee_ore, p.amount_ore, v.counts, v.booking_id"
                            " FROM checkin_payments p JOIN checkin_visits v ON v.id = p.visit_id WHERE p.id = ?");
        st.bind(1, paymentId);
        if (!st.step()) return;
        Object o;
        o.set("payment_id", "checkin-" + std::to_string(paymentId));
        o.set("patient", st.getText(0));
        o.set("care_unit", st.getText(1));
        o.set("visit_date", st.getText(2));
        o.set("fee_ore", st.getInt(3));
        o.set("charged_ore", st.getInt(4));
        o.set("counts_toward_ceiling", st.getInt(5) == 1);
        o.set("booking_id", st.getInt(6));
        ctx_->outbox().enqueue(c, {"checkin.feereport", json(o), "fee-" + std::to_string(paymentId)});
        patient = st.getText(0);
    });
    // Its own transaction, after ours (a second writer inside ours would wait for it).
    if (changed) ctx_->audit().recordSystem({"checkin.paid", patient, "vård", "ok", "payment " + std::to_string(paymentId) + " by " + by});
    return changed;
}

void CheckinPlugin::applyStatus(long long paymentId, const std::string& status) {
    ctx_->store().write([&](db::Connection& c) {
        c.prepare("UPDATE checkin_payments SET status = ? WHERE id = ? AND status = 'created'").bind(1, status).bind(2, paymentId).exec();
    });
}

// Never trusts a callback or a waiting kiosk: asks Swish for the truth. What is not final yet
// is asked about again later, on the reconciler's backoff schedule.
bool CheckinPlugin::confirmSwish(const Payment& p, bool reconciling) {
    if (p.method != "swish" || p.status != "created" || p.instructionId.empty()) return true;
    auto later = [&] {
        if (!reconciling) return false;
        ctx_->store().write([&](db::Connection& c) {
            c.prepare("UPDATE checkin_payments SET checks = checks + 1, next_check_at = ? WHERE id = ? AND status = 'created'")
                .bind(1, now() + checkin::checkDelaySeconds(p.checks)).bind(2, p.id).exec();
        });
        return false;
    };
    checkin::SwishAnswer a;
    try {
        a = checkin::getPayment(swish_, p.instructionId);
    } catch (...) {
        later();
        throw;
    }
    if (a.status == 404) {
        // Unknown at Swish: final only once the request that created it cannot still be on
        // its way (a crash before the PUT, or a PUT Swish never took).
        if (now() - p.createdAt <= 2LL * swish_.timeoutMs / 1000 + 2) return later();
        applyStatus(p.id, "error");
        return true;
    }
    if (a.status != 200 || !a.body) return later();
    const auto st = a.body->optValue<std::string>("status", "");
    if (st == "PAID") applyPaid(p.id, a.body->optValue<std::string>("paymentReference", ""), "swish");
    else if (st == "DECLINED") applyStatus(p.id, "declined");
    else if (st == "CANCELLED") applyStatus(p.id, "cancelled");
    else if (st == "ERROR") applyStatus(p.id, "error");
    else if (st == "CREATED" && p.payerAlias.empty() && p.requestToken.empty() && now() - p.createdAt > 2LL * swish_.timeoutMs / 1000 + 2) {
        // An m-commerce request whose token never reached the box (it stopped right after
        // creating it): no one can open it, so it is withdrawn and the patient may pay anew.
        const auto c = checkin::cancelPayment(swish_, p.instructionId);
        if (c.status != 200) return later();
        applyStatus(p.id, "cancelled");
    } else {
        return later();
    }
    return true;
}

Object::Ptr CheckinPlugin::pay(const Request& req, const Visit& v, const std::string& method, const std::string& by,
                               const std::string& payerAlias) {
    if (v.chargeOre <= 0) throw Problem(409, "/problems/nothing-to-pay", "Inget att betala", "Besöket är avgiftsfritt.");
    if (method == "swish" && !swishEnabled_) throw Problem(409, "/problems/swish-off", "Swish används inte här", "Välj ett annat sätt.");
    Payment p;
    p.method = method;
    p.amountOre = v.chargeOre;
    p.instructionId = method == "swish" ? checkin::newInstructionId() : "";
    try {
        ctx_->store().write([&](db::Connection& c) {
            auto ins = c.prepare("INSERT INTO checkin_payments(visit_id, method, amount_ore, status, instruction_id, payer_alias, created_at,"
                                 " created_by, next_check_at) VALUES(?,?,?,?,?,?,?,?,?)");
            ins.bind(1, v.id).bind(2, method).bind(3, v.chargeOre).bind(4, method == "invoice" ? "invoiced" : "created");
            if (p.instructionId.empty()) ins.bindNull(5);
            else ins.bind(5, p.instructionId);
            if (payerAlias.empty()) ins.bindNull(6);
            else ins.bind(6, payerAlias);
            ins.bind(7, now()).bind(8, by);
            // The reconciler's first look: after the kiosk's own polling had its chance.
            if (method == "swish") ins.bind(9, now() + checkin::checkDelaySeconds(0));
            else ins.bindNull(9);
            ins.exec();
            p.id = c.lastInsertId();
            ctx_->audit().record(req, {"checkin.pay", v.patient, "vård", "ok",
                                       method + (payerAlias.empty() ? "" : " e-commerce") + " " + std::to_string(v.chargeOre)},
                                 c);
        });
    } catch (const db::ConstraintError&) {
        // One live payment per visit: a second tap shows the first one's state.
        return statusJson(v);
    }
    if (method == "swish") {
        try {
            const auto a = checkin::createPayment(swish_, p.instructionId, v.chargeOre, "Besök " + v.date, "KB" + std::to_string(p.id),
                                                  payerAlias);
            if (a.status != 201) {
                applyStatus(p.id, "error");
                throw Problem(502, "/problems/swish-refused", "Swish tog inte emot betalningen",
                              a.errors.empty() ? "HTTP " + std::to_string(a.status) : a.errors);
            }
            if (payerAlias.empty() && a.requestToken.empty()) {
                // An m-commerce request nobody can reach: cancel it rather than wait for nothing.
                try {
                    (void)checkin::cancelPayment(swish_, p.instructionId);
                } catch (...) {
                }
                applyStatus(p.id, "error");
                throw Problem(502, "/problems/swish-refused", "Swish tog inte emot betalningen", "no PaymentRequestToken in the answer");
            }
            if (!a.requestToken.empty())
                ctx_->store().write([&](db::Connection& c) {
                    c.prepare("UPDATE checkin_payments SET request_token = ? WHERE id = ?").bind(1, a.requestToken).bind(2, p.id).exec();
                });
        } catch (const Problem&) {
            throw;
        } catch (const std::exception& e) {
            // The request may or may not have reached Swish: ask before giving up. While
            // Swish cannot be asked the payment stays unsettled and the reconciler finds out.
            try {
                const auto a = checkin::getPayment(swish_, p.instructionId);
                if (a.status == 404 || a.status == 422 || a.status == 400) applyStatus(p.id, "error");
            } catch (...) {
            }
            throw Problem(503, "/problems/swish-unreachable", "Swish svarar inte", "Betala i receptionen eller försök igen.");
        }
    }
    return statusJson(v);
}

// The outbox's deliverer of fee reports: the e-frikort plugin registers in its hook;
// a failing hook means "try again later".
DeliveryResult CheckinPlugin::report(const std::string& event, const QueuedMessage& m) {
    Poco::JSON::Parser p;
    Event e{event, p.parse(m.payload).extract<Object::Ptr>(), std::nullopt, "outbox-" + std::to_string(m.id)};
    const auto out = ctx_->events().publishSync(e);
    if (out.failed || out.vetoed) return DeliveryResult::retry(out.hook + ": " + out.reason);
    return DeliveryResult::delivered();
}

}  // namespace checkin::plugin
