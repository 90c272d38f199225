#include "config/Schema.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

using namespace klinikbox::config;

namespace {

const char* kSchema = R"(
type: object
doc: Test settings.
properties:
  port:
    type: integer
    doc: A port.
    minimum: 1
    maximum: 65535
    default: 8443
  mode:
    type: string
    doc: The mode.
    enum: [development, production]
    default: development
  unit:
    type: string
    doc: Care unit.
    format: hsa-id
    default: ""
  password:
    type: string
    doc: A secret.
    secret: true
    default: ""
  nested:
    type: object
    doc: Nested.
    properties:
      flag:
        type: boolean
        doc: A flag.
        default: true
      code:
        type: string
        doc: A code.
        pattern: "^[A-Z]{3}$"
        default: ABC
  list:
    type: array
    doc: A list.
    items:
      type: integer
      doc: An item.
    default: []
  name:
    type: string
    doc: Required name.
required: [name]
)";

Schema schema() {
    return Schema::fromYaml(YAML::Load(kSchema), "test-schema.yaml");
}

Schema schemaOf(const std::string& yaml) {
    return Schema::fromYaml(YAML::Load(yaml), "s.yaml");
}

std::string errorsOf(const ValidationResult& r) {
    std::string s;
    for (const auto& e : r.errors) s += e.toString() + "\n";
    return s;
}

// The message fromYaml throws for a malformed schema ("" when it does not throw).
std::string schemaErrorOf(const std::string& yaml) {
    try {
        (void)schemaOf(yaml);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "";
}

std::string boxSchemaPath() {
    return std::string(KB_SOURCE_DIR) + "/config/schema.yaml";
}

}  // namespace

TEST(Schema, DefaultsAreFilledInNestedObjects) {
    auto r = schema().validate(YAML::Load("name: x\n"), "c.yaml");
    ASSERT_TRUE(r.ok()) << errorsOf(r);
    EXPECT_EQ(r.document["port"].as<int>(), 8443);
    EXPECT_EQ(r.document["nested"]["flag"].as<bool>(), true);
    EXPECT_EQ(r.document["nested"]["code"].as<std::string>(), "ABC");
    EXPECT_TRUE(r.document["list"].IsSequence());
    EXPECT_EQ(r.document["list"].size(), 0u);
}

TEST(Schema, AnEmptySectionMeansAllItsDefaults) {
    // `nested:` with everything under it commented out is null in YAML.
    auto r = schema().validate(YAML::Load("name: x\nnested:\n#  flag: false\n"), "c.yaml");
    ASSERT_TRUE(r.ok()) << errorsOf(r);
    EXPECT_TRUE(r.document["nested"]["flag"].as<bool>());
}

TEST(Schema, UnknownKeyIsRefusedWithLineColumnAndSuggestion) {
    auto r = schema().validate(YAML::Load("name: x\nprot: 80\n"), "c.yaml");
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].toString(),
              "c.yaml:2:1: prot: unknown key 'prot' (did you mean 'port'?)");
    auto nested = schema().validate(YAML::Load("name: x\nnested:\n  falg: true\n"), "c.yaml");
    ASSERT_EQ(nested.errors.size(), 1u);
    EXPECT_EQ(nested.errors[0].toString(),
              "c.yaml:3:3: nested.falg: unknown key 'falg' (did you mean 'flag'?)");
}

TEST(Schema, UnknownKeyFarFromEveryNameGetsNoSuggestion) {
    auto r = schema().validate(YAML::Load("name: x\ncolour: red\n"), "c.yaml");
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].message, "unknown key 'colour'");
}

TEST(Schema, WrongTypesNameTheExpectedTypeAndWhatWasGiven) {
    auto r = schema().validate(
        YAML::Load("name: x\nport: eighty\nnested:\n  flag: yes\nlist: [1, two]\n"), "c.yaml");
    const auto all = errorsOf(r);
    EXPECT_NE(all.find("c.yaml:2:7: port: expected integer, got string 'eighty'"),
              std::string::npos)
        << all;
    EXPECT_NE(
        all.find("c.yaml:4:9: nested.flag: expected boolean (true or false), got string 'yes'"),
        std::string::npos)
        << all;
    EXPECT_NE(all.find("list[1]: expected integer, got string 'two'"), std::string::npos) << all;
    EXPECT_EQ(r.errors.size(), 3u) << all;

    auto shapes =
        schema().validate(YAML::Load("name: [a]\nnested: 5\nlist: {a: 1}\nport: 1.5\n"), "c.yaml");
    const auto shapeErrors = errorsOf(shapes);
    EXPECT_NE(shapeErrors.find("name: expected string, got a list"), std::string::npos)
        << shapeErrors;
    EXPECT_NE(shapeErrors.find("nested: expected a mapping, got number 5"), std::string::npos)
        << shapeErrors;
    EXPECT_NE(shapeErrors.find("list: expected a list, got a mapping"), std::string::npos)
        << shapeErrors;
    EXPECT_NE(shapeErrors.find("port: expected integer, got number 1.5"), std::string::npos)
        << shapeErrors;
}

