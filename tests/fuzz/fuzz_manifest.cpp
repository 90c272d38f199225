// plugin.yaml from a plugin set: parseManifest must answer ManifestError, never crash.
#include "plugin/Manifest.h"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        (void)klinikbox::plugin::parseManifest(text, "fuzz/plugin.yaml");
    } catch (const klinikbox::plugin::ManifestError&) {
    }
    return 0;
}
