// `klinikbox pluginset ...` as a region's IT department uses it.
#include "SetFixture.h"

#include "pluginset/Cli.h"

#include <sstream>

namespace kbtest {
namespace {

namespace fs = std::filesystem;

class Cli : public PluginSetTest {
  protected:
    std::string out, err;
    int run(std::vector<std::string> args) {
        std::ostringstream o, e;
        const int rc = ps::runPluginsetCommand(args, o, e);
        out = o.str();
        err = e.str();
        return rc;
    }
    std::string keyFile(const Identity& who, const std::string& name) {
        writeFile(tmp.file(name + ".key.pem"), who.keyPem());
        writeFile(tmp.file(name + ".cert.pem"), who.certPem());
        return tmp.file(name);
    }
    int create(const std::string& dir, long long sequence = 1) {
        return run({"create", dir, "--name", "Region A set", "--sequence", std::to_string(sequence),
                    "--region-name", "Region A", "--region-hsa-id", kRegionAHsa, "--issued",
                    "2025-01-01", "--expires", "2026-01-01"});
    }
};

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

TEST_F(Cli, RegionCreatesSignsVerifiesAndPacksASet) {
    const auto dir = makePlugins();
    ASSERT_EQ(create(dir), 0) << err;
    EXPECT_TRUE(has(out, "2 plugin(s), 5 file(s)")) << out;
    const auto a = keyFile(infosec, "infosec"), b = keyFile(medinfo, "medinfo");
    ASSERT_EQ(run({"sign", dir, "--key", a + ".key.pem", "--cert", a + ".cert.pem"}), 0) << err;
    EXPECT_TRUE(has(out, "pluginset.yaml.sig.1")) << out;
    ASSERT_EQ(run({"sign", dir, "--key=" + b + ".key.pem", "--cert=" + b + ".cert.pem"}), 0) << err;
    EXPECT_TRUE(has(out, "pluginset.yaml.sig.2")) << out;
    ASSERT_EQ(run({"verify", dir, "--trust", trustDir(), "--now", "2025-06-01"}), 0) << out << err;
    for (const char* check :
         {"archive", "signatures", "chain", "key-usage", "certificate-validity", "revocation",
          "threshold", "manifest", "region", "dates", "box-version", "rollback", "files"})
        EXPECT_TRUE(has(out, std::string("  ok    ") + check)) << check << "\n" << out;
    EXPECT_TRUE(has(
        out, "ACCEPTED: 'Region A set' sequence 1 from Region A (SE2321000016-AAAA), status valid"))
        << out;
    EXPECT_TRUE(has(out, "signer: CN=Region A infosec officer")) << out;
    ASSERT_EQ(run({"pack", dir, "-o", tmp.file("set.zip")}), 0) << err;
    ASSERT_EQ(run({"verify", tmp.file("set.zip"), "--trust", trustDir(), "--now", "2025-06-01"}), 0)
        << out;
}

TEST_F(Cli, VerifyPrintsEveryCheckAndTheReasonOfARefusal) {
    const auto dir = makeSignedSet();
    writeFile(dir + "/hello/lua/main.lua", "return { greet = function() return 'HEJ' end }\n");
    EXPECT_EQ(run({"verify", dir, "--trust", trustDir(), "--now", "2025-06-01"}), 1);
    EXPECT_TRUE(has(out, "  ok    rollback              not checked")) << out;
    EXPECT_TRUE(has(out, "  FAIL  files                 hello/lua/main.lua has SHA-256")) << out;
    EXPECT_TRUE(has(out, "REFUSED (file-tampered): hello/lua/main.lua")) << out;
}

TEST_F(Cli, VerifyReportsAPluginThatAsksForAnotherSdkApi) {
    const auto dir = makePlugins();
    writeFile(dir + "/world/plugin.yaml",
              "id: world\nname: World\nversion: 2.1.0\napi: 99\nkind: lua\nentry: main.lua\n");
    ps::createManifest(dir, options());
    sign(dir, infosec);
    sign(dir, medinfo);
    EXPECT_EQ(run({"verify", dir, "--trust", trustDir(), "--now", "2025-06-01"}), 0) << out;
    EXPECT_TRUE(has(out, "warning: plugin world 2.1.0 asks for SDK API 99; this box provides API " +
                             std::to_string(klinikbox::kSdkApiVersion)))
        << out;
    EXPECT_FALSE(has(out, "plugin hello")) << out;  // hello asks for the box's API
}

TEST_F(Cli, VerifyHonoursTheGivenTimeAndGracePeriod) {
    const auto dir = makeSignedSet();
    EXPECT_EQ(run({"verify", dir, "--trust", trustDir(), "--now", "2026-01-10T12:00:00Z"}), 0)
        << out;
    EXPECT_TRUE(has(out, "status expired-in-grace")) << out;
    EXPECT_TRUE(has(out, "warning: the set expired on 2026-01-01")) << out;
    EXPECT_EQ(run({"verify", dir, "--trust", trustDir(), "--now", "2026-01-10T12:00:00Z",
                   "--grace-days", "5"}),
              1);
    EXPECT_TRUE(has(out, "REFUSED (expired)")) << out;
}

TEST_F(Cli, VerifyWithABrokenTrustDirectoryFails) {
    const auto dir = makeSignedSet();
    EXPECT_EQ(run({"verify", dir, "--trust", tmp.file("no-such-trust")}), 1);
    EXPECT_TRUE(has(err, "the trust directory cannot be used")) << err;
}

TEST_F(Cli, InspectShowsWhatASetClaimsWithoutVerifyingIt) {
    const auto dir = makeSignedSet();
    writeFile(dir + "/pluginset.yaml.sig.3", "garbage");
    ASSERT_EQ(run({"inspect", dir}), 0) << err;
    EXPECT_TRUE(has(out, "NOT VERIFIED")) << out;
    EXPECT_TRUE(has(out, "sequence:        1")) << out;
    EXPECT_TRUE(has(out, "hello 1.0.0: 3 file(s)")) << out;
    EXPECT_TRUE(has(out, "pluginset.yaml.sig.1: CN=Region A infosec officer")) << out;
    EXPECT_TRUE(has(out, "pluginset.yaml.sig.3: signature-malformed")) << out;
}

TEST_F(Cli, UsageErrorsExitWithTwo) {
    EXPECT_EQ(run({}), 2);
    EXPECT_TRUE(has(err, "usage: klinikbox pluginset"));
    EXPECT_EQ(run({"frobnicate"}), 2);
    EXPECT_TRUE(has(err, "unknown verb 'frobnicate'"));
    EXPECT_EQ(run({"verify", tmp.path()}), 2);
    EXPECT_TRUE(has(err, "verify needs --trust")) << err;
    EXPECT_EQ(run({"verify", tmp.path(), "--trust", trustDir(), "--now", "yesterday"}), 2);
    EXPECT_TRUE(has(err, "--now must be")) << err;
    EXPECT_EQ(run({"sign", tmp.path(), "--key", "k", "--cert", "c", "--force", "x"}), 2);
    EXPECT_TRUE(has(err, "unknown option --force")) << err;
    EXPECT_EQ(run({"create", tmp.path(), "--name", "x"}), 2);
    EXPECT_TRUE(has(err, "create needs --expires --region-hsa-id --region-name --sequence")) << err;
    EXPECT_EQ(run({"create", tmp.path(), "--name", "x", "--sequence", "seven", "--region-name", "R",
                   "--region-hsa-id", kRegionAHsa, "--expires", "2026-01-01"}),
              2);
    EXPECT_TRUE(has(err, "--sequence must be a whole number")) << err;
    EXPECT_EQ(run({"pack", tmp.path()}), 2);
    EXPECT_TRUE(has(err, "pack needs -o")) << err;
    EXPECT_EQ(run({"help"}), 0);
}

TEST_F(Cli, EveryVerbAnswersHelpWithItsUsage) {
    for (const std::string verb : {"create", "sign", "verify", "inspect", "pack"}) {
        for (const std::string flag : {"--help", "-h"}) {
            EXPECT_EQ(run({verb, flag}), 0) << verb << " " << flag << ": " << err;
            EXPECT_TRUE(has(out, "usage: klinikbox pluginset")) << verb;
            EXPECT_FALSE(has(err, "needs a value")) << err;
        }
    }
    EXPECT_EQ(run({"verify", tmp.path(), "--help"}), 0);
}

TEST_F(Cli, SignRefusesAnExpiredCertificate) {
    const auto dir = makeSet();
    const auto old = issue(
        rootA, CertSpec("Former officer").validity("2021-01-01T00:00:00Z", "2024-12-31T00:00:00Z"));
    const auto f = keyFile(old, "old");
    EXPECT_EQ(run({"sign", dir, "--key", f + ".key.pem", "--cert", f + ".cert.pem"}), 1);
    EXPECT_TRUE(has(err, "expired on 2024-12-31T00:00:00Z; it cannot sign sets any more")) << err;
    EXPECT_FALSE(fs::exists(dir + "/pluginset.yaml.sig.1"));
}

TEST_F(Cli, SignRefusesASetThatOutlivesTheCertificate) {
    const auto dir = makePlugins();
    ASSERT_EQ(run({"create", dir, "--name", "Long set", "--sequence", "1", "--region-name",
                   "Region A", "--region-hsa-id", kRegionAHsa, "--issued", "2025-01-01",
                   "--expires", "2045-01-01"}),
              0)
        << err;
    const auto f = keyFile(infosec, "infosec");  // valid until 2040-01-01
    EXPECT_EQ(run({"sign", dir, "--key", f + ".key.pem", "--cert", f + ".cert.pem"}), 1);
    EXPECT_TRUE(has(err, "the set expires on 2045-01-01 but")) << err;
    EXPECT_TRUE(has(err, "expires on 2040-01-01T00:00:00Z")) << err;
    EXPECT_FALSE(fs::exists(dir + "/pluginset.yaml.sig.1"));
}

TEST_F(Cli, CreateRefusesAnExpiryLaterThanTheSignersCertificates) {
    const auto dir = makePlugins();
    const auto a = keyFile(infosec, "infosec");
    const auto b = keyFile(medinfo, "medinfo");
    EXPECT_EQ(run({"create", dir, "--name", "Long set", "--sequence", "1", "--region-name",
                   "Region A", "--region-hsa-id", kRegionAHsa, "--issued", "2025-01-01",
                   "--expires", "2045-01-01", "--signer-certs",
                   a + ".cert.pem," + b + ".cert.pem"}),
              1);
    EXPECT_TRUE(has(err, "the set expires on 2045-01-01 but")) << err;
    EXPECT_FALSE(fs::exists(dir + "/pluginset.yaml"));
    EXPECT_EQ(run({"create", dir, "--name", "Set", "--sequence", "1", "--region-name", "Region A",
                   "--region-hsa-id", kRegionAHsa, "--issued", "2025-01-01", "--expires",
                   "2039-01-01", "--signer-certs", a + ".cert.pem," + b + ".cert.pem"}),
              0)
        << err;
}

TEST_F(Cli, SignRefusesTheSameKeyOrSubjectTwice) {
    const auto dir = makeSet();
    const auto a = keyFile(infosec, "infosec");
    ASSERT_EQ(run({"sign", dir, "--key", a + ".key.pem", "--cert", a + ".cert.pem"}), 0) << err;
    const auto renewed = reissue(rootA, CertSpec("Region A infosec officer, renewed"), infosec);
    const auto r = keyFile(renewed, "renewed");
    EXPECT_EQ(run({"sign", dir, "--key", r + ".key.pem", "--cert", r + ".cert.pem"}), 1);
    EXPECT_TRUE(has(err, "made with the same key")) << err;
    const auto twin = issue(rootA, CertSpec("Region A infosec officer"));
    const auto t = keyFile(twin, "twin");
    EXPECT_EQ(run({"sign", dir, "--key", t + ".key.pem", "--cert", t + ".cert.pem"}), 1);
    EXPECT_TRUE(has(err, "already signed this set with another key")) << err;
    EXPECT_FALSE(fs::exists(dir + "/pluginset.yaml.sig.2"));
}

TEST_F(Cli, CreateRefusesBadDatesAndRegionIds) {
    const auto dir = makePlugins();
    EXPECT_EQ(run({"create", dir, "--name", "x", "--sequence", "1", "--region-name", "R",
                   "--region-hsa-id", "SE123", "--expires", "2026-01-01"}),
              1);
    EXPECT_TRUE(has(err, "is not an HSA-id")) << err;
    EXPECT_EQ(
        run({"create", dir, "--name", "x", "--sequence", "1", "--region-name", "R",
             "--region-hsa-id", kRegionAHsa, "--issued", "2026-02-01", "--expires", "2026-01-01"}),
        1);
    EXPECT_TRUE(has(err, "--expires must come after --issued")) << err;
    EXPECT_FALSE(fs::exists(dir + "/pluginset.yaml"));
}

TEST_F(Cli, CreateRefusesADirectoryThatAlreadyHoldsSignatures) {
    const auto dir = makeSignedSet();
    EXPECT_EQ(create(dir, 2), 1);
    EXPECT_TRUE(has(err, "already holds pluginset.yaml.sig.1")) << err;
}

TEST_F(Cli, CreateRefusesAStrayFileNextToThePlugins) {
    const auto dir = makePlugins();
    writeFile(dir + "/notes.txt", "x");
    EXPECT_EQ(create(dir), 1);
    EXPECT_TRUE(has(err, "notes.txt is not a plugin directory")) << err;
}

TEST_F(Cli, SignRefusesAKeyThatIsNotTheCertificates) {
    const auto dir = makeSet();
    writeFile(tmp.file("mixed.key.pem"), medinfo.keyPem());
    writeFile(tmp.file("mixed.cert.pem"), infosec.certPem());
    EXPECT_EQ(run({"sign", dir, "--key", tmp.file("mixed.key.pem"), "--cert",
                   tmp.file("mixed.cert.pem")}),
              1);
    EXPECT_TRUE(has(err, "is not the key of CN=Region A infosec officer")) << err;
    EXPECT_FALSE(fs::exists(dir + "/pluginset.yaml.sig.1"));
}

TEST_F(Cli, SignRefusesASecondSignatureByTheSameCertificate) {
    const auto dir = makeSet();
    const auto a = keyFile(infosec, "infosec");
    ASSERT_EQ(run({"sign", dir, "--key", a + ".key.pem", "--cert", a + ".cert.pem"}), 0) << err;
    EXPECT_EQ(run({"sign", dir, "--key", a + ".key.pem", "--cert", a + ".cert.pem"}), 1);
    EXPECT_TRUE(has(err, "already signed this set (pluginset.yaml.sig.1)")) << err;
}

TEST_F(Cli, SignRefusesACertificateThatCannotSignSets) {
    const auto dir = makeSet();
    const auto tls = issue(rootA, CertSpec("intranet.region-a.se").eku("serverAuth"));
    const auto t = keyFile(tls, "tls");
    EXPECT_EQ(run({"sign", dir, "--key", t + ".key.pem", "--cert", t + ".cert.pem"}), 1);
    EXPECT_TRUE(has(err, "without codeSigning")) << err;
}

TEST_F(Cli, SignRefusesWhenTheFilesNoLongerMatchTheManifest) {
    const auto dir = makeSet();
    writeFile(dir + "/world/main.lua", "return {2}\n");
    const auto a = keyFile(infosec, "infosec");
    EXPECT_EQ(run({"sign", dir, "--key", a + ".key.pem", "--cert", a + ".cert.pem"}), 1);
    EXPECT_TRUE(has(err, "file-tampered: world/main.lua")) << err;
}

TEST_F(Cli, ManifestWrittenApartFromThePluginsIsSignedThenJoinsTheSet) {
    const auto dir = makePlugins();
    const auto staging = tmp.file("staging");
    fs::create_directories(staging);
    const auto manifest = staging + "/pluginset.yaml";
    ASSERT_EQ(run({"create", dir, "--name", "Region A set", "--sequence", "1", "--region-name",
                   "Region A", "--region-hsa-id", kRegionAHsa, "--issued", "2025-01-01",
                   "--expires", "2026-01-01", "-o", manifest}),
              0)
        << err;
    EXPECT_TRUE(has(out, "wrote " + manifest)) << out;
    EXPECT_FALSE(fs::exists(dir + "/pluginset.yaml"));
    const auto a = keyFile(infosec, "infosec"), b = keyFile(medinfo, "medinfo");
    ASSERT_EQ(run({"sign", manifest, "--key", a + ".key.pem", "--cert", a + ".cert.pem"}), 0)
        << err;
    EXPECT_TRUE(has(out, "wrote " + staging + "/pluginset.yaml.sig.1")) << out;
    EXPECT_TRUE(has(out, "note: the plugin files were not checked")) << out;
    ASSERT_EQ(run({"sign", manifest, "--key", b + ".key.pem", "--cert", b + ".cert.pem"}), 0)
        << err;
    for (const char* f : {"pluginset.yaml", "pluginset.yaml.sig.1", "pluginset.yaml.sig.2"})
        fs::copy_file(staging + "/" + f, dir + "/" + f);
    EXPECT_EQ(run({"verify", dir, "--trust", trustDir(), "--now", "2025-06-01"}), 0) << out;
}

TEST_F(Cli, CreateRefusesAnOutputInsideTheSet) {
    const auto dir = makePlugins();
    EXPECT_EQ(run({"create", dir, "--name", "x", "--sequence", "1", "--region-name", "Region A",
                   "--region-hsa-id", kRegionAHsa, "--issued", "2025-01-01", "--expires",
                   "2026-01-01", "-o", dir + "/hello/manifest.yaml"}),
              1);
    EXPECT_TRUE(has(err, "lies inside")) << err;
    EXPECT_FALSE(fs::exists(dir + "/hello/manifest.yaml"));
}

TEST_F(Cli, SigningTheManifestOfASetChecksItsFiles) {
    const auto dir = makeSet();
    writeFile(dir + "/world/main.lua", "return {2}\n");
    const auto a = keyFile(infosec, "infosec");
    EXPECT_EQ(
        run({"sign", dir + "/pluginset.yaml", "--key", a + ".key.pem", "--cert", a + ".cert.pem"}),
        1);
    EXPECT_TRUE(has(err, "file-tampered: world/main.lua")) << err;
    writeFile(dir + "/world/main.lua", "return {}\n");
    ASSERT_EQ(
        run({"sign", dir + "/pluginset.yaml", "--key", a + ".key.pem", "--cert", a + ".cert.pem"}),
        0)
        << err;
    EXPECT_TRUE(has(out, "wrote " + dir + "/pluginset.yaml.sig.1")) << out;
    EXPECT_FALSE(has(out, "not checked")) << out;
}

TEST_F(Cli, VerifyInDevelopmentModeLoadsThePluginsUnsigned) {
    const auto dir = makePlugins();
    ASSERT_EQ(run({"verify", dir, "--mode", "development"}), 0) << out << err;
    EXPECT_TRUE(has(out, "  ok    files")) << out;
    EXPECT_TRUE(has(out, "ACCEPTED IN DEVELOPMENT MODE ONLY: 2 plugin(s), unsigned")) << out;
    EXPECT_TRUE(has(out, "plugin: hello 1.0.0 (3 files)")) << out;
    EXPECT_EQ(run({"verify", dir, "--mode", "production", "--trust", trustDir()}), 1);
    EXPECT_TRUE(has(out, "REFUSED (manifest-missing)")) << out;
}

TEST_F(Cli, VerifyInDevelopmentModeStillRefusesLinks) {
    const auto dir = makePlugins();
    fs::create_symlink("/etc/passwd", dir + "/hello/lua/passwd.lua");
    EXPECT_EQ(run({"verify", dir, "--mode", "development"}), 1);
    EXPECT_TRUE(has(out, "REFUSED (unsafe-path): hello/lua/passwd.lua is a symbolic link")) << out;
}

TEST_F(Cli, VerifyModeErrorsExitWithTwo) {
    EXPECT_EQ(run({"verify", tmp.path(), "--mode", "staging", "--trust", trustDir()}), 2);
    EXPECT_TRUE(has(err, "--mode must be production or development")) << err;
    EXPECT_EQ(run({"verify", tmp.path(), "--mode", "development", "--trust", trustDir()}), 2);
    EXPECT_TRUE(has(err, "--trust applies to production mode only")) << err;
    EXPECT_EQ(run({"sign", "--key", "k", "--cert", "c"}), 2);
    EXPECT_TRUE(has(err, "sign needs a DIR or MANIFEST")) << err;
    EXPECT_EQ(run({"create", tmp.path(), "--name", "x", "--sequence", "1", "--region-name", "R",
                   "--region-hsa-id", kRegionAHsa, "--expires", "2026-01-01", "-o", "a", "--output",
                   "b"}),
              2);
    EXPECT_TRUE(has(err, "-o and --output are the same option")) << err;
}

}  // namespace
}  // namespace kbtest
