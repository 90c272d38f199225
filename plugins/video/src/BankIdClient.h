// An IdentityProvider speaking the BankID relying-party API v6.0 (auth, collect, cancel)
// over HTTPS with mutual TLS: the box presents its client certificate and trusts only the
// configured CA for the server.
#pragma once

#include "IdentityProvider.h"

#include <Poco/JSON/Object.h>
#include <Poco/Net/Context.h>

#include <chrono>

namespace klinikbox::video {

struct BankIdSettings {
    std::string baseUrl;  // e.g. https://127.0.0.1:8444 ; the client appends /bankid/rp/v6.0/...
    std::string clientCert, clientKey, ca;  // PEM files
    std::chrono::seconds timeout{10};
};

class BankIdClient final : public IdentityProvider {
public:
    explicit BankIdClient(BankIdSettings s);
    [[nodiscard]] bool configured() const override { return context_ != nullptr; }
    [[nodiscard]] IdentOrder start(const std::string& endUserIp) override;
    [[nodiscard]] IdentStatus collect(const std::string& orderRef) override;
    void cancel(const std::string& orderRef) override;

private:
    Poco::JSON::Object::Ptr post(const std::string& operation, const Poco::JSON::Object& body);
    BankIdSettings s_;
    std::string host_, pathPrefix_;
    unsigned short port_ = 443;
    Poco::Net::Context::Ptr context_;
};

}  // namespace klinikbox::video
