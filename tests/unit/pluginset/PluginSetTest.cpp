// Region-certified plugin sets: the happy path with two regions, and one test per reason a
// set is refused.
#include "pluginset/Signing.h"
#include "pluginset/Verifier.h"

#include "TempDir.h"

#include <Poco/Checksum.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace klinikbox::pluginset;
namespace fs = std::filesystem;
using namespace std::chrono;

namespace {

// One PKI for the whole suite (made once; about a second).
class Pki {
public:
    static const Pki& get() {
        static Pki p;
        return p;
    }
    std::string dir() const { return tmp_.path(); }
    std::string key(const std::string& ca, const std::string& n) const { return tmp_.path() + "/" + ca + "/" + n + ".key"; }
    std::string cert(const std::string& ca, const std::string& n) const { return tmp_.path() + "/" + ca + "/" + n + ".pem"; }
    const TrustStore& trust() const { return trust_; }
    std::string trustDir(const std::string& name = "trust") const { return tmp_.path() + "/" + name; }

private:
    Pki() {
        const std::string cmd = "sh " + std::string(KB_SOURCE_DIR) + "/tests/unit/pluginset/make-test-pki.sh " + tmp_.path() +
                                " " + std::string(KB_SOURCE_DIR) + "/config/demo-region";
        if (std::system(cmd.c_str()) != 0) throw std::runtime_error("test PKI generation failed");
        trust_ = TrustStore::load(tmp_.path() + "/trust");
    }
    kbtest::TempDir tmp_;
    TrustStore trust_;
};

std::string today(int offsetDays = 0) {
    const auto t = system_clock::to_time_t(system_clock::now() + hours(24 * offsetDays));
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return buf;
}

void write(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
}

// A set directory with one plugin, its manifest created, not yet signed.
struct SetDir {
    kbtest::TempDir tmp;
    std::string dir = tmp.file("set");
    explicit SetDir(const std::string& region = "SE2321000016-AAAA", long long seq = 1, std::string issued = today(-1),
                    std::string expires = today(180), std::string minBox = "0.1.0") {
        write(fs::path(dir) / "hello" / "plugin.yaml", "id: hello\nversion: 1.2.0\n");
        write(fs::path(dir) / "hello" / "lib" / "code.lua", "return 42\n");
        CreateOptions o{"Testpaket", seq, "Region", region, std::move(issued), std::move(expires), std::move(minBox)};
        createManifest(dir, o);
    }
    SetDir& sign(const std::string& ca, const std::string& who) {
        signManifest(dir, Pki::get().key(ca, who), Pki::get().cert(ca, who));
        return *this;
    }
    fs::path path(const std::string& rel) const { return fs::path(dir) / rel; }
};

VerifyOptions opts(int daysFromNow = 0) {
    VerifyOptions o;
    o.now = system_clock::now() + hours(24 * daysFromNow);
    return o;
}

Reason refusal(const std::string& dirOrZip, const VerifyOptions& o = opts(), HighWaterStore* hw = nullptr,
               const TrustStore* trust = nullptr) {
    try {
        (void)verifySigned(dirOrZip, trust ? *trust : Pki::get().trust(), o, hw);
    } catch (const VerifyError& e) {
        return e.reason();
    }
    ADD_FAILURE() << dirOrZip << " was accepted";
    return Reason::Unreadable;
}

class MemoryHighWater final : public HighWaterStore {
public:
    std::optional<Mark> get(const std::string& r) override {
        auto it = marks.find(r);
        return it == marks.end() ? std::nullopt : std::optional<Mark>(it->second);
    }
    void raise(const std::string& r, const Mark& m) override { marks[r] = m; }
    std::map<std::string, Mark> marks;
};

// A zip archive written by hand (stored entries), so tests control names and modes.
std::string makeZip(const std::vector<std::tuple<std::string, std::string, unsigned>>& entries) {
    std::string local, central;
    auto u16 = [](std::string& s, unsigned v) { s += char(v & 0xff); s += char((v >> 8) & 0xff); };
    auto u32 = [](std::string& s, unsigned long v) { for (int i = 0; i < 4; ++i) s += char((v >> (8 * i)) & 0xff); };
    for (const auto& [name, data, mode] : entries) {
        Poco::Checksum crc(Poco::Checksum::TYPE_CRC32);
        crc.update(data);
        const unsigned long offset = local.size();
        u32(local, 0x04034b50); u16(local, 20); u16(local, 0); u16(local, 0); u16(local, 0); u16(local, 0x21);
        u32(local, crc.checksum()); u32(local, data.size()); u32(local, data.size());
        u16(local, static_cast<unsigned>(name.size())); u16(local, 0);
        local += name + data;
        u32(central, 0x02014b50); u16(central, (3u << 8) | 20); u16(central, 20); u16(central, 0); u16(central, 0);
        u16(central, 0); u16(central, 0x21); u32(central, crc.checksum()); u32(central, data.size()); u32(central, data.size());
        u16(central, static_cast<unsigned>(name.size())); u16(central, 0); u16(central, 0); u16(central, 0); u16(central, 0);
        u32(central, static_cast<unsigned long>(mode) << 16); u32(central, offset);
        central += name;
    }
    std::string eocd;
    u32(eocd, 0x06054b50); u16(eocd, 0); u16(eocd, 0); u16(eocd, static_cast<unsigned>(entries.size()));
    u16(eocd, static_cast<unsigned>(entries.size())); u32(eocd, central.size()); u32(eocd, local.size()); u16(eocd, 0);
    return local + central + eocd;
}

}  // namespace

