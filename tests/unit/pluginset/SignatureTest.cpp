// Signatures, chains, key usage, certificate validity, revocation and thresholds.
#include "SetFixture.h"

#include "pluginset/Signatures.h"

#include <openssl/pem.h>

namespace kbtest {
namespace {

using ps::Reason;

class Signatures : public PluginSetTest {};

TEST_F(Signatures, SetSignedByBothOfficersOfItsRegionIsAccepted) {
    const auto dir = makeSignedSet();
    const auto set = verify(dir);
    EXPECT_TRUE(set.isSigned);
    EXPECT_EQ(set.status, "valid");
    EXPECT_EQ(set.name, "Test set 1");
    EXPECT_EQ(set.sequence, 1);
    EXPECT_EQ(set.regionHsaId, kRegionAHsa);
    EXPECT_EQ(set.regionName, "Region A");
    ASSERT_EQ(set.signers.size(), 2u);
    EXPECT_NE(set.signers[0].subject.find("infosec"), std::string::npos);
    EXPECT_NE(set.signers[1].subject.find("medical informatics"), std::string::npos);
    EXPECT_EQ(set.signers[0].notAfter, "2040-01-01T00:00:00Z");
    EXPECT_EQ(set.signers[0].sha256.size(), 64u);
    EXPECT_EQ(set.manifestSha256, ps::sha256Hex(readFile(dir + "/pluginset.yaml")));
    EXPECT_TRUE(set.warnings.empty());
    std::vector<std::string> names;
    for (const auto& c : set.checks) {
        EXPECT_TRUE(c.passed) << c.name;
        names.push_back(c.name);
    }
    EXPECT_EQ(names, (std::vector<std::string>{"archive", "signatures", "chain", "key-usage",
                                               "certificate-validity", "revocation", "threshold",
                                               "manifest", "region", "dates", "box-version",
                                               "rollback", "files"}));
}

TEST_F(Signatures, VerifiedPluginsCarryTheBytesThatWereHashed) {
    const auto dir = makeSignedSet();
    const auto set = verify(dir);
    ASSERT_EQ(set.plugins.size(), 2u);
    EXPECT_EQ(set.plugins[0].id, "hello");
    EXPECT_EQ(set.plugins[0].version, "1.0.0");
    EXPECT_EQ(set.plugins[0].files.size(), 3u);
    EXPECT_EQ(set.plugins[0].files.at("lua/main.lua"), readFile(dir + "/hello/lua/main.lua"));
    EXPECT_EQ(set.plugins[1].id, "world");
    EXPECT_EQ(set.plugins[1].files.at("main.lua"), "return {}\n");
}

TEST_F(Signatures, TwoRegionsTrustedAtOnceEachVerifyTheirOwnSets) {
    const auto a = makeSignedSet("a");
    const auto b = makeSet("b", options(1, "B"));
    sign(b, signerB);
    const auto store = trust();
    ASSERT_EQ(store.regions().size(), 2u);
    const auto setA = ps::verifySigned(a, store, at("2025-06-01"), nullptr);
    const auto setB = ps::verifySigned(b, store, at("2025-06-01"), nullptr);
    EXPECT_EQ(setA.regionHsaId, kRegionAHsa);
    EXPECT_EQ(setA.signers.size(), 2u);
    EXPECT_EQ(setB.regionHsaId, kRegionBHsa);
    EXPECT_EQ(setB.signers.size(), 1u);  // region B's threshold is 1
}

TEST_F(Signatures, PemSignatureIsAcceptedLikeDer) {
    const auto dir = makeSignedSet();
    const auto der = readFile(dir + "/pluginset.yaml.sig.1");
    const auto parsed = ps::parseSignature("sig", der);
    ssl::BioPtr b(BIO_new(BIO_s_mem()));
    PEM_write_bio_CMS(b.get(), parsed.cms.get());
    char* p = nullptr;
    const long n = BIO_get_mem_data(b.get(), &p);
    writeFile(dir + "/pluginset.yaml.sig.1", std::string(p, static_cast<std::size_t>(n)));
    EXPECT_EQ(verify(dir).signers.size(), 2u);
}

TEST_F(Signatures, UnsignedSetIsRefusedInProduction) {
    const auto dir = makeSet();
    EXPECT_REFUSED(refusal(dir), Reason::SignatureMissing, "no signature");
}

TEST_F(Signatures, SetWithoutManifestIsRefused) {
    const auto dir = makeSignedSet();
    std::filesystem::remove(dir + "/pluginset.yaml");
    EXPECT_REFUSED(refusal(dir), Reason::ManifestMissing, "no pluginset.yaml");
}

TEST_F(Signatures, GarbageSignatureFileIsRefused) {
    const auto dir = makeSignedSet();
    writeFile(dir + "/pluginset.yaml.sig.2", "this is not a signature at all\n");
    EXPECT_REFUSED(refusal(dir), Reason::SignatureMalformed,
                   "pluginset.yaml.sig.2 is not a CMS signature");
}

TEST_F(Signatures, TruncatedSignatureFileIsRefused) {
    const auto dir = makeSignedSet();
    const auto der = readFile(dir + "/pluginset.yaml.sig.1");
    writeFile(dir + "/pluginset.yaml.sig.1", der.substr(0, der.size() / 2));
    EXPECT_REFUSED(refusal(dir), Reason::SignatureMalformed,
                   "pluginset.yaml.sig.1 is not a CMS signature");
}

TEST_F(Signatures, EmptySignatureFileIsRefused) {
    const auto dir = makeSignedSet();
    writeFile(dir + "/pluginset.yaml.sig.3", "");
    EXPECT_REFUSED(refusal(dir), Reason::SignatureMalformed, "pluginset.yaml.sig.3");
}

TEST_F(Signatures, SignatureFileWithAnOddNameIsRefused) {
    const auto dir = makeSignedSet();
    std::filesystem::rename(dir + "/pluginset.yaml.sig.2", dir + "/pluginset.yaml.sig.02");
    EXPECT_REFUSED(refusal(dir), Reason::SignatureMalformed, "pluginset.yaml.sig.02 is not named");
}

TEST_F(Signatures, SignatureWithoutItsSignerCertificateIsRefused) {
    const auto dir = makeSignedSet();
    const auto manifest = readFile(dir + "/pluginset.yaml");
    auto data = ssl::memoryBio(manifest);
    ssl::CmsPtr cms(CMS_sign(infosec.cert.get(), infosec.key.get(), nullptr, data.get(),
                             CMS_BINARY | CMS_DETACHED | CMS_NOCERTS));
    ASSERT_TRUE(cms);
    ssl::BioPtr out(BIO_new(BIO_s_mem()));
    i2d_CMS_bio(out.get(), cms.get());
    char* p = nullptr;
    const long n = BIO_get_mem_data(out.get(), &p);
    writeFile(dir + "/pluginset.yaml.sig.1", std::string(p, static_cast<std::size_t>(n)));
    EXPECT_REFUSED(refusal(dir), Reason::SignatureMalformed,
                   "does not carry its signer's certificate");
}

TEST_F(Signatures, SignatureOverOtherBytesIsRefused) {
    const auto dir = makeSignedSet();
    writeFile(dir + "/pluginset.yaml.sig.2", rawSignature("name: another manifest\n", medinfo));
    EXPECT_REFUSED(refusal(dir), Reason::SignatureMismatch, "pluginset.yaml.sig.2");
}

TEST_F(Signatures, ManifestEditedAfterSigningIsRefused) {
    const auto dir = makeSignedSet();
    auto manifest = readFile(dir + "/pluginset.yaml");
    manifest.replace(manifest.find("sequence: 1"), 11, "sequence: 9");
    writeFile(dir + "/pluginset.yaml", manifest);
    const auto e = refusal(dir);
    EXPECT_REFUSED(e, Reason::SignatureMismatch, "not a signature over these pluginset.yaml bytes");
    EXPECT_EQ(e.checks().back().name, "signatures");
}

TEST_F(Signatures, SignerFromAnUntrustedRootIsRefused) {
    const auto stranger = makeRoot("Some Other CA");
    const auto signer = issue(stranger, CertSpec("Stranger"));
    const auto dir = makeSet();
    sign(dir, infosec);
    sign(dir, signer);
    const auto e = refusal(dir);
    EXPECT_REFUSED(e, Reason::UntrustedSigner, "CN=Stranger");
    EXPECT_NE(std::string(e.what()).find("does not chain to the root of any trusted region"),
              std::string::npos);
}

TEST_F(Signatures, SignerFromALookAlikeRootWithTheSameNameIsRefused) {
    const auto fake = makeRoot("Region A Plugin Root");  // same name, other key
    const auto signer = issue(fake, CertSpec("Region A infosec officer"));
    const auto dir = makeSet();
    sign(dir, signer);
    sign(dir, medinfo);
    EXPECT_REFUSED(refusal(dir), Reason::UntrustedSigner, "pluginset.yaml.sig.1");
}

TEST_F(Signatures, SignerWithoutKeyUsageIsRefused) {
    const auto noKu = issue(rootA, CertSpec("No key usage").ku(""));
    const auto dir = makeSet();
    writeFile(dir + "/pluginset.yaml.sig.1", rawSignature(readFile(dir + "/pluginset.yaml"), noKu));
    sign(dir, medinfo);
    EXPECT_REFUSED(refusal(dir), Reason::KeyUsage, "no keyUsage extension");
}

TEST_F(Signatures, SignerWhoseKeyUsageLacksDigitalSignatureIsRefused) {
    const auto encipher = issue(rootA, CertSpec("Encryption only").ku("critical,keyAgreement"));
    const auto dir = makeSet();
    writeFile(dir + "/pluginset.yaml.sig.1",
              rawSignature(readFile(dir + "/pluginset.yaml"), encipher));
    EXPECT_REFUSED(refusal(dir), Reason::KeyUsage, "without digitalSignature");
}

TEST_F(Signatures, TlsServerCertificateOfTheRegionCannotSignSets) {
    const auto tls = issue(rootA, CertSpec("intranet.region-a.se").eku("serverAuth"));
    const auto dir = makeSet();
    writeFile(dir + "/pluginset.yaml.sig.1", rawSignature(readFile(dir + "/pluginset.yaml"), tls));
    EXPECT_REFUSED(refusal(dir), Reason::KeyUsage, "without codeSigning");
}

TEST_F(Signatures, CaCertificateCannotSignSetsItself) {
    const auto sub =
        issue(rootA, CertSpec("Region A sub CA").ca("critical,digitalSignature,keyCertSign"));
    const auto dir = makeSet();
    writeFile(dir + "/pluginset.yaml.sig.1", rawSignature(readFile(dir + "/pluginset.yaml"), sub));
    EXPECT_REFUSED(refusal(dir), Reason::KeyUsage, "is a CA certificate");
}

TEST_F(Signatures, ExpiredSigningCertificateIsRefused) {
    const auto old = issue(
        rootA, CertSpec("Former officer").validity("2021-01-01T00:00:00Z", "2024-12-31T00:00:00Z"));
    const auto dir = makeSet();
    sign(dir, infosec);
    signRaw(dir, old);
    const auto e = refusal(dir);
    EXPECT_REFUSED(e, Reason::CertificateExpired, "CN=Former officer");
    EXPECT_NE(std::string(e.what()).find("expired on 2024-12-31T00:00:00Z"), std::string::npos)
        << e.what();
}

TEST_F(Signatures, SigningCertificateNotYetValidIsRefused) {
    const auto future = issue(
        rootA, CertSpec("Future officer").validity("2030-01-01T00:00:00Z", "2040-01-01T00:00:00Z"));
    const auto dir = makeSet();
    sign(dir, infosec);
    signRaw(dir, future);
    EXPECT_REFUSED(refusal(dir), Reason::CertificateNotYetValid, "not valid until 2030-01-01");
}

TEST_F(Signatures, RevokedSigningCertificateIsRefused) {
    writeRegion("region-a", "Region A", kRegionAHsa, 2, rootA, makeCrlPem(rootA, {&medinfo}));
    const auto dir = makeSignedSet();
    const auto e = refusal(dir);
    EXPECT_REFUSED(e, Reason::CertificateRevoked, "medical informatics officer");
    EXPECT_NE(std::string(e.what()).find("revoked on 2024-06-01"), std::string::npos) << e.what();
}

TEST_F(Signatures, MissingCrlIsRefusedWhenTheRegionRequiresOne) {
    writeRegion("region-a", "Region A", kRegionAHsa, 2, rootA, "");
    const auto e = refusal(makeSignedSet());
    EXPECT_REFUSED(e, Reason::CrlUnavailable, "requires a CRL");
    EXPECT_NE(std::string(e.what()).find("crl.pem is missing"), std::string::npos);
}

TEST_F(Signatures, ExpiredCrlIsRefused) {
    writeRegion("region-a", "Region A", kRegionAHsa, 2, rootA,
                makeCrlPem(rootA, {}, "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z"));
    const auto e = refusal(makeSignedSet());
    EXPECT_REFUSED(e, Reason::CrlUnavailable, "CRL has expired");
    EXPECT_NE(std::string(e.what()).find("next update 2025-02-01"), std::string::npos) << e.what();
}

TEST_F(Signatures, CrlOfAnotherIssuerDoesNotCount) {
    writeRegion("region-a", "Region A", kRegionAHsa, 2, rootA, makeCrlPem(rootB, {}));
    EXPECT_REFUSED(refusal(makeSignedSet()), Reason::CrlUnavailable,
                   "unable to get certificate CRL");
}

TEST_F(Signatures, RegionThatDoesNotRequireACrlAcceptsSetsWithoutOne) {
    writeRegion("region-a", "Region A", kRegionAHsa, 2, rootA, "", "require_crl: false\n");
    const auto set = verify(makeSignedSet());
    EXPECT_NE(set.checks[5].detail.find("require_crl: false"), std::string::npos)
        << set.checks[5].detail;
}

TEST_F(Signatures, RegionThatDoesNotRequireACrlStillHonoursOneItPublishes) {
    writeRegion("region-a", "Region A", kRegionAHsa, 2, rootA, makeCrlPem(rootA, {&infosec}),
                "require_crl: false\n");
    EXPECT_REFUSED(refusal(makeSignedSet()), Reason::CertificateRevoked, "infosec officer");
}

TEST_F(Signatures, TwoSignaturesBySameCertificateCountOnce) {
    const auto dir = makeSet();
    sign(dir, infosec);
    writeFile(dir + "/pluginset.yaml.sig.2",
              rawSignature(readFile(dir + "/pluginset.yaml"), infosec));
    const auto e = refusal(dir);
    EXPECT_REFUSED(e, Reason::ThresholdNotMet,
                   "requires 2 signatures by distinct signers");
    EXPECT_NE(std::string(e.what()).find("the set has 1"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("count once"), std::string::npos);
}

TEST_F(Signatures, RenewedCertificateOverTheSameKeyCountsOnce) {
    // The officer sent the same CSR again: two valid certificates, one key, one person.
    const auto renewed = reissue(
        rootA, CertSpec("Region A infosec officer 2").validity("2021-01-01T00:00:00Z",
                                                               "2041-01-01T00:00:00Z"),
        infosec);
    const auto dir = makeSet();
    sign(dir, infosec);
    signRaw(dir, renewed);
    const auto e = refusal(dir);
    EXPECT_REFUSED(e, Reason::ThresholdNotMet, "the set has 1");
    EXPECT_NE(std::string(e.what()).find("pluginset.yaml.sig.2 uses the same key as "
                                         "pluginset.yaml.sig.1"),
              std::string::npos)
        << e.what();
}

TEST_F(Signatures, SamePersonWithTwoKeysCountsOnce) {
    const auto second = issue(rootA, CertSpec("Region A infosec officer"));  // same subject
    const auto dir = makeSet();
    sign(dir, infosec);
    signRaw(dir, second);
    const auto e = refusal(dir);
    EXPECT_REFUSED(e, Reason::ThresholdNotMet, "the set has 1");
    EXPECT_NE(std::string(e.what()).find("same subject"), std::string::npos) << e.what();
}

TEST_F(Signatures, TwoPeopleWithTwoKeysStillMeetTheThreshold) {
    // The renewal of one officer's certificate adds nothing, but does not hide the other.
    const auto renewed = reissue(rootA, CertSpec("Region A infosec officer (renewed)"), infosec);
    const auto dir = makeSet();
    sign(dir, infosec);
    signRaw(dir, renewed);
    sign(dir, medinfo);
    const auto set = verify(dir);
    EXPECT_EQ(set.signers.size(), 3u);
    EXPECT_EQ(set.signers[0].keySha256, set.signers[1].keySha256);
    EXPECT_NE(set.signers[0].keySha256, set.signers[2].keySha256);
    EXPECT_NE(set.checks[6].detail.find("2 distinct signer(s)"), std::string::npos)
        << set.checks[6].detail;
}

TEST_F(Signatures, OneSignatureIsNotEnoughForAThresholdOfTwo) {
    const auto dir = makeSet();
    sign(dir, medinfo);
    EXPECT_REFUSED(refusal(dir), Reason::ThresholdNotMet, "the set has 1");
}

TEST_F(Signatures, SignaturesFromTwoRegionsAreRefused) {
    const auto dir = makeSet();
    sign(dir, infosec);
    sign(dir, signerB);
    EXPECT_REFUSED(refusal(dir), Reason::RegionMismatch, "more than one region");
}

TEST_F(Signatures, SignerUnderAnIntermediateCaIsAcceptedWithBothCrls) {
    auto sub = issue(rootA, CertSpec("Region A issuing CA").ca());
    const auto officer = issue(sub, CertSpec("Officer under the issuing CA"));
    writeRegion("region-a", "Region A", kRegionAHsa, 2, rootA,
                makeCrlPem(rootA, {}) + makeCrlPem(sub, {}));
    const auto dir = makeSet();
    sign(dir, infosec);
    sign(dir, officer, sub.certPem());
    const auto set = verify(dir);
    EXPECT_NE(set.checks[2].detail.find("CN=Officer under the issuing CA,O=Test <- CN=Region A "
                                        "issuing CA,O=Test <- CN=Region A Plugin Root"),
              std::string::npos)
        << set.checks[2].detail;
}

TEST_F(Signatures, RevokedIntermediateCaIsRefused) {
    auto sub = issue(rootA, CertSpec("Region A issuing CA").ca());
    const auto officer = issue(sub, CertSpec("Officer under the issuing CA"));
    writeRegion("region-a", "Region A", kRegionAHsa, 2, rootA,
                makeCrlPem(rootA, {&sub}) + makeCrlPem(sub, {}));
    const auto dir = makeSet();
    sign(dir, infosec);
    sign(dir, officer, sub.certPem());
    EXPECT_REFUSED(refusal(dir), Reason::CertificateRevoked, "CN=Region A issuing CA");
}

TEST_F(Signatures, CrlsSpreadOverSeveralFilesAreAllRead) {
    auto sub = issue(rootA, CertSpec("Region A issuing CA").ca());
    const auto officer = issue(sub, CertSpec("Officer under the issuing CA"));
    const auto dir = makeSet();
    sign(dir, infosec);
    sign(dir, officer, sub.certPem());
    // crl.pem holds only the root's CRL: the issuing CA's is missing.
    EXPECT_REFUSED(refusal(dir), Reason::CrlUnavailable, "CN=Officer under the issuing CA");
    writeFile(trustDir() + "/region-a/crl-issuing-ca.pem", makeCrlPem(sub, {}));
    EXPECT_EQ(verify(dir).signers.size(), 2u);
    writeFile(trustDir() + "/region-a/crl-issuing-ca.pem", makeCrlPem(sub, {&officer}));
    EXPECT_REFUSED(refusal(dir), Reason::CertificateRevoked, "crl-issuing-ca.pem");
}

}  // namespace
}  // namespace kbtest
