#include "SwishSim.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <chrono>
#include <cctype>
#include <cstring>
#include <regex>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

namespace sim {

using Poco::JSON::Array;
using namespace std::chrono;

void SwishSim::handle(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res, const std::string& body) {
    static const std::regex put(R"(^/swish-cpcapi/api/v2/(paymentrequests|refunds)/([^/?]+)$)");
    static const std::regex get(R"(^/swish-cpcapi/api/v1/(paymentrequests|refunds)/([^/?]+)$)");
    const std::string path = Poco::URI(req.getURI()).getPath();
    std::smatch m;
    std::string fault;
    {
        std::lock_guard lock(state_.mu);
        fault = state_.takeFault("swish", req.getMethod());
    }
    if (fault == "timeout") pause(timeoutMs_);
    if (!fault.empty()) return reply(res, req.getMethod() + " " + path, body, 500, "", "");
    if (req.getMethod() == "PUT" && std::regex_match(path, m, put)) return create(res, m[2], m[1] == "refunds", body, path);
    if ((req.getMethod() == "GET" || req.getMethod() == "PATCH") && std::regex_match(path, m, get)) {
        std::unique_lock lock(state_.mu);
        auto it = state_.payments.find(m[2]);
        if (it == state_.payments.end() || it->second.refund != (m[1] == "refunds")) {
            lock.unlock();
            return reply(res, req.getMethod() + " " + path, body, 404, "application/json",
                         R"([{"errorCode":"RP04","errorMessage":"No payment request found"}])");
        }
        expireIfDue(it->second);
        if (req.getMethod() == "PATCH") {
            if (it->second.status != "CREATED") {
                lock.unlock();
                return reply(res, "PATCH " + path, body, 422, "application/json",
                             R"([{"errorCode":"RP07","errorMessage":"Transaction status is not CREATED"}])");
            }
            it->second.status = "CANCELLED";
            state_.save();
        }
        const std::string out = paymentJson(it->second);
        lock.unlock();
        return reply(res, req.getMethod() + " " + path, body, 200, "application/json", out);
    }
    reply(res, req.getMethod() + " " + path, body, 404, "application/json", "[]");
}

void SwishSim::create(Poco::Net::HTTPServerResponse& res, const std::string& id, bool refund, const std::string& body,
                  const std::string& path) {
    static const std::regex idRe("^[0-9A-F]{32}$");
    static const std::regex amountRe(R"(^[0-9]{1,12}(\.[0-9]{1,2})?$)");
    std::vector<std::pair<std::string, std::string>> errors;
    Object::Ptr in;
    try {
        Poco::JSON::Parser p;
        in = p.parse(body).extract<Object::Ptr>();
    } catch (...) {
        return reply(res, "PUT " + path, body, 400, "application/json", "");
    }
    auto str = [&](const char* k) { return in->has(k) && in->get(k).isString() ? in->getValue<std::string>(k) : std::string(); };
    if (!std::regex_match(id, idRe)) errors.emplace_back("RP01", "The instruction id must be 32 uppercase hexadecimal characters");
    const auto amount = str("amount");
    if (!std::regex_match(amount, amountRe) || oreOf(amount) < 1) errors.emplace_back("AM02", "Amount value is too large or invalid");
    if (str("currency") != "SEK") errors.emplace_back("AM03", "Invalid or missing Currency");
    if (!callbackOk(str("callbackUrl"))) errors.emplace_back("RP03", "Callback URL is missing or does not use HTTPS on port 443");
    // A payment request is paid to the merchant (payeeAlias); a refund is paid by it (payerAlias).
    if (str(refund ? "payerAlias" : "payeeAlias").empty()) errors.emplace_back("RP01", "Missing Merchant Swish Number");
    if (!messageOk(str("message"))) errors.emplace_back("RP02", "Wrong formatted message");
    if (!refund && !str("payerAlias").empty() && !std::regex_match(str("payerAlias"), std::regex("^[1-9][0-9]{7,14}$")))
        errors.emplace_back("BE18", "Payer alias is invalid");
    if (!str("payeePaymentReference").empty() && !std::regex_match(str("payeePaymentReference"), std::regex("^[A-Za-z0-9-]{1,35}$")))
        errors.emplace_back("FF08", "PaymentReference is invalid");
    if (refund) {
        // The refund must name a PAID payment of this merchant and stay within what is left of it.
        std::lock_guard lock(state_.mu);
        const Payment* original = nullptr;
        long long refunded = 0;
        for (const auto& [pid, p] : state_.payments) {
            if (!p.refund && p.status == "PAID" && !p.paymentReference.empty() && p.paymentReference == str("originalPaymentReference"))
                original = &p;
            if (p.refund && p.originalPaymentReference == str("originalPaymentReference") && p.status != "ERROR") refunded += oreOf(p.amount);
        }
        if (!original || original->payeeAlias != str("payerAlias"))
            errors.emplace_back("RF02", "Original Payment not found or original payment is more than 13 months old");
        else if (std::regex_match(amount, amountRe) && oreOf(amount) + refunded > oreOf(original->amount))
            errors.emplace_back("RF03", "Payer alias in the refund does not match the payee alias in the original payment, or the amount is too large");
    }
    if (!errors.empty()) {
        Array a;
        for (const auto& [c, msg] : errors) {
            Object e;
            e.set("errorCode", c);
            e.set("errorMessage", msg);
            a.add(e);
        }
        std::ostringstream s;
        a.stringify(s);
        return reply(res, "PUT " + path, body, 422, "application/json", s.str());
    }
    {
        std::lock_guard lock(state_.mu);
        if (state_.payments.count(id)) {
            // The instruction id is the idempotency key: a repeat is refused.
            state_.record("swish", "PUT " + path, body, "409 duplicate");
        } else {
            Payment p;
            p.id = id;
            p.refund = refund;
            p.payeeAlias = str("payeeAlias");
            p.payerAlias = str("payerAlias");
            p.amount = amount;
            p.currency = "SEK";
            p.message = str("message");
            p.callbackUrl = str("callbackUrl");
            p.payeeRef = str(refund ? "payerPaymentReference" : "payeePaymentReference");
            p.originalPaymentReference = str("originalPaymentReference");
            p.dateCreated = isoNow();
            p.createdEpoch = duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
            if (refund) {
                p.status = "PAID";  // refunds of the simulator settle at once
                p.datePaid = isoNow();
                p.paymentReference = randomHex(16, true);
            }
            state_.payments[id] = p;
            state_.save();
            state_.record("swish", "PUT " + path, body, "201");
            if (!refund && p.payerAlias.empty()) {
                // m-commerce: reachable only through the token, so nobody pays it before it is scanned.
                state_.payments[id].token = randomHex(16, false);
                state_.save();
                res.set("PaymentRequestToken", state_.payments[id].token);
            } else if (refund) {
                callbackLater(id, 50);
            } else if (!state_.autoSettle.empty()) {
                settleLater(id, state_.autoSettle, state_.autoDelayMs);
            }
            res.set("Location", "https://127.0.0.1/swish-cpcapi/api/v1/" + std::string(refund ? "refunds/" : "paymentrequests/") + id);
            return send(res, 201, "", "");
        }
    }
    send(res, 409, "application/json", R"([{"errorCode":"RP08","errorMessage":"The payment request has been cancelled or already exists"}])");
}

std::string SwishSim::paymentJson(const Payment& p) {
    Object o;
    o.set("id", p.id);
    o.set(p.refund ? "payerPaymentReference" : "payeePaymentReference", p.payeeRef);
    if (!p.paymentReference.empty()) o.set("paymentReference", p.paymentReference);
    if (p.refund) o.set("originalPaymentReference", p.originalPaymentReference);
    o.set("callbackUrl", p.callbackUrl);
    o.set("payerAlias", p.payerAlias);
    o.set("payeeAlias", p.payeeAlias);
    o.set("amount", std::stod(p.amount));
    o.set("currency", p.currency);
    o.set("message", p.message);
    o.set("status", p.status);
    o.set("dateCreated", p.dateCreated);
    if (!p.datePaid.empty()) o.set("datePaid", p.datePaid);
    if (!p.errorCode.empty()) {
        o.set("errorCode", p.errorCode);
        o.set("errorMessage", p.errorMessage);
    }
    return json(o);
}

// A request nobody paid in time fails, as at Swish (TM01). The state lock is held.
void SwishSim::expireIfDue(Payment& p) {
    if (p.refund || p.status != "CREATED" || p.createdEpoch <= 0) return;
    if (duration_cast<seconds>(system_clock::now().time_since_epoch()).count() - p.createdEpoch < state_.expirySeconds) return;
    p.status = "ERROR";
    p.errorCode = "TM01";
    p.errorMessage = "Swish timed out before the payment was started";
    state_.save();
}

// Swish's callbackUrl: https, and port 443 (the only port Swish calls).
bool SwishSim::callbackOk(const std::string& url) {
    try {
        const Poco::URI u(url);
        return u.getScheme() == "https" && !u.getHost().empty() && u.getPort() == 443;
    } catch (const Poco::Exception&) {
        return false;
    }
}

// Swish's message: at most 50 characters of a-ö, A-Ö, 0-9, space and :;.,?!()-" ('/' is not one).
bool SwishSim::messageOk(const std::string& m) {
    int chars = 0;
    for (std::size_t i = 0; i < m.size(); ++chars) {
        const auto b = static_cast<unsigned char>(m[i]);
        if (b < 0x80) {
            if (!std::isalnum(b) && !std::strchr(" :;.,?!()-\"", static_cast<char>(b))) return false;
            ++i;
            continue;
        }
        if (b < 0xC2 || b > 0xC3 || i + 1 >= m.size()) return false;  // only Latin-1 letters beyond ASCII
        const unsigned cp = ((b & 0x1Fu) << 6) | (static_cast<unsigned char>(m[i + 1]) & 0x3Fu);
        if (cp < 0xC0 || cp == 0xD7 || cp == 0xF7) return false;
        i += 2;
    }
    return chars <= 50;
}

// A payer scans the QR code (its text is "D" and the token) or opens the app switch link
// (the token): the m-commerce request can now be paid. Empty when done, else why not.
std::string SwishSim::scan(const std::string& code) {
    const std::string token = code.size() == 33 && code[0] == 'D' ? code.substr(1) : code;
    std::string id, autoStatus;
    int delay = 0;
    {
        std::lock_guard lock(state_.mu);
        for (auto& [pid, p] : state_.payments)
            if (!p.refund && !p.token.empty() && p.token == token) {
                expireIfDue(p);
                if (p.status != "CREATED") return "the request is " + p.status;
                p.scanned = true;
                id = pid;
            }
        if (id.empty()) return "no payment request has this token";
        state_.save();
        state_.record("swish", "scan " + id, code, "scanned");
        autoStatus = state_.autoSettle;
        delay = state_.autoDelayMs;
    }
    if (!autoStatus.empty()) settleLater(id, autoStatus, delay);
    return "";
}

// Settles a payment request as the payer would, then calls the box back. Empty when
// done, else why not (an m-commerce request nobody has scanned cannot be paid).
std::string SwishSim::settle(const std::string& id, const std::string& status) {
    {
        std::lock_guard lock(state_.mu);
        auto it = state_.payments.find(id);
        if (it != state_.payments.end()) expireIfDue(it->second);
        if (it == state_.payments.end() || it->second.status != "CREATED") return "no such request in state CREATED";
        if (status == "PAID" && !it->second.token.empty() && !it->second.scanned)
            return "an m-commerce request is paid only after its token was scanned (POST /sim/api/swish/scan)";
        it->second.status = status;
        if (status == "PAID") {
            it->second.datePaid = isoNow();
            it->second.paymentReference = randomHex(16, true);
        } else if (status == "DECLINED") {
            it->second.errorCode = "RF07";
            it->second.errorMessage = "Transaction declined";
        } else {
            it->second.errorCode = "TM01";
            it->second.errorMessage = "Swish timed out before the payment was started";
        }
        state_.save();
    }
    callbackLater(id, 0);
    return "";
}

void SwishSim::settleLater(const std::string& id, const std::string& status, int delayMs) {
    std::thread([this, id, status, delayMs] {
        pause(delayMs);
        if (!g_stop) (void)settle(id, status);
    }).detach();
}

void SwishSim::callbackLater(const std::string& id, int delayMs) {
    std::thread([this, id, delayMs] {
        pause(delayMs);
        if (g_stop) return;
        std::string url, body;
        int port = 0;
        {
            std::lock_guard lock(state_.mu);
            auto it = state_.payments.find(id);
            if (it == state_.payments.end()) return;
            url = it->second.callbackUrl;
            body = paymentJson(it->second);
            port = state_.callbackPort;
        }
        std::string outcome;
        try {
            const Poco::URI uri(url);
            Poco::Net::Context::Ptr ctx = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", boxCa,
                                                                 boxCa.empty() ? Poco::Net::Context::VERIFY_NONE
                                                                                : Poco::Net::Context::VERIFY_RELAXED);
            Poco::Net::HTTPSClientSession s(uri.getHost(), port > 0 && uri.getPort() == 443 ? static_cast<Poco::UInt16>(port) : uri.getPort(), ctx);
            s.setTimeout(Poco::Timespan(5, 0));
            Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_POST, uri.getPathAndQuery(), Poco::Net::HTTPMessage::HTTP_1_1);
            req.setContentType("application/json");
            req.setContentLength(static_cast<std::streamsize>(body.size()));
            s.sendRequest(req) << body;
            Poco::Net::HTTPResponse r;
            std::istream& in = s.receiveResponse(r);
            std::string ignored;
            Poco::StreamCopier::copyToString(in, ignored);
            outcome = std::to_string(r.getStatus());
        } catch (const std::exception& e) {
            outcome = std::string("callback failed: ") + e.what();
        }
        std::lock_guard lock(state_.mu);
        state_.record("swish", "callback " + id, body, outcome);
    }).detach();
}

