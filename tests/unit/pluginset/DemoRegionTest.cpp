// config/demo-region: the demo PKI script and the demo signing script, run for real with
// the openssl CLI. The signing script needs a `klinikbox` binary; this test binary stands in
// for it (see kAnswersAsKlinikbox), so the script runs the same create/sign/verify code.
#include "SetFixture.h"

#include "pluginset/Cli.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>

namespace kbtest {
namespace {

namespace fs = std::filesystem;

// Run through the wrapper below (KB_TEST_AS_KLINIKBOX=1), this binary answers
// `klinikbox pluginset ...` and exits before any test starts.
const bool kAnswersAsKlinikbox = [] {
    if (!std::getenv("KB_TEST_AS_KLINIKBOX")) return false;
    std::ifstream in("/proc/self/cmdline", std::ios::binary);
    std::vector<std::string> args;
    for (std::string a; std::getline(in, a, '\0');) args.push_back(a);
    if (args.size() < 2 || args[1] != "pluginset") {
        std::cerr << "only `pluginset ...` is answered here\n";
        std::_Exit(2);
    }
    const int rc = ps::runPluginsetCommand({args.begin() + 2, args.end()}, std::cout, std::cerr);
    std::cout.flush();
    std::cerr.flush();
    std::_Exit(rc);
}();

const std::string kDemo = std::string(KB_SOURCE_DIR) + "/config/demo-region";

class DemoRegion : public PluginSetTest {
  protected:
    std::string pki = tmp.file("demo-pki");

    void SetUp() override {
        ASSERT_FALSE(kAnswersAsKlinikbox);
        ASSERT_EQ(std::system(("sh " + kDemo + "/make-demo-pki.sh " + pki + " >/dev/null").c_str()),
                  0);
    }
    // A `klinikbox` for the scripts: this test binary behind an environment switch.
    std::string klinikbox() {
        char self[4096];
        const auto n = ::readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0) throw std::runtime_error("cannot find the test binary");
        const auto wrapper = tmp.file("klinikbox");
        writeFile(wrapper, "#!/bin/sh\nKB_TEST_AS_KLINIKBOX=1 exec '" +
                               std::string(self, static_cast<std::size_t>(n)) + "' \"$@\"\n");
        fs::permissions(wrapper, fs::perms::owner_all);
        return wrapper;
    }
    static ps::VerifiedSet verifyNow(const std::string& dir, const ps::TrustStore& t) {
        ps::VerifyOptions o;
        o.commitHighWater = false;
        return ps::verifySigned(dir, t, o, nullptr);
    }
};

TEST_F(DemoRegion, PkiScriptMakesATrustEntryWithThresholdTwoAndAFreshCrl) {
    const auto t = ps::TrustStore::load(pki + "/trust");
    ASSERT_EQ(t.regions().size(), 1u);
    const auto& r = t.regions()[0];
    EXPECT_EQ(r.name, "Demoregionen (DEMO)");
    EXPECT_EQ(r.hsaId, "SE2321000016-DEMO");
    EXPECT_EQ(r.threshold, 2);
    EXPECT_EQ(r.crls.size(), 1u);
    EXPECT_TRUE(fs::exists(pki + "/signers/infosec.key.pem"));
    EXPECT_EQ(fs::status(pki + "/signers/infosec.key.pem").permissions() & fs::perms::others_all,
              fs::perms::none);
    const auto crl = readFile(pki + "/trust/demo-region/crl.pem");
    ASSERT_EQ(std::system(("sh " + kDemo + "/make-demo-pki.sh " + pki + " >/dev/null").c_str()), 0);
    EXPECT_NE(readFile(pki + "/trust/demo-region/crl.pem"), crl);  // republished, same PKI
    EXPECT_EQ(ps::TrustStore::load(pki + "/trust").regions()[0].roots.size(), 1u);
}

TEST_F(DemoRegion, OfficersCertificatesSignASetTheBoxAccepts) {
    auto o = options();
    o.regionName = "Demoregionen (DEMO)";
    o.regionHsaId = "SE2321000016-DEMO";
    o.issued =
        ps::formatDate(std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()));
    o.expires =
        ps::formatDate(std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()) +
                       std::chrono::days(90));
    const auto dir = makePlugins();
    ps::createManifest(dir, o);
    for (const char* who : {"infosec", "medinfo"})
        ps::signManifest(dir, pki + "/signers/" + who + ".key.pem",
                         pki + "/signers/" + who + ".cert.pem");
    const auto set = verifyNow(dir, ps::TrustStore::load(pki + "/trust"));
    EXPECT_EQ(set.status, "valid");
    ASSERT_EQ(set.signers.size(), 2u);
    EXPECT_NE(set.signers[0].subject.find("informationssäkerhetsansvarig"), std::string::npos)
        << set.signers[0].subject;
}