TEST(Schema, RangesAreCheckedAndNameTheLimit) {
    auto high = schema().validate(YAML::Load("name: x\nport: 70000\n"), "c.yaml");
    ASSERT_EQ(high.errors.size(), 1u);
    EXPECT_EQ(high.errors[0].message, "must be at most 65535 (got 70000)");
    auto low = schema().validate(YAML::Load("name: x\nport: 0\n"), "c.yaml");
    ASSERT_EQ(low.errors.size(), 1u);
    EXPECT_EQ(low.errors[0].message, "must be at least 1 (got 0)");
    EXPECT_TRUE(schema().validate(YAML::Load("name: x\nport: 65535\n"), "c.yaml").ok());
    EXPECT_TRUE(schema().validate(YAML::Load("name: x\nport: +1\n"), "c.yaml").ok());
}

TEST(Schema, MissingRequiredEnumPatternAndFormatAreReported) {
    auto r =
        schema().validate(YAML::Load("mode: test\nunit: SE123\nnested:\n  code: abc\n"), "c.yaml");
    const auto all = errorsOf(r);
    EXPECT_NE(all.find("name: missing required string 'name'"), std::string::npos) << all;
    EXPECT_NE(
        all.find("c.yaml:1:7: mode: must be one of: development, production (got string 'test')"),
        std::string::npos)
        << all;
    EXPECT_NE(all.find("unit: is not an HSA-id"), std::string::npos) << all;
    EXPECT_NE(all.find("nested.code: must match ^[A-Z]{3}$"), std::string::npos) << all;
    EXPECT_EQ(r.errors.size(), 4u) << all;
    EXPECT_TRUE(schema().validate(YAML::Load("name: x\nunit: SE2321000016-7P5Z\n"), "c.yaml").ok());
}

TEST(Schema, DuplicateKeysAreRefused) {
    auto r = schema().validate(YAML::Load("name: x\nport: 1\nport: 2\n"), "c.yaml");
    ASSERT_EQ(r.errors.size(), 1u) << errorsOf(r);
    EXPECT_EQ(r.errors[0].toString(),
              "c.yaml:3:1: port: duplicate key 'port' (first given on line 2)");
    auto json = schema().validateJson(R"({"name":"a","name":"b"})", "j");
    EXPECT_EQ(json.errors.size(), 1u) << errorsOf(json);
}

TEST(Schema, ArrayItemsAndCountsAreChecked) {
    const auto s = schemaOf(R"(
type: object
doc: x
properties:
  routes:
    type: array
    doc: Routes.
    minItems: 1
    maxItems: 2
    items:
      type: object
      doc: One route.
      required: [path]
      properties:
        path: {type: string, doc: The path., pattern: "^/.*"}
        method: {type: string, doc: The method., enum: [GET, POST], default: GET}
)");
    auto ok =
        s.validate(YAML::Load("routes:\n  - path: /a\n  - {path: /b, method: POST}\n"), "c.yaml");
    ASSERT_TRUE(ok.ok()) << errorsOf(ok);
    EXPECT_EQ(ok.document["routes"][0]["method"].as<std::string>(),
              "GET");  // defaults inside items
    EXPECT_EQ(ok.document["routes"][1]["method"].as<std::string>(), "POST");

    auto bad =
        s.validate(YAML::Load("routes:\n  - path: a\n  - method: PUT\n  - path: /c\n"), "c.yaml");
    const auto all = errorsOf(bad);
    EXPECT_NE(all.find("routes: may have at most 2 items (got 3)"), std::string::npos) << all;
    EXPECT_NE(all.find("c.yaml:2:11: routes[0].path: must match ^/.*"), std::string::npos) << all;
    EXPECT_NE(all.find("routes[1].path: missing required string 'path'"), std::string::npos) << all;
    EXPECT_NE(all.find("routes[1].method: must be one of: GET, POST"), std::string::npos) << all;
    EXPECT_EQ(bad.errors.size(), 4u) << all;

    auto empty = s.validate(YAML::Load("routes: []\n"), "c.yaml");
    ASSERT_EQ(empty.errors.size(), 1u);
    EXPECT_EQ(empty.errors[0].message, "needs at least 1 items (got 0)");
}

