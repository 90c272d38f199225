#include "BankIdClient.h"

#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <sstream>

namespace klinikbox::video {

BankIdClient::BankIdClient(BankIdSettings s) : s_(std::move(s)) {
    if (s_.baseUrl.empty() || s_.clientCert.empty() || s_.clientKey.empty() || s_.ca.empty()) return;
    Poco::URI uri(s_.baseUrl);
    if (uri.getScheme() != "https") throw std::invalid_argument("idp.base_url must be an https URL");
    host_ = uri.getHost();
    port_ = uri.getPort();
    pathPrefix_ = uri.getPath();
    while (!pathPrefix_.empty() && pathPrefix_.back() == '/') pathPrefix_.pop_back();
    Poco::Net::initializeSSL();
    // VERIFY_STRICT: the server must present a certificate chaining to `ca`; no default CAs.
    context_ = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, s_.clientKey, s_.clientCert, s_.ca,
                                      Poco::Net::Context::VERIFY_STRICT, 4, false);
    context_->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
}

Poco::JSON::Object::Ptr BankIdClient::post(const std::string& operation, const Poco::JSON::Object& body) {
    if (!configured()) throw IdentityError("identity provider not configured");
    std::ostringstream payload;
    body.stringify(payload);
    try {
        Poco::Net::HTTPSClientSession session(host_, port_, context_);
        session.setTimeout(Poco::Timespan(static_cast<long>(s_.timeout.count()), 0));
        Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_POST, pathPrefix_ + "/bankid/rp/v6.0/" + operation,
                                   Poco::Net::HTTPMessage::HTTP_1_1);
        req.setContentType("application/json");
        req.setContentLength(static_cast<std::streamsize>(payload.str().size()));
        session.sendRequest(req) << payload.str();
        Poco::Net::HTTPResponse resp;
        std::istream& in = session.receiveResponse(resp);
        std::string text;
        Poco::StreamCopier::copyToString(in, text, 64 * 1024);
        if (resp.getStatus() != Poco::Net::HTTPResponse::HTTP_OK)
            throw IdentityError("identity provider answered " + std::to_string(resp.getStatus()) + " to " + operation);
        Poco::JSON::Parser parser;
        auto obj = parser.parse(text).extract<Poco::JSON::Object::Ptr>();
        if (!obj) throw IdentityError("identity provider sent no JSON object for " + operation);
        return obj;
    } catch (const IdentityError&) {
        throw;
    } catch (const Poco::Exception& e) {
        throw IdentityError("identity provider " + operation + " failed: " + e.displayText());
    } catch (const std::exception& e) {
        throw IdentityError("identity provider " + operation + " failed: " + e.what());
    }
}

IdentOrder BankIdClient::start(const std::string& endUserIp) {
    Poco::JSON::Object body;
    body.set("endUserIp", endUserIp);
    auto r = post("auth", body);
    IdentOrder o;
    o.orderRef = r->optValue<std::string>("orderRef", "");
    o.autoStartToken = r->optValue<std::string>("autoStartToken", "");
    if (o.orderRef.empty() || o.orderRef.size() > 100) throw IdentityError("identity provider sent no usable orderRef");
    return o;
}

IdentStatus BankIdClient::collect(const std::string& orderRef) {
    Poco::JSON::Object body;
    body.set("orderRef", orderRef);
    auto r = post("collect", body);
    IdentStatus s;
    const auto status = r->optValue<std::string>("status", "");
    s.hintCode = r->optValue<std::string>("hintCode", "");
    if (status == "pending") {
        s.state = IdentStatus::State::Pending;
    } else if (status == "failed") {
        s.state = IdentStatus::State::Failed;
    } else if (status == "complete") {
        auto cd = r->getObject("completionData");
        auto user = cd ? cd->getObject("user") : nullptr;
        if (!user) throw IdentityError("identity provider completed without completionData.user");
        s.state = IdentStatus::State::Complete;
        s.personalNumber = user->optValue<std::string>("personalNumber", "");
        s.name = user->optValue<std::string>("name", "");
        if (s.personalNumber.empty()) throw IdentityError("identity provider completed without a personalNumber");
    } else {
        throw IdentityError("identity provider sent an unknown collect status");
    }
    return s;
}

void BankIdClient::cancel(const std::string& orderRef) {
    Poco::JSON::Object body;
    body.set("orderRef", orderRef);
    (void)post("cancel", body);
}

}  // namespace klinikbox::video
