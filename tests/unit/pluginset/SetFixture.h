// A fixture with two trusted regions and ready-made plugin sets:
//   Region A (threshold 2): root A, signers infosec and medinfo, CRL (nothing revoked)
//   Region B (threshold 1): root B, signer b
// Sets hold two plugins (hello, world) and are verified "as of" 2025-06-01.
#pragma once

#include "TempDir.h"
#include "TestPki.h"

#include "pluginset/Certify.h"
#include "pluginset/HighWaterStore.h"
#include "pluginset/Signatures.h"
#include "pluginset/TrustStore.h"
#include "pluginset/Verifier.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace kbtest {

namespace ps = klinikbox::pluginset;

inline constexpr const char* kRegionAHsa = "SE2321000016-AAAA";
inline constexpr const char* kRegionBHsa = "SE2321000032-BBBB";

class PluginSetTest : public ::testing::Test {
  protected:
    TempDir tmp;
    Identity rootA = makeRoot("Region A Plugin Root");
    Identity infosec = issue(rootA, CertSpec("Region A infosec officer").eku("codeSigning"));
    Identity medinfo = issue(rootA, CertSpec("Region A medical informatics officer"));
    Identity rootB = makeRoot("Region B Plugin Root");
    Identity signerB = issue(rootB, CertSpec("Region B signer").eku("codeSigning"));

    PluginSetTest() {
        writeRegion("region-a", "Region A", kRegionAHsa, 2, rootA, makeCrlPem(rootA, {}));
        writeRegion("region-b", "Region B", kRegionBHsa, 1, rootB, makeCrlPem(rootB, {}));
    }

    std::string trustDir() const { return tmp.file("trust"); }
    ps::TrustStore trust() const { return ps::TrustStore::load(trustDir()); }

    void writeRegion(const std::string& dir, const std::string& name, const std::string& hsa,
                     int threshold, const Identity& root, const std::string& crlPem,
                     const std::string& extra = "") {
        const auto d = trustDir() + "/" + dir;
        std::filesystem::create_directories(d);
        writeFile(d + "/region.yaml", "name: " + name + "\nhsa_id: " + hsa + "\nthreshold: " +
                                          std::to_string(threshold) + "\n" + extra);
        writeFile(d + "/root.pem", root.certPem());
        if (crlPem.empty())
            std::filesystem::remove(d + "/crl.pem");
        else
            writeFile(d + "/crl.pem", crlPem);
    }

    // Two plugin directories under <name>/, without a manifest.
    std::string makePlugins(const std::string& name = "set") {
        const auto dir = tmp.file(name);
        std::filesystem::create_directories(dir + "/hello/lua");
        std::filesystem::create_directories(dir + "/hello/migrations");
        std::filesystem::create_directories(dir + "/world");
        writeFile(
            dir + "/hello/plugin.yaml",
            "id: hello\nname: Hello\nversion: 1.0.0\napi: 1\nkind: lua\nentry: lua/main.lua\n");
        writeFile(dir + "/hello/lua/main.lua", "return { greet = function() return 'hej' end }\n");
        writeFile(dir + "/hello/migrations/0001_init.sql",
                  "CREATE TABLE hello_greetings (id INTEGER PRIMARY KEY);\n");
        writeFile(dir + "/world/plugin.yaml",
                  "id: world\nname: World\nversion: 2.1.0\napi: 1\nkind: lua\nentry: main.lua\n");
        writeFile(dir + "/world/main.lua", "return {}\n");
        return dir;
    }

    ps::CreateOptions options(long long sequence = 1, const std::string& region = "A") const {
        ps::CreateOptions o;
        o.name = "Test set " + std::to_string(sequence);
        o.sequence = sequence;
        o.regionName = region == "A" ? "Region A" : "Region B";
        o.regionHsaId = region == "A" ? kRegionAHsa : kRegionBHsa;
        o.issued = "2025-01-01";
        o.expires = "2026-01-01";
        o.minBoxVersion = "0.1.0";
        return o;
    }

    // A set with a manifest, not yet signed.
    std::string makeSet(const std::string& name = "set", const ps::CreateOptions& o = {}) {
        const auto dir = makePlugins(name);
        ps::createManifest(dir, o.name.empty() ? options() : o);
        return dir;
    }

