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

std::optional<Payment> CheckinPlugin::livePayment(db::Connection& c, long long visitId) {
    auto st = c.prepare("SELECT id, visit_id, amount_ore, refunded_ore, created_at, method, status, COALESCE(instruction_id,''),"
                        " COALESCE(payment_reference,'') FROM checkin_payments WHERE visit_id = ? ORDER BY"
                        " CASE WHEN status IN ('created','paid','invoiced') THEN 0 ELSE 1 END, id DESC LIMIT 1");
    st.bind(1, visitId);
    if (!st.step()) return std::nullopt;
    return Payment{st.getInt(0), st.getInt(1), st.getInt(2), st.getInt(3), st.getInt(4), st.getText(5), st.getText(6), st.getText(7),
                   st.getText(8)};
}

Visit CheckinPlugin::visitByToken(const Request& req) {
    std::optional<Visit> v;
    ctx_->store().read([&](db::Connection& c) { v = loadVisit(c, "token_hash = ?", sha256Hex(req.pathParams.at("token"))); });
    if (!v) throw Problem(404, "/problems/checkin-session", "Incheckningen hittades inte", "Börja om vid skärmen eller fråga i receptionen.");
    return *v;
}

}  // namespace checkin::plugin
