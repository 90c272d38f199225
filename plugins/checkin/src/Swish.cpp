#include "Swish.h"

#include <klinikbox/TlsClient.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <openssl/rand.h>

#include <cctype>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <stdexcept>

namespace checkin {

std::string newInstructionId() {
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1) throw std::runtime_error("no randomness available");
    static const char* hex = "0123456789ABCDEF";
    std::string o;
    for (auto c : b) {
        o += hex[c >> 4];
        o += hex[c & 15];
    }
    return o;
}

std::string swishAmount(long long ore) {
    char b[32];
    std::snprintf(b, sizeof b, "%lld.%02lld", ore / 100, ore % 100);
    return b;
}

std::string swishMessage(std::string_view text) {
    std::string out;
    int chars = 0;
    for (std::size_t i = 0; i < text.size() && chars < 50;) {
        const auto b = static_cast<unsigned char>(text[i]);
        if (b < 0x80) {
            const char c = static_cast<char>(b);
            if (std::isalnum(b) || std::strchr(" :;.,?!()-\"", c)) {
                out += c;
                ++chars;
            } else if (c == '/') {
                out += '-';
                ++chars;
            }
            ++i;
            continue;
        }
        // Two-byte UTF-8: the Latin-1 letters À..Ö, Ø..ö, ø..ÿ (å, ä, ö, é, ü ...).
        const std::size_t len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
        if (len == 2 && i + 1 < text.size()) {
            const unsigned cp = ((b & 0x1Fu) << 6) | (static_cast<unsigned char>(text[i + 1]) & 0x3Fu);
            if (cp >= 0xC0 && cp <= 0xFF && cp != 0xD7 && cp != 0xF7) {
                out.append(text.substr(i, 2));
                ++chars;
            }
        }
        i += len;
    }
    return out;
}

std::optional<std::string> payerAliasFromMobile(std::string_view typed) {
    std::string d;
    for (std::size_t i = 0; i < typed.size(); ++i) {
        const char c = typed[i];
        if (std::isdigit(static_cast<unsigned char>(c))) d += c;
        else if (c == '+' && d.empty() && i == typed.find_first_not_of(' ')) d += "00";
        else if (c != ' ' && c != '-') return std::nullopt;
    }
    if (d.rfind("0046", 0) == 0) d = d.substr(2);
    else if (d.rfind("46", 0) == 0 && d.size() == 11) {
    } else if (d.rfind("07", 0) == 0) d = "46" + d.substr(1);
    else return std::nullopt;
    // A Swedish mobile number: 46 7X XXX XX XX.
    if (d.size() != 11 || d.rfind("467", 0) != 0) return std::nullopt;
    return d;
}

std::string appSwitchUrl(const std::string& requestToken, const std::string& returnUrl) {
    std::string encoded;
    Poco::URI::encode(returnUrl, "!#$&'()*+,/:;=?@[]", encoded);
    return "swish://paymentrequest?token=" + requestToken + "&callbackurl=" + encoded;
}

std::string qrPayload(const std::string& requestToken) { return "D" + requestToken; }

std::string callbackUrlProblem(const std::string& url) {
    Poco::URI u;
    try {
        u = Poco::URI(url);
    } catch (const Poco::Exception&) {
        return "is not a URL";
    }
    if (u.getScheme() != "https") return "must use https (Swish calls back only over TLS)";
    if (u.getHost().empty()) return "has no host";
    if (u.getPort() != 443) return "must be on port 443 (Swish calls back only there); forward 443 to the box if it listens elsewhere";
    if (!u.getUserInfo().empty() || !u.getFragment().empty()) return "must not carry user info or a fragment";
    return "";
}

long long checkDelaySeconds(int checks) {
    if (checks < 0) checks = 0;
    if (checks >= 5) return 60;
    return 2LL << checks;
}

