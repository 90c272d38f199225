// The trust directory: one subdirectory per region with region.yaml, root.pem, crl.pem.
#include "SetFixture.h"

namespace kbtest {
namespace {

namespace fs = std::filesystem;

class Trust : public PluginSetTest {
  protected:
    std::string loadError() {
        try {
            (void)trust();
        } catch (const std::runtime_error& e) {
            return e.what();
        }
        ADD_FAILURE() << "the trust directory loaded";
        return {};
    }
};

TEST_F(Trust, TrustDirectoryWithTwoRegionsLoads) {
    const auto t = trust();
    ASSERT_EQ(t.regions().size(), 2u);
    const auto& a = t.regions()[0];
    EXPECT_EQ(a.dir, "region-a");
    EXPECT_EQ(a.name, "Region A");
    EXPECT_EQ(a.hsaId, kRegionAHsa);
    EXPECT_EQ(a.threshold, 2);
    EXPECT_TRUE(a.requireCrl);
    EXPECT_EQ(a.roots.size(), 1u);
    EXPECT_EQ(a.crls.size(), 1u);
    EXPECT_EQ(t.regions()[1].threshold, 1);
}

TEST_F(Trust, ThresholdDefaultsToOne) {
    writeFile(trustDir() + "/region-a/region.yaml", "name: Region A\nhsa_id: SE2321000016-AAAA\n");
    EXPECT_EQ(trust().regions()[0].threshold, 1);
}

TEST_F(Trust, UnknownKeyInRegionYamlIsRefused) {
    writeFile(trustDir() + "/region-a/region.yaml",
              "name: Region A\nhsa_id: SE2321000016-AAAA\ntreshold: 2\n");
    EXPECT_NE(loadError().find("unknown key 'treshold'"), std::string::npos);
}

TEST_F(Trust, RegionWithoutHsaIdIsRefused) {
    writeFile(trustDir() + "/region-a/region.yaml", "name: Region A\n");
    EXPECT_NE(loadError().find("name and hsa_id are required"), std::string::npos);
}

TEST_F(Trust, RegionWithAMalformedHsaIdIsRefused) {
    writeFile(trustDir() + "/region-a/region.yaml", "name: Region A\nhsa_id: not-an-hsa-id\n");
    EXPECT_NE(loadError().find("is not an HSA-id"), std::string::npos);
}

TEST_F(Trust, ThresholdOfZeroIsRefused) {
    writeFile(trustDir() + "/region-a/region.yaml",
              "name: Region A\nhsa_id: SE2321000016-AAAA\nthreshold: 0\n");
    EXPECT_NE(loadError().find("threshold must be 1 to 16"), std::string::npos);
}

TEST_F(Trust, LeafCertificateAsRootIsRefused) {
    writeFile(trustDir() + "/region-a/root.pem", infosec.certPem());
    EXPECT_NE(loadError().find("is not a self-signed CA certificate"), std::string::npos);
}

TEST_F(Trust, SelfSignedCertificateWithoutCaBasicConstraintsIsRefusedAsRoot) {
    writeFile(trustDir() + "/region-a/root.pem",
              selfSigned(CertSpec("Old v1 root").v1()).certPem());
    EXPECT_NE(loadError().find("CN=Old v1 root,O=Test is not a self-signed CA certificate"),
              std::string::npos);
    writeFile(
        trustDir() + "/region-a/root.pem",
        selfSigned(CertSpec("Root without basicConstraints").ku("keyCertSign,cRLSign")).certPem());
    // keyCertSign on a certificate with basicConstraints CA:FALSE does not make it a CA.
    EXPECT_NE(loadError().find("is not a self-signed CA certificate"), std::string::npos);
}

TEST_F(Trust, SameRootInTwoRegionsIsRefused) {
    writeFile(trustDir() + "/region-b/root.pem", rootA.certPem());
    EXPECT_NE(loadError().find("is also the root of another region"), std::string::npos);
}

TEST_F(Trust, SameHsaIdInTwoRegionsIsRefused) {
    writeFile(trustDir() + "/region-b/region.yaml", "name: Region B\nhsa_id: SE2321000016-AAAA\n");
    EXPECT_NE(loadError().find("is configured twice"), std::string::npos);
}

TEST_F(Trust, GarbageCrlFileIsRefused) {
    writeFile(trustDir() + "/region-a/crl.pem",
              "-----BEGIN X509 CRL-----\nnot base64 at all\n-----END X509 CRL-----\n");
    EXPECT_NE(loadError().find("crl.pem: not a PEM CRL"), std::string::npos) << loadError();
}

TEST_F(Trust, RootFileWithoutCertificatesIsRefused) {
    writeFile(trustDir() + "/region-a/root.pem", "\n");
    EXPECT_NE(loadError().find("root.pem holds no PEM certificate"), std::string::npos);
}

TEST_F(Trust, MissingOrEmptyTrustDirectoryIsRefused) {
    fs::remove_all(trustDir());
    EXPECT_NE(loadError().find("does not exist"), std::string::npos);
    fs::create_directories(trustDir());
    EXPECT_NE(loadError().find("holds no region"), std::string::npos);
}

}  // namespace
}  // namespace kbtest
