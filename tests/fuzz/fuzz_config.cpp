// The configuration file: arbitrary YAML validated against the box's schema. Errors are
// expected; a crash or an exception other than the YAML parser's is a bug.
#include "config/Schema.h"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const auto schema =
        klinikbox::config::Schema::fromYamlFile(std::string(KB_SOURCE_DIR) + "/config/schema.yaml");
    const std::string text(reinterpret_cast<const char*>(data), size);
    YAML::Node doc;
    try {
        doc = YAML::Load(text);
    } catch (const YAML::Exception&) {
        return 0;
    }
    auto r = schema.validate(doc, "fuzz.yaml");
    for (const auto& e : r.errors) (void)e.toString();
    (void)schema.validateJson(text, "fuzz.json");
    return 0;
}
