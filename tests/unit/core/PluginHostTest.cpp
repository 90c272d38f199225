#include "pluginset/Verifier.h"
#include "plugin/Manifest.h"
#include "plugin/PluginHost.h"
#include "store/CoreMigrations.h"
#include "store/Migrations.h"

#include "TempDir.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace klinikbox;
using namespace klinikbox::plugin;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string manifest(const std::string& id, const std::string& entry, const std::string& extra = {}) {
    return "id: " + id + "\nname: " + id + "\nversion: 1.0.0\napi: 1\nkind: native\nentry: " + entry + "\n" + extra;
}

PluginBundle fixture(const std::string& id, const std::string& lib) {
    PluginBundle b;
    b.id = id;
    b.version = "1.0.0";
    b.files["plugin.yaml"] = manifest(id, "lib" + lib + ".so");
    b.files["lib" + lib + ".so"] = slurp(fs::path(KB_BUILD_DIR) / "fixtures" / ("lib" + lib + ".so"));
    return b;
}

PluginBundle hello() {
    auto set = pluginset::loadUnsignedDevelopment(std::string(KB_SOURCE_DIR) + "/plugins");
    for (auto& x : set.plugins)
        if (x.id == "hello") {
            x.files["libhello.so"] = slurp(fs::path(KB_BUILD_DIR) / "plugins" / "hello" / "libhello.so");
            return PluginBundle{x.id, x.version, x.files};
        }
    throw std::runtime_error("hello not found");
}

struct PluginHostFixture {
    kbtest::TempDir dir;
    store::Database db{store::DatabaseOptions{dir.file("kb.db"), true, 5000}};
    SystemClock clock;
    http::RouteTable routes;
    events::Bus bus;
    outbox::OutboxService outbox{db, clock, {}};
    audit::AuditLog audit{db, clock, std::string(32, 'k')};
    PluginHost host{HostServices{db, routes, bus, outbox, audit, clock}};
    PluginHostFixture() { store::Migrations::apply(db, "core", store::coreMigrations()); }
    PluginStatus status(const std::string& id) {
        for (const auto& s : host.status())
            if (s.id == id) return s;
        return {};
    }
};

}  // namespace

TEST(PluginHost, HelloPluginLoadsFromVerifiedBytesAndRegistersEverything) {
    PluginHostFixture f;
    f.host.loadAll({hello()});
    EXPECT_EQ(f.status("hello").state, "running") << f.status("hello").reason;
    http::Match m;
    std::vector<std::string> allowed;
    EXPECT_EQ(f.routes.match("POST", "/api/v1/hello/greetings", m, allowed), http::RouteTable::Result::Found);
    EXPECT_EQ(f.host.pages().size(), 1u);
    EXPECT_TRUE(f.host.webFile("hello", "hello.js"));
    EXPECT_FALSE(f.host.webFile("hello", "../plugin.yaml"));
    EXPECT_EQ(store::Migrations::appliedVersion(f.db, "hello"), 1);
}

TEST(PluginHost, APluginsGaugeIsInMetricsWhileItRunsAndOnlyThen) {
    PluginHostFixture f;
    f.host.loadAll({hello()});
    ASSERT_EQ(f.status("hello").state, "running") << f.status("hello").reason;
    std::string out;
    f.host.renderGauges(out);
    EXPECT_NE(out.find("# TYPE kb_hello_greetings gauge\nkb_hello_greetings 0\n"), std::string::npos) << out;
    // Gone with the plugin: a reload registers it once again, a stop removes it.
    (void)f.host.reload("hello");
    out.clear();
    f.host.renderGauges(out);
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 3) << "HELP, TYPE and the value, once: " << out;
    f.host.stopAll();
    out.clear();
    f.host.renderGauges(out);
    EXPECT_EQ(out, "");
}

TEST(PluginHost, AReloadRunsTheLibraryReadBackFromItsSealedMemoryFile) {
    // The host keeps a loaded library's bytes only in its sealed memfd; each reload reads
    // them back from there and loads them again.
    PluginHostFixture f;
    f.host.loadAll({hello()});
    ASSERT_EQ(f.status("hello").state, "running") << f.status("hello").reason;
    for (int i = 0; i < 2; ++i) {
        const auto s = f.host.reload("hello");
        ASSERT_EQ(s.state, "running") << "reload " << i << ": " << s.reason;
    }
    http::Match m;
    std::vector<std::string> allowed;
    EXPECT_EQ(f.routes.match("POST", "/api/v1/hello/greetings", m, allowed), http::RouteTable::Result::Found);
    EXPECT_TRUE(f.host.webFile("hello", "hello.js"));
    EXPECT_TRUE(f.host.schemaText("hello"));
}

TEST(PluginHost, ApiVersionMismatchIsRefusedWithTheReason) {
    PluginHostFixture f;
    f.host.loadAll({fixture("badapi", "badapi")});
    const auto s = f.status("badapi");
    EXPECT_EQ(s.state, "failed");
    EXPECT_NE(s.reason.find("SDK API 999"), std::string::npos) << s.reason;
}

