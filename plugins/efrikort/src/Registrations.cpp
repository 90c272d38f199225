#include "Registrations.h"

#include <Poco/JSON/Parser.h>

#include <chrono>
#include <set>
#include <sstream>
#include <stdexcept>

namespace efrikort {

using namespace klinikbox;
using Poco::JSON::Object;

namespace {

std::string json(const Object& o) {
    std::ostringstream js;
    o.stringify(js);
    return js.str();
}

// Records one refund of a payment, once: true when it was new (and the ledger's refunded sum
// grew by it, never past what was charged).
bool recordRefund(db::Connection& c, const std::string& paymentId, const std::string& refundId, long long amount, long long now) {
    if (amount <= 0) return false;
    c.prepare("INSERT INTO efrikort_refunds(payment_id, refund_id, amount_ore, created_at) VALUES(?,?,?,?)"
              " ON CONFLICT(payment_id, refund_id) DO NOTHING")
        .bind(1, paymentId).bind(2, refundId).bind(3, amount).bind(4, now).exec();
    if (c.changes() != 1) return false;
    c.prepare("UPDATE efrikort_ledger SET refunded_ore = MIN(charged_ore, refunded_ore + ?) WHERE payment_id = ?")
        .bind(1, amount).bind(2, paymentId).exec();
    return true;
}

}  // namespace

long long Registrations::now() const {
    return std::chrono::duration_cast<std::chrono::seconds>(ctx_.clock().now().time_since_epoch()).count();
}

void Registrations::onOptIn(Event& e) {
    const std::string patient = textOf(e.payload, "patient");
    ctx_.store().write([&](db::Connection& c) {
        c.prepare("INSERT INTO efrikort_optins(patient, state, created_at) VALUES(?, 'pending', ?) ON CONFLICT(patient) DO NOTHING")
            .bind(1, patient).bind(2, now()).exec();
        Object o;
        o.set("patient", patient);
        ctx_.outbox().enqueue(c, {"efrikort.optin", json(o), "optin-" + patient + "-" + isoDate(ctx_.clock().today())});
    });
    e.payload->set("queued", true);
    ctx_.audit().recordSystem({"efrikort.optin", patient, "vård", "ok", "the patient consented at check-in"});
}

// The ledger row and the registration, once per payment.
void Registrations::onPaid(Event& e) {
    const std::string paymentId = textOf(e.payload, "payment_id");
    const std::string patient = textOf(e.payload, "patient");
    if (paymentId.empty() || patient.size() != 12) throw std::invalid_argument("checkin.fee.paid needs payment_id and patient");
    const long long charged = e.payload->optValue<long long>("charged_ore", 0);
    const bool counts = e.payload->optValue<bool>("counts_toward_ceiling", true);
    const std::string date = textOf(e.payload, "visit_date");
    if (!parseDate(date)) throw std::invalid_argument("checkin.fee.paid: visit_date is not a date");
    // Never register 0 kr or fees outside the protection.
    const bool register_ = counts && charged > 0;
    ctx_.store().write([&](db::Connection& c) {
        auto ins = c.prepare(
            "INSERT INTO efrikort_ledger(payment_id, patient, care_unit, visit_date, fee_ore, charged_ore, counts, state, created_at)"
            " VALUES(?,?,?,?,?,?,?,?,?) ON CONFLICT(payment_id) DO NOTHING");
        ins.bind(1, paymentId).bind(2, patient).bind(3, textOf(e.payload, "care_unit")).bind(4, date)
            .bind(5, e.payload->optValue<long long>("fee_ore", charged)).bind(6, charged).bind(7, counts ? 1 : 0)
            .bind(8, register_ ? "pending" : "not_registered").bind(9, now()).exec();
        if (c.changes() == 0 || !register_) return;  // already known: the message was queued then
        ctx_.outbox().enqueue(c, {"efrikort.register", paymentId, "register-" + paymentId});
    });
}

// The refund is counted in the ledger now (so a registration still pending sends what is
// left), and its correction is queued.
void Registrations::onRefunded(Event& e) {
    const std::string paymentId = textOf(e.payload, "payment_id");
    const std::string refundId = textOf(e.payload, "refund_id");
    const long long refunded = e.payload->optValue<long long>("refunded_ore", 0);
    if (paymentId.empty() || refundId.empty() || refunded <= 0)
        throw std::invalid_argument("checkin.fee.refunded needs payment_id, refund_id and a positive refunded_ore");
    ctx_.store().write([&](db::Connection& c) {
        auto st = c.prepare("SELECT 1 FROM efrikort_ledger WHERE payment_id = ?");
        st.bind(1, paymentId);
        if (!st.step()) return;  // a fee that was never paid through us
        recordRefund(c, paymentId, refundId, refunded, now());
        Object o;
        o.set("payment_id", paymentId);
        o.set("refund_id", refundId);
        o.set("refunded_ore", refunded);
        ctx_.outbox().enqueue(c, {"efrikort.correct", json(o), "correct-" + paymentId + "-" + refundId});
    });
}

std::optional<Registrations::Row> Registrations::row(const std::string& paymentId) {
    std::optional<Row> r;
    ctx_.store().read([&](db::Connection& c) {
        auto st = c.prepare("SELECT patient, visit_date, state, COALESCE(transaction_id, ''), charged_ore, refunded_ore, created_at, care_unit"
                            " FROM efrikort_ledger WHERE payment_id = ?");
        st.bind(1, paymentId);
        if (st.step()) r = Row{st.getText(0), st.getText(1), st.getText(2), st.getText(3), st.getText(7), st.getInt(4), st.getInt(5), st.getInt(6)};
    });
    return r;
}

void Registrations::mark(const std::string& paymentId, const std::string& state, const std::string& tx, const std::string& error) {
    ctx_.store().write([&](db::Connection& c) {
        auto st = c.prepare("UPDATE efrikort_ledger SET state = ?, transaction_id = COALESCE(NULLIF(?, ''), transaction_id),"
                            " last_error = ?, registered_at = CASE WHEN ? = 'registered' THEN ? ELSE registered_at END WHERE payment_id = ?");
        st.bind(1, state).bind(2, tx).bind(3, error).bind(4, state).bind(5, now()).bind(6, paymentId).exec();
    });
}

// RegisterTransaction, at most once per payment. A retry first asks eFrikort whether an
// earlier attempt got through (the box may have died before storing the answer): a
// transaction of ours with the same date and amount registered after the fee was charged is
// adopted instead of registering again.
DeliveryResult Registrations::deliverRegister(const QueuedMessage& m) {
    const std::string paymentId = m.payload;
    const auto r = row(paymentId);
    if (!r) return DeliveryResult::failed("no ledger row for payment " + paymentId);
    if (r->state == "registered" || r->state == "deleted") return DeliveryResult::delivered("already " + r->state);
    const long long amount = r->charged - r->refunded;
    if (amount <= 0) {
        mark(paymentId, "not_registered", "", "refunded before registration");
        return DeliveryResult::delivered("nothing left to register");
    }
    if (m.attempt > 1) {
        const auto ext = soap(settings_, "GetExtendedCardForPerson", getCardBody(settings_.party, r->patient, true));
        std::set<std::string> known;
        ctx_.store().read([&](db::Connection& c) {
            auto st = c.prepare("SELECT transaction_id FROM efrikort_ledger WHERE patient = ? AND transaction_id IS NOT NULL");
            st.bind(1, r->patient);
            while (st.step()) known.insert(st.getText(0));
        });
        for (const auto& t : ext.transactions)
            if (t.status != "DELETED" && t.date == r->date && t.ore == amount && !known.count(t.id) &&
                (settings_.party.careUnitName.empty() || t.careUnit == settings_.party.careUnitName)) {
                mark(paymentId, "registered", t.id, "");
                ctx_.audit().recordSystem({"efrikort.register", r->patient, "vård", "ok", "adopted " + t.id + " after a retry"});
                return DeliveryResult::delivered("an earlier attempt had registered it: " + t.id);
            }
    }
    const auto res = soap(settings_, "RegisterTransaction", registerTransactionBody(settings_.party, r->patient, r->date, amount));
    if (res.code == "OK" || res.code == "INFO") {
        mark(paymentId, "registered", res.transactionId, "");
        ctx_.audit().recordSystem({"efrikort.register", r->patient, "vård", "ok", "payment " + paymentId + " -> " + res.transactionId});
        return DeliveryResult::delivered("transactionId " + res.transactionId);
    }
    if (res.code == "OPTINREQUIRED" || res.code == "OPTOUT") {
        mark(paymentId, "optin_required", "", res.code);
        return DeliveryResult::delivered("waiting for the patient's opt-in (" + res.code + ")");
    }
    mark(paymentId, "failed", "", res.code + ": " + res.text);
    return DeliveryResult::failed(res.code + ": " + res.text);
}

// Sets the registered transaction to what is left after every recorded refund. The call is
// idempotent (an absolute amount, not a difference), so a retry or a second correction that
// finds the first one's work already done sends the same amount again.
DeliveryResult Registrations::deliverCorrect(const QueuedMessage& m) {
    Poco::JSON::Parser p;
    const auto o = p.parse(m.payload).extract<Object::Ptr>();
    const std::string paymentId = textOf(o, "payment_id");
    // A message queued before refunds were recorded at event time has no refund_id: its
    // queue key names the refund as well.
    const std::string refundId = o->has("refund_id") ? textOf(o, "refund_id") : m.idempotencyKey;
    const long long refunded = o->optValue<long long>("refunded_ore", 0);
    std::lock_guard lock(correcting_);
    if (!row(paymentId)) return DeliveryResult::failed("no ledger row for payment " + paymentId);
    ctx_.store().write([&](db::Connection& c) { recordRefund(c, paymentId, refundId, refunded, now()); });
    const auto r = row(paymentId);
    if (r->state == "pending") return DeliveryResult::retry("the fee is not registered yet");
    if (r->state != "registered") return DeliveryResult::delivered("not registered nationally; the local ledger is corrected");
    const long long remaining = r->charged - r->refunded;
    Result res;
    if (remaining <= 0) {
        res = soap(settings_, "DeleteTransaction", deleteTransactionBody(settings_.party, r->transactionId, "Återbetald"));
        if (res.code == "OK" || res.code == "INFO") mark(paymentId, "deleted", "", "");
    } else {
        res = soap(settings_, "UpdateTransaction", updateTransactionBody(settings_.party, r->transactionId, r->date, remaining, "Delvis återbetald"));
    }
    if (res.code == "OK" || res.code == "INFO") {
        ctx_.audit().recordSystem({"efrikort.correct", r->patient, "vård", "ok", "payment " + paymentId + " now " + std::to_string(remaining)});
        return DeliveryResult::delivered(remaining <= 0 ? "deleted" : "updated");
    }
    return DeliveryResult::failed(res.code + ": " + res.text);
}

DeliveryResult Registrations::deliverOptIn(const QueuedMessage& m) {
    Poco::JSON::Parser p;
    const std::string patient = textOf(p.parse(m.payload).extract<Object::Ptr>(), "patient");
    const auto res = soap(settings_, "RegisterOptIn", registerOptInBody(settings_.party, patient));
    if (res.code != "OK" && res.code != "INFO") return DeliveryResult::failed(res.code + ": " + res.text);
    ctx_.store().write([&](db::Connection& c) {
        c.prepare("UPDATE efrikort_optins SET state = 'registered', registered_at = ? WHERE patient = ?").bind(1, now()).bind(2, patient).exec();
        // Fees that waited for the consent are registered now.
        auto st = c.prepare("SELECT payment_id FROM efrikort_ledger WHERE patient = ? AND state = 'optin_required'");
        st.bind(1, patient);
        std::vector<std::string> waiting;
        while (st.step()) waiting.push_back(st.getText(0));
        for (const auto& id : waiting) {
            c.prepare("UPDATE efrikort_ledger SET state = 'pending' WHERE payment_id = ?").bind(1, id).exec();
            ctx_.outbox().enqueue(c, {"efrikort.register", id, "register-" + id + "-after-optin"});
        }
    });
    ctx_.audit().recordSystem({"efrikort.optin", patient, "vård", "ok", "RegisterOptIn accepted"});
    return DeliveryResult::delivered("opt-in registered");
}

}  // namespace efrikort
