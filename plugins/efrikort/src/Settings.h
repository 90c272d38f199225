// The plugin's settings as the box's config gives them (who the clinic is towards eFrikort,
// where eFrikort answers, the dated ceilings) and the one way to call eFrikort with them.
#pragma once

#include "Ledger.h"
#include "Soap.h"

#include <Poco/JSON/Object.h>

#include <string>
#include <vector>

namespace efrikort {

// A string member of a JSON object, or "" when it is missing or not a string.
[[nodiscard]] inline std::string textOf(const Poco::JSON::Object::Ptr& o, const std::string& k) {
    return o->optValue<std::string>(k, "");
}

struct Settings {
    Party party;
    Endpoint endpoint;
    std::vector<Ceiling> ceilings;
    // Without a care principal and a client certificate only the local ledger is used.
    [[nodiscard]] bool configured() const { return !party.carePrincipalId.empty() && !endpoint.clientCert.empty(); }
};

// Reads the plugin's config (validated against schema.yaml); throws std::runtime_error for a
// ceiling whose `from` is not a date.
[[nodiscard]] Settings settingsFrom(const Poco::JSON::Object::Ptr& config);

// One contract call in the region's envelope; throws when eFrikort is not configured, and as
// efrikort::call does for network errors and faults.
[[nodiscard]] Result soap(const Settings& s, const std::string& contract, const std::string& body);

}  // namespace efrikort