TEST(PluginHost, LibraryWithoutEntryPointsIsRefusedWithTheMissingSymbol) {
    PluginHostFixture f;
    f.host.loadAll({fixture("nosymbol", "nosymbol")});
    EXPECT_NE(f.status("nosymbol").reason.find("kb_plugin_api_version"), std::string::npos) << f.status("nosymbol").reason;
}

TEST(PluginHost, ThrowingStartLeavesNoRoutesBehindAndOthersStillStart) {
    PluginHostFixture f;
    f.host.loadAll({fixture("throwing", "throwing"), hello()});
    EXPECT_EQ(f.status("throwing").state, "failed");
    EXPECT_NE(f.status("throwing").reason.find("lab system"), std::string::npos) << f.status("throwing").reason;
    EXPECT_EQ(f.status("hello").state, "running");
    http::Match m;
    std::vector<std::string> allowed;
    EXPECT_EQ(f.routes.match("GET", "/api/v1/throwing/x", m, allowed), http::RouteTable::Result::NotFound);
}

TEST(PluginHost, ManifestDirectoryMismatchAndDuplicatesAreRefused) {
    PluginHostFixture f;
    auto b = hello();
    b.id = "other";
    auto twice = hello();
    f.host.loadAll({b, hello(), twice});
    EXPECT_EQ(f.status("other").state, "failed");
    int failedHello = 0;
    for (const auto& s : f.host.status())
        if (s.id == "hello" && s.state == "failed") ++failedHello;
    EXPECT_EQ(failedHello, 1);
}

TEST(PluginHost, PluginMayOnlyHookAndPublishDeclaredEvents) {
    PluginHostFixture f;
    // hello declares hooks and publish for hello.greeted only; a manifest without them
    // cannot register its hook, so it fails at start.
    auto b = hello();
    auto& m = b.files["plugin.yaml"];
    m.replace(m.find("hooks: [hello.greeted]"), std::string("hooks: [hello.greeted]").size(), "hooks: []");
    f.host.loadAll({b});
    EXPECT_EQ(f.status("hello").state, "failed");
    EXPECT_NE(f.status("hello").reason.find("does not declare a hook"), std::string::npos) << f.status("hello").reason;
}

TEST(Manifest, InvalidManifestsNameTheProblemAndLine) {
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"id: Hello\nname: x\nversion: 1.0.0\napi: 1\nkind: native\nentry: a.so\n", "id must be"},
        {"id: hello\nname: x\nversion: 1.0\napi: 1\nkind: native\nentry: a.so\n", "semantic"},
        {"id: hello\nname: x\nversion: 1.0.0\napi: one\nkind: native\nentry: a.so\n", "api"},
        {"id: hello\nname: x\nversion: 1.0.0\napi: 1\nkind: python\nentry: a.so\n", "kind"},
        {"id: hello\nname: x\nversion: 1.0.0\napi: 1\nkind: native\nentry: ../a.so\n", "relative path"},
        {"id: hello\nname: x\nversion: 1.0.0\napi: 1\nkind: native\nentry: a.so\ncolour: red\n", "unknown key 'colour'"},
        {"id: hello\nname: x\nversion: 1.0.0\napi: 1\nkind: native\n", "missing required key 'entry'"},
        {"id: core\nname: x\nversion: 1.0.0\napi: 1\nkind: native\nentry: a.so\n", "reserved"},
        {"id: hello\nname: x\nversion: 1.0.0\napi: 1\nkind: native\nentry: a.so\npermissions:\n  events:\n    publish: [Bad]\n", "event name"},
        {"id: [\n", "not valid YAML"},
    };
    for (const auto& [text, want] : bad) {
        try {
            (void)parseManifest(text, "x/plugin.yaml");
            ADD_FAILURE() << "accepted: " << text;
        } catch (const ManifestError& e) {
            EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
            EXPECT_EQ(std::string(e.what()).rfind("x/plugin.yaml", 0), 0u) << e.what();
        }
    }
}

TEST(PluginHost, PatientDataPluginsCannotForgetTheAuditLog) {
    PluginHostFixture f;
    auto b = hello();
    auto& m = b.files["plugin.yaml"];
    m.replace(m.find("patient_data: false"), std::string("patient_data: false").size(), "patient_data: true");
    f.host.loadAll({b});
    ASSERT_EQ(f.status("hello").state, "running") << f.status("hello").reason;
    http::Match match;
    std::vector<std::string> allowed;
    ASSERT_EQ(f.routes.match("GET", "/api/v1/hello/greetings", match, allowed), http::RouteTable::Result::Found);
    Request req;
    req.method = "GET";
    req.requestId = "r1";
    req.principal = Principal{7, "sara", Role::Staff, "SE2321000016-S001", "SE2321000016-UNIT"};
    (void)match.route->handler(req);
    long long n = 0;
    std::string action, unit;
    f.db.read("core", [&](db::Connection& c) {
        auto st = c.prepare("SELECT COUNT(*), MAX(action), MAX(care_unit) FROM kb_audit WHERE username='sara'");
        ASSERT_TRUE(st.step());
        n = st.getInt(0);
        action = st.getText(1);
        unit = st.getText(2);
    });
    EXPECT_EQ(n, 1);
    EXPECT_EQ(action, "hello.read");
    EXPECT_EQ(unit, "SE2321000016-UNIT");
}
