// The national log service (informationsecurity:auditing:log 2.0, StoreLog): every shared
// journal access becomes one log record, queued with the local audit record and delivered
// through the outbox in batches of at most 500, so an outage of the log service neither
// blocks care nor loses a record.
#pragma once
#include "Service.h"

#include <vector>

namespace klinikbox::journal {

inline constexpr std::size_t kMaxLogsPerCall = 500;

struct LogRecord {
    std::string logId;        // unique (UUID)
    std::string systemId;     // the box's system HSA-id
    std::string activity;     // "Läsa" / "Registrera"
    std::string startDate;    // xs:dateTime
    std::string purpose;      // "Vård och behandling"
    std::string userId, careProviderId, careUnitId;
    std::string patient;      // 12 digits
    std::string resourceType; // "Journalanteckning", "Diagnos", "Uppmärksamhetsinformation", "Samtycke"
    std::string activityArgs; // e.g. "nödåtkomst" or "samtycke"
};

[[nodiscard]] std::string storeLogBody(const std::vector<LogRecord>& logs);
// Throws ServiceError unless resultCode is OK or INFO.
void parseStoreLog(const Poco::XML::Element* body);

// JSON text of a record for the queue, and back.
[[nodiscard]] std::string toJson(const LogRecord& r);
[[nodiscard]] LogRecord logRecordFromJson(const std::string& json);

class LogClient {
public:
    LogClient(rivta::Endpoint endpoint, std::string logicalAddress)
        : endpoint_(std::move(endpoint)), address_(std::move(logicalAddress)) {}
    void store(const std::vector<LogRecord>& logs) const;  // throws ServiceError
    [[nodiscard]] bool configured() const { return !endpoint_.url.empty(); }

private:
    rivta::Endpoint endpoint_;
    std::string address_;
};

}  // namespace klinikbox::journal
