// What a region does: hash a directory of plugins into pluginset.yaml, sign it (CMS,
// detached, DER), and pack the set into one archive.
#pragma once

#include <string>

namespace klinikbox::pluginset {

struct CreateOptions {
    std::string name;
    long long sequence = 0;
    std::string regionName, regionHsaId;
    std::string issued, expires;  // YYYY-MM-DD
    std::string minBoxVersion = "0.1.0";
};

// Writes DIR/pluginset.yaml listing every file of every plugin directory under DIR.
// Refuses links, unsafe names and directories without plugin.yaml. Returns the manifest text.
std::string createManifest(const std::string& dir, const CreateOptions& options);

// Signs DIR/pluginset.yaml with key + certificate (+ chain) into the next free
// DIR/pluginset.yaml.sig.N. Returns that file's path.
std::string signManifest(const std::string& dir, const std::string& keyPem, const std::string& certPem,
                         const std::string& chainPem = {});

// Packs a set directory into a zip archive.
void packSet(const std::string& dir, const std::string& zipFile);

}  // namespace klinikbox::pluginset
