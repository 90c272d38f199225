// The patient's routes (kiosk and phone, anonymous with a visit token) and Swish's callback.
#include "CheckinPlugin.h"

#include <Poco/JSON/Parser.h>

#include <sstream>

namespace checkin::plugin {

void CheckinPlugin::registerPatientRoutes() {
    auto& r = ctx_->router();
    // The kiosk and the patient's phone: no login; the personnummer finds today's booking once
    // the patient has shown they are at the clinic (a registered kiosk, or its phone code).
    r.add("POST", "/api/v1/checkin/arrivals", Access::anyone(), [this](Request& req) {
        JsonInput in(req.json(), {"patient", "channel", "code"});
        const auto channel = in.optStr("channel", 10);
        if (channel && *channel != "kiosk" && *channel != "phone") throw JsonInput::invalid("channel", "kiosk or phone");
        const auto code = in.optStr("code", 12);
        return Response::json(anonymousCheckIn(req, in.str("patient", 20), code, channel), 201);
    }, RouteDoc{"Check in by personnummer at a registered kiosk, or on the phone with the kiosk's code: the time, room and what to pay, a session token", "checkin", nullptr, nullptr});

    r.add("GET", "/api/v1/checkin/arrivals/{token}", Access::anyone(), [this](Request& req) {
        const auto v = visitByToken(req);
        std::optional<Payment> p;
        ctx_->store().read([&](db::Connection& c) { p = livePayment(c, v.id); });
        if (p && p->method == "swish" && p->status == "created" && now() - p->createdAt >= 2) {
            try {
                (void)confirmSwish(*p);
            } catch (const std::exception& e) {
                ctx_->log().warning(std::string("checkin: Swish status check failed: ") + e.what());
            }
        }
        return Response::json(patientView(statusJson(v, req.pathParams.at("token"))));
    }, RouteDoc{"The check-in session's state (polled by the kiosk while the patient pays)", "checkin", nullptr, nullptr});

    r.add("POST", "/api/v1/checkin/arrivals/{token}/payment", Access::anyone(), [this](Request& req) {
        JsonInput in(req.json(), {"method", "payer_mobile"});
        const auto method = in.str("method", 10);
        if (method != "swish" && method != "desk" && method != "invoice") throw JsonInput::invalid("method", "swish, desk or invoice");
        std::string payerAlias;
        if (const auto mobile = in.optStr("payer_mobile", 20)) {
            if (method != "swish") throw JsonInput::invalid("payer_mobile", "only with Swish");
            const auto alias = checkin::payerAliasFromMobile(*mobile);
            if (!alias) throw JsonInput::invalid("payer_mobile", "not a Swedish mobile number");
            payerAlias = *alias;
        }
        const auto v = visitByToken(req);
        (void)pay(req, v, method, "patient", payerAlias);
        return Response::json(patientView(statusJson(v, req.pathParams.at("token"))), 201);
    }, RouteDoc{"Pay: Swish (QR code or app switch; or the payer's mobile number in payer_mobile), at the desk, or by invoice", "checkin", nullptr, nullptr});

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
    }, RouteDoc{"The patient consents to e-frikort (opt-in)", "checkin", nullptr, nullptr});

    r.add("GET", "/api/v1/checkin/arrivals/{token}/receipt", Access::anyone(), [this](Request& req) {
        const auto v = visitByToken(req);
        ctx_->audit().record(req, {"checkin.receipt", v.patient, "vård", "ok", "receipt shown"});
        return Response::json(receiptJson(v));
    }, RouteDoc{"The receipt of a check-in (printable page: /plugins/checkin/receipt.html#<token>)", "checkin", nullptr, nullptr});

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
    }, RouteDoc{"E-mail the receipt (through the outbox)", "checkin", nullptr, nullptr});

    // Swish calls back here; the body is only a hint: the status is read back from Swish.
    // Swish repeats a callback until it is answered with 200.
    r.add("POST", "/api/v1/checkin/swish/callback", Access::anyone(), [this](Request& req) {
        // Strict like every body: Swish's documented callback fields only, and an id.
        const JsonInput in(req.json(), {"id", "payeePaymentReference", "paymentReference", "callbackUrl", "payerAlias",
                                        "payeeAlias", "amount", "currency", "message", "status", "dateCreated",
                                        "datePaid", "errorCode", "errorMessage", "originalPaymentReference",
                                        "callbackIdentifier", "payerPaymentReference"});
        const std::string id = in.str("id", 64);
        if (id.size() != 32) throw Problem::badRequest("/problems/invalid-request", "the body is not a Swish payment object");
        std::optional<Payment> p;
        ctx_->store().read([&](db::Connection& c) { p = paymentWhere(c, "instruction_id = ?", id); });
        if (p) {
            try {
                (void)confirmSwish(*p);
            } catch (const std::exception& e) {
                ctx_->log().warning(std::string("checkin: Swish callback could not be confirmed: ") + e.what());
            }
        }
        return Response::text("", "text/plain", 200);
    }, RouteDoc{"Swish callback (confirmed by reading the payment back from Swish)", "checkin", nullptr, nullptr});
}

}  // namespace checkin::plugin
