// Shared journal access for one box: the staff side (assignment, relation, consent,
// emergency access, reading records) with the PDL checks in the order of AccessDecision, the
// local access log (journal_accesses and the core's audit log) and the national log queue.
// Fetched records live only in the answer of the request that asked for them.
#pragma once
#include "AccessDecision.h"
#include "Assignments.h"
#include "Blocks.h"
#include "Consent.h"
#include "NationalLog.h"
#include "Npo.h"
#include "Relations.h"

#include <klinikbox/Outbox.h>
#include <klinikbox/PluginContext.h>

#include <Poco/JSON/Object.h>

#include <memory>
#include <mutex>

namespace klinikbox::journal {

struct JournalSettings {
    std::string systemHsaId, careProviderId;
    std::vector<CareUnit> units;
    RelationWindow window;
    int emergencyHours = 4;
    int reviewSample = 10;
    std::string npoUrl, npoAddress, consentUrl, blocksUrl, logUrl, nationalAddress;
    rivta::Endpoint tls;  // certificate, key, CA and timeout; url unused
};
[[nodiscard]] JournalSettings settingsFrom(const Poco::JSON::Object::Ptr& config);

inline constexpr const char* kLogChannel = "journal.storelog";

// The personnummer in a path parameter, or a 400 problem.
[[nodiscard]] std::string patientParam(const Request& req, const std::string& name, std::chrono::year_month_day today);

class Journal {
public:
    Journal(PluginContext& ctx, JournalSettings s);

    // Care relations from booking and arrival events, queued ones in one write (BatchHandler):
    // an event with a payload that is not a visit is logged and skipped, the others kept.
    void onVisitEvents(const std::vector<const Event*>& events);
    // The outbox deliverer of kLogChannel: sends up to 500 pending log records per call.
    [[nodiscard]] DeliveryResult deliverLogs(const QueuedMessage& m);

    [[nodiscard]] Poco::JSON::Object::Ptr assignment(Request& req);
    [[nodiscard]] Poco::JSON::Object::Ptr chooseAssignment(Request& req, const std::string& careUnit);
    [[nodiscard]] Poco::JSON::Object::Ptr status(Request& req, const std::string& patient);
    [[nodiscard]] Poco::JSON::Object::Ptr assertRelation(Request& req, const std::string& patient, const std::string& reason);
    [[nodiscard]] Poco::JSON::Object::Ptr registerConsent(Request& req, const std::string& patient, const std::string& endDate);
    [[nodiscard]] Poco::JSON::Object::Ptr registerEmergency(Request& req, const std::string& patient, const std::string& reason);
    [[nodiscard]] Poco::JSON::Object::Ptr records(Request& req, const std::string& patient, Kind kind, const Query& q);

    [[nodiscard]] const JournalSettings& settings() const { return s_; }
    [[nodiscard]] long long now() const;

private:
    struct Reader {
        Actor actor;
        Assignment assignment;
        long long userId = 0;
        std::string username;
    };
    // The caller in their assignment; 409 problems when no assignment or no HSA-id.
    [[nodiscard]] Reader reader(const Request& req);
    [[nodiscard]] bool emergencyActive(const std::string& patient, const Reader& r);
    // One access row, the audit record and (for accesses to information) the national log
    // record, in one transaction.
    struct AccessRow {
        std::string what, relation, basis, outcome, refusal;
        int shown = 0, blocked = 0;
        bool flagged = false;
        std::string resourceType;  // non-empty: also a national log record
    };
    void logAccess(const Request& req, const Reader& r, const std::string& patient, const AccessRow& a);
    [[noreturn]] void refuse(const Request& req, const Reader& r, const std::string& patient, const std::string& what,
                             Relation rel, Refusal why, const std::string& detail);

    PluginContext& ctx_;
    JournalSettings s_;
    std::unique_ptr<ConsentClient> consent_;
    std::unique_ptr<BlockClient> blocks_;
    std::unique_ptr<NpoClient> npo_;
    std::unique_ptr<LogClient> log_;
    std::mutex deliverMu_;
};

}  // namespace klinikbox::journal
