// Issue 14 against the real binary: the anonymous routes the running box serves are the
// documented ones, the HTTPS certificate's fingerprint is in the API and the CLI, and the
// connection gauges are in /metrics.
#include "BoxProcess.h"

#include "http/Tls.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

using namespace kbtest;

namespace {

std::set<std::string> documentedAnonymousRoutes() {
    std::ifstream in(std::string(KB_SOURCE_DIR) + "/docs/security.md");
    std::stringstream ss;
    ss << in.rdbuf();
    const auto doc = ss.str();
    const auto b = doc.find("## Every anonymous route");
    const auto table = doc.substr(b, doc.find("\n## ", b + 1) - b);
    std::set<std::string> out;
    const std::regex row(R"re(\n\| `(GET|POST|PUT|PATCH|DELETE)` \| `([^`]+)` \|)re");
    for (std::sregex_iterator it(table.begin(), table.end(), row), end; it != end; ++it)
        out.insert((*it)[1].str() + " " + (*it)[2].str());
    return out;
}

}  // namespace

TEST(CoreServer, AnonymousRoutesOfTheRunningBoxAreDocumented) {
    BoxProcess box;
    box.start();
    const auto documented = documentedAnonymousRoutes();
    ASSERT_GE(documented.size(), 6u);
    auto paths = box.request("GET", "/api/v1/openapi.json").json()->getObject("paths");
    int anonymous = 0;
    for (const auto& [path, itemVar] : *paths) {
        auto item = itemVar.extract<Poco::JSON::Object::Ptr>();
        for (const auto& [method, opVar] : *item) {
            if (opVar.extract<Poco::JSON::Object::Ptr>()->has("security")) continue;
            std::string m = method;
            for (auto& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            ++anonymous;
            EXPECT_TRUE(documented.count(m + " " + path)) << m << " " << path << " is anonymous but not documented";
        }
    }
    EXPECT_GE(anonymous, 6);
}

TEST(CoreServer, TheCertificateFingerprintIsShownToAdminsAndIt) {
    BoxProcess box;
    box.start();
    const auto crt = box.dataDir() + "/tls/server.crt";
    box.loginAs("ada", "admin");
    const auto r = box.authed("GET", "/api/v1/system/tls");
    ASSERT_EQ(r.status, 200) << r.body;
    const auto o = r.json();
    EXPECT_EQ(o->getValue<std::string>("fingerprint_sha256"), klinikbox::http::certificateFingerprint(crt));
    EXPECT_EQ(o->getValue<std::string>("source"), "generated");
    EXPECT_TRUE(o->getValue<bool>("self_signed"));
    EXPECT_NE(box.output().find(o->getValue<std::string>("fingerprint_sha256")), std::string::npos);
    // The same from the command line.
    std::string out;
    ASSERT_EQ(box.cli({"tls", "show"}, &out), 0) << out;
    EXPECT_NE(out.find(o->getValue<std::string>("fingerprint_sha256")), std::string::npos) << out;
    EXPECT_EQ(box.request("GET", "/api/v1/system/tls").status, 401);
}

TEST(CoreServer, MetricsShowTheSlowClientGaugesAndReadyzItsDetailsOnLoopback) {
    BoxProcess box;
    box.start();
    const auto m = box.request("GET", "/metrics");
    ASSERT_EQ(m.status, 200);
    EXPECT_NE(m.body.find("kb_http_workers_reserved{listener=\"public\"} 4\n"), std::string::npos) << m.body;
    EXPECT_NE(m.body.find("kb_http_connections_shed_total{listener=\"public\"}"), std::string::npos);
    EXPECT_NE(m.body.find("kb_http_connections_waiting{listener=\"public\"}"), std::string::npos);
    // The scraper on loopback sees the details; remote anonymous callers get only the status
    // (unit test Monitoring.OnlyLoopbackOrTheScrapeTokenSeeDetailsByDefault).
    EXPECT_TRUE(box.request("GET", "/readyz").json()->has("plugin_set"));
}
