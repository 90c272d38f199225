#include <klinikbox/Secrets.h>

#include <gtest/gtest.h>

#include <set>

using namespace klinikbox;

TEST(SdkSecrets, Sha256MatchesTheStandardVectors) {
    EXPECT_EQ(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(SdkSecrets, TokensAreUrlSafeOfTheRightLengthAndDoNotRepeat) {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        const auto t = randomToken();
        EXPECT_EQ(t.size(), 43u);  // 256 bits in base64url without padding
        EXPECT_EQ(t.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), std::string::npos);
        EXPECT_TRUE(seen.insert(t).second);
    }
    EXPECT_EQ(randomToken(24).size(), 32u);
    EXPECT_THROW((void)randomToken(0), std::runtime_error);
}
