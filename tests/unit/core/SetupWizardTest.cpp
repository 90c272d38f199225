// The first-run wizard's parts without a server (issue 20, "First run"): the settings table
// (core migration 6), what each step accepts, the setup token's gate (wrong tokens are
// throttled, 409 once an account exists, foreign origins refused), the trust store that
// also reads data_dir/trust, and the certificate holder that a running listener serves.
#include "auth/Accounts.h"
#include "auth/SetupGate.h"
#include "http/LiveCertificate.h"
#include "http/Tls.h"
#include "pluginset/TrustStore.h"
#include "server/SetupInput.h"
#include "store/CoreMigrations.h"
#include "store/Migrations.h"
#include "store/Settings.h"

#include "TempDir.h"

#include <klinikbox/Problem.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace klinikbox;
namespace setup = klinikbox::server::setup;

namespace {

struct Db {
    explicit Db(const kbtest::TempDir& d) : db{store::DatabaseOptions{d.file("kb.db"), true, 5000}} {
        store::Migrations::apply(db, "core", store::coreMigrations());
    }
    store::Database db;
};

std::string readAll(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// A self-signed CA (basicConstraints CA:TRUE) made by the openssl tool, as a region's root.
std::string makeCa(const kbtest::TempDir& d, const std::string& name) {
    const auto key = d.file(name + ".key"), crt = d.file(name + ".pem");
    const std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -days 30 -subj '/CN=" +
                            name + "' -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign "
                            "-keyout '" + key + "' -out '" + crt + "' 2>/dev/null";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    return readAll(crt);
}

int statusOf(const std::function<void()>& f) {
    try {
        f();
    } catch (const Problem& p) {
        return p.status();
    }
    return 0;
}

}  // namespace

TEST(SetupSettings, MigrationSixCreatesTheSettingsTable) {
    kbtest::TempDir d;
    Db db(d);
    bool found = false;
    db.db.read("core", [&](db::Connection& c) {
        auto st = c.prepare("SELECT name FROM kb_migrations WHERE owner='core' AND version=6 AND name='0006_settings'");
        found = st.step();
    });
    EXPECT_TRUE(found);
}

TEST(SetupSettings, ValuesAreSavedReplacedAndSurviveReopening) {
    kbtest::TempDir d;
    SystemClock clock;
    {
        Db db(d);
        store::Settings s(db.db, clock);
        EXPECT_FALSE(s.get(store::setting::kClinicName));
        s.set({{store::setting::kClinicName, "Vårdcentralen Norr"}, {store::setting::kCareUnitHsaId, "SE2321000016-15CQ"}},
              "setup token");
        s.set({{store::setting::kClinicName, "Vårdcentralen Söder"}}, "setup token");
    }
    Db again(d);
    store::Settings s(again.db, clock);
    EXPECT_EQ(s.get(store::setting::kClinicName).value_or(""), "Vårdcentralen Söder");
    const auto all = s.all();
    EXPECT_EQ(all.size(), 2u);
    EXPECT_EQ(all.at(store::setting::kCareUnitHsaId), "SE2321000016-15CQ");
    std::string by;
    again.db.read("core", [&](db::Connection& c) {
        auto st = c.prepare("SELECT updated_by FROM kb_settings WHERE key='clinic.name'");
        if (st.step()) by = st.getText(0);
    });
    EXPECT_EQ(by, "setup token");
}

TEST(SetupInput, ClinicNamesNeedTextWithoutControlCharacters) {
    EXPECT_EQ(setup::clinicNameProblem("Vårdcentralen Åsa"), "");
    EXPECT_EQ(setup::clinicNameProblem("   "), "required");
    EXPECT_EQ(setup::clinicNameProblem(""), "required");
    EXPECT_EQ(setup::clinicNameProblem(std::string(101, 'a')), "length");
    EXPECT_EQ(setup::clinicNameProblem("Norr\nSöder"), "nul");
}

TEST(SetupInput, HostNamesAreDnsNamesOrAddresses) {
    for (const char* ok : {"klinikbox.mottagningen.local", "kb", "192.168.1.20", "::1", "fe80::1", "[2001:db8::5]", "KB-1.Example.SE"})
        EXPECT_EQ(setup::hostNameProblem(ok), "") << ok;
    for (const char* bad : {"-kb.local", "kb..local", "kb_1.local", "*.local", "192.168.1.300", "https://kb.local", "kb local"})
        EXPECT_EQ(setup::hostNameProblem(bad), "host") << bad;
    EXPECT_EQ(setup::hostNameProblem(""), "required");
    EXPECT_EQ(setup::normalizeHost("[2001:DB8::5]"), "2001:db8::5");
    EXPECT_EQ(setup::normalizeHost("KB.Local"), "kb.local");
}

TEST(SetupInput, ThePublicUrlIsSchemeHostAndPortOnly) {
    EXPECT_EQ(setup::publicUrlFor("kb.local", 8443, true), "https://kb.local:8443");
    EXPECT_EQ(setup::publicUrlFor("kb.local", 443, true), "https://kb.local");
    EXPECT_EQ(setup::publicUrlFor("fe80::1", 8443, true), "https://[fe80::1]:8443");
    EXPECT_EQ(setup::publicUrlFor("kb.local", 8080, false), "http://kb.local:8080");
    for (const char* ok : {"https://kb.local", "https://kb.local:8443", "https://kb.local/", "https://[fe80::1]:8443", "https://10.0.0.5"})
        EXPECT_EQ(setup::publicUrlProblem(ok, true), "") << ok;
    for (const char* bad : {"http://kb.local", "kb.local", "https://kb.local/console", "https://kb.local?x=1", "https://kb.local:0",
                            "https://kb.local:70000", "https://kb.local:", "https://user@kb.local", "https://[zz::1]"})
        EXPECT_EQ(setup::publicUrlProblem(bad, true), "url") << bad;
    EXPECT_EQ(setup::publicUrlProblem("http://kb.local:8080", false), "");
}

TEST(SetupInput, RegionNamesBecomePlainDirectoryNames) {
    EXPECT_EQ(setup::regionDirName("Region Östergötland"), "region-ostergotland");
    EXPECT_EQ(setup::regionDirName("Västra Götalandsregionen"), "vastra-gotalandsregionen");
    EXPECT_EQ(setup::regionDirName("../../etc"), "etc");
    EXPECT_EQ(setup::regionDirName("!!!"), "");
}

TEST(SetupInput, OnlySelfSignedCaCertificatesAreRootsAndCrlsMustBePem) {
    kbtest::TempDir d;
    const auto ca = makeCa(d, "Region Test Root");
    EXPECT_EQ(setup::rootPemProblem(ca), "");
    EXPECT_EQ(setup::rootPemProblem(ca + makeCa(d, "Second Root")), "");
    const auto leaf = http::generateServerCertificate(d.path(), {"kb.local"});
    EXPECT_EQ(setup::rootPemProblem(readAll(leaf.certFile)), "pem-ca") << "a server certificate is no CA";
    EXPECT_EQ(setup::rootPemProblem("not a certificate"), "pem-ca");
    EXPECT_EQ(setup::rootPemProblem(""), "pem-ca");
    EXPECT_EQ(setup::rootPemProblem(ca + "trailing junk"), "pem-ca");
    EXPECT_EQ(setup::crlPemProblem(""), "");
    EXPECT_EQ(setup::crlPemProblem(ca), "pem-crl");
}

TEST(SetupGate, WrongTokensAreThrottledPerAddressAndAnAccountEndsTheWizard) {
    kbtest::TempDir d;
    Db db(d);
    FixedClock clock(std::chrono::system_clock::now());
    auth::Accounts accounts(db.db, clock, {});
    auth::SetupGate gate(accounts, clock);
    const auto token = accounts.createSetupToken(24);
    Request req;
    req.remoteAddress = "192.0.2.7";
    req.headers["host"] = "kb.local:8443";
    req.headers["origin"] = "https://kb.local:8443";
    EXPECT_EQ(statusOf([&] { gate.check(req, token); }), 0);
    for (int i = 0; i < 10; ++i) EXPECT_EQ(statusOf([&] { gate.check(req, "wrong" + std::to_string(i)); }), 401);
    EXPECT_EQ(statusOf([&] { gate.check(req, token); }), 429) << "throttled, even with the right token";
    Request other = req;
    other.remoteAddress = "192.0.2.8";
    EXPECT_EQ(statusOf([&] { gate.check(other, token); }), 0) << "another address is not throttled";
    clock.advance(std::chrono::minutes(15));
    EXPECT_EQ(statusOf([&] { gate.check(req, token); }), 0) << "the window has passed";

    Request foreign = req;
    foreign.headers["origin"] = "https://evil.example";
    EXPECT_EQ(statusOf([&] { gate.check(foreign, token); }), 403);

    auth::NewUser u;
    u.username = "anna";
    u.password = "ett långt lösenord 2026";
    u.role = Role::Admin;
    (void)accounts.create(u);
    EXPECT_EQ(statusOf([&] { gate.check(req, token); }), 409);
}

TEST(SetupTrust, TheTrustStoreReadsTheLocalDirectoryBesideTheConfiguredOne) {
    kbtest::TempDir d;
    namespace fs = std::filesystem;
    auto region = [&](const std::string& base, const std::string& dir, const std::string& hsa, const std::string& root) {
        fs::create_directories(base + "/" + dir);
        std::ofstream(base + "/" + dir + "/region.yaml") << "name: " << dir << "\nhsa_id: " << hsa << "\nrequire_crl: false\n";
        std::ofstream(base + "/" + dir + "/root.pem") << root;
    };
    const auto etc = d.file("etc-trust"), local = d.file("data/trust");
    fs::create_directories(etc);
    EXPECT_THROW(pluginset::TrustStore::load(etc, local), std::runtime_error) << "no region anywhere";
    region(local, "region-test", "SE2321000016-0001", makeCa(d, "Local Root"));
    auto ts = pluginset::TrustStore::load(etc, local);
    ASSERT_EQ(ts.regions().size(), 1u);
    EXPECT_EQ(ts.regions()[0].path, local + "/region-test");
    EXPECT_EQ(pluginset::TrustStore::load("", local).regions().size(), 1u) << "no trust_dir configured";
    region(etc, "region-etc", "SE2321000016-0002", makeCa(d, "Etc Root"));
    EXPECT_EQ(pluginset::TrustStore::load(etc, local).regions().size(), 2u);
    EXPECT_EQ(pluginset::TrustStore::load(etc, d.file("missing")).regions().size(), 1u) << "a missing local directory is skipped";
    region(local, "region-dup", "SE2321000016-0002", makeCa(d, "Dup Root"));
    EXPECT_THROW(pluginset::TrustStore::load(etc, local), std::runtime_error) << "the same region HSA-id twice";
}

TEST(LiveCertificate, RefusesAKeyThatIsNotTheCertificatesAndKeepsTheCurrentPair) {
    kbtest::TempDir a, b;
    const auto one = http::generateServerCertificate(a.path(), {"one.local"});
    const auto two = http::generateServerCertificate(b.path(), {"two.local"});
    http::LiveCertificate live;
    EXPECT_NO_THROW(live.load(one.keyFile, one.certFile));
    EXPECT_THROW(live.load(two.keyFile, one.certFile), std::runtime_error);
    EXPECT_THROW(live.load(a.file("missing.key"), one.certFile), std::runtime_error);
    EXPECT_NO_THROW(live.load(two.keyFile, two.certFile));
}
