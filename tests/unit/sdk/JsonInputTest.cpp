// JsonInput: strict fields, and text limits counted in characters, not UTF-8 bytes.
#include <klinikbox/JsonInput.h>

#include <Poco/JSON/Parser.h>

#include <gtest/gtest.h>

using namespace klinikbox;

namespace {
Poco::JSON::Object::Ptr parse(const std::string& s) {
    return Poco::JSON::Parser().parse(s).extract<Poco::JSON::Object::Ptr>();
}
}  // namespace

TEST(JsonInput, TextLimitsCountCharactersNotBytes) {
    EXPECT_EQ(JsonInput::utf8Length("Läkarbesök"), 10u);
    EXPECT_EQ(JsonInput::utf8Length("\xF0\x9F\x98\x80"), 1u) << "a four-byte character is one";
    // "Läkarbesök" is 12 bytes: a limit of 10 characters takes it.
    JsonInput in(parse(R"({"name":"Läkarbesök","long":"ÅÅÅÅÅÅÅÅÅÅÅ"})"), {"name", "long"});
    EXPECT_EQ(in.str("name", 10), "Läkarbesök");
    EXPECT_THROW((void)in.str("name", 9), Problem);
    EXPECT_EQ(in.str("long", 11), "ÅÅÅÅÅÅÅÅÅÅÅ");
    try {
        (void)in.str("long", 10);
        FAIL() << "11 characters over a limit of 10";
    } catch (const Problem& p) {
        EXPECT_EQ(p.status(), 400);
    }
}

TEST(JsonInput, UnknownFieldsAreRefused) {
    EXPECT_THROW(JsonInput(parse(R"({"name":"x","extra":1})"), {"name"}), Problem);
}
