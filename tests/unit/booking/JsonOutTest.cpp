#include "JsonOut.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <gtest/gtest.h>

#include <limits>

using namespace booking;

namespace {
Poco::JSON::Object::Ptr parse(const std::string& text) {
    return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
}
}  // namespace

TEST(BookingJsonOut, EscapesQuotesBackslashesAndControlCharacters) {
    std::string s;
    JsonOut::appendString(s, std::string("a\"b\\c\n\r\t\b\f\x01\x1f", 12));
    EXPECT_EQ(s, R"("a\"b\\c\n\r\t\b\f\u0001\u001f")");
}

TEST(BookingJsonOut, PassesUtf8AndSlashesThroughAndKeepsNulBytes) {
    std::string s;
    JsonOut::appendString(s, std::string("Vårdcentral Åre/Ö\0x", 22));
    EXPECT_EQ(s, std::string("\"Vårdcentral Åre/Ö\\u0000x\""));
}

TEST(BookingJsonOut, WritesNestedObjectsAndArraysThatParseBack) {
    const std::string tricky = "Dr. \"Ödmjuk\" \\ Läkare\n\x7f";
    JsonOut o;
    o.beginObject().field("days", 1).field("name", tricky).field("free", true).field("none", false);
    o.key("slots").beginArray();
    for (int i = 0; i < 3; ++i) o.beginObject().field("slot_id", 9'000'000'000'000LL + i).field("status", "free").endObject();
    o.endArray();
    o.key("empty").beginArray().endArray();
    o.key("inner").beginObject().endObject();
    o.endObject();
    const auto p = parse(o.str());
    EXPECT_EQ(p->getValue<int>("days"), 1);
    EXPECT_EQ(p->getValue<std::string>("name"), tricky);
    EXPECT_TRUE(p->getValue<bool>("free"));
    EXPECT_FALSE(p->getValue<bool>("none"));
    const auto slots = p->getArray("slots");
    ASSERT_EQ(slots->size(), 3u);
    EXPECT_EQ(slots->getObject(2)->getValue<long long>("slot_id"), 9'000'000'000'002LL);
    EXPECT_EQ(slots->getObject(1)->getValue<std::string>("status"), "free");
    EXPECT_EQ(p->getArray("empty")->size(), 0u);
    EXPECT_EQ(p->getObject("inner")->size(), 0u);
}

TEST(BookingJsonOut, WritesNegativeAndExtremeIntegers) {
    JsonOut o;
    o.beginArray().value(-1).value(0LL).value(std::numeric_limits<long long>::min()).endArray();
    EXPECT_EQ(o.str(), "[-1,0,-9223372036854775808]");
}
