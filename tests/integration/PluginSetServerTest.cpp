// Production mode: the box runs only a region-signed plugin set, and says why it refuses one.
#include "BoxProcess.h"

#include <Poco/JSON/Array.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

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
        const fs::path src = fs::path(KB_SOURCE_DIR) / "plugins" / "hello";
        fs::create_directories(fs::path(set) / "hello");
        for (const char* f : {"plugin.yaml", "schema.yaml"}) fs::copy_file(src / f, fs::path(set) / "hello" / f);
        fs::copy(src / "migrations", fs::path(set) / "hello" / "migrations", fs::copy_options::recursive);
        fs::copy(src / "web", fs::path(set) / "hello" / "web", fs::copy_options::recursive);
        fs::copy_file(fs::path(KB_BUILD_DIR) / "plugins" / "hello" / "libhello.so", fs::path(set) / "hello" / "libhello.so");
        resign(sequence);
    }
    void resign(int sequence) {
        const std::string cmd = "sh " + std::string(KB_SOURCE_DIR) + "/config/demo-region/sign-demo-set.sh " + set + " " + pki +
                                " " + BoxProcess::binary() + " " + std::to_string(sequence) + " >/dev/null";
        if (std::system(cmd.c_str()) != 0) throw std::runtime_error("signing failed");
    }
    std::string config() const { return "  trust_dir: " + pki + "/trust\n"; }
};

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
