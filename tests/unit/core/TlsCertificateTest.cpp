// The first-run certificate names the box's LAN names, a configured certificate is used as
// given, and the monitoring routes' access rule (issue 14, items 12 and 13).
#include "http/Tls.h"
#include "server/BoxConfig.h"
#include "server/Monitoring.h"

#include "TempDir.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

using namespace klinikbox;

namespace {
bool has(const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); }
}  // namespace

TEST(TlsCertificate, FirstRunCertificateNamesTheConfiguredHostsAndAddresses) {
    kbtest::TempDir d;
    const std::vector<std::string> names = {"localhost", "127.0.0.1", "::1", "klinikbox.vc-norr.local", "192.168.10.20"};
    const auto files = http::ensureServerCertificate(d.path(), "", "", names);
    EXPECT_TRUE(files.generated);
    const auto info = http::describeCertificate(files.certFile);
    for (const auto& n : names) EXPECT_TRUE(has(info.names, n)) << n;
    EXPECT_TRUE(info.selfSigned);
    EXPECT_EQ(info.fingerprintSha256, http::certificateFingerprint(files.certFile));
    EXPECT_EQ(info.fingerprintSha256.size(), 32u * 3 - 1);  // 32 bytes "AB:CD:…"
    EXPECT_EQ(info.notAfter.size(), 20u);
    EXPECT_EQ(std::filesystem::status(files.keyFile).permissions() & std::filesystem::perms::all,
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);

    // The same names: the certificate stays (browsers that accepted it keep working).
    EXPECT_FALSE(http::ensureServerCertificate(d.path(), "", "", names).generated);
    // A name added to the configuration: a new certificate that names it.
    auto more = names;
    more.push_back("kb.example.se");
    const auto again = http::ensureServerCertificate(d.path(), "", "", more);
    EXPECT_TRUE(again.generated);
    EXPECT_TRUE(has(http::describeCertificate(again.certFile).names, "kb.example.se"));
    EXPECT_NE(http::certificateFingerprint(again.certFile), info.fingerprintSha256);
}

TEST(TlsCertificate, AConfiguredCertificateIsUsedAsGivenAndNeverReplaced) {
    kbtest::TempDir own, data;
    // Stands in for the clinic's own certificate or one an internal CA issued.
    const auto issued = http::generateServerCertificate(own.path(), {"kb.region.se"});
    const auto before = http::certificateFingerprint(issued.certFile);
    const auto files = http::ensureServerCertificate(data.path(), issued.keyFile, issued.certFile, {"localhost", "other"});
    EXPECT_FALSE(files.generated);
    EXPECT_EQ(files.certFile, issued.certFile);
    EXPECT_EQ(http::certificateFingerprint(files.certFile), before);
    EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(data.path()) / "tls"));
    EXPECT_THROW(http::ensureServerCertificate(data.path(), issued.keyFile, "", {}), std::runtime_error);
    EXPECT_THROW(http::describeCertificate(issued.keyFile), std::runtime_error);
}

TEST(Monitoring, OnlyLoopbackOrTheScrapeTokenSeeDetailsByDefault) {
    Request r;
    r.remoteAddress = "192.168.10.31";
    server::MonitoringAccess loopback;  // the default
    EXPECT_FALSE(server::monitoringAllowed(loopback, r));
    r.headers["authorization"] = "Bearer a-token-that-is-long-enough-to-be-accepted";
    EXPECT_FALSE(server::monitoringAllowed(loopback, r));  // no token configured: loopback only

    server::MonitoringAccess token{"token", "a-token-that-is-long-enough-to-be-accepted"};
    EXPECT_TRUE(server::monitoringAllowed(token, r));
    r.headers["authorization"] = "Bearer a-token-that-is-long-enough-to-be-acceptee";
    EXPECT_FALSE(server::monitoringAllowed(token, r));
    r.headers.erase("authorization");
    EXPECT_FALSE(server::monitoringAllowed(token, r));

    for (const char* a : {"127.0.0.1", "::1", "::ffff:127.0.0.1"}) {
        r.remoteAddress = a;
        EXPECT_TRUE(server::monitoringAllowed(loopback, r)) << a;
    }
    r.remoteAddress = "10.0.0.1";
    EXPECT_TRUE(server::monitoringAllowed({"anyone", ""}, r));
}

TEST(Monitoring, ConfigurationDefaultsToLoopbackAndRequiresALongToken) {
    const auto b = server::parseBoxConfig("box:\n  data_dir: /tmp/x\n", "k.yaml", "/tmp");
    EXPECT_EQ(b.monitoring.access, "loopback");
    EXPECT_EQ(b.server.reserveWorkers, 4);
    EXPECT_EQ(b.server.maxWorkersPerAddress, 8);
    EXPECT_THROW(server::parseBoxConfig("box:\n  data_dir: /tmp/x\nserver:\n  monitoring:\n    access: token\n", "k.yaml", "/tmp"),
                 server::ConfigInvalid);
    const auto t = server::parseBoxConfig(
        "box:\n  data_dir: /tmp/x\nserver:\n  tls:\n    names: [kb.local, 192.168.1.2]\n  monitoring:\n    access: token\n"
        "    scrape_token: 0123456789abcdef0123456789abcdef\n",
        "k.yaml", "/tmp");
    EXPECT_EQ(t.monitoring.access, "token");
    EXPECT_EQ(t.tlsNames, (std::vector<std::string>{"kb.local", "192.168.1.2"}));
    EXPECT_THROW(server::parseBoxConfig("box:\n  data_dir: /tmp/x\nserver:\n  threads: 4\n  slow_clients:\n    reserve_workers: 4\n",
                                        "k.yaml", "/tmp"),
                 server::ConfigInvalid);
}
