// The patient's routes (kiosk and phone, anonymous with a visit token) and Swish's callback.
#include <klinikbox/Schema.h>
#include "CheckinPlugin.h"

#include <Poco/JSON/Parser.h>

#include <sstream>

namespace checkin::plugin {

namespace {
// Swish's payment (or refund) object as its callback posts it: its documented members only.
klinikbox::schema::Ptr swishCallbackSchema() {
    using namespace klinikbox::schema;
    std::vector<Field> f{req("id", pattern("^[0-9A-Fa-f]{32}$", 32, "11A86BE70EA346E4B1C39C874173F088")),
                         opt("amount", nullable(number(0, 1e9)))};
    for (const char* name : {"payeePaymentReference", "paymentReference", "callbackUrl", "payerAlias", "payeeAlias", "currency",
                             "message", "status", "dateCreated", "datePaid", "errorCode", "errorMessage",
                             "originalPaymentReference", "callbackIdentifier", "payerPaymentReference"})
        f.push_back(opt(name, nullable(text(1000, 0))));
    return object(f);
}
}  // namespace

void CheckinPlugin::registerPatientRoutes() {
    using namespace klinikbox::schema;
    auto& r = ctx_->router();
    // The kiosk and the patient's phone: no login; the personnummer finds today's booking once
    // the patient has shown they are at the clinic (a registered kiosk, or its phone code).
    r.add("POST", "/api/v1/checkin/arrivals", Access::anyone(), [this](Request& req) {
        JsonInput in(req.json(), {"patient", "channel", "code"});
        const auto channel = in.optStr("channel", 10);
        if (channel && *channel != "kiosk" && *channel != "phone") throw JsonInput::invalid("channel", "kiosk or phone");
        const auto code = in.optStr("code", 12);
        return Response::json(anonymousCheckIn(req, in.str("patient", 20), code, channel), 201);
    }, RouteSpec{.summary = "Check in by personnummer at a registered kiosk, or on the phone with the kiosk's code: the time, room and what to pay, a session token", .tag = "checkin", .body = object({req("patient", personnummer()), opt("channel", oneOf({"kiosk", "phone"})), opt("code", described(text(12), "the phone code the kiosk shows (needed when not at a registered kiosk)"))}), .status = 201, .problems = {403, 404, 409, 422, 429, 503}});

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
    }, RouteSpec{.summary = "The check-in session's state (polled by the kiosk while the patient pays)", .tag = "checkin", .status = 200, .path = {{"token", text(200), true, ""}}, .problems = {404}});

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
    }, RouteSpec{.summary = "Pay: Swish (QR code or app switch; or the payer's mobile number in payer_mobile), at the desk, or by invoice", .tag = "checkin", .body = object({req("method", oneOf({"swish", "desk", "invoice"})), opt("payer_mobile", described(text(20), "Swish e-commerce: the payer's Swedish mobile number"))}), .status = 201, .path = {{"token", text(200), true, ""}}, .problems = {404, 409, 422, 502}});

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
    }, RouteSpec{.summary = "Swish callback (confirmed by reading the payment back from Swish); answered with 200, as Swish repeats a callback until it gets 200", .tag = "checkin", .body = described(swishCallbackSchema(), "Swish's payment or refund object; only its id is read, and the payment is confirmed by reading it back from Swish"), .responseType = "text/plain", .status = 200});
}

}  // namespace checkin::plugin