    // Adds a signature by `who` through the same code path as `klinikbox pluginset sign`.
    std::string sign(const std::string& dir, const Identity& who,
                     const std::string& chainPem = "") {
        static int n = 0;
        const auto base = tmp.file("id" + std::to_string(++n));
        writeFile(base + ".key.pem", who.keyPem());
        writeFile(base + ".cert.pem", who.certPem());
        if (!chainPem.empty()) writeFile(base + ".chain.pem", chainPem);
        return ps::signManifest(dir, base + ".key.pem", base + ".cert.pem",
                                chainPem.empty() ? "" : base + ".chain.pem")
            .file;
    }

    // Adds the next pluginset.yaml.sig.N by `who` without any of `sign`'s checks, as an
    // officer using `openssl cms -sign` would (for what `sign` itself refuses to make).
    std::string signRaw(const std::string& dir, const Identity& who) {
        int n = 1;
        while (std::filesystem::exists(dir + "/pluginset.yaml.sig." + std::to_string(n))) ++n;
        const auto name = "pluginset.yaml.sig." + std::to_string(n);
        writeFile(dir + "/" + name, rawSignature(readFile(dir + "/pluginset.yaml"), who));
        return name;
    }

    // A Region A set signed by both officers.
    std::string makeSignedSet(const std::string& name = "set", const ps::CreateOptions& o = {}) {
        const auto dir = makeSet(name, o);
        sign(dir, infosec);
        sign(dir, medinfo);
        return dir;
    }

    // Signs `bytes` as DER CMS without any check (for manifests `create` would never write).
    static std::string rawSignature(const std::string& bytes, const Identity& who) {
        return ps::signDetached(bytes, who.key.get(), who.cert.get(), nullptr);
    }

    // Replaces the manifest with `text` and signs it with both Region A officers, as a region
    // would sign whatever it was given.
    void resign(const std::string& dir, const std::string& text, const Identity* first = nullptr,
                const Identity* second = nullptr) {
        for (const auto& e : std::filesystem::directory_iterator(dir))
            if (e.path().filename().string().rfind("pluginset.yaml.sig.", 0) == 0)
                std::filesystem::remove(e.path());
        writeFile(dir + "/pluginset.yaml", text);
        writeFile(dir + "/pluginset.yaml.sig.1", rawSignature(text, first ? *first : infosec));
        writeFile(dir + "/pluginset.yaml.sig.2", rawSignature(text, second ? *second : medinfo));
    }

    // The manifest of `dir` with `from` replaced by `to` (which must occur).
    static std::string edited(const std::string& dir, const std::string& from,
                              const std::string& to) {
        auto text = readFile(dir + "/pluginset.yaml");
        const auto at = text.find(from);
        if (at == std::string::npos) throw std::runtime_error("'" + from + "' not in the manifest");
        return text.replace(at, from.size(), to);
    }

    static ps::VerifyOptions at(const std::string& isoNow) {
        ps::VerifyOptions o;
        o.now = *ps::parseInstant(isoNow);
        o.commitHighWater = false;
        return o;
    }

    ps::VerifiedSet verify(const std::string& path, const std::string& now = "2025-06-01",
                           ps::HighWaterStore* hw = nullptr, bool commit = false) {
        auto o = at(now);
        o.commitHighWater = commit;
        return ps::verifySigned(path, trust(), o, hw);
    }

    // The refusal of verifying `path`; fails the test when it is accepted.
    ps::VerifyError refusal(const std::string& path, const std::string& now = "2025-06-01",
                            ps::HighWaterStore* hw = nullptr,
                            const ps::VerifyOptions* opts = nullptr) {
        try {
            (void)ps::verifySigned(path, trust(), opts ? *opts : at(now), hw);
        } catch (const ps::VerifyError& e) {
            return e;
        }
        ADD_FAILURE() << path << " was accepted";
        return ps::VerifyError(ps::Reason::Unreadable, "accepted");
    }
};

// The failing check's reason, and its message containing `text`.
#define EXPECT_REFUSED(err, reasonValue, text)                                                     \
    do {                                                                                           \
        const auto& e_ = (err);                                                                    \
        EXPECT_EQ(ps::toString(e_.reason()), std::string(ps::toString(reasonValue))) << e_.what(); \
        EXPECT_NE(std::string(e_.what()).find(text), std::string::npos) << e_.what();              \
        ASSERT_FALSE(e_.checks().empty());                                                         \
        EXPECT_FALSE(e_.checks().back().passed);                                                   \
    } while (0)

}  // namespace kbtest
