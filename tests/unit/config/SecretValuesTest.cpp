// Secrets are write-only at any depth: masked on the way out, a mask coming back keeps the
// stored value (issue 14.1: nested secrets such as video's jitsi.app_secret were returned in clear).
#include "config/Schema.h"
#include "config/SecretValues.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include <gtest/gtest.h>

#include <sstream>

using namespace klinikbox::config;
using Poco::JSON::Object;

namespace {

const char* kSecretsSchema = R"(
type: object
doc: s
properties:
  name: {type: string, doc: n}
  token: {type: string, doc: t, secret: true}
  jitsi:
    type: object
    doc: j
    properties:
      server_url: {type: string, doc: u}
      app_secret: {type: string, doc: a, secret: true}
  gateways:
    type: array
    doc: g
    items:
      type: object
      doc: one
      properties:
        url: {type: string, doc: u}
        password: {type: string, doc: p, secret: true}
  vault:
    type: object
    doc: everything inside is secret
    secret: true
    properties:
      key: {type: string, doc: k}
      pin: {type: integer, doc: p}
)";

Object::Ptr json(const std::string& text) { return Poco::JSON::Parser().parse(text).extract<Object::Ptr>(); }

std::string str(const Object::Ptr& o) {
    std::ostringstream os;
    Poco::JSON::Stringifier::stringify(o, os);
    return os.str();
}

Object::Ptr schemaJson() { return Schema::fromYaml(YAML::Load(kSecretsSchema), "s.yaml").toJson(); }

const char* kStored = R"({"name":"Kliniken","token":"top-level-secret","jitsi":{"server_url":"https://meet","app_secret":"nested-secret"},
 "gateways":[{"url":"https://a","password":"pw-a"},{"url":"https://b","password":""}],"vault":{"key":"vault-key","pin":1234}})";

}  // namespace

TEST(SecretValues, SecretsAtEveryDepthAreMaskedAndOthersAreNot) {
    const auto shown = str(maskSecrets(schemaJson(), json(kStored)));
    for (const char* secret : {"top-level-secret", "nested-secret", "pw-a", "vault-key", "1234"})
        EXPECT_EQ(shown.find(secret), std::string::npos) << secret << " leaked in " << shown;
    EXPECT_NE(shown.find("Kliniken"), std::string::npos);
    EXPECT_NE(shown.find("https://meet"), std::string::npos);
    EXPECT_NE(shown.find("https://b"), std::string::npos);
    // An empty secret stays empty, so the form can say that none is set.
    EXPECT_NE(shown.find(R"("password":"")"), std::string::npos);
}

TEST(SecretValues, AMaskSentBackKeepsTheStoredValueAtItsPath) {
    const auto schema = schemaJson();
    auto incoming = maskSecrets(schema, json(kStored));
    incoming->getObject("jitsi")->set("server_url", "https://meet2");
    restoreMaskedSecrets(schema, incoming, json(kStored));
    EXPECT_EQ(incoming->getObject("jitsi")->getValue<std::string>("app_secret"), "nested-secret");
    EXPECT_EQ(incoming->getObject("jitsi")->getValue<std::string>("server_url"), "https://meet2");
    EXPECT_EQ(incoming->getValue<std::string>("token"), "top-level-secret");
    EXPECT_EQ(incoming->getArray("gateways")->getObject(0)->getValue<std::string>("password"), "pw-a");
    EXPECT_EQ(incoming->getObject("vault")->getValue<int>("pin"), 1234);
}

TEST(SecretValues, ANewValueReplacesTheSecretAndAMaskWithNothingStoredIsDropped) {
    const auto schema = schemaJson();
    auto incoming = json(R"({"jitsi":{"app_secret":"changed"},"token":"********","gateways":[{"url":"x","password":"********"}]})");
    restoreMaskedSecrets(schema, incoming, nullptr);
    EXPECT_EQ(incoming->getObject("jitsi")->getValue<std::string>("app_secret"), "changed");
    EXPECT_FALSE(incoming->has("token"));
    EXPECT_FALSE(incoming->getArray("gateways")->getObject(0)->has("password"));
}

TEST(SecretValues, AMaskInANonSecretFieldIsJustText) {
    const auto schema = schemaJson();
    auto incoming = json(R"({"name":"********"})");
    restoreMaskedSecrets(schema, incoming, json(kStored));
    EXPECT_EQ(incoming->getValue<std::string>("name"), "********");
}
