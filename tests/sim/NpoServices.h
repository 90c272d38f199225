// The simulator's shared-journal services (tests/sim/README.md): an NPÖ aggregator with three
// source systems (GetCareDocumentation 3.0, GetDiagnosis 2.0, GetAlertInformation 2.0, with
// ProcessingStatus and hasMore pages answered at the producer's own address), a consent
// service (CheckConsent, RegisterExtendedConsent), a block service (CheckBlocks) and a log
// service (StoreLog). Every request body is validated against its XSD with xmllint; an
// invalid one gets a SOAP fault. Faults are armed through the sim's /sim/api/faults with the
// services "npo", "consent", "blocks" and "log".
#pragma once

#include <Poco/JSON/Object.h>

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace kbsim {

struct Answer {
    int status = 200;
    std::string contentType = "text/xml; charset=utf-8";
    std::string body;
};

class NpoServices {
public:
    using Recorder = std::function<void(const std::string& service, const std::string& op, const std::string& request,
                                        const std::string& response)>;
    using FaultTaker = std::function<std::string(const std::string& service, const std::string& op)>;

    NpoServices(std::string schemaRoot, int timeoutMs, Recorder record, FaultTaker takeFault);

    // The HTTPS services: /npo/{contract}, /consent, /blocks, /log. nullopt: not ours.
    std::optional<Answer> https(const std::string& path, const std::string& body);
    // The steering API under /sim/api/journal/...; nullopt: not ours.
    std::optional<Answer> steer(const std::string& method, const std::string& path, const std::string& body);
    void reset();
    // A short HTML summary for the sim's page.
    std::string pageSection();

    // The demo patients (valid personnummer): with shared documentation and consent, with a
    // block (spärr) and consent, and without consent.
    static constexpr const char* kShared = "195003072385";
    static constexpr const char* kBlocked = "196801149888";
    static constexpr const char* kNoConsent = "197512303442";

private:
    struct Assertion {
        std::string id, type, careUnit, employeeId, endDate;  // careUnit "*" = any unit (seeded)
    };
    struct LogEntry {
        std::string logId, userId, careUnitId, patient, purpose, activity, resourceType;
    };
    Answer soapFault(const std::string& text, int status = 500) const;
    std::string validate(const std::string& body, const std::string& xsd) const;
    Answer npo(const std::string& contract, const std::string& envelope, const std::string& body);
    Answer consent(const std::string& body);
    Answer blocks(const std::string& body);
    Answer log(const std::string& body);
    void seed();

    std::string schemas_;
    int timeoutMs_;
    Recorder record_;
    FaultTaker takeFault_;
    std::mutex mu_;
    std::map<std::string, std::vector<Assertion>> consents_;
    std::map<std::string, std::set<std::string>> blockedUnits_;  // patient -> blocked accountable units
    std::vector<LogEntry> logs_;
    std::set<std::string> logIds_;
    std::set<std::string> downSources_;  // source systems that answer NoDataSynchFailed
};

}  // namespace kbsim