TEST(Schema, SecretValuesNeverAppearInErrors) {
    const auto s = schemaOf(R"(
type: object
doc: x
properties:
  password: {type: string, doc: A password., secret: true, enum: [a]}
  pin: {type: integer, doc: A pin., secret: true, maximum: 9999}
  credentials:
    type: object
    doc: Credentials.
    secret: true
    properties:
      token: {type: integer, doc: A token.}
)");
    auto r = s.validate(
        YAML::Load("password: hunter2\npin: 123456\ncredentials:\n  token: swordfish\n"), "c.yaml");
    const auto all = errorsOf(r);
    ASSERT_EQ(r.errors.size(), 3u) << all;
    for (const char* secret : {"hunter2", "123456", "swordfish"})
        EXPECT_EQ(all.find(secret), std::string::npos) << all;
    EXPECT_NE(all.find("credentials.token: expected integer, got string (secret, not shown)"),
              std::string::npos)
        << all;
    auto json = s.validateJson(R"({"pin":"hunter2"})", "j");
    EXPECT_EQ(errorsOf(json).find("hunter2"), std::string::npos);
    EXPECT_EQ(schema().secretKeys(), std::vector<std::string>{"password"});
}

TEST(Schema, SecretDefaultsAreNotPrintedInTheReference) {
    const auto s = schemaOf(
        "type: object\ndoc: x\nproperties:\n  key: {type: string, doc: API key., secret: true, "
        "default: s3cr3t}\n");
    const auto ref = renderMarkdownReference(s);
    EXPECT_EQ(ref.find("s3cr3t"), std::string::npos) << ref;
    EXPECT_NE(ref.find("| `key` | string | (secret) | API key. |"), std::string::npos) << ref;
    EXPECT_FALSE(s.toJson()->getObject("properties")->getObject("key")->has("default"));
}

TEST(Schema, JsonInputIsTypedStrictly) {
    auto ok = schema().validateJson(R"({"name":"x","port":80,"nested":{"flag":false}})", "j");
    EXPECT_TRUE(ok.ok()) << errorsOf(ok);
    auto bad = schema().validateJson(R"({"name":5,"port":"80","mode":null})", "j");
    const auto all = errorsOf(bad);
    EXPECT_NE(all.find("name: expected string, got number 5"), std::string::npos) << all;
    EXPECT_NE(all.find("port: expected integer, got string '80'"), std::string::npos) << all;
    EXPECT_NE(all.find("mode: expected string, got null"), std::string::npos) << all;
    EXPECT_EQ(bad.errors.size(), 3u) << all;
    auto broken = schema().validateJson(R"({"name": )", "j");
    ASSERT_EQ(broken.errors.size(), 1u);
    EXPECT_NE(broken.errors[0].message.find("not valid JSON"), std::string::npos);
    auto json = toJsonObject(schema(), ok.document);
    EXPECT_EQ(json->getValue<int>("port"), 80);
    EXPECT_FALSE(json->getObject("nested")->getValue<bool>("flag"));
    EXPECT_EQ(json->getValue<std::string>("mode"), "development");
}

TEST(Schema, JsonErrorsHaveLineAndColumnToo) {
    auto r = schema().validateJson("{\n  \"name\": \"x\",\n  \"port\": \"80\"\n}", "settings.json");
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].toString(),
              "settings.json:3:11: port: expected integer, got string '80'");
}