void SwishSim::reply(Poco::Net::HTTPServerResponse& res, const std::string& op, const std::string& request, int status,
                     const std::string& type, const std::string& body) {
    {
        std::lock_guard lock(state_.mu);
        state_.record("swish", op, request, std::to_string(status) + " " + body);
    }
    send(res, status, type, body);
}

bool SwishSim::steer(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res, const std::string& body) {
    const std::string path = Poco::URI(req.getURI()).getPath();
    const bool post = req.getMethod() == "POST";
    auto& st = state_;
    auto input = [&] { return Poco::JSON::Parser().parse(body).extract<Object::Ptr>(); };
    auto answer = [&](const std::string& why) {
        Object err;
        err.set("error", why);
        send(res, why.empty() ? 204 : 409, "application/json", why.empty() ? "" : json(err));
        return true;
    };
    static const std::regex settleRe(R"(^/sim/api/swish/paymentrequests/([0-9A-F]{32})/settle$)");
    std::smatch m;
    if (std::regex_match(path, m, settleRe) && post) return answer(settle(m[1], input()->optValue<std::string>("status", "PAID")));
    if (path == "/sim/api/swish/scan" && post) return answer(scan(input()->optValue<std::string>("code", "")));
    if (path == "/sim/api/swish/expiry" && post) {
        const auto o = input();
        std::lock_guard lock(st.mu);
        st.expirySeconds = o->getValue<int>("seconds");
        return answer("");
    }
    if (path == "/sim/api/swish/callback-port" && post) {
        const auto o = input();
        std::lock_guard lock(st.mu);
        st.callbackPort = o->getValue<int>("port");
        return answer("");
    }
    if (path == "/sim/api/swish/auto" && post) {
        const auto o = input();
        std::lock_guard lock(st.mu);
        st.autoSettle = o->optValue<std::string>("status", "PAID");
        st.autoDelayMs = o->optValue<int>("delay_ms", 1000);
        return answer("");
    }
    if (path == "/sim/api/swish/paymentrequests" && req.getMethod() == "GET") {
        Array a;
        std::lock_guard lock(st.mu);
        for (const auto& [id, pay] : st.payments) {
            auto o = Poco::JSON::Parser().parse(paymentJson(pay)).extract<Object::Ptr>();
            o->set("refund", pay.refund);  // steering only: Swish's own answer has neither
            if (!pay.token.empty()) {
                o->set("scanned", pay.scanned);
                o->set("token", pay.token);  // what the QR code shows, for a test playing a payer
            }
            a.add(o);
        }
        Object o;
        o.set("items", a);
        send(res, 200, "application/json", json(o));
        return true;
    }
    if (path == "/sim/swish/scan" && post) {
        // The page's "scan" button (a form): the payer's Swish app reads the QR code.
        const auto at = body.find("code=");
        std::string code;
        if (at != std::string::npos) Poco::URI::decode(body.substr(at + 5, body.find('&', at) - at - 5), code, true);
        (void)scan(code);
        res.set("Location", "/");
        send(res, 303, "text/plain", "");
        return true;
    }
    return false;
}

std::string SwishSim::pageHtml() {
    // m-commerce requests waiting for a payer: "scanning" one is what the Swish app does
    // with the QR code the kiosk shows.
    std::string rows;
    std::lock_guard lock(state_.mu);
    for (const auto& [id, p] : state_.payments) {
        if (p.refund || p.status != "CREATED") continue;
        rows += "<tr><td>" + xmlEscape(p.payeeRef) + "</td><td>" + xmlEscape(p.amount) + " kr</td><td>" +
                (p.token.empty() ? std::string("e-handel (betalarens nummer)")
                                 : p.scanned ? std::string("skannad")
                                             : "<form method=\"post\" action=\"/sim/swish/scan\"><input type=\"hidden\" name=\"code\" value=\"D" +
                                                   p.token + "\"><button>Skanna QR-koden</button></form>") +
                "</td></tr>";
    }
    return "<h2>Swish: väntande betalningar</h2><table border=1><tr><th>Referens</th><th>Belopp</th><th>Betalaren</th></tr>" + rows +
           "</table>";
}

}  // namespace sim
