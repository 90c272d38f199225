// The receiver directory: who can receive referrals, at which endpoint, on which contract
// version. Imported from an HSA catalogue export (CSV or JSON) and edited in the console.
#pragma once

#include <klinikbox/Db.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace klinikbox::referral {

struct Receiver {
    std::string hsaId, name, receives, endpointUrl, contractVersion = "2.2";
};

class DirectoryError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The contract major version this plugin speaks.
inline constexpr int kContractMajor = 2;

// Throws DirectoryError naming the field for an invalid HSA-id, an empty name, a URL that is
// not https, or a version that is not "<major>.<minor>".
void validate(const Receiver& r);
// The receiver's major version, for the refusal of a receiver we cannot serve.
[[nodiscard]] int majorVersion(const std::string& contractVersion);

void upsertReceiver(db::Connection& c, const Receiver& r);
bool removeReceiver(db::Connection& c, const std::string& hsaId);
[[nodiscard]] std::optional<Receiver> receiver(db::Connection& c, const std::string& hsaId);
[[nodiscard]] std::vector<Receiver> receivers(db::Connection& c);

// Parses an export. CSV: a header line naming hsaIdentity (or hsa_id), displayName (or name),
// receives, endpointUrl (or endpoint_url), contractVersion (or contract_version); separator
// ',' or ';'. JSON: an array of objects (or {"units": [...]}) with the same keys.
// Throws DirectoryError with the line/entry of the first invalid row; nothing is stored then.
[[nodiscard]] std::vector<Receiver> parseCsv(const std::string& text);
[[nodiscard]] std::vector<Receiver> parseJson(const std::string& text);

}  // namespace klinikbox::referral