TEST(Schema, NumbersOutOfRangeAreErrorsNotCrashes) {
    const auto s = schemaOf(
        "type: object\ndoc: x\nproperties:\n  n: {type: number, doc: n, minimum: -1.5}\n  i: "
        "{type: integer, doc: i}\n");
    EXPECT_TRUE(s.validate(YAML::Load("n: 2.5e3\ni: -42\n"), "c").ok());
    auto huge = s.validate(YAML::Load("n: 1e999\ni: 99999999999999999999\n"), "c");
    const auto all = errorsOf(huge);
    EXPECT_NE(all.find("n: number out of range"), std::string::npos) << all;
    EXPECT_NE(all.find("i: integer out of range"), std::string::npos) << all;
    for (const char* v : {".inf", ".nan", "0x10", "1_000", "1e", "-", "."}) {
        auto r = s.validate(YAML::Load(std::string("n: \"") + v + "\"\n"), "c");
        EXPECT_EQ(r.errors.size(), 1u) << v;
    }
    auto low = s.validate(YAML::Load("n: -2\n"), "c");
    ASSERT_EQ(low.errors.size(), 1u);
    EXPECT_EQ(low.errors[0].message, "must be at least -1.5 (got -2)");
}

TEST(Schema, LengthsCountCharactersNotBytes) {
    const auto s = schemaOf(
        "type: object\ndoc: x\nproperties:\n  w: {type: string, doc: w, minLength: 2, maxLength: "
        "3}\n");
    EXPECT_TRUE(s.validate(YAML::Load("w: \"åäö\"\n"), "c").ok());  // 6 bytes, 3 characters
    auto r = s.validate(YAML::Load("w: \"åäöü\"\n"), "c");
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].message, "must have at most 3 characters");
    EXPECT_EQ(s.validate(YAML::Load("w: a\n"), "c").errors.at(0).message,
              "must have at least 2 characters");
}

TEST(Schema, LongValuesAreNotRunThroughPatterns) {
    // std::regex recurses per character; a console request could otherwise crash the box.
    const auto s = schemaOf(
        "type: object\ndoc: x\nproperties:\n  code: {type: string, doc: c, pattern: "
        "\"^[A-Z]*$\"}\n");
    const std::string limit(kMaxPatternInput, 'A');
    EXPECT_TRUE(s.validateJson("{\"code\":\"" + limit + "\"}", "j").ok());
    auto r = s.validateJson("{\"code\":\"" + std::string(200000, 'A') + "\"}", "j");
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].message,
              "is too long to be checked against its pattern (at most 1024 characters)");
}

TEST(Schema, AliasExpansionIsStoppedByTheValueBudget) {
    // "Billion laughs": ten levels of ten aliases each would be 10^10 values.
    const auto s = schemaOf(
        "type: object\ndoc: x\nproperties:\n  free: {type: object, doc: f, additionalProperties: "
        "true}\n");
    std::string yaml = "free:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n";
    char prev = 'a';
    for (char c = 'b'; c <= 'j'; ++c) {
        yaml += std::string("  ") + c + ": &" + c + " [";
        for (int i = 0; i < 10; ++i) yaml += std::string(i ? ", " : "") + "*" + prev;
        yaml += "]\n";
        prev = c;
    }
    const auto start = std::chrono::steady_clock::now();
    auto r = s.validate(YAML::Load(yaml), "c.yaml");
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
    ASSERT_EQ(r.errors.size(), 1u) << errorsOf(r);
    EXPECT_NE(r.errors[0].message.find("the document is too large"), std::string::npos);
    EXPECT_EQ(r.document.size(), 0u);  // no partial document
}

TEST(Schema, AnAliasUsedInsideItselfIsAnErrorNotAStackOverflow) {
    // Found by fuzz_config: yaml-cpp turns `&a [x, *a]` into a cycle.
    const auto s = schemaOf(
        "type: object\ndoc: x\nproperties:\n  free: {type: object, doc: f, additionalProperties: "
        "true}\n"
        "  list: {type: array, doc: l}\n");
    for (const char* doc :
         {"free:\n  a: &a [x, *a]\n", "list: &l [1, *l]\n", "free: &f {a: *f}\n"}) {
        auto r = s.validate(YAML::Load(doc), "c.yaml");
        ASSERT_EQ(r.errors.size(), 1u) << doc << errorsOf(r);
        EXPECT_NE(r.errors[0].message.find("nested more than 64 levels deep"), std::string::npos)
            << r.errors[0].message;
    }
    const auto nested = [](std::size_t levels) {
        return "free: {a: " + std::string(levels, '[') + "1" + std::string(levels, ']') + "}\n";
    };
    const auto tooDeep = s.validate(YAML::Load(nested(kMaxDepth)), "c.yaml");
    ASSERT_EQ(tooDeep.errors.size(), 1u) << errorsOf(tooDeep);
    EXPECT_NE(tooDeep.errors[0].message.find("nested more than"), std::string::npos);
    EXPECT_TRUE(s.validate(YAML::Load(nested(kMaxDepth - 4)), "c.yaml").ok());
}

