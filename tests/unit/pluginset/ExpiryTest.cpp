// Warnings ahead of every date that stops a set: its own expiry, its signers' certificates
// and its region's CRLs.
#include "SetFixture.h"

#include "pluginset/Expiry.h"

namespace kbtest {
namespace {

class Expiries : public PluginSetTest {
  protected:
    static bool anyHas(const std::vector<std::string>& list, const std::string& part) {
        for (const auto& s : list)
            if (s.find(part) != std::string::npos) return true;
        return false;
    }
};

TEST_F(Expiries, SignerCertificateExpiringSoonIsWarnedAlthoughTheSetIsValid) {
    const auto shortLived = issue(rootA, CertSpec("Short officer").validity(
                                             "2024-01-01T00:00:00Z", "2025-06-20T00:00:00Z"));
    const auto dir = makeSet();
    sign(dir, infosec);
    signRaw(dir, shortLived);
    const auto set = verify(dir, "2025-06-01");
    EXPECT_EQ(set.status, "valid");
    EXPECT_TRUE(anyHas(set.warnings, "the signer certificate CN=Short officer,O=Test expires on "
                                     "2025-06-20T00:00:00Z (in 19 days)"))
        << (set.warnings.empty() ? "no warning" : set.warnings.front());
    EXPECT_TRUE(verify(dir, "2025-05-01").warnings.empty());  // 50 days ahead: quiet
}

TEST_F(Expiries, CrlDueWithinAWeekIsWarned) {
    writeRegion("region-a", "Region A", kRegionAHsa, 2, rootA,
                makeCrlPem(rootA, {}, "2025-05-01T00:00:00Z", "2025-06-05T00:00:00Z"));
    const auto dir = makeSignedSet();
    const auto set = verify(dir, "2025-06-01");
    EXPECT_TRUE(anyHas(set.warnings, "the CRL of CN=Region A Plugin Root,O=Test is due on "
                                     "2025-06-05T00:00:00Z (in 4 days)"))
        << (set.warnings.empty() ? "no warning" : set.warnings.front());
    EXPECT_TRUE(verify(dir, "2025-05-20").warnings.empty());
}

TEST_F(Expiries, EveryDateThatStopsTheSetIsListedWithItsDaysLeft) {
    const auto dir = makeSignedSet();
    const auto set = verify(dir, "2025-06-01");
    const auto now = *ps::parseInstant("2025-06-01");
    const auto list = ps::expiriesOf(set, trust());
    ASSERT_EQ(list.size(), 4u);  // the set, two signers, Region A's CRL
    EXPECT_EQ(list[0].kind, "set");
    EXPECT_EQ(list[0].at, "2026-01-01T00:00:00Z");
    EXPECT_EQ(ps::daysLeft(list[0], now), 214);
    EXPECT_EQ(list[1].kind, "signer");
    EXPECT_EQ(list[2].kind, "signer");
    EXPECT_EQ(list[1].at, "2040-01-01T00:00:00Z");
    EXPECT_EQ(list[3].kind, "crl");
    EXPECT_EQ(list[3].at, "2039-01-01T00:00:00Z");
    EXPECT_FALSE(ps::isDue(list[0], now));
    EXPECT_TRUE(ps::isDue(list[0], *ps::parseInstant("2025-12-02")));
    EXPECT_EQ(ps::daysLeft(list[0], *ps::parseInstant("2026-01-03")), -2);
}

TEST_F(Expiries, OnlyTheNewestCrlOfACaCounts) {
    writeRegion("region-a", "Region A", kRegionAHsa, 2, rootA,
                makeCrlPem(rootA, {}, "2025-05-01T00:00:00Z", "2025-06-05T00:00:00Z"));
    writeFile(trustDir() + "/region-a/crl-mirror-crl.pem",
              makeCrlPem(rootA, {}, "2025-05-30T00:00:00Z", "2025-07-30T00:00:00Z"));
    const auto set = verify(makeSignedSet(), "2025-06-01");
    const auto list = ps::expiriesOf(set, trust());
    ASSERT_EQ(list.size(), 4u);
    EXPECT_EQ(list[3].at, "2025-07-30T00:00:00Z");
}

TEST_F(Expiries, AnUnsignedSetHasNoExpiries) {
    ps::VerifiedSet dev;
    dev.isSigned = false;
    EXPECT_TRUE(ps::expiriesOf(dev, trust()).empty());
}

}  // namespace
}  // namespace kbtest
