// What a region's IT department does with a set: hash a directory of plugins into
// pluginset.yaml, add signatures (CMS, detached, DER), pack it into one archive, and look
// inside a set before trusting it.
#pragma once

#include "pluginset/Dates.h"
#include "pluginset/SetManifest.h"
#include "pluginset/Ssl.h"
#include "pluginset/SetSource.h"
#include "pluginset/VerifiedSet.h"

#include <klinikbox/Version.h>

#include <string>
#include <vector>

namespace klinikbox::pluginset {

struct CreateOptions {
    std::string name;
    long long sequence = 0;
    std::string regionName, regionHsaId;
    std::string issued, expires;  // YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)
    std::string minBoxVersion = kBoxVersion;
    // Where to write the manifest; empty: DIR/pluginset.yaml. Anywhere but inside DIR (where
    // it would become an unlisted file of the set).
    std::string output;
};

// Writes DIR/pluginset.yaml (or options.output) listing every file of every plugin
// directory under DIR (id and version from each plugin.yaml). Refuses links, unsafe names,
// directories without a plugin.yaml, other top-level files, and a DIR that already holds
// signatures. Returns the manifest. Throws VerifyError or std::invalid_argument.
SetManifest createManifest(const std::string& dir, const CreateOptions& options);

struct SignResult {
    std::string file;   // "pluginset.yaml.sig.2"
    std::string path;   // where it was written
    bool filesChecked;  // the plugin files were checked against the manifest before signing
};

// Signs a manifest with a PEM key and certificate (+ PEM chain of intermediates) into the
// next free "<manifest>.sig.N" next to it, after checking that the manifest parses, the key
// belongs to the certificate, the certificate may sign sets, and it has not signed this
// manifest already. `target` is a set directory (its pluginset.yaml; the files must match)
// or a manifest file (the files are checked when its directory holds any of the plugin
// directories it lists, so a manifest kept apart from the plugins can be signed too).
// The certificate (and every chain certificate) must be valid at `now` and not expire
// before the set does; a certificate, key or subject that signed the set already is refused.
// Throws VerifyError, std::invalid_argument or std::runtime_error.
SignResult signManifest(const std::string& target, const std::string& keyPemFile,
                        const std::string& certPemFile, const std::string& chainPemFile = {},
                        TimePoint now = std::chrono::system_clock::now());

// The check `sign` makes of a signer's dates, for `create --signer-cert`: valid at `now`, and
// no earlier notAfter than the set's expiry. Throws VerifyError.
void checkSignerFitsSet(const X509* cert, const std::string& what, const SetManifest& manifest,
                        TimePoint now);

// Packs a set directory (pluginset.yaml, its signatures and the plugin directories) into a
// zip archive with fixed timestamps, so packing the same set twice gives the same bytes.
void packSet(const std::string& dir, const std::string& zipFile);

// What a set claims, unverified: for `klinikbox pluginset inspect`.
struct SetSummary {
    SetManifest manifest;
    std::string manifestSha256;
    struct Sig {
        std::string file;
        std::string problem;  // empty when the signature parses
        std::string subject, issuer, sha256, notAfter;
    };
    std::vector<Sig> signatures;
};
SetSummary inspectSet(const std::string& dirOrZip, const ArchiveLimits& limits = {});

}  // namespace klinikbox::pluginset
