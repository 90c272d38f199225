// `klinikbox pluginset create|sign|verify|inspect|pack`: the command line a region's IT
// department and plugin developers use. Exit codes: 0 done, 1 refused or failed, 2 usage.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace klinikbox::pluginset {

// `args` are the words after "pluginset" (verb first).
int runPluginsetCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace klinikbox::pluginset