TEST(Schema, ASchemaThatRefersToItselfIsRefused) {
    const auto message = schemaErrorOf(
        "type: object\ndoc: x\nproperties: &p\n  a: {type: object, doc: y, properties: *p}\n");
    EXPECT_NE(message.find("nested more than 64 levels deep"), std::string::npos) << message;
    const auto cyclicDefault = schemaErrorOf(
        "type: object\ndoc: x\nproperties:\n  a: {type: array, doc: y, default: &d [*d]}\n");
    EXPECT_NE(cyclicDefault.find("the default of a is invalid"), std::string::npos)
        << cyclicDefault;
}

TEST(Schema, TooManyErrorsAreCutShort) {
    std::string yaml = "name: x\n";
    for (int i = 0; i < 500; ++i) yaml += "unknown" + std::to_string(i) + ": 1\n";
    auto r = schema().validate(YAML::Load(yaml), "c.yaml");
    ASSERT_EQ(r.errors.size(), kMaxErrors + 1);
    EXPECT_NE(r.errors.back().message.find("too many errors"), std::string::npos);
}

TEST(Schema, AdditionalPropertiesKeepsUnknownKeysAsGiven) {
    const auto s = schemaOf(
        "type: object\ndoc: x\nproperties:\n  settings: {type: object, doc: s, "
        "additionalProperties: true, default: {}}\n");
    auto r = s.validate(
        YAML::Load(
            "settings:\n  hello: {greeting: Hej, count: 3, on: true, ratio: 0.5, list: [1, a]}\n"),
        "c");
    ASSERT_TRUE(r.ok()) << errorsOf(r);
    auto hello = toJsonObject(s, r.document)->getObject("settings")->getObject("hello");
    EXPECT_EQ(hello->getValue<std::string>("greeting"), "Hej");
    EXPECT_EQ(hello->getValue<int>("count"), 3);
    EXPECT_TRUE(hello->getValue<bool>("on"));
    EXPECT_DOUBLE_EQ(hello->getValue<double>("ratio"), 0.5);
    EXPECT_EQ(hello->getArray("list")->size(), 2u);
    EXPECT_EQ(s.validate(YAML::Node(), "c").document["settings"].size(), 0u);
}

TEST(Schema, FormatsAreCheckedWhereTheyApply) {
    const auto s = schemaOf(R"(
type: object
doc: x
properties:
  pnr: {type: string, doc: p, format: personnummer}
  url: {type: string, doc: u, format: url}
  host: {type: string, doc: h, format: host}
  dir: {type: string, doc: d, format: path}
)");
    EXPECT_TRUE(s.validate(YAML::Load("pnr: \"191212121212\"\nurl: https://box.example/x\nhost: "
                                      "box.example\ndir: ./d\n"),
                           "c")
                    .ok());
    EXPECT_TRUE(s.validate(YAML::Load("pnr: \"\"\nurl: \"\"\nhost: \"\"\n"), "c")
                    .ok());  // empty means unset
    auto r = s.validate(YAML::Load("pnr: \"191212121213\"\nurl: ftp://x\nhost: \"a b\"\n"), "c");
    const auto all = errorsOf(r);
    EXPECT_NE(all.find("pnr: is not a valid personnummer (invalid-checksum)"), std::string::npos)
        << all;
    EXPECT_NE(all.find("url: must be an http:// or https:// URL"), std::string::npos) << all;
    EXPECT_NE(all.find("host: is not a host name or address"), std::string::npos) << all;
    EXPECT_EQ(r.errors.size(), 3u) << all;
    EXPECT_EQ(s.validate(YAML::Load("url: https://\n"), "c").errors.size(), 1u);
}

