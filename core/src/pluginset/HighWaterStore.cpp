#include "pluginset/HighWaterStore.h"

#include "pluginset/VerifiedSet.h"

#include <klinikbox/Db.h>

namespace klinikbox::pluginset {

DbHighWaterStore::DbHighWaterStore(db::Connection& conn) : conn_(conn) {
    conn_.exec(
        "CREATE TABLE IF NOT EXISTS kb_pluginset_highwater ("
        " region_hsa_id TEXT PRIMARY KEY,"
        " sequence INTEGER NOT NULL CHECK (sequence >= 1),"
        " manifest_sha256 TEXT NOT NULL,"
        " set_name TEXT NOT NULL,"
        " accepted_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')))");
}

std::optional<HighWater> DbHighWaterStore::get(const std::string& regionHsaId) {
    auto st = conn_.prepare(
        "SELECT sequence, manifest_sha256, set_name FROM kb_pluginset_highwater WHERE "
        "region_hsa_id = ?");
    st.bind(1, regionHsaId);
    if (!st.step()) return std::nullopt;
    return HighWater{st.getInt(0), st.getText(1), st.getText(2)};
}

void DbHighWaterStore::raise(const std::string& regionHsaId, const HighWater& mark) {
    // One statement, so two activations racing cannot lower the mark between read and write.
    auto st = conn_.prepare(
        "INSERT INTO kb_pluginset_highwater (region_hsa_id, sequence, manifest_sha256, set_name) "
        "VALUES (?, ?, ?, ?) "
        "ON CONFLICT (region_hsa_id) DO UPDATE SET sequence = excluded.sequence, "
        "manifest_sha256 = excluded.manifest_sha256, set_name = excluded.set_name, "
        "accepted_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') "
        "WHERE excluded.sequence > kb_pluginset_highwater.sequence");
    st.bind(1, regionHsaId)
        .bind(2, mark.sequence)
        .bind(3, mark.manifestSha256)
        .bind(4, mark.setName);
    st.exec();
    const auto now = get(regionHsaId);
    if (!now || now->sequence != mark.sequence || now->manifestSha256 != mark.manifestSha256)
        throw VerifyError(Reason::Rollback, "region " + regionHsaId + " already has sequence " +
                                                std::to_string(now ? now->sequence : 0) + " (" +
                                                (now ? now->setName : std::string()) +
                                                "); sequence " + std::to_string(mark.sequence) +
                                                " cannot be recorded");
}

}  // namespace klinikbox::pluginset