TEST_F(DemoRegion, SignaturesMadeWithOpensslCmsAreAcceptedInDerAndPem) {
    // What an officer whose key is on a smart card or HSM does instead of `pluginset sign`.
    auto o = options();
    o.regionName = "Demoregionen (DEMO)";
    o.regionHsaId = "SE2321000016-DEMO";
    const auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
    o.issued = ps::formatDate(today);
    o.expires = ps::formatDate(today + std::chrono::days(90));
    const auto dir = makePlugins();
    ps::createManifest(dir, o);
    int n = 0;
    for (const char* form : {"DER", "PEM"}) {
        const std::string who = ++n == 1 ? "infosec" : "medinfo";
        const auto cmd = "openssl cms -sign -binary -md sha256 -nosmimecap -outform " +
                         std::string(form) + " -in " + dir + "/pluginset.yaml -signer " + pki +
                         "/signers/" + who + ".cert.pem -inkey " + pki + "/signers/" + who +
                         ".key.pem -out " + dir + "/pluginset.yaml.sig." + std::to_string(n);
        ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    }
    EXPECT_EQ(verifyNow(dir, ps::TrustStore::load(pki + "/trust")).signers.size(), 2u);
}

TEST_F(DemoRegion, SigningScriptCopiesThePluginsAndCertifiesThemWithBothOfficers) {
    const auto plugins = makePlugins("plugins");
    fs::create_directories(plugins + "/notes");
    const auto out = tmp.file("demo-set");
    const auto cmd = "sh " + kDemo + "/sign-demo-set.sh " + plugins + " " + out + " " + pki + " " +
                     klinikbox() + " 3 >" + tmp.file("out.txt") + " 2>" + tmp.file("err.txt");
    ASSERT_EQ(std::system(cmd.c_str()), 0)
        << readFile(tmp.file("out.txt")) << readFile(tmp.file("err.txt"));
    EXPECT_NE(readFile(tmp.file("out.txt")).find("ACCEPTED"), std::string::npos);
    EXPECT_NE(readFile(tmp.file("err.txt")).find("notes/ has no plugin.yaml; not part of the set"),
              std::string::npos);
    const auto set = verifyNow(out, ps::TrustStore::load(pki + "/trust"));
    EXPECT_EQ(set.sequence, 3);
    EXPECT_EQ(set.signers.size(), 2u);
    EXPECT_EQ(set.plugins.size(), 2u);
    EXPECT_FALSE(fs::exists(plugins + "/pluginset.yaml"));  // the source is left alone
}

TEST_F(DemoRegion, SigningScriptRecertifiesASetInPlaceWithANewSequence) {
    const auto dir = makePlugins();
    const auto kb = klinikbox();
    const auto run = [&](int seq) {
        return std::system(("sh " + kDemo + "/sign-demo-set.sh " + dir + " " + pki + " " + kb +
                            " " + std::to_string(seq) + " >/dev/null")
                               .c_str());
    };
    ASSERT_EQ(run(1), 0);
    ASSERT_EQ(run(2), 0);
    const auto set = verifyNow(dir, ps::TrustStore::load(pki + "/trust"));
    EXPECT_EQ(set.sequence, 2);
    EXPECT_FALSE(fs::exists(dir + "/pluginset.yaml.sig.3"));  // the old signatures were replaced
}

TEST_F(DemoRegion, SigningScriptNumbersAnAutoSetByTheTimeSoEveryBuildIsHigher) {
    const auto dir = makePlugins();
    const auto before = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    ASSERT_EQ(std::system(("sh " + kDemo + "/sign-demo-set.sh " + dir + " " + pki + " " +
                           klinikbox() + " auto >/dev/null")
                              .c_str()),
              0);
    const auto set = verifyNow(dir, ps::TrustStore::load(pki + "/trust"));
    EXPECT_GE(set.sequence, before);
    EXPECT_LE(set.sequence, before + 600);
}

}  // namespace
}  // namespace kbtest
