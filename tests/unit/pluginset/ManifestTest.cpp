// The manifest is parsed strictly, only after its signatures verified; then its region,
// dates and minimum box version are checked.
#include "SetFixture.h"

#include "pluginset/SetManifest.h"

namespace kbtest {
namespace {

using ps::Reason;

class Manifest : public PluginSetTest {};

TEST_F(Manifest, CreatedManifestListsEveryFileWithSizeAndHash) {
    const auto dir = makeSet();
    const auto m = ps::SetManifest::parse(readFile(dir + "/pluginset.yaml"));
    EXPECT_EQ(m.name, "Test set 1");
    EXPECT_EQ(m.regionHsaId, kRegionAHsa);
    ASSERT_EQ(m.plugins.size(), 2u);
    ASSERT_EQ(m.plugins[0].files.size(), 3u);
    const auto& main = m.plugins[0].files[0];
    EXPECT_EQ(main.path, "lua/main.lua");
    EXPECT_EQ(main.size, readFile(dir + "/hello/lua/main.lua").size());
    EXPECT_EQ(main.sha256, ps::sha256Hex(readFile(dir + "/hello/lua/main.lua")));
}

TEST_F(Manifest, SignaturesAreCheckedBeforeTheManifestIsParsed) {
    const auto dir = makeSignedSet();
    writeFile(dir + "/pluginset.yaml", "{{{ not yaml");
    const auto e = refusal(dir);
    EXPECT_REFUSED(e, Reason::SignatureMismatch, "pluginset.yaml.sig.1");
}

TEST_F(Manifest, SignedManifestThatIsNotYamlIsRefusedAfterTheSignatureChecks) {
    const auto dir = makeSet();
    resign(dir, "{{{ not yaml");
    const auto e = refusal(dir);
    EXPECT_REFUSED(e, Reason::ManifestInvalid, "pluginset.yaml:1:");
    EXPECT_EQ(e.checks().back().name, "manifest");
    EXPECT_EQ(e.checks().size(), 8u);  // archive .. threshold passed first
}

TEST_F(Manifest, UnknownTopLevelKeyIsRefused) {
    const auto dir = makeSet();
    resign(dir, readFile(dir + "/pluginset.yaml") + "approved_by_mallory: yes\n");
    EXPECT_REFUSED(refusal(dir), Reason::ManifestInvalid, "unknown key 'approved_by_mallory'");
}

TEST_F(Manifest, UnknownKeyInAPluginIsRefused) {
    const auto dir = makeSet();
    resign(dir, edited(dir, "    version: \"1.0.0\"\n",
                       "    version: \"1.0.0\"\n    native_override: libevil.so\n"));
    EXPECT_REFUSED(refusal(dir), Reason::ManifestInvalid,
                   "unknown key 'native_override' in a plugin");
}

TEST_F(Manifest, DuplicateKeyIsRefused) {
    const auto dir = makeSet();
    resign(dir, readFile(dir + "/pluginset.yaml") + "sequence: 99\n");
    EXPECT_REFUSED(refusal(dir), Reason::ManifestInvalid, "key 'sequence' appears twice");
}

TEST_F(Manifest, YamlAnchorsAndAliasesAreRefused) {
    const auto dir = makeSet();
    resign(dir, edited(dir, "name: \"Test set 1\"", "name: &n \"Test set 1\"\nalias_of_name: *n"));
    EXPECT_REFUSED(refusal(dir), Reason::ManifestInvalid, "anchors (&name) are not allowed");
}

TEST_F(Manifest, YamlTagsAreRefused) {
    const auto dir = makeSet();
    resign(dir, edited(dir, "sequence: 1", "sequence: !!int 1"));
    EXPECT_REFUSED(refusal(dir), Reason::ManifestInvalid, "tags");
}

TEST_F(Manifest, QuotedSequenceNumberIsRefused) {
    const auto dir = makeSet();
    resign(dir, edited(dir, "sequence: 1", "sequence: \"1\""));
    EXPECT_REFUSED(refusal(dir), Reason::ManifestInvalid, "sequence must be a whole number");
}

TEST_F(Manifest, OctalLookingSequenceNumberIsRefused) {
    const auto dir = makeSet();
    resign(dir, edited(dir, "sequence: 1", "sequence: 010"));
    EXPECT_REFUSED(refusal(dir), Reason::ManifestInvalid, "sequence must be a whole number");
}

TEST_F(Manifest, SecondYamlDocumentIsRefused) {
    const auto dir = makeSet();
    resign(dir, readFile(dir + "/pluginset.yaml") + "---\nname: other\n");
    EXPECT_REFUSED(refusal(dir), Reason::ManifestInvalid, "only one YAML document");
}

TEST_F(Manifest, MissingKeyIsRefused) {
    const auto dir = makeSet();
    resign(dir, edited(dir, "min_box_version: \"0.1.0\"\n", ""));
    EXPECT_REFUSED(refusal(dir), Reason::ManifestInvalid, "the manifest has no 'min_box_version'");
}

TEST_F(Manifest, MalformedHashIsRefused) {
    const auto dir = makeSet();
    const auto text = readFile(dir + "/pluginset.yaml");
    const auto at = text.find("sha256: \"") + 9;
    resign(dir, text.substr(0, at) + "ABC" + text.substr(at + 3));
    EXPECT_REFUSED(refusal(dir), Reason::ManifestInvalid, "must be 64 lower-case hex digits");
}

TEST_F(Manifest, ManifestNamingAnotherRegionThanItsSignersIsRefused) {
    const auto dir = makeSet("set", options(1, "A"));
    resign(dir, readFile(dir + "/pluginset.yaml"), &signerB,
           &signerB);  // region B signs a "Region A" set
    EXPECT_REFUSED(refusal(dir), Reason::RegionMismatch,
                   "names region Region A (SE2321000016-AAAA) but its signers belong to Region B");
}

TEST_F(Manifest, RegionNameMustMatchTheTrustConfiguration) {
    const auto dir = makeSet();
    resign(dir, edited(dir, "name: \"Region A\"", "name: \"Region Z\""));
    EXPECT_REFUSED(refusal(dir), Reason::RegionMismatch, "names region Region Z");
}

class Dates : public PluginSetTest {};

TEST_F(Dates, SetBeforeItsIssuedDateIsRefused) {
    EXPECT_REFUSED(refusal(makeSignedSet(), "2024-12-31T23:59:59Z"), Reason::NotYetValid,
                   "valid from 2025-01-01");
}

TEST_F(Dates, SetIsValidFromTheStartOfItsIssuedDate) {
    EXPECT_EQ(verify(makeSignedSet(), "2025-01-01").status, "valid");
}

TEST_F(Dates, SetExpiringWithinThirtyDaysIsAcceptedWithAWarning) {
    const auto set = verify(makeSignedSet(), "2025-12-10");
    EXPECT_EQ(set.status, "expiring-soon");
    ASSERT_EQ(set.warnings.size(), 1u);
    EXPECT_NE(set.warnings[0].find("expires on 2026-01-01 (in 22 days)"), std::string::npos)
        << set.warnings[0];
}

TEST_F(Dates, SetThirtyOneDaysFromExpiryIsSimplyValid) {
    const auto set = verify(makeSignedSet(), "2025-12-01");
    EXPECT_EQ(set.status, "valid");
    EXPECT_TRUE(set.warnings.empty());
}

TEST_F(Dates, SetInItsGracePeriodIsAcceptedAndFlagged) {
    const auto set = verify(makeSignedSet(), "2026-01-05");
    EXPECT_EQ(set.status, "expired-in-grace");
    ASSERT_EQ(set.warnings.size(), 1u);
    EXPECT_NE(set.warnings[0].find("expired on 2026-01-01"), std::string::npos);
    EXPECT_NE(set.warnings[0].find("until 2026-01-15"), std::string::npos) << set.warnings[0];
}

TEST_F(Dates, SetPastItsGracePeriodIsRefused) {
    EXPECT_REFUSED(refusal(makeSignedSet(), "2026-01-15"), Reason::Expired,
                   "expired on 2026-01-01 and its grace period of 14 days ended on 2026-01-15");
}

TEST_F(Dates, GracePeriodIsConfigurable) {
    const auto dir = makeSignedSet();
    auto opts = at("2026-01-01");
    opts.graceDays = 0;
    EXPECT_REFUSED(refusal(dir, "", nullptr, &opts), Reason::Expired, "grace period of 0 days");
    opts = at("2026-01-25");
    opts.graceDays = 30;
    EXPECT_EQ(ps::verifySigned(dir, trust(), opts, nullptr).status, "expired-in-grace");
}

TEST_F(Dates, TimestampsBoundTheSetToTheSecond) {
    auto o = options();
    o.issued = "2025-01-01T08:00:00Z";
    o.expires = "2026-01-01T12:00:00Z";
    const auto dir = makeSignedSet("set", o);
    EXPECT_REFUSED(refusal(dir, "2025-01-01T07:59:59Z"), Reason::NotYetValid,
                   "valid from 2025-01-01T08:00:00Z");
    EXPECT_EQ(verify(dir, "2025-01-01T08:00:00Z").status, "valid");
    EXPECT_EQ(verify(dir, "2026-01-01T11:59:59Z").status, "expiring-soon");
    EXPECT_EQ(verify(dir, "2026-01-01T12:00:00Z").status, "expired-in-grace");
    EXPECT_REFUSED(refusal(dir, "2026-01-15T12:00:00Z"), Reason::Expired,
                   "grace period of 14 days ended on 2026-01-15T12:00:00Z");
}

TEST_F(Dates, TimestampWithoutUtcIsRefused) {
    const auto dir = makeSet();
    resign(dir, edited(dir, "issued: \"2025-01-01\"", "issued: \"2025-01-01T08:00:00+01:00\""));
    EXPECT_REFUSED(refusal(dir), Reason::ManifestInvalid,
                   "issued must be a date YYYY-MM-DD or a UTC time YYYY-MM-DDTHH:MM:SSZ");
}

class BoxVersion : public PluginSetTest {};

TEST_F(BoxVersion, SetNeedingANewerBoxIsRefused) {
    auto o = options();
    o.minBoxVersion = "0.2.0";
    const auto dir = makeSignedSet("set", o);
    EXPECT_REFUSED(refusal(dir), Reason::BoxTooOld,
                   "needs klinikbox 0.2.0 or newer; this box is 0.1.0");
    auto opts = at("2025-06-01");
    opts.boxVersion = "0.2.0-rc.1";
    EXPECT_REFUSED(refusal(dir, "", nullptr, &opts), Reason::BoxTooOld, "this box is 0.2.0-rc.1");
    opts.boxVersion = "0.10.0";
    EXPECT_EQ(ps::verifySigned(dir, trust(), opts, nullptr).checks[10].detail,
              "needs 0.2.0, box is 0.10.0");
}

TEST(Semver, ComparesByPrecedence) {
    EXPECT_LT(ps::compareSemver("0.9.0", "0.10.0"), 0);
    EXPECT_LT(ps::compareSemver("1.0.0-rc.1", "1.0.0"), 0);
    EXPECT_LT(ps::compareSemver("1.0.0-alpha", "1.0.0-alpha.1"), 0);
    EXPECT_LT(ps::compareSemver("1.0.0-alpha.2", "1.0.0-alpha.10"), 0);
    EXPECT_LT(ps::compareSemver("1.0.0-1", "1.0.0-alpha"), 0);
    EXPECT_EQ(ps::compareSemver("1.2.3+build.5", "1.2.3"), 0);
    EXPECT_GT(ps::compareSemver("2.0.0", "1.99.99"), 0);
    EXPECT_FALSE(ps::isSemver("1.2"));
    EXPECT_FALSE(ps::isSemver("01.2.3"));
    EXPECT_TRUE(ps::isSemver("1.2.3-rc.1+sha.abc"));
}

}  // namespace
}  // namespace kbtest
