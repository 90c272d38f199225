// A region's publication: a directory of static files any web server or object store can
// serve (sets/*.zip, crl/*.pem, signing-log.jsonl) and index.json, which lists each file
// with its size and SHA-256, signed by the region (index.json.sig.1, detached CMS like a
// set's signatures) with a short expiry and a version that grows with every publication.
// As TUF's timestamp role: a box refuses an index older than the last one it accepted
// (a frozen mirror), an expired one (a stale mirror) and any file whose bytes differ from
// the index (a swapped file) before it stores anything.
#pragma once

#include "pluginset/Dates.h"
#include "pluginset/TrustStore.h"

#include <string>
#include <vector>

namespace klinikbox::pluginset {

struct IndexFile {
    std::string path;  // "sets/region-exempel-12.zip", "crl/crl.pem", "signing-log.jsonl"
    std::string kind;  // "set" | "crl" | "log" | "root" (a new region root, announced)
    std::uint64_t size = 0;
    std::string sha256;
};

struct RegionIndex {
    long long version = 0;
    std::string regionHsaId;
    std::string issued, expires;   // instants, UTC
    std::string activate;          // "stage" | "auto": the region's policy for new sets
    std::vector<IndexFile> files;
};

struct PublishOptions {
    std::string outDir;
    std::string regionHsaId;
    long long version = 0;  // 0: one above the version already in outDir (or 1)
    int validHours = 48;
    std::string activate = "stage";
    std::vector<std::string> sets, crls;  // files to publish (copied into outDir)
    // New region roots announced for a changeover: the index that lists them is signed
    // under the current root, which is what makes a box accept them.
    std::vector<std::string> roots;
    std::string signingLog;               // optional
    std::string keyPem, certPem, chainPem;
};

// Copies the files into outDir and writes index.json and index.json.sig.1. Refuses a
// version not above the one already published there. Returns the index written.
RegionIndex publishRegion(const PublishOptions& o, TimePoint now);

// Parses and judges a downloaded index: the signature is over exactly these bytes by a
// certificate of the trusted region the index names (chain, key usage, validity,
// revocation as for sets), it has not expired, and its version is not below `lastVersion`
// (equal only with the same bytes, `lastSha256`). Throws VerifyError naming the reason.
RegionIndex verifyRegionIndex(const std::string& indexBytes, const std::string& sigBytes,
                              const TrustStore& trust, TimePoint now, long long lastVersion,
                              const std::string& lastSha256);

// Throws VerifyError(FileTampered) when `bytes` are not the index's file.
void checkIndexedFile(const IndexFile& f, const std::string& bytes);

}  // namespace klinikbox::pluginset
