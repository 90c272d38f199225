// What the plugin-set check hands to the loader: every plugin's files as verified bytes,
// plus what the console and /readyz show about the set. A refusal is a VerifyError that
// names its Reason and carries every check made up to and including the failing one.
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
    std::string subject;
    std::string issuer;
    std::string sha256;  // of the certificate's DER, lower-case hex
    std::string notAfter;
    std::string keySha256;  // of the certificate's SubjectPublicKeyInfo, lower-case hex
};

// One step of the verification, for `klinikbox pluginset verify` and the console.
struct Check {
    std::string name;
    bool passed;
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

// Why a set was refused. Every reason has a test that provokes it.
enum class Reason {
    Unreadable,          // the set, the archive or one of its files cannot be read
    UnsafePath,          // '..', absolute path, backslash, NUL, symlink, special file, zip-slip
    ArchiveTooLarge,     // too many entries or bytes (archive or directory)
    ManifestMissing,     // no pluginset.yaml
    SignatureMissing,    // no pluginset.yaml.sig.N
    SignatureMalformed,  // truncated or garbage signature file, not a detached CMS signature
    SignatureMismatch,   // the signature is not over these manifest bytes
    UntrustedSigner,     // the signer does not chain to a trusted region root
    KeyUsage,            // the signer may not sign sets (keyUsage, CA flag, extendedKeyUsage)
    WeakAlgorithm,  // a digest below SHA-256, a key below 112-bit strength (RSA < 2048), SHA-1 CA
    CertificateExpired,      // a certificate of the chain expired before the verification time
    CertificateNotYetValid,  // a certificate of the chain is not valid yet at the verification time
    CertificateRevoked,      // a certificate of the chain is on its region's CRL
    CrlUnavailable,   // the region needs a CRL and none usable is installed (missing, expired)
    ThresholdNotMet,  // fewer distinct signers (keys and subjects) than the region requires
    ManifestInvalid,  // not strict YAML, unknown or missing keys, wrong types
    RegionMismatch,   // the manifest names another region than its signers'
    NotYetValid,      // before the set's issued date
    Expired,          // after the set's expiry and its grace period
    BoxTooOld,        // min_box_version is newer than this box
    Rollback,         // lower sequence than accepted before, or same sequence other bytes
    DuplicatePlugin,  // a plugin id listed twice
    PluginMismatch,   // a plugin's plugin.yaml names another id or version than the manifest
    FileMissing,      // a listed file is not in the set
    FileExtra,        // a file in the set is not listed
    FileTampered,     // size or SHA-256 differs from the manifest
};

// Stable kebab-case name ("file-tampered"), used by the CLI, the console and the logs.
const char* toString(Reason r);

class VerifyError : public std::runtime_error {
  public:
    VerifyError(Reason reason, const std::string& detail, std::vector<Check> checks = {})
        : std::runtime_error(detail), reason_(reason), checks_(std::move(checks)) {}
    [[nodiscard]] Reason reason() const { return reason_; }
    // Every check made so far; the last one is the one that failed.
    [[nodiscard]] const std::vector<Check>& checks() const { return checks_; }
    void setChecks(std::vector<Check> c) { checks_ = std::move(c); }

  private:
    Reason reason_;
    std::vector<Check> checks_;
};

}  // namespace klinikbox::pluginset
