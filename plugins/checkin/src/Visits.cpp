// Visits: loading a visit (one patient's arrival) and its live payment.
#include "CheckinPlugin.h"

#include <Poco/JSON/Parser.h>

#include <sstream>

namespace checkin::plugin {

std::optional<Visit> CheckinPlugin::loadVisit(db::Connection& c, const std::string& where, const std::string& key) {
    auto st = c.prepare("SELECT id, booking_id, patient, care_unit, visit_date, start_at, room, tariff, fee_ore, charge_ore, counts,"
                        " exempt_reason, card_status, card_source, left_ore, optin_required, channel, arrived_at FROM checkin_visits WHERE " +
                        where);
    st.bind(1, key);
    if (!st.step()) return std::nullopt;
    Visit v;
    v.id = st.getInt(0);
    v.bookingId = st.getInt(1);
    v.patient = st.getText(2);
    v.unit = st.getText(3);
    v.date = st.getText(4);
    v.start = st.getText(5);
    v.room = st.getText(6);
    v.tariff = st.getText(7);
    v.feeOre = st.getInt(8);
    v.chargeOre = st.getInt(9);
    v.counts = st.getInt(10) == 1;
    v.exemptReason = st.getText(11);
    v.cardStatus = st.getText(12);
    v.cardSource = st.getText(13);
    v.leftOre = st.getOptionalInt(14);
    v.optinRequired = st.getInt(15) == 1;
    v.channel = st.getText(16);
    v.arrivedAt = st.getInt(17);
    return v;
}

namespace {
const char* const kPaymentColumns =
    "SELECT id, visit_id, amount_ore, refunded_ore, created_at, method, status, COALESCE(instruction_id,''),"
    " COALESCE(payment_reference,''), COALESCE(request_token,''), COALESCE(payer_alias,''), checks FROM checkin_payments ";

Payment readPayment(db::Statement& st) {
    Payment p;
    p.id = st.getInt(0);
    p.visitId = st.getInt(1);
    p.amountOre = st.getInt(2);
    p.refundedOre = st.getInt(3);
    p.createdAt = st.getInt(4);
    p.method = st.getText(5);
    p.status = st.getText(6);
    p.instructionId = st.getText(7);
    p.reference = st.getText(8);
    p.requestToken = st.getText(9);
    p.payerAlias = st.getText(10);
    p.checks = static_cast<int>(st.getInt(11));
    return p;
}
}  // namespace

std::optional<Payment> CheckinPlugin::livePayment(db::Connection& c, long long visitId) {
    auto st = c.prepare(std::string(kPaymentColumns) +
                        "WHERE visit_id = ? ORDER BY CASE WHEN status IN ('created','paid','invoiced') THEN 0 ELSE 1 END, id DESC LIMIT 1");
    st.bind(1, visitId);
    if (!st.step()) return std::nullopt;
    return readPayment(st);
}

std::optional<Payment> CheckinPlugin::paymentWhere(db::Connection& c, const std::string& where, const std::string& key) {
    auto st = c.prepare(std::string(kPaymentColumns) + "WHERE " + where);
    st.bind(1, key);
    if (!st.step()) return std::nullopt;
    return readPayment(st);
}

Visit CheckinPlugin::visitByToken(const Request& req) {
    std::optional<Visit> v;
    ctx_->store().read([&](db::Connection& c) { v = loadVisit(c, "token_hash = ?", sha256Hex(req.pathParams.at("token"))); });
    if (!v) throw Problem(404, "/problems/checkin-session", "Incheckningen hittades inte", "Börja om vid skärmen eller fråga i receptionen.");
    return *v;
}

}  // namespace checkin::plugin
