// What every national-service client of the journal plugin shares: the accessing actor
// (the reader in their assignment), one RIV-TA call that turns every kind of failure into
// a ServiceError (so the caller can fail closed and say why), and time formats.
#pragma once
#include <klinikbox/RivTa.h>

#include <chrono>
#include <stdexcept>
#include <string>

namespace klinikbox::journal {

inline constexpr const char* kPersonIdRoot = "1.2.752.129.2.1.3.1";  // personnummer OID
inline constexpr const char* kHsaRoot = "1.2.752.129.2.1.4.1";       // HSA-id OID
inline constexpr const char* kNationalAggregator = "5565594230";     // Inera: national view

// The reader in their assignment (medarbetaruppdrag, the staff member's care assignment).
struct Actor {
    std::string employeeId;      // the user's HSA-id
    std::string careProviderId;  // vårdgivare HSA-id
    std::string careUnitId;      // vårdenhet HSA-id of the assignment
};

// A national service could not be asked or answered with an error.
class ServiceError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// POSTs a RIV-TA envelope to `url` and returns the parsed envelope. Throws ServiceError for
// transport errors, timeouts, non-200 answers, SOAP faults and unparseable XML.
[[nodiscard]] rivta::Envelope callService(const rivta::Endpoint& endpoint, const std::string& soapAction,
                                          const std::string& logicalAddress, const std::string& body,
                                          const std::string& service);

// A random (version 4) UUID in lower-case hex: log ids and assertion ids.
[[nodiscard]] std::string newUuid();

// 2026-12-05T10:00:00 (local wall time, as the contracts' xs:dateTime without zone).
[[nodiscard]] std::string xsDateTime(std::chrono::system_clock::time_point t);
// 20261205100000 -> 2026-12-05T10:00:00; "" when the input is not 14 digits.
[[nodiscard]] std::string timestampToXs(const std::string& ts14);

}  // namespace klinikbox::journal