TEST(Schema, ADocumentThatIsNotAMappingIsAnErrorNotACrash) {
    for (const char* doc : {"- a\n- b\n", "just text\n", "42\n"}) {
        auto r = schema().validate(YAML::Load(doc), "c.yaml");
        ASSERT_FALSE(r.ok()) << doc;
        EXPECT_NE(r.errors[0].toString().find("c.yaml:1:1: expected a mapping"), std::string::npos)
            << errorsOf(r);
    }
    auto complexKey = schema().validate(YAML::Load("name: x\n? [a, b]\n: 1\n"), "c.yaml");
    EXPECT_EQ(complexKey.errors.size(), 1u) << errorsOf(complexKey);
}

TEST(Schema, MalformedSchemasAreRefused) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"type: object\n", "the root needs a doc"},
        {"type: object\ndoc: x\nproperties:\n  a: {type: strng, doc: y}\n", "a needs a type"},
        {"type: object\ndoc: x\nproperties:\n  a: {type: string, doc: y, defualt: z}\n",
         "s.yaml:4:29: schema: unknown keyword 'defualt' at a"},
        {"type: object\ndoc: x\nproperties:\n  a: {type: integer, doc: y, default: abc}\n",
         "the default of a is invalid: expected integer"},
        {"type: object\ndoc: x\nrequired: [nope]\n", "required names unknown property 'nope'"},
        {"type: object\ndoc: x\nproperties:\n  a: {type: string, doc: y, maximum: 3}\n",
         "'maximum' does not apply to string (at a)"},
        {"type: object\ndoc: x\nproperties:\n  a: {type: integer, doc: y, pattern: x}\n",
         "'pattern' does not apply to integer (at a)"},
        {"type: object\ndoc: x\nproperties:\n  a: {type: string, doc: y}\n  a: {type: string, doc: "
         "z}\n",
         "property 'a' is defined twice"},
        {"type: object\ndoc: x\nproperties:\n  a: {type: string, doc: y, doc: z}\n",
         "keyword 'doc' given twice"},
        {"type: object\ndoc: x\nproperties:\n  a: {type: string, doc: y, enum: []}\n",
         "enum must be a non-empty list"},
        {"type: object\ndoc: x\nproperties:\n  a: {type: integer, doc: y, minimum: 5, maximum: "
         "1}\n",
         "minimum is larger than maximum at a"},
        {"type: object\ndoc: x\nproperties:\n  a: {type: string, doc: y, format: email}\n",
         "unknown format 'email'"},
        {"type: object\ndoc: x\nproperties:\n  a: {type: string, doc: y, pattern: \"[\"}\n",
         "pattern is not a valid regular expression"},
        {"type: object\ndoc: x\nproperties:\n  a: {type: array, doc: y, items: {type: string}}\n",
         "a[] needs a doc"},
        {"type: object\ndoc: x\nproperties:\n  a: {type: string, doc: y, secret: yes}\n",
         "secret must be true or false"},
        {"type: object\ndoc: x\nproperties:\n  a: {type: string, doc: y}\nrequired: [a, a]\n",
         "listed twice"},
        {"type: string\ndoc: x\n", "the root must be an object"},
    };
    for (const auto& [yaml, expected] : cases) {
        const auto message = schemaErrorOf(yaml);
        EXPECT_NE(message.find(expected), std::string::npos) << yaml << "\ngot: " << message;
    }
}

TEST(Schema, MarkdownReferenceEscapesPipesAndListsFieldsOfListItems) {
    const auto s = schemaOf(R"(
type: object
doc: x
properties:
  mode: {type: string, doc: "a | b, with\na newline", enum: [a, b], default: a}
  routes:
    type: array
    doc: Routes.
    default: []
    items:
      type: object
      doc: One route.
      required: [path]
      properties:
        path: {type: string, doc: The path.}
)");
    const auto ref = renderMarkdownReference(s);
    EXPECT_NE(ref.find("| `mode` | a \\| b | `a` | a \\| b, with a newline |\n"), std::string::npos)
        << ref;
    EXPECT_NE(ref.find("| `routes` | array of object | `[]` | Routes. |\n"), std::string::npos)
        << ref;
    EXPECT_NE(ref.find("| `routes[].path` | string | required | The path. |\n"), std::string::npos)
        << ref;
}

