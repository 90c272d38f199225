// A box's side of a region's publication: one poll of a mirror (any static HTTP(S) server)
// fetches index.json and its signature, judges them (RegionIndex.h), then fetches each
// listed file not held yet, checks it against the index, verifies each set as a box would
// (signatures, chain, dates, files; no high-water commit) and only then stores anything in
// the state directory, the index's version last. A refusal stores nothing and keeps the
// last accepted version, so the running set keeps running.
//
//   <state>/state          version and SHA-256 of the last accepted index
//   <state>/sets/*.zip     verified sets, for the admin to activate (or auto-activation)
//   <state>/crl/*.pem      the region's current CRLs
#pragma once

#include "pluginset/RegionIndex.h"
#include "pluginset/TrustStore.h"
#include "pluginset/VerifiedSet.h"

#include <chrono>
#include <string>
#include <vector>

namespace klinikbox::pluginset {

struct MirrorOptions {
    std::chrono::milliseconds timeout{20000};  // connect, send and receive, per request
    std::uint64_t maxFileBytes = 64ull << 20;
};

struct PollResult {
    RegionIndex index;
    bool changed = false;               // a newer index was accepted
    std::vector<std::string> newSets;   // stored paths of sets not held before
    std::vector<std::string> crls;      // stored CRL paths (all, current)
    std::vector<std::string> roots;     // stored paths of announced new region roots
    std::vector<std::string> warnings;  // e.g. a set in the index that a box would refuse
};

// Throws VerifyError (frozen/stale/forged index, tampered file) or std::runtime_error
// (mirror unreachable, HTTP error, timeout). Stores nothing unless everything passed.
PollResult pollMirror(const std::string& baseUrl, const TrustStore& trust,
                      const std::string& stateDir, TimePoint now, const MirrorOptions& opts = {});

// Trust-anchor rollover: adds the announced roots (each a self-signed CA certificate, as
// TrustStore requires) to <trustDir>/<region.dir>/root.pem, keeping the current ones, so
// sets signed under either root verify during the changeover. Only roots that came through
// pollMirror (an index verified under the current root) may be passed. Returns how many
// roots were new. Throws std::runtime_error, leaving root.pem unchanged.
int installAnnouncedRoots(const std::string& trustDir, const Region& region,
                          const std::vector<std::string>& rootFiles);

// The next wait after `failures` failed polls in a row: poll interval doubled per
// failure, capped at 8 times the interval and at 24 hours.
[[nodiscard]] std::chrono::minutes backoff(std::chrono::minutes interval, int failures);

}  // namespace klinikbox::pluginset
