// JsonInput: strict fields, and text limits counted in characters, not UTF-8 bytes; the
// request body's parse refuses a member named twice.
#include <klinikbox/Http.h>
#include <klinikbox/JsonInput.h>

#include <Poco/JSON/Parser.h>

#include <gtest/gtest.h>

#include <functional>

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

namespace {
Request jsonRequest(std::string body) {
    Request r;
    r.method = "POST";
    r.headers["content-type"] = "application/json";
    r.body = std::move(body);
    return r;
}
std::string problemType(const std::function<void()>& f) {
    try {
        f();
    } catch (const Problem& p) {
        EXPECT_EQ(p.status(), 400);
        return p.type();
    }
    return "no problem";
}
}  // namespace

// A member named twice is refused at any depth: parsers disagree on which value counts.
TEST(RequestBody, AMemberNamedTwiceInOneObjectIsRefused) {
    EXPECT_EQ(problemType([] { (void)jsonRequest(R"({"slot_id":1,"patient":"x","slot_id":2})").json(); }),
              "/problems/duplicate-field");
    EXPECT_EQ(problemType([] { (void)jsonRequest(R"({"a":{"b":1,"b":1}})").json(); }), "/problems/duplicate-field");
    EXPECT_EQ(problemType([] { (void)jsonRequest(R"({"a":[{"b":1},{"c":1,"c":2}]})").json(); }),
              "/problems/duplicate-field");
    EXPECT_EQ(problemType([] { jsonRequest(R"({"a":1,"a":1})").noBody(); }), "/problems/duplicate-field");
    // The same name in different objects, or after an array closed, is not a duplicate.
    const auto ok = jsonRequest(R"({"a":{"b":1},"c":{"b":2},"d":[{"b":3},{"b":4}],"b":5})").json();
    EXPECT_EQ(ok->getObject("c")->getValue<int>("b"), 2);
    EXPECT_EQ(ok->getValue<int>("b"), 5);
    // The parser is fresh per body: a refusal leaves nothing behind for the next one.
    EXPECT_EQ(jsonRequest(R"({"slot_id":1})").json()->getValue<int>("slot_id"), 1);
    EXPECT_EQ(problemType([] { (void)jsonRequest(R"({"x":)").json(); }), "/problems/malformed-json");
}

// A wide object (past the handler's linear search, into its hash set) is checked the same:
// a duplicate of an early or a late member is refused, as many distinct ones pass.
TEST(RequestBody, AWideObjectIsCheckedForDuplicatesToo) {
    auto wide = [](int n, const std::string& extra) {
        std::string s = "{";
        for (int i = 0; i < n; ++i) s += (i ? "," : "") + std::string("\"k") + std::to_string(i) + "\":" + std::to_string(i);
        return s + extra + "}";
    };
    EXPECT_EQ(jsonRequest(wide(1000, "")).json()->size(), 1000u);
    for (const char* dup : {",\"k3\":0", ",\"k15\":0", ",\"k16\":0", ",\"k999\":0"})
        EXPECT_EQ(problemType([&] { (void)jsonRequest(wide(1000, dup)).json(); }), "/problems/duplicate-field") << dup;
    EXPECT_EQ(problemType([&] { (void)jsonRequest(wide(10, ",\"k9\":0")).json(); }), "/problems/duplicate-field");
}
