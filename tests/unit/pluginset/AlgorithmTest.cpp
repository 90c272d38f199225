// Weak cryptography is refused by name: a signature digest below SHA-256, a signing key
// below 112-bit strength, a certificate its CA signed with SHA-1.
#include "SetFixture.h"

#include <openssl/cms.h>

namespace kbtest {
namespace {

using ps::Reason;

class Algorithms : public PluginSetTest {
  protected:
    // A detached CMS signature over `bytes` made with the digest `md` (CMS_sign itself
    // always picks SHA-256).
    static std::string signatureWithDigest(const std::string& bytes, const Identity& who,
                                           const EVP_MD* md) {
        auto data = ssl::memoryBio(bytes);
        const unsigned flags = CMS_BINARY | CMS_DETACHED | CMS_NOSMIMECAP;
        ssl::CmsPtr cms(CMS_sign(nullptr, nullptr, nullptr, nullptr, flags | CMS_PARTIAL));
        if (!cms || !CMS_add1_signer(cms.get(), who.cert.get(), who.key.get(), md, flags) ||
            CMS_final(cms.get(), data.get(), nullptr, flags) != 1)
            throw std::runtime_error("cannot make the test signature: " + ssl::errorText());
        ssl::BioPtr out(BIO_new(BIO_s_mem()));
        i2d_CMS_bio(out.get(), cms.get());
        char* p = nullptr;
        const long n = BIO_get_mem_data(out.get(), &p);
        return std::string(p, static_cast<std::size_t>(n));
    }

    // A Region A set signed by `who` (raw CMS, no checks) and by the medical-informatics
    // officer.
    std::string setSignedBy(const Identity& who) {
        const auto dir = makeSet();
        writeFile(dir + "/pluginset.yaml.sig.1",
                  rawSignature(readFile(dir + "/pluginset.yaml"), who));
        sign(dir, medinfo);
        return dir;
    }
};

TEST_F(Algorithms, SignatureDigestedWithSha1IsRefused) {
    const auto dir = makeSet();
    sign(dir, medinfo);
    writeFile(dir + "/pluginset.yaml.sig.2",
              signatureWithDigest(readFile(dir + "/pluginset.yaml"), infosec, EVP_sha1()));
    const auto e = refusal(dir);
    EXPECT_REFUSED(e, Reason::WeakAlgorithm, "pluginset.yaml.sig.2 uses the digest SHA1");
    EXPECT_EQ(e.checks().back().name, "signatures");
}

TEST_F(Algorithms, SignatureDigestedWithSha512IsAccepted) {
    const auto dir = makeSet();
    sign(dir, medinfo);
    writeFile(dir + "/pluginset.yaml.sig.2",
              signatureWithDigest(readFile(dir + "/pluginset.yaml"), infosec, EVP_sha512()));
    EXPECT_EQ(verify(dir).signers.size(), 2u);
}

TEST_F(Algorithms, SignerWithAnRsa1024KeyIsRefused) {
    const auto weak = issue(rootA, CertSpec("Region A officer with RSA 1024").rsa(1024));
    const auto e = refusal(setSignedBy(weak));
    EXPECT_REFUSED(e, Reason::WeakAlgorithm, "CN=Region A officer with RSA 1024");
    EXPECT_EQ(e.checks().back().name, "chain");
}

TEST_F(Algorithms, SignerWithAnRsa2048KeyIsAccepted) {
    const auto officer = issue(rootA, CertSpec("Region A officer with RSA 2048").rsa(2048));
    const auto set = verify(setSignedBy(officer));
    EXPECT_EQ(set.signers[0].subject, "CN=Region A officer with RSA 2048,O=Test");
}

TEST_F(Algorithms, SignerCertificateSignedWithSha1IsRefused) {
    const auto officer =
        issue(rootA, CertSpec("Region A officer with a SHA-1 certificate").signedWith("SHA1"));
    EXPECT_REFUSED(refusal(setSignedBy(officer)), Reason::WeakAlgorithm,
                   "CN=Region A officer with a SHA-1 certificate,O=Test is too weak: CA "
                   "signature digest algorithm too weak");
}

TEST_F(Algorithms, SignRefusesAWeakKey) {
    const auto weak = issue(rootA, CertSpec("Region A officer with RSA 1024").rsa(1024));
    const auto dir = makeSet();
    try {
        (void)sign(dir, weak);
        ADD_FAILURE() << "signed with an RSA-1024 key";
    } catch (const ps::VerifyError& e) {
        EXPECT_EQ(e.reason(), Reason::WeakAlgorithm) << e.what();
        EXPECT_NE(std::string(e.what()).find("80-bit strength"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(std::filesystem::exists(dir + "/pluginset.yaml.sig.1"));
}

}  // namespace
}  // namespace kbtest
