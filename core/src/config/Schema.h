// One schema mechanism for the box's configuration, every plugin's settings and the
// console's settings forms: a JSON-Schema subset written in YAML, with errors that name
// file, line, column and key path.
#pragma once

#include <Poco/JSON/Object.h>

#include <yaml-cpp/yaml.h>

#include <memory>
#include <string>
#include <vector>

namespace klinikbox::config {

struct ConfigError {
    std::string file;
    int line = 0;    // 1-based
    int column = 0;  // 1-based
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
    // (unknown keyword, a node without doc, a bad type, a default its own schema refuses).
    static Schema fromYaml(const YAML::Node& schema, const std::string& sourceName);
    static Schema fromYamlFile(const std::string& path);

    [[nodiscard]] ValidationResult validate(const YAML::Node& doc, const std::string& fileName) const;
    [[nodiscard]] ValidationResult validateJson(const std::string& jsonText, const std::string& fileName) const;
    // The schema itself as JSON (the console renders settings forms from it).
    [[nodiscard]] Poco::JSON::Object::Ptr toJson() const;

    [[nodiscard]] const SchemaNode& root() const { return *root_; }
    // Names of the top-level properties marked `secret: true`.
    [[nodiscard]] std::vector<std::string> secretKeys() const;

private:
    std::shared_ptr<const SchemaNode> root_;
};

// Markdown table of every setting: key path, type, default, description.
std::string renderMarkdownReference(const Schema& schema);

// A validated, defaulted document as JSON, scalars typed per the schema.
Poco::JSON::Object::Ptr toJsonObject(const Schema& schema, const YAML::Node& validatedDoc);

}  // namespace klinikbox::config
