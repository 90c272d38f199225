// The core's own schema, as ordered migrations (owner "core").
#pragma once

#include "store/Migrations.h"

#include <vector>

namespace klinikbox::store {

// SQLite application_id of a klinikbox database ("KLBX"); restore refuses other files.
inline constexpr int kApplicationId = 0x4B4C4258;

[[nodiscard]] const std::vector<Migration>& coreMigrations();

}  // namespace klinikbox::store