namespace {

SwishAnswer exchange(const SwishSettings& s, const std::string& method, const std::string& path, const std::string& body,
                     const std::string& contentType) {
    const Poco::URI uri(s.baseUrl + path);
    if (uri.getScheme() != "https") throw std::runtime_error("the Swish URL must be https");
    Poco::Net::HTTPSClientSession session(uri.getHost(), uri.getPort(), klinikbox::tls::clientContext(s.clientCert, s.clientKey, s.caBundle));
    const Poco::Timespan t(static_cast<long>(s.timeoutMs) * 1000);
    session.setTimeout(t, t, t);
    Poco::Net::HTTPRequest req(method, uri.getPathAndQuery(), Poco::Net::HTTPMessage::HTTP_1_1);
    if (!body.empty()) {
        req.setContentType(contentType);
        req.setContentLength(static_cast<std::streamsize>(body.size()));
        session.sendRequest(req) << body;
    } else {
        session.sendRequest(req);
    }
    Poco::Net::HTTPResponse res;
    std::istream& in = session.receiveResponse(res);
    std::string text;
    Poco::StreamCopier::copyToString(in, text);
    SwishAnswer a;
    a.status = res.getStatus();
    a.location = res.get("Location", "");
    a.requestToken = res.get("PaymentRequestToken", "");
    if (text.empty()) return a;
    try {
        Poco::JSON::Parser p;
        const auto v = p.parse(text);
        if (v.type() == typeid(Poco::JSON::Object::Ptr)) a.body = v.extract<Poco::JSON::Object::Ptr>();
        if (v.type() == typeid(Poco::JSON::Array::Ptr)) {
            const auto arr = v.extract<Poco::JSON::Array::Ptr>();
            for (std::size_t i = 0; i < arr->size(); ++i) {
                const auto e = arr->getObject(static_cast<unsigned>(i));
                if (!e) continue;
                a.errors += (a.errors.empty() ? "" : "; ") + e->optValue<std::string>("errorCode", "?") + " " +
                            e->optValue<std::string>("errorMessage", "");
            }
        }
    } catch (const Poco::Exception&) {
        a.errors = "unreadable answer";
    }
    return a;
}

std::string json(const Poco::JSON::Object& o) {
    std::ostringstream s;
    o.stringify(s);
    return s.str();
}

}  // namespace

SwishAnswer createPayment(const SwishSettings& s, const std::string& id, long long ore, const std::string& message,
                          const std::string& reference, const std::string& payerAlias) {
    Poco::JSON::Object o;
    o.set("payeePaymentReference", reference);
    if (!payerAlias.empty()) o.set("payerAlias", payerAlias);
    o.set("callbackUrl", s.callbackUrl);
    o.set("payeeAlias", s.payeeAlias);
    o.set("amount", swishAmount(ore));
    o.set("currency", "SEK");
    o.set("message", swishMessage(message));
    return exchange(s, "PUT", "/api/v2/paymentrequests/" + id, json(o), "application/json");
}

SwishAnswer getPayment(const SwishSettings& s, const std::string& id) {
    return exchange(s, "GET", "/api/v1/paymentrequests/" + id, "", "");
}

SwishAnswer cancelPayment(const SwishSettings& s, const std::string& id) {
    return exchange(s, "PATCH", "/api/v1/paymentrequests/" + id, R"([{"op":"replace","path":"/status","value":"cancelled"}])",
                    "application/json-patch+json");
}

SwishAnswer createRefund(const SwishSettings& s, const std::string& id, const std::string& originalPaymentReference, long long ore,
                         const std::string& message) {
    Poco::JSON::Object o;
    o.set("originalPaymentReference", originalPaymentReference);
    o.set("callbackUrl", s.callbackUrl);
    o.set("payerAlias", s.payeeAlias);
    o.set("amount", swishAmount(ore));
    o.set("currency", "SEK");
    o.set("message", swishMessage(message));
    return exchange(s, "PUT", "/api/v2/refunds/" + id, json(o), "application/json");
}

}  // namespace checkin
