// Starts klinikbox-sim for a test in its own state directory, and talks to it: the steering
// API over plain HTTP, the services over HTTPS with the box's client certificate.
#pragma once

#include <Poco/JSON/Object.h>

#include <map>
#include <string>

namespace kbtest {

// The moment the tests' fixed eFrikort fees (dated 2026-11-23) and the check-in clinic's box
// live at. A simulator started on it (setClockStart) keeps those fees inside the card's
// 12-month window whatever year the tests run in.
inline constexpr const char* kFixtureClock = "2026-11-25T07:50:00Z";

struct SimResult {
    int status = 0;
    std::string body;
    std::map<std::string, std::string> headers;  // of the answer
    [[nodiscard]] Poco::JSON::Object::Ptr json() const;
};

// Validates an XML document against an XSD with xmllint (Debian's libxml2-utils); returns
// xmllint's complaint, or "" when valid. A missing xmllint is a complaint, not a pass.
// When the eFrikort schemas are not on this machine at all (see efrikortSchemasFound), the
// check is skipped with a warning on stderr instead.
std::string validateXml(const std::string& xml, const std::string& xsd);
// The directory holding the eFrikort 3.0 schemas (schemas/efrikort-3.0 under the project's
// shared folder): $KB_SHARED_DIR, else ../shared beside the source tree, else /work/shared.
// Empty when none has them. The schemas are not copied into the repository (licence and
// provenance stay with the shared folder).
std::string efrikortSchemaRoot();
[[nodiscard]] inline bool efrikortSchemasFound() { return !efrikortSchemaRoot().empty(); }
// The eFrikort 3.0 responder schema of a contract.
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

    // The simulator's dates start at this UTC instant (--clock-start), as box.clock_start does
    // for the box: set it before start() when the box lives on a fixed day.
    void setClockStart(std::string iso) { clockStart_ = std::move(iso); }
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
    std::string dir_, http_, https_, ca_, clientCert_, clientKey_, clockStart_;
    bool ownDir_ = false;
    int timeoutMs_;
    int pid_ = -1;
};

}  // namespace kbtest