TEST(PluginSet, SignedSetFromTwoTrustedRegionsVerifiesWithItsVerifiedBytes) {
    SetDir a;
    a.sign("A", "a1").sign("A", "a2");
    const auto set = verifySigned(a.dir, Pki::get().trust(), opts(), nullptr);
    EXPECT_TRUE(set.isSigned);
    EXPECT_EQ(set.status, "valid");
    EXPECT_EQ(set.regionHsaId, "SE2321000016-AAAA");
    EXPECT_EQ(set.signers.size(), 2u);
    ASSERT_EQ(set.plugins.size(), 1u);
    EXPECT_EQ(set.plugins[0].files.at("lib/code.lua"), "return 42\n");
    SetDir b("SE2321000016-BBBB");
    b.sign("B", "b1");
    EXPECT_EQ(verifySigned(b.dir, Pki::get().trust(), opts(), nullptr).regionHsaId, "SE2321000016-BBBB");
}

TEST(PluginSet, PackedArchiveVerifiesLikeTheDirectory) {
    SetDir a;
    a.sign("A", "a1").sign("A", "a2");
    packSet(a.dir, a.tmp.file("set.zip"));
    EXPECT_EQ(verifySigned(a.tmp.file("set.zip"), Pki::get().trust(), opts(), nullptr).plugins.size(), 1u);
}

TEST(PluginSet, TamperedFileIsRefused) {
    SetDir a;
    a.sign("A", "a1").sign("A", "a2");
    write(a.path("hello/lib/code.lua"), "return 43\n");
    EXPECT_EQ(refusal(a.dir), Reason::FileTampered);
}

TEST(PluginSet, ExtraFileIsRefused) {
    SetDir a;
    a.sign("A", "a1").sign("A", "a2");
    write(a.path("hello/evil.so"), "x");
    EXPECT_EQ(refusal(a.dir), Reason::FileExtra);
}

TEST(PluginSet, MissingFileIsRefused) {
    SetDir a;
    a.sign("A", "a1").sign("A", "a2");
    fs::remove(a.path("hello/lib/code.lua"));
    EXPECT_EQ(refusal(a.dir), Reason::FileMissing);
}

TEST(PluginSet, SetNamingAnotherRegionThanItsSignersIsRefused) {
    SetDir a("SE2321000016-AAAA");
    a.sign("B", "b1");
    EXPECT_EQ(refusal(a.dir), Reason::RegionMismatch);
}

TEST(PluginSet, SignerFromAnUntrustedRootIsRefused) {
    SetDir a;
    a.sign("C", "c1");
    EXPECT_EQ(refusal(a.dir), Reason::UntrustedSigner);
}

TEST(PluginSet, NotYetValidSetIsRefused) {
    SetDir a("SE2321000016-AAAA", 1, today(5), today(180));
    a.sign("A", "a1").sign("A", "a2");
    EXPECT_EQ(refusal(a.dir), Reason::NotYetValid);
}

TEST(PluginSet, ExpiryWarnsThenRunsInGraceThenIsRefused) {
    SetDir a("SE2321000016-AAAA", 1, today(-1), today(20));
    a.sign("A", "a1").sign("A", "a2");
    EXPECT_EQ(verifySigned(a.dir, Pki::get().trust(), opts(), nullptr).status, "expiring-soon");
    auto inGrace = verifySigned(a.dir, Pki::get().trust(), opts(25), nullptr);
    EXPECT_EQ(inGrace.status, "expired-in-grace");
    EXPECT_FALSE(inGrace.warnings.empty());
    EXPECT_EQ(refusal(a.dir, opts(20 + 15)), Reason::Expired);
}

