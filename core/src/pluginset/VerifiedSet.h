// What the plugin-set check hands to the loader: every plugin's files as verified bytes,
// plus what the console and /readyz show about the set.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace klinikbox::pluginset {

struct VerifiedPlugin {
    std::string id;
    std::string version;
    std::map<std::string, std::string> files;  // path relative to the plugin dir -> verified bytes
};

struct SignerInfo {
    std::string subject, issuer, sha256, notAfter, region;
};

// One step of the verification, for `klinikbox pluginset verify` and the console.
struct Check {
    std::string name;
    bool passed = false;
    std::string detail;
};

struct VerifiedSet {
    std::string name;
    long long sequence = 0;
    std::string regionName, regionHsaId;
    std::string issued, expires;
    bool isSigned = false;
    std::string status;  // "valid" | "expiring-soon" | "expired-in-grace" | "unsigned-development"
    std::vector<SignerInfo> signers;
    std::vector<VerifiedPlugin> plugins;
    std::vector<std::string> warnings;
    std::string manifestSha256;
    std::vector<Check> checks;
};

// Why a set was refused. Every reason has its own test.
enum class Reason {
    Unreadable,          // the set, archive or a file cannot be read
    UnsafePath,          // '..', absolute path, backslash, NUL, symlink, special file
    ArchiveTooLarge,     // too many entries or too many bytes
    ManifestMissing,
    SignatureMissing,
    SignatureMalformed,  // truncated or garbage signature file
    SignatureMismatch,   // the signature is not over these manifest bytes
    UntrustedSigner,     // no trusted region root issued the signer
    CertificateExpired,  // signer (or chain) outside its validity
    CertificateRevoked,
    CrlUnavailable,      // the region requires a CRL and none usable is installed
    KeyUsage,            // the signer may not sign (keyUsage digitalSignature missing)
    ThresholdNotMet,
    ManifestInvalid,     // not valid YAML, unknown keys, wrong types
    RegionMismatch,      // the manifest names another region than its signers'
    NotYetValid,
    Expired,
    BoxTooOld,           // min_box_version is newer than this box
    Rollback,            // lower sequence than accepted before, or same sequence other bytes
    FileMissing,
    FileExtra,
    FileTampered,        // size or SHA-256 differs from the manifest
    DuplicatePlugin,
};

const char* toString(Reason r);

class VerifyError : public std::runtime_error {
public:
    VerifyError(Reason reason, const std::string& detail, std::vector<Check> checks = {})
        : std::runtime_error(detail), reason_(reason), checks_(std::move(checks)) {}
    [[nodiscard]] Reason reason() const { return reason_; }
    [[nodiscard]] const std::vector<Check>& checks() const { return checks_; }
    void setChecks(std::vector<Check> c) { checks_ = std::move(c); }

private:
    Reason reason_;
    std::vector<Check> checks_;
};

}  // namespace klinikbox::pluginset
