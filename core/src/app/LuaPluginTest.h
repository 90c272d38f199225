// `klinikbox lua test PLUGIN_DIR`: a Lua plugin's offline tests in a throwaway box.
#pragma once

#include <ostream>
#include <string>

namespace klinikbox::app {

// True when `path` is a directory holding a plugin.yaml.
[[nodiscard]] bool isLuaPluginDir(const std::string& path);

// Runs the kb.test cases of the plugin in `dir` (its tests/*.lua files, loaded after the
// entry in the plugin's environment), each in a fresh in-memory box: migrations applied,
// settings' defaults, manifest events and channels enforced, clock at 2026-01-15 12:00 UTC.
// Prints PASS/FAIL per case and a summary. Returns 0 when all pass, 1 when one fails or the
// plugin is refused, 2 when a file cannot be read.
int runLuaPluginTest(const std::string& dir, std::ostream& out);

}  // namespace klinikbox::app
