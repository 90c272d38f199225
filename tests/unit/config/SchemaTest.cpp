#include "config/Schema.h"

#include <gtest/gtest.h>

#include <fstream>
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

Schema schema() { return Schema::fromYaml(YAML::Load(kSchema), "test-schema.yaml"); }

std::string errorsOf(const ValidationResult& r) {
    std::string s;
    for (const auto& e : r.errors) s += e.toString() + "\n";
    return s;
}

}  // namespace

TEST(Schema, DefaultsAreFilledInNestedObjects) {
    auto r = schema().validate(YAML::Load("name: x\n"), "c.yaml");
    ASSERT_TRUE(r.ok()) << errorsOf(r);
    EXPECT_EQ(r.document["port"].as<int>(), 8443);
    EXPECT_EQ(r.document["nested"]["flag"].as<bool>(), true);
    EXPECT_EQ(r.document["nested"]["code"].as<std::string>(), "ABC");
}

TEST(Schema, UnknownKeyIsRefusedWithLineColumnAndSuggestion) {
    auto r = schema().validate(YAML::Load("name: x\nprot: 80\n"), "c.yaml");
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].toString(), "c.yaml:2:1: prot: unknown key 'prot' (did you mean 'port'?)");
}

TEST(Schema, WrongTypesAndRangesNameTheExpectedType) {
    auto r = schema().validate(YAML::Load("name: x\nport: eighty\nnested:\n  flag: yes\nlist: [1, two]\n"), "c.yaml");
    const auto all = errorsOf(r);
    EXPECT_NE(all.find("c.yaml:2:7: port: expected integer, got 'eighty'"), std::string::npos) << all;
    EXPECT_NE(all.find("nested.flag: expected true or false"), std::string::npos) << all;
    EXPECT_NE(all.find("list[1]: expected integer"), std::string::npos) << all;
    auto r2 = schema().validate(YAML::Load("name: x\nport: 70000\n"), "c.yaml");
    EXPECT_NE(errorsOf(r2).find("must be at most 65535"), std::string::npos);
}

TEST(Schema, MissingRequiredEnumPatternAndFormatAreReported) {
    auto r = schema().validate(YAML::Load("mode: test\nunit: SE123\nnested:\n  code: abc\n"), "c.yaml");
    const auto all = errorsOf(r);
    EXPECT_NE(all.find("missing required string 'name'"), std::string::npos) << all;
    EXPECT_NE(all.find("must be one of: development, production"), std::string::npos) << all;
    EXPECT_NE(all.find("unit: is not an HSA-id"), std::string::npos) << all;
    EXPECT_NE(all.find("nested.code: must match"), std::string::npos) << all;
    EXPECT_EQ(r.errors.size(), 4u) << all;
}

TEST(Schema, SecretValuesNeverAppearInErrors) {
    auto r = schema().validate(YAML::Load("name: x\npassword: [hunter2]\n"), "c.yaml");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(errorsOf(r).find("hunter2"), std::string::npos);
    EXPECT_EQ(renderMarkdownReference(schema()).find("hunter2"), std::string::npos);
}

TEST(Schema, JsonInputIsTypedStrictly) {
    auto ok = schema().validateJson(R"({"name":"x","port":80,"nested":{"flag":false}})", "j");
    EXPECT_TRUE(ok.ok()) << errorsOf(ok);
    auto bad = schema().validateJson(R"({"name":5,"port":"80"})", "j");
    EXPECT_EQ(bad.errors.size(), 2u) << errorsOf(bad);
    auto broken = schema().validateJson(R"({"name": )", "j");
    ASSERT_EQ(broken.errors.size(), 1u);
    EXPECT_NE(broken.errors[0].message.find("not valid JSON"), std::string::npos);
    auto json = toJsonObject(schema(), ok.document);
    EXPECT_EQ(json->getValue<int>("port"), 80);
    EXPECT_FALSE(json->getObject("nested")->getValue<bool>("flag"));
}

TEST(Schema, MalformedSchemasAreRefused) {
    for (const char* bad : {"type: object\n",                                                // no doc
                            "type: object\ndoc: x\nproperties:\n  a: {type: strng, doc: y}\n",  // bad type
                            "type: object\ndoc: x\nproperties:\n  a: {type: string, doc: y, defualt: z}\n",
                            "type: object\ndoc: x\nproperties:\n  a: {type: integer, doc: y, default: abc}\n",
                            "type: object\ndoc: x\nrequired: [nope]\n"}) {
        EXPECT_THROW(Schema::fromYaml(YAML::Load(bad), "s.yaml"), std::invalid_argument) << bad;
    }
}

TEST(Schema, TheBoxSchemaTurnsAnEmptyFileIntoFullDefaults) {
    const auto s = Schema::fromYamlFile(std::string(KB_SOURCE_DIR) + "/config/schema.yaml");
    auto r = s.validate(YAML::Node(), "empty.yaml");
    ASSERT_TRUE(r.ok()) << errorsOf(r);
    EXPECT_EQ(r.document["server"]["port"].as<int>(), 8443);
    EXPECT_EQ(r.document["box"]["mode"].as<std::string>(), "development");
    EXPECT_TRUE(r.document["server"]["tls"]["enabled"].as<bool>());
    const auto ref = renderMarkdownReference(s);
    for (const char* key : {"`box.mode`", "`server.tls.cert_file`", "`outbox.max_attempts`", "`security.session_idle_minutes`"})
        EXPECT_NE(ref.find(key), std::string::npos) << key;
}

TEST(Schema, TheShippedExampleConfigurationIsValid) {
    const auto s = Schema::fromYamlFile(std::string(KB_SOURCE_DIR) + "/config/schema.yaml");
    auto r = s.validate(YAML::LoadFile(std::string(KB_SOURCE_DIR) + "/config/klinikbox.yaml"), "klinikbox.yaml");
    EXPECT_TRUE(r.ok()) << errorsOf(r);
}

TEST(Schema, OperationsGuideCarriesTheCurrentConfigurationReference) {
    std::ifstream in(std::string(KB_SOURCE_DIR) + "/docs/operations.md");
    std::stringstream ss;
    ss << in.rdbuf();
    const auto doc = ss.str();
    const std::string begin = "<!-- config-reference:begin -->\n", end = "<!-- config-reference:end -->";
    const auto b = doc.find(begin), e = doc.find(end);
    ASSERT_NE(b, std::string::npos);
    ASSERT_NE(e, std::string::npos);
    const auto s = Schema::fromYamlFile(std::string(KB_SOURCE_DIR) + "/config/schema.yaml");
    EXPECT_EQ(doc.substr(b + begin.size(), e - b - begin.size()), renderMarkdownReference(s))
        << "regenerate with: klinikbox config reference";
}
