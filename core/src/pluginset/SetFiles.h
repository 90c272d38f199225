// The file check of a plugin set: the set holds exactly the files its manifest lists, at
// safe paths, each of the listed size and SHA-256, and each plugin's plugin.yaml names the
// id and version the region certified. Each file is read once; the result holds its bytes.
#pragma once

#include "pluginset/SetManifest.h"
#include "pluginset/SetSource.h"
#include "pluginset/VerifiedSet.h"

#include <vector>

namespace klinikbox::pluginset {

// Throws VerifyError: DuplicatePlugin, UnsafePath, FileExtra, FileTampered, FileMissing,
// PluginMismatch. The top-level file `manifestName` and its "<manifestName>.sig.N" are the
// manifest and its signatures, read by the signature check, not files of the set.
[[nodiscard]] std::vector<VerifiedPlugin> readCertifiedFiles(
    const SetSource& source, const SetManifest& manifest,
    const std::string& manifestName = "pluginset.yaml");

// The id and version a plugin.yaml declares; throws VerifyError(PluginMismatch) when it
// has none. `shown` names the file in messages.
struct PluginIdentity {
    std::string id, version;
    int api = -1;  // the SDK API version it asks for; -1 when it names none (or not a number)
};
[[nodiscard]] PluginIdentity pluginIdentity(const std::string& pluginYaml,
                                            const std::string& shown);

}  // namespace klinikbox::pluginset