TEST(Schema, TheBoxSchemaTurnsAnEmptyFileIntoFullDefaults) {
    const auto s = Schema::fromYamlFile(boxSchemaPath());
    auto r = s.validate(YAML::Node(), "empty.yaml");
    ASSERT_TRUE(r.ok()) << errorsOf(r);
    const std::map<std::string, std::string> expected = {
        {"box.mode", "development"},
        {"box.name", "Klinikbox"},
        {"box.hsa_id", ""},
        {"box.data_dir", "./data"},
        {"box.clock_start", ""},
        {"box.timezone", "Europe/Stockholm"},
        {"server.listen", "127.0.0.1"},
        {"server.port", "8443"},
        {"server.tls.enabled", "true"},
        {"server.tls.cert_file", ""},
        {"server.tls.key_file", ""},
        {"server.max_body_bytes", "1048576"},
        {"server.threads", "16"},
        {"server.max_queued", "100"},
        {"server.drain_seconds", "10"},
        {"server.public_url", ""},
        {"database.path", ""},
        {"database.synchronous", "full"},
        {"database.busy_timeout_ms", "5000"},
        {"database.cache_kib", "128"},
        {"database.idle_connections", "4"},
        {"database.statement_cache", "32"},
        {"memory.malloc_arenas", "2"},
        {"memory.trim_threshold_kib", "1024"},
        {"memory.mmap_threshold_kib", "1024"},
        {"memory.password_hashes_at_once", "2"},
        {"logging.level", "information"},
        {"logging.access_log", "true"},
        {"logging.file", ""},
        {"plugins.set", "./plugins"},
        {"plugins.trust_dir", ""},
        {"region.subscription.activate", "region"},
        {"region.subscription.poll_minutes", "60"},
        {"region.subscription.url", ""},
        {"plugins.grace_days", "14"},
        {"plugins.max_set_mib", "64"},
        {"outbox.workers", "2"},
        {"outbox.max_attempts", "12"},
        {"outbox.base_delay_ms", "1000"},
        {"outbox.max_delay_ms", "3600000"},
        {"outbox.poll_interval_ms", "500"},
        {"lua.scripts_dir", ""},
        {"lua.memory_limit_bytes", "16777216"},
        {"lua.instruction_limit", "10000000"},
        {"lua.time_limit_ms", "200"},
        {"security.session_idle_minutes", "30"},
        {"security.session_absolute_hours", "10"},
        {"security.login_max_failures", "5"},
        {"security.login_lockout_minutes", "15"},
        {"security.password_hash_log2n", "16"},
        {"producer.enabled", "false"},
        {"producer.listen", "127.0.0.1"},
        {"producer.port", "8444"},
        {"producer.cert_file", ""},
        {"producer.key_file", ""},
        {"producer.client_ca_file", ""},
        {"producer.max_body_bytes", "16777216"},
        {"server.monitoring.access", "loopback"},
        {"server.monitoring.scrape_token", ""},
        {"server.slow_clients.body_timeout_ms", "30000"},
        {"server.slow_clients.grace_ms", "1000"},
        {"server.slow_clients.header_timeout_ms", "10000"},
        {"server.slow_clients.keep_alive_ms", "5000"},
        {"server.slow_clients.max_workers_per_address", "8"},
        {"server.slow_clients.reserve_workers", "4"},
        {"server.tls.names", ""},
    };
    // Every leaf of the defaulted document, so a new setting without a test entry is noticed.
    std::map<std::string, std::string> leaves;
    for (const auto& section : r.document)
        for (const auto& kv : section.second) {
            const auto key = section.first.Scalar() + "." + kv.first.Scalar();
            if (kv.second.IsMap() && key != "plugins.settings") {
                for (const auto& inner : kv.second)
                    leaves[key + "." + inner.first.Scalar()] = inner.second.Scalar();
            } else if (kv.second.IsScalar()) {
                leaves[key] = kv.second.Scalar();
            }
        }
    EXPECT_EQ(leaves, expected);
    // Name the difference (the maps above are printed truncated).
    for (const auto& [k, v] : leaves)
        if (!expected.count(k) || expected.at(k) != v) ADD_FAILURE() << "leaf not expected: " << k << " = " << v;
    for (const auto& [k, v] : expected)
        if (!leaves.count(k)) ADD_FAILURE() << "expected leaf missing: " << k;
    EXPECT_TRUE(r.document["plugins"]["settings"].IsMap());
    EXPECT_EQ(r.document["plugins"]["settings"].size(), 0u);

    const auto ref = renderMarkdownReference(s);
    for (const auto& [key, value] : expected)
        EXPECT_NE(ref.find("| `" + key + "` |"), std::string::npos) << key;
}

