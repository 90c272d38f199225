// klinikbox pluginset ...: the region's and developer's tools for certified plugin sets.
#include "app/Commands.h"

#include "pluginset/Cli.h"

#include <iostream>

namespace klinikbox::app {
namespace {
const RegisterCommand regPluginset("pluginset", [](Args args) { return pluginset::runPluginsetCommand(args, std::cout, std::cerr); });
}  // namespace
}  // namespace klinikbox::app
