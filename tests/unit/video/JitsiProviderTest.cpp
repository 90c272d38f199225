// The Jitsi JWT: decoded and checked claim by claim, and its signature checked by an
// independent HS256 implementation (Poco::JWT), which also refuses it under another secret.
#include "JitsiProvider.h"

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JWT/Signer.h>

#include <gtest/gtest.h>

#include <sstream>

using namespace klinikbox::video;
using std::chrono::seconds;
using std::chrono::system_clock;

namespace {

const std::string kSecret = "a-jitsi-secret-that-is-long-enough-1234";

Poco::JSON::Object::Ptr decodePart(const std::string& part) {
    std::istringstream in(part);
    Poco::Base64Decoder dec(in, Poco::BASE64_URL_ENCODING | Poco::BASE64_NO_PADDING);
    std::string json((std::istreambuf_iterator<char>(dec)), std::istreambuf_iterator<char>());
    return Poco::JSON::Parser().parse(json).extract<Poco::JSON::Object::Ptr>();
}

std::vector<std::string> split(const std::string& jwt) {
    std::vector<std::string> parts;
    std::size_t b = 0;
    for (std::size_t e; (e = jwt.find('.', b)) != std::string::npos; b = e + 1) parts.push_back(jwt.substr(b, e - b));
    parts.push_back(jwt.substr(b));
    return parts;
}

MeetingGrant grant() {
    return MeetingGrant{"0123456789abcdef0123456789abcdef", system_clock::time_point(seconds(1'800'000'000)),
                        system_clock::time_point(seconds(1'800'003'600))};
}

}  // namespace

TEST(VideoJitsi, JwtHasTheHeaderAndClaimsJitsiChecks) {
    JitsiProvider p({"https://video.klinik.se/", "klinikbox", "jitsi", kSecret});
    const auto jwt = p.jwt(grant(), Participant{"Dr Eva Ek", true});
    const auto parts = split(jwt);
    ASSERT_EQ(parts.size(), 3u);
    auto header = decodePart(parts[0]);
    EXPECT_EQ(header->getValue<std::string>("alg"), "HS256");
    EXPECT_EQ(header->getValue<std::string>("typ"), "JWT");
    auto c = decodePart(parts[1]);
    EXPECT_EQ(c->getValue<std::string>("aud"), "jitsi");
    EXPECT_EQ(c->getValue<std::string>("iss"), "klinikbox");
    EXPECT_EQ(c->getValue<std::string>("sub"), "video.klinik.se");
    EXPECT_EQ(c->getValue<std::string>("room"), "0123456789abcdef0123456789abcdef");
    EXPECT_EQ(c->getValue<long long>("nbf"), 1'800'000'000);
    EXPECT_EQ(c->getValue<long long>("exp"), 1'800'003'600);
    auto user = c->getObject("context")->getObject("user");
    EXPECT_EQ(user->getValue<std::string>("name"), "Dr Eva Ek");
    EXPECT_TRUE(user->getValue<bool>("moderator"));
    EXPECT_EQ(p.joinUrl(grant(), Participant{"Dr Eva Ek", true}),
              "https://video.klinik.se/0123456789abcdef0123456789abcdef?jwt=" + jwt);
}

TEST(VideoJitsi, SignatureVerifiesWithAnIndependentHs256AndFailsWithAnotherSecret) {
    JitsiProvider p({"https://video.klinik.se", "klinikbox", "jitsi", kSecret});
    const auto jwt = p.jwt(grant(), Participant{"Tolvan", false});
    Poco::JWT::Signer good(kSecret);
    good.addAlgorithm(Poco::JWT::Signer::ALGO_HS256);
    Poco::JWT::Token t;
    ASSERT_TRUE(good.tryVerify(jwt, t));
    EXPECT_EQ(t.payload().getObject("context")->getObject("user")->getValue<bool>("moderator"), false);
    Poco::JWT::Signer bad(kSecret + "x");
    bad.addAlgorithm(Poco::JWT::Signer::ALGO_HS256);
    EXPECT_FALSE(bad.tryVerify(jwt, t));
    // One changed claim breaks the signature.
    auto parts = split(jwt);
    std::string forged = jwt;
    forged[parts[0].size() + 5] = forged[parts[0].size() + 5] == 'A' ? 'B' : 'A';
    bool forgedAccepted = true;
    try {
        forgedAccepted = good.tryVerify(forged, t);
    } catch (const Poco::Exception&) {
        forgedAccepted = false;  // the changed part no longer parses: refused as well
    }
    EXPECT_FALSE(forgedAccepted);
}

TEST(VideoJitsi, WithoutASecretNoLinksAreIssued) {
    JitsiProvider p({"https://video.klinik.se", "klinikbox", "jitsi", ""});
    EXPECT_FALSE(p.configured());
    EXPECT_THROW((void)p.joinUrl(grant(), Participant{"x", false}), std::logic_error);
}
