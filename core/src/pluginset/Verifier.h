// The one way a box accepts a plugin set. verifySigned runs every check in a fixed order
// and either returns the verified bytes of every plugin file or throws a VerifyError naming
// the reason, the file, certificate or date, and every check made so far:
//
//   archive -> signatures -> chain -> key-usage -> certificate-validity -> revocation ->
//   threshold -> manifest -> region -> dates -> box-version -> rollback -> files
//   [-> high-water, when committing]
//
// The signatures are checked over the raw bytes of pluginset.yaml before it is parsed. Each
// plugin file is read once, hashed, and handed on in memory: the loader never reopens a
// path, so the file that was hashed is the file that runs.
#pragma once

#include "pluginset/Dates.h"
#include "pluginset/HighWaterStore.h"
#include "pluginset/SetSource.h"
#include "pluginset/TrustStore.h"
#include "pluginset/VerifiedSet.h"

#include <klinikbox/Version.h>

#include <chrono>
#include <string>

namespace klinikbox::pluginset {

struct VerifyOptions {
    // The verification time for certificates, CRLs and the set's dates; the box passes its
    // injected Clock's now(), tests and `verify --now` a fixed time.
    TimePoint now = std::chrono::system_clock::now();
    int graceDays = 14;    // after expiry the set still runs, flagged "expired-in-grace"
    int warningDays = 30;  // before expiry the set is flagged "expiring-soon"
    std::string boxVersion = kBoxVersion;
    // The SDK API version this box gives plugins: a plugin asking for another one passes the
    // set's checks (the region certified its bytes) but the box refuses that plugin alone,
    // so it is reported as a warning.
    int sdkApiVersion = kSdkApiVersion;
    ArchiveLimits limits;
    // Raise the region's high-water mark once the set passed. Activation commits; a console
    // "verify before storing" and `klinikbox pluginset verify` do not.
    bool commitHighWater = true;
    // An administrator's deliberate return to an earlier set (console "roll back"): a set
    // with exactly this sequence passes the rollback check although the region's mark is
    // higher, flagged with a warning; the mark is not lowered, so the box keeps passing the
    // same value at every start while that set is active. 0: no rollback allowed. Audit-log it.
    long long allowRollbackTo = 0;
};

// A signed set: a directory or a .zip archive. `hw` may be null (no rollback check, e.g.
// the CLI); with `hw` the sequence is checked against the region's mark and, when
// opts.commitHighWater, the mark raised. Throws VerifyError.
[[nodiscard]] VerifiedSet verifySigned(const std::string& dirOrZip, const TrustStore& trust,
                                       const VerifyOptions& opts, HighWaterStore* hw);
// The same for an archive already in memory (a console upload). `shownName` names it.
[[nodiscard]] VerifiedSet verifySignedArchive(const std::string& zipBytes,
                                              const std::string& shownName, const TrustStore& trust,
                                              const VerifyOptions& opts, HighWaterStore* hw);

// Raises the region's mark to a set verified earlier without committing (activation of a
// stored set). Throws VerifyError(Rollback) when a higher mark was recorded meanwhile.
void commitHighWater(const VerifiedSet& set, HighWaterStore& hw);

// Development mode: a plain directory of <id>/plugin.yaml ... plugin directories, read with
// the same rules (no symlinks, nothing escaping, limits), unsigned. A top-level
// pluginset.yaml and its signatures are ignored; any other top-level file is ignored with a
// warning; a directory without plugin.yaml, or whose plugin.yaml names another id, is
// refused. Throws VerifyError.
[[nodiscard]] VerifiedSet loadUnsignedDevelopment(const std::string& dir,
                                                  const ArchiveLimits& limits = {});

// True for "pluginset.yaml.sig.N", N = 1..9999 without leading zeros.
[[nodiscard]] bool isSignatureFileName(const std::string& name);

}  // namespace klinikbox::pluginset
