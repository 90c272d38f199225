// The plugin set a box runs, and its administration: production mode runs only a set
// verified against the trusted regions; admins upload sets (verified before they are
// stored), activate one (the previous stays for a rollback) and roll back, all audit-logged.
#pragma once

#include "server/Box.h"

namespace klinikbox::server {

// Sets the box's plugin source and adds the /api/v1/pluginsets routes.
void installPluginSets(Box& box);

// Verifies a set archive (as an upload is: signatures, chain, dates, rollback, files) and
// stores it for activation, audit-logged as `actor`. Returns its id, or 0 when the same
// archive is stored already. Throws pluginset::VerifyError.
long long storeVerifiedSet(Box& box, const std::string& zipBytes, const audit::Actor& actor);
// Activates a stored set (the running one becomes 'previous') and reloads the plugins.
void activateStoredSet(Box& box, long long id);

}  // namespace klinikbox::server
