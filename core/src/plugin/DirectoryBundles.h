// Development mode: reads an unsigned directory of plugins (<dir>/<id>/plugin.yaml ...) into
// bundles, every file read once, refusing symlinks and anything that escapes the directory.
#pragma once

#include "plugin/PluginHost.h"

#include <string>
#include <vector>

namespace klinikbox::plugin {

// Throws std::runtime_error naming the offending path.
std::vector<PluginBundle> readPluginDirectory(const std::string& dir);

}  // namespace klinikbox::plugin
