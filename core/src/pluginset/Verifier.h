// Verifies a region-signed plugin set before any plugin file is used: signatures over the
// exact manifest bytes, certificate chains to a trusted region root, key usage, validity,
// revocation, threshold, the manifest, dates, box version, rollback, and every file.
#pragma once

#include "pluginset/SetFiles.h"
#include "pluginset/Trust.h"
#include "pluginset/VerifiedSet.h"

#include <klinikbox/Db.h>

#include <chrono>
#include <optional>

namespace klinikbox::pluginset {

// The highest sequence accepted per region (anti-rollback), kept in the database.
class HighWaterStore {
public:
    virtual ~HighWaterStore() = default;
    struct Mark {
        long long sequence = 0;
        std::string manifestSha256;
    };
    [[nodiscard]] virtual std::optional<Mark> get(const std::string& regionHsaId) = 0;
    virtual void raise(const std::string& regionHsaId, const Mark& mark) = 0;
};

// Table kb_pluginset_highwater in the box's database (created if missing).
class DbHighWaterStore final : public HighWaterStore {
public:
    explicit DbHighWaterStore(db::Connection& conn);
    std::optional<Mark> get(const std::string& regionHsaId) override;
    void raise(const std::string& regionHsaId, const Mark& mark) override;

private:
    db::Connection& conn_;
};

struct VerifyOptions {
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
    int graceDays = 14;
    int warnDays = 30;
    std::string boxVersion;  // empty: klinikbox::kBoxVersion
    ArchiveLimits limits;
    bool commitHighWater = true;  // false for "verify before storing"
};

// Throws VerifyError with the reason and the checks made so far.
VerifiedSet verifySigned(const SetFiles& files, const TrustStore& trust, const VerifyOptions& options,
                         HighWaterStore* highWater);
VerifiedSet verifySigned(const std::string& dirOrZip, const TrustStore& trust, const VerifyOptions& options,
                         HighWaterStore* highWater);

// Development mode: an unsigned directory of plugin directories (<id>/plugin.yaml ...),
// read with the same rules against links and escapes. A pluginset.yaml and signatures at
// the top, if any, are ignored.
VerifiedSet loadUnsignedDevelopment(const std::string& dir, const ArchiveLimits& limits = {});

}  // namespace klinikbox::pluginset
