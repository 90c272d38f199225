// The patient's routes (kiosk and phone, anonymous with a visit token) and Swish's callback.
#include <klinikbox/Schema.h>
#include "CheckinPlugin.h"

#include <Poco/JSON/Parser.h>

#include <sstream>

namespace checkin::plugin {

void CheckinPlugin::registerPatientRoutes() {
    using namespace klinikbox::schema;
    auto& r = ctx_->router();
    // The kiosk and the patient's phone: no login; the personnummer finds today's booking.
    r.add("POST", "/api/v1/checkin/arrivals", Access::anyone(), [this](Request& req) {
        JsonInput in(req.json(), {"patient", "channel"});
        const auto channel = in.optStr("channel", 10).value_or("kiosk");
        if (channel != "kiosk" && channel != "phone") throw JsonInput::invalid("channel", "kiosk or phone");
        return Response::json(checkIn(req, in.str("patient", 20), channel), 201);
    }, RouteSpec{.summary = "Check in by personnummer (kiosk or phone): today's booking within the window, the fee, a session token", .tag = "checkin", .body = object({req("patient", personnummer()), opt("channel", oneOf({"kiosk", "phone"}))}), .status = 201, .problems = {404, 409, 422, 429}});

    r.add("GET", "/api/v1/checkin/arrivals/{token}", Access::anyone(), [this](Request& req) {
        const auto v = visitByToken(req);
        std::optional<Payment> p;
        ctx_->store().read([&](db::Connection& c) { p = livePayment(c, v.id); });
        if (p && p->method == "swish" && p->status == "created" && now() - p->createdAt >= 2) {
            try {
                confirmSwish(*p);
            } catch (const std::exception& e) {
                ctx_->log().warning(std::string("checkin: Swish status check failed: ") + e.what());
            }
        }
        return Response::json(statusJson(v));
    }, RouteSpec{.summary = "The check-in session's state (polled by the kiosk while the patient pays)", .tag = "checkin", .status = 200, .path = {{"token", text(200), true, ""}}});

    r.add("POST", "/api/v1/checkin/arrivals/{token}/payment", Access::anyone(), [this](Request& req) {
        JsonInput in(req.json(), {"method"});
        const auto method = in.str("method", 10);
        if (method != "swish" && method != "desk" && method != "invoice") throw JsonInput::invalid("method", "swish, desk or invoice");
        const auto v = visitByToken(req);
        return Response::json(pay(req, v, method, "patient"), 201);
    }, RouteSpec{.summary = "Pay: Swish (the patient approves in the app), at the desk, or by invoice", .tag = "checkin", .body = object({req("method", oneOf({"swish", "desk", "invoice"}))}), .status = 201, .path = {{"token", text(200), true, ""}}, .problems = {409, 422, 502}});

    r.add("POST", "/api/v1/checkin/arrivals/{token}/optin", Access::anyone(), [this](Request& req) {
        JsonInput in(req.json(), {"consent"});
        if (!in.boolean("consent")) return Response::noContent();
        const auto v = visitByToken(req);
        Object::Ptr o = new Object;
        o->set("patient", v.patient);
        o->set("care_unit", v.unit);
        Event e{"checkin.optin", o, req.principal, req.requestId};
        const auto out = ctx_->events().publishSync(e);
        if (out.failed || out.vetoed) throw Problem(503, "/problems/optin-failed", "Samtycket kunde inte sparas", "Fråga i receptionen.");
        ctx_->audit().record(req, {"checkin.optin", v.patient, "vård", "ok", "consent to e-frikort"});
        return Response::noContent();
    }, RouteSpec{.summary = "The patient consents to e-frikort (opt-in)", .tag = "checkin", .body = object({req("consent", boolean())}), .status = 204, .path = {{"token", text(200), true, ""}}, .problems = {409, 503}});

    r.add("GET", "/api/v1/checkin/arrivals/{token}/receipt", Access::anyone(), [this](Request& req) {
        const auto v = visitByToken(req);
        ctx_->audit().record(req, {"checkin.receipt", v.patient, "vård", "ok", "receipt shown"});
        return Response::json(receiptJson(v));
    }, RouteSpec{.summary = "The receipt of a check-in (printable page: /plugins/checkin/receipt.html#<token>)", .tag = "checkin", .status = 200, .path = {{"token", text(200), true, ""}}, .problems = {409}});

    r.add("POST", "/api/v1/checkin/arrivals/{token}/receipt", Access::anyone(), [this](Request& req) {
        JsonInput in(req.json(), {"email"});
        const auto email = in.str("email", 254);
        if (email.find('@') == std::string::npos || email.find(' ') != std::string::npos) throw JsonInput::invalid("email", "not an e-mail address");
        const auto v = visitByToken(req);
        const auto rc = receiptJson(v);
        const std::string text = "Kvitto " + rc->getValue<std::string>("receipt_no") + "\n" + clinicName_ + "\nDatum: " + v.date +
                                 "\nBesök: " + v.tariff + "\nAvgift: " + kronor(v.feeOre) + "\nBetalt: " +
                                 (rc->getValue<std::string>("state") == "paid" ? kronor(v.chargeOre) : "0 kr") +
                                 (v.exemptReason.empty() ? "" : "\nAvgiftsfritt: " + v.exemptReason) + "\n";
        Object o;
        o.set("to", email);
        o.set("receipt_no", rc->getValue<std::string>("receipt_no"));
        o.set("text", text);
        ctx_->store().write([&](db::Connection& c) {
            ctx_->outbox().enqueue(c, {"checkin.receipt", json(o), "receipt-" + std::to_string(v.id) + "-" + sha256Hex(email).substr(0, 12)});
            ctx_->audit().record(req, {"checkin.receipt", v.patient, "vård", "ok", "receipt e-mailed"}, c);
        });
        return Response::noContent();
    }, RouteSpec{.summary = "E-mail the receipt (through the outbox)", .tag = "checkin", .body = object({req("email", text(254))}), .status = 204, .path = {{"token", text(200), true, ""}}, .problems = {409, 503}});

    // Swish calls back here; the body is only a hint: the status is read back from Swish.
    r.add("POST", "/api/v1/checkin/swish/callback", Access::anyone(), [this](Request& req) {
        std::string id;
        try {
            id = req.json()->optValue<std::string>("id", "");
        } catch (...) {
        }
        std::optional<Payment> p;
        ctx_->store().read([&](db::Connection& c) {
            auto st = c.prepare("SELECT id, visit_id, amount_ore, refunded_ore, created_at, method, status, instruction_id,"
                                " COALESCE(payment_reference,'') FROM checkin_payments WHERE instruction_id = ?");
            st.bind(1, id);
            if (st.step())
                p = Payment{st.getInt(0), st.getInt(1), st.getInt(2), st.getInt(3), st.getInt(4), st.getText(5), st.getText(6), st.getText(7), st.getText(8)};
        });
        if (p) {
            try {
                confirmSwish(*p);
            } catch (const std::exception& e) {
                ctx_->log().warning(std::string("checkin: Swish callback could not be confirmed: ") + e.what());
            }
        }
        return Response::noContent();
    }, RouteSpec{.summary = "Swish callback (confirmed by reading the payment back from Swish)", .tag = "checkin", .body = described(anyObject(), "Swish's payment object; only its id is read, and the payment is confirmed by reading it back from Swish"), .status = 204});
}

}  // namespace checkin::plugin
