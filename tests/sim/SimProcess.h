// Starts klinikbox-sim for a test in its own state directory, and talks to it: the steering
// API over plain HTTP, the services over HTTPS with the box's client certificate.
#pragma once

#include <Poco/JSON/Object.h>

#include <string>

namespace kbtest {

struct SimResult {
    int status = 0;
    std::string body;
    [[nodiscard]] Poco::JSON::Object::Ptr json() const;
};

// Validates an XML document against an XSD with xmllint (Debian's libxml2-utils); returns
// xmllint's complaint, or "" when valid. A missing xmllint is a complaint, not a pass.
std::string validateXml(const std::string& xml, const std::string& xsd);
// The eFrikort 3.0 responder schema of a contract, from ../shared/schemas.
std::string efrikortXsd(const std::string& contract);
// The SOAP Body's child of an envelope written as <soap:Body>...</soap:Body>.
std::string soapBodyChild(const std::string& envelope);

class SimProcess {
public:
    // `stateDir`: empty for a fresh temporary directory (removed afterwards); give one to
    // keep the state across a restart.
    explicit SimProcess(std::string stateDir = {}, int timeoutMs = 3000);
    ~SimProcess();
    SimProcess(const SimProcess&) = delete;
    SimProcess& operator=(const SimProcess&) = delete;

    void start();
    void stop();

    [[nodiscard]] const std::string& http() const { return http_; }    // http://127.0.0.1:P
    [[nodiscard]] const std::string& https() const { return https_; }  // https://127.0.0.1:P (mTLS)
    [[nodiscard]] const std::string& ca() const { return ca_; }
    [[nodiscard]] const std::string& clientCert() const { return clientCert_; }
    [[nodiscard]] const std::string& clientKey() const { return clientKey_; }
    [[nodiscard]] const std::string& stateDir() const { return dir_; }

    // Plain HTTP to the steering API (and the SMS sink).
    SimResult steer(const std::string& method, const std::string& path, const std::string& body = {}) const;
    // HTTPS with the client certificate (withCert=false tries without one).
    SimResult call(const std::string& method, const std::string& path, const std::string& body,
                   const std::string& contentType, bool withCert = true) const;

    static std::string binary();

private:
    std::string dir_, http_, https_, ca_, clientCert_, clientKey_;
    bool ownDir_ = false;
    int timeoutMs_;
    int pid_ = -1;
};

}  // namespace kbtest
