// Rollback protection: the highest sequence number this box has accepted from each region,
// with the SHA-256 of that set's manifest, so an older set (or another set under the same
// number) is refused even when it is validly signed.
#pragma once

#include <optional>
#include <string>

namespace klinikbox::db {
class Connection;
}

namespace klinikbox::pluginset {

struct HighWater {
    long long sequence = 0;
    std::string manifestSha256;
    std::string setName;
};

class HighWaterStore {
  public:
    virtual ~HighWaterStore() = default;
    // The mark for a region (by HSA-id), nullopt when nothing was accepted from it yet.
    [[nodiscard]] virtual std::optional<HighWater> get(const std::string& regionHsaId) = 0;
    // Raises the region's mark to `mark`. Never lowers it; throws VerifyError(Rollback) when
    // the stored mark is higher, or equal with another manifest.
    virtual void raise(const std::string& regionHsaId, const HighWater& mark) = 0;
};

// The marks in the box's database, table kb_pluginset_highwater (created if missing).
class DbHighWaterStore final : public HighWaterStore {
  public:
    explicit DbHighWaterStore(db::Connection& conn);
    [[nodiscard]] std::optional<HighWater> get(const std::string& regionHsaId) override;
    void raise(const std::string& regionHsaId, const HighWater& mark) override;

  private:
    db::Connection& conn_;
};

}  // namespace klinikbox::pluginset
