// The configuration schema mechanism on arbitrary text:
//  - as a document (YAML and JSON) validated against the box's config/schema.yaml and
//    against a schema that uses every keyword: errors are expected, exceptions and crashes
//    are bugs, and a document that validates is valid again after its defaults are filled;
//  - as a schema itself (plugins bring their own schema.yaml): only std::invalid_argument
//    may escape. Inputs that contain "pattern" are not tried as schemas: a schema's regular
//    expression is trusted content, and std::regex backtracks exponentially on some.
#include "config/Schema.h"

#include <Poco/JSON/Stringifier.h>

#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <string>

namespace {

using klinikbox::config::Schema;
using klinikbox::config::ValidationResult;

const char* kEveryKeyword = R"(
type: object
doc: Every keyword at least once.
required: [id]
properties:
  id: {type: string, doc: Id., pattern: "^[a-z][a-z0-9-]*$", minLength: 1, maxLength: 40}
  mode: {type: string, doc: Mode., enum: [a, b, c], default: a}
  ratio: {type: number, doc: Ratio., minimum: -1.5, maximum: 1e6, default: 0.5}
  count: {type: integer, doc: Count., minimum: 0, maximum: 100, default: 3}
  on: {type: boolean, doc: On., default: true}
  unit: {type: string, doc: Unit., format: hsa-id, default: ""}
  patient: {type: string, doc: Patient., format: personnummer, default: ""}
  url: {type: string, doc: Url., format: url, default: ""}
  host: {type: string, doc: Host., format: host, default: localhost}
  dir: {type: string, doc: Dir., format: path, default: ./d}
  password: {type: string, doc: Password., secret: true, default: ""}
  extra: {type: object, doc: Anything., additionalProperties: true, default: {}}
  tags: {type: array, doc: Tags., items: {type: string, doc: Tag.}, maxItems: 5, default: []}
  free: {type: array, doc: Free list.}
  routes:
    type: array
    doc: Routes.
    minItems: 0
    items:
      type: object
      doc: Route.
      required: [path]
      properties:
        path: {type: string, doc: Path.}
        weight: {type: integer, doc: Weight., default: 1}
        nested: {type: object, doc: Nested., properties: {deep: {type: boolean, doc: Deep., default: false}}}
)";

void require(bool ok) {
    if (!ok) std::abort();
}

void use(const Schema& schema, const ValidationResult& r) {
    for (const auto& e : r.errors) (void)e.toString();
    if (!r.ok()) return;
    // Filling in defaults again changes nothing and finds nothing wrong.
    const auto again = schema.validate(r.document, "again.yaml");
    require(again.ok());
    std::ostringstream os;
    Poco::JSON::Stringifier::stringify(klinikbox::config::toJsonObject(schema, r.document), os);
}

void asDocument(const Schema& schema, const std::string& text, const YAML::Node* doc) {
    if (doc) use(schema, schema.validate(*doc, "fuzz.yaml"));
    use(schema, schema.validateJson(text, "fuzz.json"));
}

void asSchema(const YAML::Node& doc) {
    try {
        const auto schema = Schema::fromYaml(doc, "fuzz-schema.yaml");
        use(schema, schema.validate(YAML::Node(), "empty.yaml"));
        use(schema, schema.validate(doc, "itself.yaml"));
        (void)klinikbox::config::renderMarkdownReference(schema);
        (void)schema.toJson();
    } catch (const std::invalid_argument&) {
        // A malformed schema: the expected outcome for most inputs.
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const auto box = Schema::fromYamlFile(std::string(KB_SOURCE_DIR) + "/config/schema.yaml");
    static const auto every = Schema::fromYaml(YAML::Load(kEveryKeyword), "every-keyword.yaml");
    const std::string text(reinterpret_cast<const char*>(data), size);
    YAML::Node doc;
    bool parsed = true;
    try {
        doc = YAML::Load(text);
    } catch (const YAML::Exception&) {
        parsed = false;  // the JSON path still runs and reports the syntax error
    }
    asDocument(box, text, parsed ? &doc : nullptr);
    asDocument(every, text, parsed ? &doc : nullptr);
    if (parsed && text.find("pattern") == std::string::npos) asSchema(doc);
    return 0;
}
