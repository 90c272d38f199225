// The box's own settings in the database (kb_settings): what the first-run wizard saves
// (clinic name, the care unit's HSA-id, the public URL, host names, finished steps). A value
// here wins over the same setting in klinikbox.yaml, which stays the default.
#pragma once

#include <klinikbox/Clock.h>

#include "store/Database.h"

#include <map>
#include <optional>
#include <string>

namespace klinikbox::store {

class Settings {
public:
    Settings(Database& db, const Clock& clock) : db_(db), clock_(clock) {}

    [[nodiscard]] std::optional<std::string> get(const std::string& key) const;
    // Every setting, by key.
    [[nodiscard]] std::map<std::string, std::string> all() const;
    // Writes all values in one transaction (nothing half-written); `by` names who did it.
    void set(const std::map<std::string, std::string>& values, const std::string& by);

private:
    Database& db_;
    const Clock& clock_;
};

// The keys the box reads (BoxConfig::applySettings in server/Box.cpp).
namespace setting {
inline constexpr const char* kClinicName = "clinic.name";
inline constexpr const char* kCareUnitHsaId = "clinic.hsa_id";
inline constexpr const char* kPublicUrl = "server.public_url";
inline constexpr const char* kHostNames = "server.host_names";  // comma-separated
}  // namespace setting

}  // namespace klinikbox::store
