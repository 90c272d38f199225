// One schema mechanism for the box's configuration, every plugin's settings and the
// console's settings forms: a JSON-Schema subset written in YAML, with errors that name
// file, line, column and key path.
//
// Keywords (each only where it applies; anything else is a schema error):
//   type: object|string|integer|number|boolean|array   doc: "..." (required everywhere)
//   default: <value> (filled in when absent; objects without one get their children's)
//   secret: true (never echoed in errors or docs; inherited by everything inside)
//   object:  properties, required, additionalProperties (default false: unknown keys refused)
//   string:  enum, minLength, maxLength (in characters), pattern (ECMAScript; must match the
//            whole value, as in an HTML form), format: hsa-id|personnummer|path|host|url
//   integer/number: minimum, maximum        array: items, minItems, maxItems
// In YAML an empty section (`tls:` with nothing under it) means "all defaults"; JSON input
// is typed strictly ("5" is a string, 5 is not).
#pragma once

#include <Poco/JSON/Object.h>

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace klinikbox::config {

// Limits that keep validation cheap on hostile input (console requests, fuzzing).
// Values visited per document; a YAML alias counts each time it is used.
inline constexpr std::size_t kMaxValues = 100000;
// Errors reported per document (then one "too many errors").
inline constexpr std::size_t kMaxErrors = 100;
// Longest value checked against a pattern (std::regex recurses once per character).
inline constexpr std::size_t kMaxPatternInput = 1024;
// Nesting of documents and schemas (an alias used inside itself makes a cycle).
inline constexpr std::size_t kMaxDepth = 64;

struct ConfigError {
    std::string file;
    int line = 0;      // 1-based
    int column = 0;    // 1-based
    std::string path;  // "server.tls.cert_file"
    std::string message;
    // "file:line:column: path: message"
    [[nodiscard]] std::string toString() const;
};

struct ValidationResult {
    YAML::Node document;  // the input with defaults filled in (a fresh copy)
    std::vector<ConfigError> errors;
    [[nodiscard]] bool ok() const { return errors.empty(); }
};

struct SchemaNode;

class Schema {
  public:
    // Throws std::invalid_argument naming source:line:column for a malformed schema
    // (unknown keyword, a keyword on the wrong type, a node without doc, a bad type, a
    // default its own schema refuses).
    static Schema fromYaml(const YAML::Node& schema, const std::string& sourceName);
    static Schema fromYamlFile(const std::string& path);

    // Never throws for any document; every problem is a ConfigError.
    [[nodiscard]] ValidationResult validate(const YAML::Node& doc,
                                            const std::string& fileName) const;
    [[nodiscard]] ValidationResult validateJson(const std::string& jsonText,
                                                const std::string& fileName) const;
    // The schema itself as JSON (the console renders settings forms from it).
    [[nodiscard]] Poco::JSON::Object::Ptr toJson() const;

    [[nodiscard]] const SchemaNode& root() const { return *root_; }
    // Names of the top-level properties marked `secret: true`.
    [[nodiscard]] std::vector<std::string> secretKeys() const;

  private:
    std::shared_ptr<const SchemaNode> root_;
};

// Markdown table of every setting: key path, type, default, description.
[[nodiscard]] std::string renderMarkdownReference(const Schema& schema);

// A validated, defaulted document as JSON, scalars typed per the schema.
[[nodiscard]] Poco::JSON::Object::Ptr toJsonObject(const Schema& schema,
                                                   const YAML::Node& validatedDoc);

}  // namespace klinikbox::config
