// klinikbox pluginset create|sign|verify|inspect|pack
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace klinikbox::pluginset {

int runPluginsetCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace klinikbox::pluginset
