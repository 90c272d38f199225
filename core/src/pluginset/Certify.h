// What a region's IT department does with a set: hash a directory of plugins into
// pluginset.yaml, add signatures (CMS, detached, DER), pack it into one archive, and look
// inside a set before trusting it.
#pragma once

#include "pluginset/SetManifest.h"
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
    std::string issued, expires;  // YYYY-MM-DD
    std::string minBoxVersion = kBoxVersion;
};

// Writes DIR/pluginset.yaml listing every file of every plugin directory under DIR (id and
// version from each plugin.yaml). Refuses links, unsafe names, directories without a
// plugin.yaml, other top-level files, and a DIR that already holds signatures. Returns the
// manifest. Throws VerifyError or std::invalid_argument.
SetManifest createManifest(const std::string& dir, const CreateOptions& options);

// Signs DIR/pluginset.yaml with a PEM key and certificate (+ PEM chain of intermediates)
// into the next free DIR/pluginset.yaml.sig.N, after checking the manifest parses, the
// files match it, the key belongs to the certificate, the certificate may sign sets, and it
// has not signed this set already. Returns the new file's name.
std::string signManifest(const std::string& dir, const std::string& keyPemFile,
                         const std::string& certPemFile, const std::string& chainPemFile = {});

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
