// HSA-id: the national directory identifier of staff, care units and systems
// (SE + organisation number + '-' + a local part).
#include <klinikbox/HsaId.h>

#include <gtest/gtest.h>

#include <string>

using namespace klinikbox;

namespace {

std::string id(std::size_t orgDigits, const std::string& local) {
    std::string s = "SE";
    for (std::size_t i = 0; i < orgDigits; ++i) s.push_back(static_cast<char>('0' + (i + 2) % 10));
    return s + "-" + local;
}

}  // namespace

TEST(HsaId, OrganisationNumberHasTenToTwelveDigits) {
    EXPECT_FALSE(HsaId::parse(id(9, "A")));
    EXPECT_TRUE(HsaId::parse(id(10, "A")));
    EXPECT_TRUE(HsaId::parse(id(11, "A")));
    EXPECT_TRUE(HsaId::parse(id(12, "A")));
    EXPECT_FALSE(HsaId::parse(id(13, "A")));
}

TEST(HsaId, AtMostThirtyOneCharactersInAll) {
    const std::string longest = id(12, std::string(16, 'X'));
    ASSERT_EQ(longest.size(), 31u);
    EXPECT_TRUE(HsaId::parse(longest));
    EXPECT_FALSE(HsaId::parse(id(12, std::string(17, 'X'))));
    EXPECT_FALSE(
        HsaId::parse(id(10, std::string(19, 'X'))));  // 32 with a short organisation number
}

TEST(HsaId, LocalPartIsAsciiLettersAndDigitsOnly) {
    EXPECT_TRUE(HsaId::parse("SE2321000016-abcXYZ019"));
    for (const char* s : {"SE2321000016-AB-CD", "SE2321000016-AB CD", "SE2321000016-\xc3\xa5",
                          "SE2321000016-A.B", "SE2321000016--A", "SE2321000016-A\n"}) {
        EXPECT_FALSE(HsaId::parse(s)) << s;
    }
}

TEST(HsaId, IsNotTrimmedOrCaseFolded) {
    // An HSA-id is compared byte for byte in RIV-TA messages: only the exact form is valid.
    for (const char* s :
         {" SE2321000016-7P5Z", "SE2321000016-7P5Z ", "Se2321000016-7P5Z", "sE2321000016-7P5Z"}) {
        EXPECT_FALSE(HsaId::parse(s)) << s;
    }
}

TEST(HsaId, EmbeddedNulCharacterIsRefused) {
    const std::string withNul("SE2321000016-7P\0Z", 17);
    EXPECT_FALSE(HsaId::parse(withNul));
}

TEST(HsaId, EqualityComparesTheWholeId) {
    EXPECT_EQ(*HsaId::parse("SE2321000016-7P5Z"), *HsaId::parse("SE2321000016-7P5Z"));
    EXPECT_FALSE(*HsaId::parse("SE2321000016-7P5Z") == *HsaId::parse("SE2321000016-7p5z"));
}
