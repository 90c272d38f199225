// pluginset.yaml: what a region certifies. Parsed only after its signatures verified, and
// strictly: no anchors, aliases, tags, duplicate keys, unknown keys or implicit typing, so
// the bytes the region signed can mean only one thing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace klinikbox::pluginset {

struct ManifestFile {
    std::string path;    // relative to the plugin's directory
    std::string sha256;  // lower-case hex
    std::uint64_t size = 0;
};

struct ManifestPlugin {
    std::string id;
    std::string version;
    std::vector<ManifestFile> files;
};

struct SetManifest {
    std::string name;
    long long sequence = 0;
    std::string regionName, regionHsaId;
    std::string issued, expires;  // YYYY-MM-DD (00:00 UTC) or YYYY-MM-DDTHH:MM:SSZ
    std::string minBoxVersion;    // semver
    std::vector<ManifestPlugin> plugins;

    // Throws VerifyError(ManifestInvalid) naming source:line:column and the problem. Path
    // safety and duplicate plugin ids are left to the file check, which names them.
    static SetManifest parse(std::string_view yaml, const std::string& source = "pluginset.yaml");
    // The canonical text `klinikbox pluginset create` writes.
    [[nodiscard]] std::string render() const;
};

// x.y.z with optional -pre and +build parts.
[[nodiscard]] bool isSemver(std::string_view v);
// Semver precedence (build metadata ignored): <0, 0, >0. Both must be semver.
[[nodiscard]] int compareSemver(std::string_view a, std::string_view b);

// A plugin id as the plugin loader accepts it: [a-z][a-z0-9]{1,30}.
[[nodiscard]] bool isPluginId(std::string_view id);

}  // namespace klinikbox::pluginset