TEST(PluginSet, ExpiredSigningCertificateIsRefused) {
    SetDir a;
    a.sign("A", "a1").sign("A", "a4");
    EXPECT_NO_THROW((void)verifySigned(a.dir, Pki::get().trust(), opts(), nullptr));
    EXPECT_EQ(refusal(a.dir, opts(3)), Reason::CertificateExpired);
}

TEST(PluginSet, RevokedCertificateIsRefused) {
    SetDir a;
    a.sign("A", "a1").sign("A", "a5");
    EXPECT_EQ(refusal(a.dir), Reason::CertificateRevoked);
}

TEST(PluginSet, RegionRequiringACrlWithoutOneFailsClosed) {
    SetDir a;
    a.sign("A", "a1").sign("A", "a2");
    const auto noCrl = TrustStore::load(Pki::get().trustDir("trust-nocrl"));
    EXPECT_EQ(refusal(a.dir, opts(), nullptr, &noCrl), Reason::CrlUnavailable);
}

TEST(PluginSet, ThresholdCountsDistinctCertificatesOnly) {
    SetDir one;
    one.sign("A", "a1");
    EXPECT_EQ(refusal(one.dir), Reason::ThresholdNotMet);
    SetDir twice;
    twice.sign("A", "a1").sign("A", "a1");
    EXPECT_EQ(refusal(twice.dir), Reason::ThresholdNotMet);
}

TEST(PluginSet, SignatureOverOtherBytesIsRefused) {
    SetDir a;
    a.sign("A", "a1").sign("A", "a2");
    std::ofstream(a.path("pluginset.yaml"), std::ios::app) << "# changed after signing\n";
    EXPECT_EQ(refusal(a.dir), Reason::SignatureMismatch);
}

TEST(PluginSet, RollbackToALowerSequenceIsRefused) {
    MemoryHighWater hw;
    SetDir v2("SE2321000016-AAAA", 2);
    v2.sign("A", "a1").sign("A", "a2");
    (void)verifySigned(v2.dir, Pki::get().trust(), opts(), &hw);
    EXPECT_EQ(hw.marks.at("SE2321000016-AAAA").sequence, 2);
    SetDir v1("SE2321000016-AAAA", 1);
    v1.sign("A", "a1").sign("A", "a2");
    EXPECT_EQ(refusal(v1.dir, opts(), &hw), Reason::Rollback);
    SetDir other2("SE2321000016-AAAA", 2, today(-2));
    other2.sign("A", "a1").sign("A", "a2");
    EXPECT_EQ(refusal(other2.dir, opts(), &hw), Reason::Rollback) << "same sequence, other bytes";
    EXPECT_NO_THROW((void)verifySigned(v2.dir, Pki::get().trust(), opts(), &hw)) << "the same set again is fine";
}

TEST(PluginSet, VerifyingWithoutCommitLeavesTheHighWaterMark) {
    MemoryHighWater hw;
    SetDir v3("SE2321000016-AAAA", 3);
    v3.sign("A", "a1").sign("A", "a2");
    auto o = opts();
    o.commitHighWater = false;
    (void)verifySigned(v3.dir, Pki::get().trust(), o, &hw);
    EXPECT_TRUE(hw.marks.empty());
}

TEST(PluginSet, PathTraversalInTheManifestIsRefused) {
    SetDir a;
    write(a.path("pluginset.yaml"),
          "name: x\nsequence: 1\nregion: {name: R, hsa_id: SE2321000016-AAAA}\nissued: " + today(-1) + "\nexpires: " + today(90) +
              "\nplugins:\n- id: hello\n  version: 1.0.0\n  files:\n  - {path: plugin.yaml, sha256: x, size: 1}\n"
              "  - {path: ../../etc/passwd, sha256: x, size: 1}\n");
    a.sign("A", "a1").sign("A", "a2");
    EXPECT_EQ(refusal(a.dir), Reason::UnsafePath);
}

TEST(PluginSet, SymlinkInTheSetDirectoryIsRefused) {
    SetDir a;
    a.sign("A", "a1").sign("A", "a2");
    fs::create_symlink("/etc/passwd", a.path("hello/link"));
    EXPECT_EQ(refusal(a.dir), Reason::UnsafePath);
}

