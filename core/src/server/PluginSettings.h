// Plugin settings: validated against each plugin's schema.yaml before the plugin starts,
// editable by admin and IT staff through the API (the console's settings form), stored in
// the database, and applied by restarting only that plugin.
#pragma once

#include "server/Box.h"

namespace klinikbox::server {

void installPluginSettings(Box& box);

}  // namespace klinikbox::server
