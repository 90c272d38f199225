// Shared helpers of the referral unit tests: a migrated plugin database and the 2.2 schemas.
#pragma once

#include "FakePluginContext.h"
#include "SimProcess.h"
#include "TempDir.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace reftest {

inline std::string schemaRoot() {
    for (const std::string& d : {std::string(KB_SHARED_DIR) + "/schemas", std::string("/work/shared/schemas")})
        if (std::filesystem::exists(d + "/clinicalprocess-activity-request-2.2")) return d + "/clinicalprocess-activity-request-2.2";
    return {};
}
inline std::string xsd(const std::string& op) {
    return schemaRoot() + "/interactions/" + op + "Interaction/" + op + "Responder_2.2.xsd";
}

// Applies the plugin's migration to a fresh store.
inline void migrate(kbtest::FakeStore& store) {
    std::ifstream in(std::string(KB_SOURCE_DIR) + "/plugins/referral/migrations/0001_init.sql");
    std::stringstream ss;
    ss << in.rdbuf();
    store.unguarded(ss.str());
}

}  // namespace reftest
