// Lays out a set's directory from the project's plugins, so a region's IT person never
// guesses which files belong in it: for each plugin id, from the source tree
// (plugins/<id>/) its plugin.yaml, schema.yaml, migrations/, web/ and lua/ and, for a Lua
// plugin, its entry file; for a native plugin the built library named by its entry from the
// build tree (build/plugins/<id>/lib<id>.so) or an installed package's plugin directory.
// Sources (src/), build files and READMEs stay out.
#pragma once

#include <string>
#include <vector>

namespace klinikbox::pluginset {

struct AssembledPlugin {
    std::string id, version, kind;
    std::vector<std::string> files;  // relative to the plugin's directory, sorted
};

// Copies the plugins `ids` (every plugin directory of `sourceDir` with a plugin.yaml when
// empty) into `setDir`, which must not exist or be empty. Refuses symlinks, a plugin
// whose plugin.yaml names another id, and a native plugin whose library is not built.
// Throws std::invalid_argument or std::runtime_error; leaves no half-made set behind.
std::vector<AssembledPlugin> assembleSet(const std::string& sourceDir, const std::string& buildDir,
                                         const std::vector<std::string>& ids,
                                         const std::string& setDir);

}  // namespace klinikbox::pluginset
