// The plugin's own join tokens: what a valid one looks like, and every way one is refused.
#include "Crypto.h"
#include "JoinTokens.h"

#include <gtest/gtest.h>

#include <set>

using namespace klinikbox::video;
using std::chrono::seconds;
using std::chrono::system_clock;

namespace {

const std::string kKey(32, 'k');
constexpr long long kNbf = 1'800'000'000;  // some time in 2027
constexpr long long kExp = kNbf + 3600;

system_clock::time_point at(long long s) { return system_clock::time_point(seconds(s)); }

JoinClaims claims(JoinRole role = JoinRole::Patient) { return JoinClaims{"42", role, std::string(32, 'a'), 3, kNbf, kExp}; }

std::string payloadOf(const std::string& token) {
    const auto first = token.find('.'), last = token.rfind('.');
    std::string json;
    EXPECT_TRUE(base64UrlDecode(token.substr(first + 1, last - first - 1), json));
    return json;
}

}  // namespace

TEST(VideoTokens, SignedTokenVerifiesInsideItsWindowWithAllClaims) {
    JoinTokens t(kKey);
    const auto tok = t.sign(claims());
    const auto c = t.verify(tok, JoinRole::Patient, at(kNbf + 10));
    ASSERT_TRUE(c.claims) << toString(*c.error);
    EXPECT_EQ(c.claims->bookingId, "42");
    EXPECT_EQ(c.claims->room, std::string(32, 'a'));
    EXPECT_EQ(c.claims->generation, 3);
    EXPECT_EQ(c.claims->notBefore, kNbf);
    EXPECT_EQ(c.claims->expires, kExp);
    EXPECT_EQ(tok.rfind("v1.", 0), 0u);
    // The first and last second of the window.
    EXPECT_TRUE(t.verify(tok, JoinRole::Patient, at(kNbf)).claims);
    EXPECT_TRUE(t.verify(tok, JoinRole::Patient, at(kExp - 1)).claims);
}

TEST(VideoTokens, ChangedClaimsAreRefusedAsBadSignature) {
    JoinTokens t(kKey);
    const auto tok = t.sign(claims());
    std::string json = payloadOf(tok);
    const auto pos = json.find("\"42\"");
    ASSERT_NE(pos, std::string::npos);
    json.replace(pos, 4, "\"43\"");  // someone else's booking
    const std::string forged = "v1." + base64UrlEncode(json) + tok.substr(tok.rfind('.'));
    EXPECT_EQ(t.verify(forged, JoinRole::Patient, at(kNbf + 1)).error, TokenError::BadSignature);
}

TEST(VideoTokens, ChangedSignatureOrOtherKeyIsRefused) {
    JoinTokens t(kKey);
    auto tok = t.sign(claims());
    std::string flipped = tok;
    flipped[flipped.size() - 2] = flipped[flipped.size() - 2] == 'A' ? 'B' : 'A';
    EXPECT_EQ(t.verify(flipped, JoinRole::Patient, at(kNbf + 1)).error, TokenError::BadSignature);
    JoinTokens other(std::string(32, 'x'));
    EXPECT_EQ(other.verify(tok, JoinRole::Patient, at(kNbf + 1)).error, TokenError::BadSignature);
    EXPECT_THROW(JoinTokens(std::string(31, 'k')), std::invalid_argument);
}

TEST(VideoTokens, ExpiredTokenIsRefused) {
    JoinTokens t(kKey);
    const auto tok = t.sign(claims());
    EXPECT_EQ(t.verify(tok, JoinRole::Patient, at(kExp)).error, TokenError::Expired);
    EXPECT_EQ(t.verify(tok, JoinRole::Patient, at(kExp + 86400)).error, TokenError::Expired);
}

TEST(VideoTokens, TokenBeforeItsWindowIsRefused) {
    JoinTokens t(kKey);
    const auto tok = t.sign(claims());
    EXPECT_EQ(t.verify(tok, JoinRole::Patient, at(kNbf - 1)).error, TokenError::NotYetValid);
}

TEST(VideoTokens, PatientAndPractitionerTokensAreNotInterchangeable) {
    JoinTokens t(kKey);
    EXPECT_EQ(t.verify(t.sign(claims(JoinRole::Patient)), JoinRole::Practitioner, at(kNbf + 1)).error, TokenError::WrongRole);
    EXPECT_EQ(t.verify(t.sign(claims(JoinRole::Practitioner)), JoinRole::Patient, at(kNbf + 1)).error, TokenError::WrongRole);
    EXPECT_TRUE(t.verify(t.sign(claims(JoinRole::Practitioner)), JoinRole::Practitioner, at(kNbf + 1)).claims);
}

TEST(VideoTokens, CorrectlySignedTokenForAnotherAudienceIsRefused) {
    JoinTokens t(kKey);
    const auto tok = t.signRaw(R"({"aud":"jitsi","bid":"42","role":"patient","room":"r","gen":1,"nbf":0,"exp":9999999999})");
    EXPECT_EQ(t.verify(tok, JoinRole::Patient, at(kNbf)).error, TokenError::WrongAudience);
}

TEST(VideoTokens, MalformedTokensAreRefusedWithoutThrowing) {
    JoinTokens t(kKey);
    const auto good = t.sign(claims());
    for (const std::string& bad : {std::string(), std::string("v1."), std::string("v1.."), std::string("abc"),
                                   std::string("v2") + good.substr(2), std::string("v1.!!!.") + good.substr(good.rfind('.') + 1),
                                   good + "=", std::string(2000, 'a'), t.signRaw("[1,2]"), t.signRaw("not json"),
                                   t.signRaw(R"({"aud":"klinikbox-video","role":"patient"})"),
                                   t.signRaw(R"({"aud":"klinikbox-video","bid":"1","role":"patient","room":"r","gen":1,"nbf":"x","exp":1})")}) {
        const auto c = t.verify(bad, JoinRole::Patient, at(kNbf + 1));
        EXPECT_FALSE(c.claims) << bad;
        ASSERT_TRUE(c.error) << bad;
        EXPECT_TRUE(*c.error == TokenError::Malformed || *c.error == TokenError::BadSignature) << bad;
    }
    EXPECT_EQ(t.verify(t.signRaw("not json"), JoinRole::Patient, at(kNbf)).error, TokenError::Malformed);
}

TEST(VideoCrypto, Base64UrlRoundTripsAndRefusesForeignOrNonCanonicalText) {
    for (std::size_t n = 0; n < 40; ++n) {
        const auto bytes = randomBytes(n);
        const auto enc = base64UrlEncode(bytes);
        EXPECT_EQ(enc.find_first_of("+/="), std::string::npos);
        std::string dec;
        ASSERT_TRUE(base64UrlDecode(enc, dec));
        EXPECT_EQ(dec, bytes);
    }
    EXPECT_EQ(base64UrlEncode("\xfb\xff"), "-_8");
    std::string out;
    EXPECT_FALSE(base64UrlDecode("ab+c", out));
    EXPECT_FALSE(base64UrlDecode("a", out));
    EXPECT_FALSE(base64UrlDecode("-_9", out));  // non-zero left-over bits
}

TEST(VideoCrypto, RandomRoomIdsAreLongAndDistinct) {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        const auto id = randomHex(16);
        EXPECT_EQ(id.size(), 32u);
        seen.insert(id);
    }
    EXPECT_EQ(seen.size(), 1000u);
}