TEST(PluginSet, ZipSlipAndSymlinkEntriesInAnArchiveAreRefused) {
    kbtest::TempDir t;
    std::ofstream(t.file("slip.zip"), std::ios::binary) << makeZip({{"pluginset.yaml", "x", 0100644}, {"../evil", "x", 0100644}});
    EXPECT_EQ(refusal(t.file("slip.zip")), Reason::UnsafePath);
    std::ofstream(t.file("abs.zip"), std::ios::binary) << makeZip({{"/etc/cron.d/x", "x", 0100644}});
    EXPECT_EQ(refusal(t.file("abs.zip")), Reason::UnsafePath);
    std::ofstream(t.file("link.zip"), std::ios::binary) << makeZip({{"pluginset.yaml", "x", 0100644}, {"hello/l", "/etc/passwd", 0120777}});
    EXPECT_EQ(refusal(t.file("link.zip")), Reason::UnsafePath);
    std::ofstream(t.file("ok.zip"), std::ios::binary) << makeZip({{"hello/plugin.yaml", "id: hello\n", 0100644}});
    EXPECT_EQ(refusal(t.file("ok.zip")), Reason::ManifestMissing) << "a clean hand-made archive reads";
}

TEST(PluginSet, OversizedArchiveIsRefused) {
    kbtest::TempDir t;
    std::ofstream(t.file("big.zip"), std::ios::binary) << makeZip({{"pluginset.yaml", std::string(5000, 'x'), 0100644}});
    auto o = opts();
    o.limits.maxTotalBytes = 4096;
    EXPECT_EQ(refusal(t.file("big.zip"), o), Reason::ArchiveTooLarge);
    std::vector<std::tuple<std::string, std::string, unsigned>> many;
    for (int i = 0; i < 30; ++i) many.emplace_back("f" + std::to_string(i), "x", 0100644);
    std::ofstream(t.file("many.zip"), std::ios::binary) << makeZip(many);
    o = opts();
    o.limits.maxEntries = 20;
    EXPECT_EQ(refusal(t.file("many.zip"), o), Reason::ArchiveTooLarge);
}

TEST(PluginSet, DuplicatePluginIdsAreRefused) {
    SetDir a;
    const std::string pl = "- id: hello\n  version: 1.0.0\n  files:\n  - {path: plugin.yaml, sha256: x, size: 1}\n";
    write(a.path("pluginset.yaml"), "name: x\nsequence: 1\nregion: {name: R, hsa_id: SE2321000016-AAAA}\nissued: " + today(-1) +
                                        "\nexpires: " + today(90) + "\nplugins:\n" + pl + pl);
    a.sign("A", "a1").sign("A", "a2");
    EXPECT_EQ(refusal(a.dir), Reason::DuplicatePlugin);
}

TEST(PluginSet, TruncatedAndGarbageSignaturesAreRefused) {
    SetDir a;
    const auto sig = signManifest(a.dir, Pki::get().key("A", "a1"), Pki::get().cert("A", "a1"));
    std::ifstream in(sig, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(sig, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
    EXPECT_EQ(refusal(a.dir), Reason::SignatureMalformed);
    std::ofstream(sig, std::ios::binary) << "not a signature at all";
    EXPECT_EQ(refusal(a.dir), Reason::SignatureMalformed);
}

TEST(PluginSet, UnsignedSetIsRefused) {
    SetDir a;
    EXPECT_EQ(refusal(a.dir), Reason::SignatureMissing);
}

TEST(PluginSet, UnknownManifestKeysAreRefused) {
    SetDir a;
    std::ofstream(a.path("pluginset.yaml"), std::ios::app) << "trusted_by_everyone: true\n";
    a.sign("A", "a1").sign("A", "a2");
    EXPECT_EQ(refusal(a.dir), Reason::ManifestInvalid);
}

TEST(PluginSet, SignerWithoutDigitalSignatureKeyUsageIsRefused) {
    SetDir a;
    a.sign("A", "a1").sign("A", "a3");
    EXPECT_EQ(refusal(a.dir), Reason::KeyUsage);
}

TEST(PluginSet, SetNeedingANewerBoxIsRefused) {
    SetDir a("SE2321000016-AAAA", 1, today(-1), today(180), "9.0.0");
    a.sign("A", "a1").sign("A", "a2");
    EXPECT_EQ(refusal(a.dir), Reason::BoxTooOld);
}

TEST(PluginSet, DevelopmentLoadingReadsPluginsWithoutSignatures) {
    SetDir a;
    const auto set = loadUnsignedDevelopment(a.dir);
    EXPECT_FALSE(set.isSigned);
    EXPECT_EQ(set.status, "unsigned-development");
    ASSERT_EQ(set.plugins.size(), 1u);
    EXPECT_EQ(set.plugins[0].version, "1.2.0");
    fs::create_symlink("/etc/passwd", a.path("hello/link"));
    EXPECT_THROW((void)loadUnsignedDevelopment(a.dir), VerifyError);
}
