// Production mode: the box runs only a region-signed plugin set, and says why it refuses one.
#include "BoxProcess.h"

#include <Poco/JSON/Array.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

using namespace kbtest;
namespace fs = std::filesystem;

namespace {

struct SignedHello {
    TempDir dir;
    std::string pki = dir.file("pki");
    std::string set = dir.file("set");
    SignedHello(int sequence = 1) {
        const std::string demo = std::string(KB_SOURCE_DIR) + "/config/demo-region";
        if (std::system(("sh " + demo + "/make-demo-pki.sh " + pki + " >/dev/null").c_str()) != 0)
            throw std::runtime_error("demo PKI failed");
        if (pluginSetOf(dir, {"hello"}) != set) throw std::runtime_error("the set is not where expected");
        resign(sequence);
    }
    void resign(int sequence) {
        const std::string cmd = "sh " + std::string(KB_SOURCE_DIR) + "/config/demo-region/sign-demo-set.sh " + set + " " + pki +
                                " " + BoxProcess::binary() + " " + std::to_string(sequence) + " >/dev/null";
        if (std::system(cmd.c_str()) != 0) throw std::runtime_error("signing failed");
    }
    std::string config() const { return "  trust_dir: " + pki + "/trust\n"; }
    // Publishes a new CRL of the demo CA that is due in `days` days, as the region would.
    void publishCrl(int days) const {
        const std::string cmd = "KB_CA_DIR=" + pki + "/ca openssl ca -config " + std::string(KB_SOURCE_DIR) +
                                "/config/demo-region/openssl.cnf -batch -gencrl -crldays " + std::to_string(days) +
                                " -out " + pki + "/trust/demo-region/crl.pem 2>/dev/null";
        if (std::system(cmd.c_str()) != 0) throw std::runtime_error("gencrl failed");
    }
};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST(PluginSetServer, ProductionModeRunsTheSignedSetAndShowsItsSigners) {
    SignedHello s;
    BoxProcess box(s.config(), s.set, "production");
    box.start();
    auto j = box.request("GET", "/readyz").json();
    EXPECT_EQ(j->getValue<std::string>("status"), "ready") << box.output();
    EXPECT_FALSE(j->has("warning"));
    auto set = j->getObject("plugin_set");
    EXPECT_TRUE(set->getValue<bool>("signed"));
    EXPECT_EQ(set->getValue<std::string>("status"), "valid");
    EXPECT_EQ(set->getArray("signers")->size(), 2u);
    EXPECT_EQ(j->getArray("plugins")->getObject(0)->getValue<std::string>("state"), "running");
}

TEST(PluginSetServer, EveryDateThatStopsTheSetIsShownWithItsDaysLeft) {
    SignedHello s;
    BoxProcess box(s.config(), s.set, "production");
    box.start();
    auto set = box.request("GET", "/readyz").json()->getObject("plugin_set");
    auto expiries = set->getArray("expiries");
    ASSERT_EQ(expiries->size(), 4u);  // the set, two signers, the CRL
    std::map<std::string, int> kinds;
    for (std::size_t i = 0; i < expiries->size(); ++i) {
        auto e = expiries->getObject(static_cast<unsigned>(i));
        ++kinds[e->getValue<std::string>("kind")];
        EXPECT_GT(e->getValue<int>("days_left"), 170);
        EXPECT_FALSE(e->getValue<bool>("warning"));
    }
    EXPECT_EQ(kinds, (std::map<std::string, int>{{"crl", 1}, {"set", 1}, {"signer", 2}}));
    EXPECT_EQ(set->getArray("warnings")->size(), 0u);
    const auto metrics = box.request("GET", "/metrics").body;
    EXPECT_TRUE(contains(metrics, "kb_pluginset_days_left{kind=\"set\",name=\"Demoregionens plugin-paket (DEMO)\"} 1"))
        << metrics;
    EXPECT_TRUE(contains(metrics, "kb_pluginset_days_left{kind=\"signer\",name=\"CN=Demoregionen informationss"));
    EXPECT_TRUE(contains(metrics, "kb_pluginset_days_left{kind=\"crl\",name=\"CN=Demoregionen plugin certification root"));
    EXPECT_TRUE(contains(metrics, "kb_pluginset_info{region=\"Demoregionen (DEMO)\",region_hsa_id=\"SE2321000016-DEMO\","
                                  "name=\"Demoregionens plugin-paket (DEMO)\",sequence=\"1\",manifest_sha256=\""))
        << metrics;
}

TEST(PluginSetServer, CrlDueSoonIsWarnedWhileTheBoxStaysReady) {
    SignedHello s;
    s.publishCrl(3);
    BoxProcess box(s.config(), s.set, "production");
    box.start();
    auto j = box.request("GET", "/readyz").json();
    EXPECT_EQ(j->getValue<std::string>("status"), "ready") << box.output();
    auto set = j->getObject("plugin_set");
    ASSERT_GE(set->getArray("warnings")->size(), 1u);
    EXPECT_TRUE(contains(set->getArray("warnings")->getElement<std::string>(0), "the CRL of CN=Demoregionen"))
        << set->getArray("warnings")->getElement<std::string>(0);
    bool crlWarned = false;
    for (std::size_t i = 0; i < set->getArray("expiries")->size(); ++i) {
        auto e = set->getArray("expiries")->getObject(static_cast<unsigned>(i));
        if (e->getValue<std::string>("kind") == "crl") {
            crlWarned = e->getValue<bool>("warning");
            EXPECT_LE(e->getValue<int>("days_left"), 3);
        }
    }
    EXPECT_TRUE(crlWarned);
    // The daily log line.
    EXPECT_TRUE(contains(box.output(), "the CRL of CN=Demoregionen")) << box.output();
    const auto metrics = box.request("GET", "/metrics").body;
    EXPECT_TRUE(contains(metrics, "kb_pluginset_days_left{kind=\"crl\"")) << metrics;
}

TEST(PluginSetServer, TamperedSetIsRefusedWithTheReasonAndNoPluginRuns) {
    SignedHello s;
    std::ofstream(fs::path(s.set) / "hello" / "schema.yaml", std::ios::app) << "# edited on the box\n";
    BoxProcess box(s.config(), s.set, "production");
    box.start();
    auto j = box.request("GET", "/readyz").json();
    EXPECT_EQ(j->getValue<std::string>("status"), "degraded");
    EXPECT_NE(j->getObject("plugin_set")->getValue<std::string>("refusal").find("hello/schema.yaml"), std::string::npos);
    EXPECT_EQ(j->getArray("plugins")->size(), 0u);
    EXPECT_EQ(box.request("GET", "/api/v1/hello/greetings").status, 404);
}

TEST(PluginSetServer, UnsignedSetIsRefusedInProductionMode) {
    SignedHello s;
    for (const auto& e : fs::directory_iterator(s.set))
        if (e.path().filename().string().rfind("pluginset.yaml.sig.", 0) == 0) fs::remove(e.path());
    BoxProcess box(s.config(), s.set, "production");
    box.start();
    EXPECT_NE(box.request("GET", "/readyz").json()->getObject("plugin_set")->getValue<std::string>("refusal").find("signature"),
              std::string::npos);
}

TEST(PluginSetServer, OlderSetIsRefusedAfterANewerOneWasAccepted) {
    SignedHello s(5);
    BoxProcess box(s.config(), s.set, "production");
    box.start();
    EXPECT_EQ(box.request("GET", "/readyz").json()->getObject("plugin_set")->getValue<int>("sequence"), 5);
    box.stop();
    s.resign(4);
    box.start();
    EXPECT_NE(box.request("GET", "/readyz").json()->getObject("plugin_set")->getValue<std::string>("refusal").find("rollback"),
              std::string::npos);
}

namespace {
std::string fileBytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
}  // namespace

TEST(PluginSetServer, AdminUploadsActivatesAndRollsBackSets) {
    SignedHello s(1);
    BoxProcess box(s.config(), s.set, "production");
    box.start();
    box.loginAs("ada", "admin");
    auto pack = [&](int seq) {
        s.resign(seq);
        const std::string zip = s.dir.file("set" + std::to_string(seq) + ".zip");
        std::string out;
        EXPECT_EQ(box.cli({"pluginset", "pack", s.set, "-o", zip}, &out), 0) << out;
        return fileBytes(zip);
    };
    const auto v2 = pack(2), v3 = pack(3);
    auto up2 = box.authedRaw("POST", "/api/v1/pluginsets", v2, "application/zip");
    ASSERT_EQ(up2.status, 201) << up2.body;
    const long long id2 = up2.json()->getValue<long long>("id");
    EXPECT_EQ(box.authedRaw("POST", "/api/v1/pluginsets", v2, "application/zip").status, 409) << "the same set twice";
    EXPECT_EQ(box.authedRaw("POST", "/api/v1/pluginsets", "not a zip", "application/zip").status, 422);
    EXPECT_EQ(box.authedRaw("POST", "/api/v1/pluginsets", v2, "text/plain").status, 415);

    ASSERT_EQ(box.authed("POST", "/api/v1/pluginsets/" + std::to_string(id2) + "/activate", "{}").status, 200);
    auto ready = box.request("GET", "/readyz").json();
    EXPECT_EQ(ready->getObject("plugin_set")->getValue<int>("sequence"), 2);
    EXPECT_EQ(ready->getArray("plugins")->getObject(0)->getValue<std::string>("state"), "running");
    EXPECT_EQ(box.authed("POST", "/api/v1/pluginsets/rollback", "{}").status, 409) << "nothing uploaded before";

    // An older set than one accepted is refused at upload.
    const auto v1 = pack(1);
    auto old = box.authedRaw("POST", "/api/v1/pluginsets", v1, "application/zip");
    EXPECT_EQ(old.status, 422);
    EXPECT_EQ(old.json()->getValue<std::string>("reason"), "rollback") << old.body;

    auto up3 = box.authedRaw("POST", "/api/v1/pluginsets", v3, "application/zip");
    ASSERT_EQ(up3.status, 201) << up3.body;
    ASSERT_EQ(box.authed("POST", "/api/v1/pluginsets/" + std::to_string(up3.json()->getValue<long long>("id")) + "/activate", "{}").status, 200);
    EXPECT_EQ(box.request("GET", "/readyz").json()->getObject("plugin_set")->getValue<int>("sequence"), 3);

    // The admin's deliberate rollback returns to sequence 2, also after a restart.
    ASSERT_EQ(box.authed("POST", "/api/v1/pluginsets/rollback", "{}").status, 200);
    EXPECT_EQ(box.request("GET", "/readyz").json()->getObject("plugin_set")->getValue<int>("sequence"), 2);
    box.stop();
    box.start();
    auto after = box.request("GET", "/readyz").json();
    EXPECT_EQ(after->getObject("plugin_set")->getValue<int>("sequence"), 2) << box.output();
    EXPECT_EQ(after->getArray("plugins")->getObject(0)->getValue<std::string>("state"), "running");
}
