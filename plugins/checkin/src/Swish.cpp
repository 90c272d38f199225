#include "Swish.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <openssl/rand.h>

#include <cstdio>
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

namespace {

SwishAnswer exchange(const SwishSettings& s, const std::string& method, const std::string& path, const std::string& body,
                     const std::string& contentType) {
    const Poco::URI uri(s.baseUrl + path);
    if (uri.getScheme() != "https") throw std::runtime_error("the Swish URL must be https");
    Poco::Net::Context::Params params;
    params.certificateFile = s.clientCert;
    params.privateKeyFile = s.clientKey;
    params.caLocation = s.caBundle;
    params.loadDefaultCAs = s.caBundle.empty();
    params.verificationMode = Poco::Net::Context::VERIFY_RELAXED;
    Poco::Net::Context::Ptr ctx = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
    Poco::Net::HTTPSClientSession session(uri.getHost(), uri.getPort(), ctx);
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
                          const std::string& reference) {
    Poco::JSON::Object o;
    o.set("payeePaymentReference", reference);
    o.set("callbackUrl", s.callbackUrl);
    o.set("payeeAlias", s.payeeAlias);
    o.set("amount", swishAmount(ore));
    o.set("currency", "SEK");
    o.set("message", message.substr(0, 50));
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
    o.set("message", message.substr(0, 50));
    return exchange(s, "PUT", "/api/v2/refunds/" + id, json(o), "application/json");
}

}  // namespace checkin
