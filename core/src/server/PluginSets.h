// The plugin set a box runs, and its administration: production mode runs only a set
// verified against the trusted regions; admins upload sets (verified before they are
// stored), activate one (the previous stays for a rollback) and roll back, all audit-logged.
#pragma once

#include "server/Box.h"

namespace klinikbox::server {

// Sets the box's plugin source and adds the /api/v1/pluginsets routes.
void installPluginSets(Box& box);

}  // namespace klinikbox::server