TEST(Schema, TheBoxSchemaRefusesOutOfRangeSettings) {
    const auto s = Schema::fromYamlFile(boxSchemaPath());
    const std::vector<std::string> bad = {
        "server: {port: 65536}",
        "server: {port: -1}",
        "server: {threads: 1}",
        "server: {threads: 257}",
        "server: {max_body_bytes: 1023}",
        "outbox: {workers: 17}",
        "outbox: {workers: 0}",
        "box: {mode: test}",
        "database: {synchronous: off}",
        "database: {cache_kib: 63}",
        "database: {idle_connections: 65}",
        "memory: {malloc_arenas: -1}",
        "logging: {level: trace}",
        "server: {tls: {enabled: 1}}",
        "plugins: {settings: [a]}",
        "lua: {memory_limit_bytes: 1024}",
        "server: {prot: 1}",
        "server: {public_url: box.example}",
    };
    for (const auto& doc : bad)
        EXPECT_EQ(s.validate(YAML::Load(doc), "c").errors.size(), 1u) << doc;
    auto ephemeral = s.validate(
        YAML::Load("server: {port: 0}\nplugins: {settings: {hello: {greeting: Hej}}}"), "c");
    EXPECT_TRUE(ephemeral.ok()) << errorsOf(ephemeral);
    EXPECT_EQ(ephemeral.document["plugins"]["settings"]["hello"]["greeting"].as<std::string>(),
              "Hej");
}

TEST(Schema, TheShippedExampleConfigurationIsValid) {
    const auto config = std::string(KB_SOURCE_DIR) + "/config/klinikbox.yaml";
    if (!std::filesystem::exists(config)) GTEST_SKIP() << config << " does not exist yet";
    const auto s = Schema::fromYamlFile(boxSchemaPath());
    auto r = s.validate(YAML::LoadFile(config), "klinikbox.yaml");
    EXPECT_TRUE(r.ok()) << errorsOf(r);
}

TEST(Schema, OperationsGuideCarriesTheCurrentConfigurationReference) {
    std::ifstream in(std::string(KB_SOURCE_DIR) + "/docs/operations.md");
    std::stringstream ss;
    ss << in.rdbuf();
    const auto doc = ss.str();
    const std::string begin = "<!-- config-reference:begin -->\n",
                      end = "<!-- config-reference:end -->";
    const auto b = doc.find(begin), e = doc.find(end);
    ASSERT_NE(b, std::string::npos);
    ASSERT_NE(e, std::string::npos);
    const auto s = Schema::fromYamlFile(boxSchemaPath());
    EXPECT_EQ(doc.substr(b + begin.size(), e - b - begin.size()), renderMarkdownReference(s))
        << "regenerate with: klinikbox config reference";
}

// The console's settings form labels a field with its label_sv and helps with its doc_sv;
// without them it shows the raw key (`horizon_days`). Every setting of every shipped plugin,
// at any depth, has both (until 2026-12-08 only check-in's had them, and not all).
namespace {
void collectUnlabelled(const YAML::Node& node, const std::string& path, std::vector<std::string>& out) {
    if (!node.IsMap()) return;
    if (const auto props = node["properties"]; props && props.IsMap())
        for (const auto& kv : props) {
            const std::string name = path + "." + kv.first.as<std::string>();
            const auto& p = kv.second;
            if (!p["label_sv"] || !p["doc_sv"]) out.push_back(name);
            collectUnlabelled(p, name, out);
        }
    if (const auto items = node["items"]; items && items.IsMap()) {
        if (items["properties"] || items["type"].as<std::string>("") == "object") collectUnlabelled(items, path + "[]", out);
    }
}
}  // namespace

TEST(Schema, EveryShippedPluginSettingHasASwedishLabelAndHelp) {
    std::vector<std::string> unlabelled;
    int files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(std::string(KB_SOURCE_DIR) + "/plugins")) {
        const auto file = entry.path() / "schema.yaml";
        if (!std::filesystem::exists(file)) continue;
        ++files;
        collectUnlabelled(YAML::LoadFile(file.string()), entry.path().filename().string(), unlabelled);
    }
    EXPECT_GE(files, 8);
    EXPECT_TRUE(unlabelled.empty()) << [&] {
        std::string s;
        for (const auto& u : unlabelled) s += u + "\n";
        return s;
    }();
}
