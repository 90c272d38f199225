// The real server on loopback over HTTPS: health, problems for bad input, plugins that
// fail, route permissions, draining on SIGTERM, and the operations CLI.
#include "BoxProcess.h"

#include <klinikbox/Db.h>

#include <Poco/JSON/Array.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <thread>

using namespace kbtest;
namespace fs = std::filesystem;

namespace {

// A plugin set directory holding the hello example plugin as built.
std::string helloSet(const TempDir& dir) {
    const fs::path set = fs::path(dir.path()) / "set";
    const fs::path src = fs::path(KB_SOURCE_DIR) / "plugins" / "hello";
    fs::create_directories(set / "hello");
    for (const char* f : {"plugin.yaml", "schema.yaml"}) fs::copy_file(src / f, set / "hello" / f);
    fs::copy(src / "migrations", set / "hello" / "migrations", fs::copy_options::recursive);
    fs::copy(src / "web", set / "hello" / "web", fs::copy_options::recursive);
    fs::copy_file(fs::path(KB_BUILD_DIR) / "plugins" / "hello" / "libhello.so", set / "hello" / "libhello.so");
    return set.string();
}

std::string problemType(const HttpResult& r) { return r.json()->getValue<std::string>("type"); }

}  // namespace

TEST(CoreServer, HealthzAnswersOverHttpsWithAGeneratedCertificate) {
    BoxProcess box;
    box.start();
    EXPECT_EQ(box.url().rfind("https://127.0.0.1:", 0), 0u) << box.url();
    auto r = box.request("GET", "/healthz");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.json()->getValue<std::string>("status"), "ok");
    EXPECT_TRUE(fs::exists(box.dataDir() + "/tls/server.key"));
    EXPECT_EQ(fs::status(box.dataDir() + "/tls/server.key").permissions() & fs::perms::others_all, fs::perms::none);
}

TEST(CoreServer, EveryResponseCarriesSecurityHeadersAndARequestId) {
    BoxProcess box;
    box.start();
    auto r = box.request("GET", "/healthz");
    EXPECT_NE(r.header("content-security-policy").find("script-src 'self'"), std::string::npos);
    EXPECT_EQ(r.header("x-frame-options"), "DENY");
    EXPECT_EQ(r.header("x-content-type-options"), "nosniff");
    EXPECT_FALSE(r.header("strict-transport-security").empty());
    EXPECT_EQ(r.header("x-request-id").size(), 16u);
    auto given = box.request("GET", "/healthz", "", {{"X-Request-Id", "abc-123"}});
    EXPECT_EQ(given.header("x-request-id"), "abc-123");
}

TEST(CoreServer, BadRequestsGetProblemDocuments) {
    TempDir d;
    BoxProcess box({}, helloSet(d));
    box.start();
    box.loginAs("sam", "staff");
    auto unknown = box.request("GET", "/api/v1/nothing-here");
    EXPECT_EQ(unknown.status, 404);
    EXPECT_EQ(unknown.contentType, "application/problem+json");
    EXPECT_EQ(problemType(unknown), "/problems/not-found");

    auto wrongMethod = box.request("PUT", "/healthz");
    EXPECT_EQ(wrongMethod.status, 405);
    EXPECT_EQ(wrongMethod.header("allow"), "GET");

    auto malformed = box.authed("POST", "/api/v1/hello/greetings", "{\"name\": ");
    EXPECT_EQ(malformed.status, 400);
    EXPECT_EQ(problemType(malformed), "/problems/malformed-json");

    auto unknownField = box.authed("POST", "/api/v1/hello/greetings", R"({"name":"Ada","evil":1})");
    EXPECT_EQ(unknownField.status, 400);
    EXPECT_EQ(problemType(unknownField), "/problems/unknown-field");

    auto wrongType = box.authed("POST", "/api/v1/hello/greetings", R"({"name":42})");
    EXPECT_EQ(wrongType.status, 400);

    auto oversized = box.authed("POST", "/api/v1/hello/greetings", std::string(2 << 20, 'x'));
    EXPECT_EQ(oversized.status, 413);
    EXPECT_EQ(problemType(oversized), "/problems/body-too-large");

    auto vetoed = box.authed("POST", "/api/v1/hello/greetings", R"({"name":""})");
    EXPECT_EQ(vetoed.status, 422);

    // Nothing half-written: only valid greetings were stored.
    auto ok = box.authed("POST", "/api/v1/hello/greetings", R"({"name":"Ada"})");
    EXPECT_EQ(ok.status, 201) << ok.body;
    auto list = box.authed("GET", "/api/v1/hello/greetings");
    EXPECT_EQ(list.json()->getArray("greetings")->size(), 1u);
    EXPECT_TRUE(box.running());
}

TEST(CoreServer, PluginThatThrowsAtStartIsMarkedFailedAndTheBoxServes) {
    TempDir d;
    BoxProcess box("  settings:\n    hello:\n      fail_on_start: true\n", helloSet(d));
    box.start();
    auto r = box.request("GET", "/readyz");
    ASSERT_EQ(r.status, 200);
    auto j = r.json();
    EXPECT_EQ(j->getValue<std::string>("status"), "degraded");
    auto p = j->getArray("plugins")->getObject(0);
    EXPECT_EQ(p->getValue<std::string>("state"), "failed");
    EXPECT_NE(p->getValue<std::string>("reason").find("configured to fail"), std::string::npos);
    EXPECT_EQ(box.request("GET", "/api/v1/hello/greetings").status, 404) << "a failed plugin's routes are removed";
    EXPECT_EQ(box.request("GET", "/healthz").status, 200);
}

TEST(CoreServer, ReadyzListsPluginsAndTheDevelopmentWarning) {
    TempDir d;
    BoxProcess box({}, helloSet(d));
    box.start();
    auto j = box.request("GET", "/readyz").json();
    EXPECT_EQ(j->getValue<std::string>("status"), "ready");
    EXPECT_EQ(j->getValue<std::string>("mode"), "development");
    EXPECT_TRUE(j->has("warning"));
    EXPECT_EQ(j->getArray("plugins")->getObject(0)->getValue<std::string>("state"), "running");
    auto metrics = box.request("GET", "/metrics");
    EXPECT_NE(metrics.body.find("kb_plugin_up{plugin=\"hello\",state=\"running\"} 1"), std::string::npos);
    EXPECT_NE(metrics.body.find("kb_http_request_duration_seconds_bucket"), std::string::npos);
    EXPECT_NE(metrics.body.find("kb_outbox_messages{state=\"pending\"}"), std::string::npos);
}

// Walks every route the box serves (from its own OpenAPI document) and proves that an
// anonymous caller and every role the route does not admit are refused.
TEST(CoreServer, EveryRouteRefusesAnonymousCallersAndWrongRoles) {
    TempDir d;
    BoxProcess box({}, helloSet(d));
    box.start();
    const std::vector<std::string> roles = {"admin", "staff", "auditor", "it"};
    std::map<std::string, std::unique_ptr<BoxProcess>> unused;
    std::map<std::string, std::pair<std::string, std::string>> sessions;  // role -> cookie, csrf
    for (const auto& role : roles) {
        const std::string user = "u" + role;
        const std::string pw = "a long enough password " + role;
        std::string out;
        ASSERT_EQ(box.cli({"user", "add", "--username", user, "--role", role, "--password-stdin"}, &out, pw + "\n"), 0) << out;
        auto r = box.request("POST", "/api/v1/auth/login", R"({"username":")" + user + R"(","password":")" + pw + R"("})");
        ASSERT_EQ(r.status, 200);
        const auto sc = r.header("set-cookie");
        sessions[role] = {sc.substr(0, sc.find(';')), r.json()->getValue<std::string>("csrf_token")};
    }
    auto doc = box.request("GET", "/api/v1/openapi.json").json();
    auto paths = doc->getObject("paths");
    int checked = 0;
    for (const auto& [path, itemVar] : *paths) {
        auto item = itemVar.extract<Poco::JSON::Object::Ptr>();
        std::string concrete = path;
        for (std::size_t b; (b = concrete.find('{')) != std::string::npos;)
            concrete.replace(b, concrete.find('}', b) - b + 1, "1");
        for (const auto& [method, opVar] : *item) {
            auto op = opVar.extract<Poco::JSON::Object::Ptr>();
            std::string m = method;
            for (auto& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            if (!op->has("security")) continue;  // declared anonymous
            ++checked;
            EXPECT_EQ(box.request(m, concrete, m == "GET" || m == "DELETE" ? "" : "{}").status, 401) << m << " " << path;
            std::set<std::string> allowed;
            for (const auto& r : *op->getArray("x-roles")) allowed.insert(r.convert<std::string>());
            for (const auto& role : roles) {
                if (allowed.empty() || allowed.count(role)) continue;
                auto r = box.request(m, concrete, m == "GET" || m == "DELETE" ? "" : "{}",
                                     {{"Cookie", sessions[role].first}, {"X-CSRF-Token", sessions[role].second}});
                EXPECT_EQ(r.status, 403) << role << " " << m << " " << path;
            }
        }
    }
    EXPECT_GT(checked, 10);
}

TEST(CoreServer, SigtermFinishesInFlightRequestsThenExitsCleanly) {
    TempDir d;
    BoxProcess box({}, helloSet(d));
    box.start();
    box.loginAs("sam", "staff");
    // A few requests in flight while SIGTERM arrives.
    std::vector<std::future<int>> inflight;
    for (int i = 0; i < 4; ++i)
        inflight.push_back(std::async(std::launch::async, [&box, i] {
            return box.authed("POST", "/api/v1/hello/greetings", R"({"name":"n)" + std::to_string(i) + R"("})").status;
        }));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    box.stop(SIGTERM);
    EXPECT_EQ(box.exitCode(), 0) << box.output();
    for (auto& f : inflight) {
        try {
            const int s = f.get();
            EXPECT_EQ(s, 201);  // a request that was accepted is answered
        } catch (const std::exception&) {
            // A request that arrived after the listener closed is refused at connect: fine.
        }
    }
}

TEST(CoreServer, OutboxMessageSurvivesAKillMidDelivery) {
    TempDir d;
    BoxProcess box({}, helloSet(d));
    box.start();
    box.loginAs("sam", "staff");
    // "fail" makes the hello deliverer ask for a retry, so the message stays queued.
    ASSERT_EQ(box.authed("POST", "/api/v1/hello/greetings", R"({"name":"fail"})").status, 201);
    box.stop(SIGKILL);
    {
        klinikbox::db::Connection c(box.dataDir() + "/klinikbox.db");
        auto st = c.prepare("SELECT COUNT(*) FROM kb_outbox WHERE channel='hello.echo' AND state IN ('pending','delivering')");
        ASSERT_TRUE(st.step());
        EXPECT_EQ(st.getInt(0), 1) << "the queued message survived the kill";
    }
    box.start();
    box.loginAs("ada", "admin");
    auto list = box.authed("GET", "/api/v1/outbox");
    ASSERT_EQ(list.status, 200);
    auto msgs = list.json()->getArray("messages");
    ASSERT_EQ(msgs->size(), 1u);
    EXPECT_GE(msgs->getObject(0)->getValue<int>("attempts"), 1);
}

TEST(CoreServer, ConfigErrorsNameFileLineAndColumn) {
    TempDir d;
    const auto cfg = d.file("bad.yaml");
    std::ofstream(cfg) << "server:\n  port: eighty\n  prot: 1\n";
    BoxProcess box;
    std::string out;
    EXPECT_NE(box.cli({"config", "check", "--config", cfg}, &out), 0);
    EXPECT_NE(out.find("bad.yaml:2:"), std::string::npos) << out;
    EXPECT_NE(out.find("bad.yaml:3:"), std::string::npos) << out;
    EXPECT_NE(out.find("prot"), std::string::npos) << out;
}

// Bug: a trust directory or plugin set path that does not exist passed `config check` as OK,
// and the box started with 0 plugins.
TEST(CoreServer, ConfigCheckRefusesAMissingTrustDirAndWarnsAboutAMissingSet) {
    TempDir d;
    const auto cfg = d.file("k.yaml");
    std::ofstream(cfg) << "box:\n  data_dir: " << d.file("data") << "\nplugins:\n  trust_dir: " << d.file("no-trust")
                       << "\n  set: " << d.file("no-set") << "\n";
    BoxProcess box;
    std::string out;
    EXPECT_NE(box.cli({"config", "check", "--config", cfg}, &out), 0) << out;
    EXPECT_NE(out.find("plugins.trust_dir"), std::string::npos) << out;
    std::filesystem::create_directories(d.file("no-trust"));
    EXPECT_EQ(box.cli({"config", "check", "--config", cfg}, &out), 0) << out;
    EXPECT_NE(out.find("WARNING"), std::string::npos) << out;
    EXPECT_NE(out.find("plugins.set"), std::string::npos) << out;
}

TEST(CoreServer, SetupLinkNamesTheChosenHostUntilAnAccountExists) {
    BoxProcess box;
    std::string out;
    ASSERT_EQ(box.cli({"setup-link", "--host", "box.klinik.example"}, &out), 0) << out;
    EXPECT_NE(out.find("://box.klinik.example:"), std::string::npos) << out;
    EXPECT_NE(out.find("/setup.html#token="), std::string::npos) << out;
    box.start();
    box.loginAs("ada", "admin");
    EXPECT_NE(box.cli({"setup-link"}, &out), 0) << "no setup link once an account exists: " << out;
}

TEST(CoreServer, BackupWhileServingAndRestoreAfterStop) {
    BoxProcess box;
    box.start();
    box.loginAs("ada", "admin");
    const auto backup = box.dataDir() + "/../backup.db";
    std::string out;
    ASSERT_EQ(box.cli({"backup", backup}, &out), 0) << out;
    EXPECT_NE(box.cli({"restore", backup}, &out), 0) << "restore must refuse while the box runs";
    EXPECT_NE(out.find("running"), std::string::npos) << out;
    box.stop();
    ASSERT_EQ(box.cli({"restore", backup}, &out), 0) << out;
    EXPECT_EQ(box.cli({"audit", "verify"}, &out), 0) << out;
}

TEST(CoreServer, AuditVerifyDetectsATamperedRecord) {
    BoxProcess box;
    box.start();
    box.loginAs("ada", "admin");
    box.stop();
    std::string out;
    ASSERT_EQ(box.cli({"audit", "verify"}, &out), 0) << out;
    {
        klinikbox::db::Connection c(box.dataDir() + "/klinikbox.db");
        c.exec("DROP TRIGGER kb_audit_no_update; UPDATE kb_audit SET username='mallory' WHERE seq=1");
    }
    EXPECT_EQ(box.cli({"audit", "verify"}, &out), 1);
    EXPECT_NE(out.find("record 1"), std::string::npos) << out;
}

TEST(CoreServer, RestoringAnOlderBackupIsReportedUntilTheOperatorReanchors) {
    BoxProcess box;
    box.start();
    box.loginAs("ada", "admin");
    const auto backup = box.dataDir() + "/../older.db";
    std::string out;
    ASSERT_EQ(box.cli({"backup", backup}, &out), 0) << out;
    box.loginAs("bo", "staff");  // more audit records after the backup
    box.stop();
    ASSERT_EQ(box.cli({"restore", backup}, &out), 0) << out;
    EXPECT_NE(out.find("re-anchor"), std::string::npos) << out;
    EXPECT_EQ(box.cli({"audit", "verify"}, &out), 1) << out;
    EXPECT_NE(out.find("older backup"), std::string::npos) << out;
    // At start the box says so: loudly in the log, and /readyz is degraded.
    box.start();
    auto ready = box.request("GET", "/readyz");
    EXPECT_NE(ready.body.find("\"degraded\""), std::string::npos) << ready.body;
    EXPECT_NE(ready.body.find("anchor"), std::string::npos) << ready.body;
    box.stop();
    EXPECT_NE(box.cli({"audit", "re-anchor"}, &out), 0) << "a reason is required: " << out;
    ASSERT_EQ(box.cli({"audit", "re-anchor", "--reason", "restored last night's backup after a disk failure"}, &out), 0) << out;
    ASSERT_EQ(box.cli({"audit", "verify"}, &out), 0) << out;
    {
        klinikbox::db::Connection c(box.dataDir() + "/klinikbox.db");
        auto st = c.prepare("SELECT details FROM kb_audit WHERE action = 'audit.reanchor'");
        ASSERT_TRUE(st.step());
        EXPECT_NE(st.getText(0).find("disk failure"), std::string::npos);
    }
    box.start();
    ready = box.request("GET", "/readyz");
    EXPECT_EQ(ready.body.find("anchor"), std::string::npos) << ready.body;
}

TEST(CoreServer, WipingTheAuditLogIsDetectedAndVerifyNeverCreatesAKey) {
    BoxProcess box;
    box.start();
    box.loginAs("ada", "admin");
    box.stop();
    {
        klinikbox::db::Connection c(box.dataDir() + "/klinikbox.db");
        c.exec("DROP TRIGGER kb_audit_no_delete; DELETE FROM kb_audit; DELETE FROM kb_meta WHERE key LIKE 'audit%'");
    }
    std::string out;
    EXPECT_EQ(box.cli({"audit", "verify"}, &out), 1) << out;
    EXPECT_NE(out.find("empty"), std::string::npos) << out;
    std::filesystem::rename(box.dataDir() + "/audit.key", box.dataDir() + "/audit.key.away");
    EXPECT_NE(box.cli({"audit", "verify"}, &out), 0) << out;
    EXPECT_NE(out.find("missing"), std::string::npos) << out;
    EXPECT_FALSE(std::filesystem::exists(box.dataDir() + "/audit.key"));
}

TEST(CoreServer, LoginFailuresAreThrottledWithoutRevealingAccounts) {
    BoxProcess box;
    box.start();
    box.loginAs("ada", "admin");
    HttpResult last;
    for (int i = 0; i < 6; ++i) last = box.request("POST", "/api/v1/auth/login", R"({"username":"ada","password":"wrong password 123"})");
    EXPECT_EQ(last.status, 429);
    auto ghost = box.request("POST", "/api/v1/auth/login", R"({"username":"nobody","password":"wrong password 123"})");
    EXPECT_EQ(ghost.status, 401);
    EXPECT_EQ(ghost.json()->getValue<std::string>("detail"), "Fel användarnamn eller lösenord.");
}

TEST(CoreServer, AccessLogNeverPrintsAFullPersonnummer) {
    BoxProcess box;
    box.start();
    (void)box.request("GET", "/api/v1/nothing/191212121212?pnr=19121212-1212");
    box.stop();
    const auto log = box.output();
    EXPECT_NE(log.find("/api/v1/nothing/"), std::string::npos) << log;
    EXPECT_EQ(log.find("191212121212"), std::string::npos) << log;
    EXPECT_EQ(log.find("19121212-1212"), std::string::npos) << log;
}

TEST(CoreServer, PluginSettingsAreValidatedStoredAndAppliedByRestartingThePlugin) {
    TempDir d;
    BoxProcess box({}, helloSet(d));
    box.start();
    box.loginAs("ada", "admin");
    auto get = box.authed("GET", "/api/v1/plugins/hello/settings");
    ASSERT_EQ(get.status, 200) << get.body;
    auto j = get.json();
    EXPECT_EQ(j->getObject("values")->getValue<std::string>("greeting"), "Hej");
    EXPECT_TRUE(j->getObject("schema")->getObject("properties")->has("greeting"));

    auto bad = box.authed("PUT", "/api/v1/plugins/hello/settings", R"({"values":{"greeting":7,"colour":"red"}})");
    ASSERT_EQ(bad.status, 400) << bad.body;
    auto errs = bad.json()->getArray("errors");
    ASSERT_EQ(errs->size(), 2u) << bad.body;
    std::set<std::string> pointers;
    for (const auto& e : *errs) pointers.insert(e.extract<Poco::JSON::Object::Ptr>()->getValue<std::string>("pointer"));
    EXPECT_TRUE(pointers.count("/greeting") && pointers.count("/colour")) << bad.body;

    auto ok = box.authed("PUT", "/api/v1/plugins/hello/settings", R"({"values":{"greeting":"God morgon"}})");
    ASSERT_EQ(ok.status, 200) << ok.body;
    EXPECT_EQ(ok.json()->getValue<std::string>("state"), "running");
    auto greet = box.authed("POST", "/api/v1/hello/greetings", R"({"name":"Ada"})");
    ASSERT_EQ(greet.status, 201) << greet.body;
    EXPECT_EQ(greet.json()->getValue<std::string>("message"), "God morgon Ada");

    // Saved settings survive a restart.
    box.stop();
    box.start();
    box.loginAs("bo", "admin");
    EXPECT_EQ(box.authed("POST", "/api/v1/hello/greetings", R"({"name":"Bo"})").json()->getValue<std::string>("message"),
              "God morgon Bo");
    EXPECT_EQ(box.authed("GET", "/api/v1/plugins/nope/settings").status, 404);
}

TEST(CoreServer, LogReviewFiltersExportsAndIsItselfLogged) {
    BoxProcess box;
    box.start();
    box.loginAs("granskare", "auditor");
    // A failed login whose attempted name would be a spreadsheet formula.
    (void)box.request("POST", "/api/v1/auth/login", R"J({"username":"=cmd()","password":"wrong password 123"})J");
    auto all = box.authed("GET", "/api/v1/audit?action=auth.login");
    ASSERT_EQ(all.status, 200) << all.body;
    auto records = all.json()->getArray("records");
    ASSERT_GE(records->size(), 2u);
    EXPECT_EQ(records->getObject(0)->getValue<std::string>("username"), "=cmd()");
    EXPECT_EQ(records->getObject(0)->getValue<std::string>("outcome"), "failed");

    auto paged = box.authed("GET", "/api/v1/audit?limit=1");
    EXPECT_EQ(paged.json()->getArray("records")->size(), 1u);
    EXPECT_TRUE(paged.json()->has("next_before_seq"));

    auto csv = box.authed("GET", "/api/v1/audit/export.csv?action=auth.");
    EXPECT_EQ(csv.status, 200);
    EXPECT_NE(csv.contentType.find("text/csv"), std::string::npos);
    EXPECT_NE(csv.body.find(",'=cmd(),"), std::string::npos) << "formula cells are defused: " << csv.body;

    EXPECT_EQ(box.authed("GET", "/api/v1/audit?patient=121212-1213").status, 400);
    EXPECT_EQ(box.authed("GET", "/api/v1/audit?from=2026-13-01").status, 400);
    EXPECT_EQ(box.authed("GET", "/api/v1/audit?limit=0").status, 400);
    EXPECT_EQ(box.authed("GET", "/api/v1/audit?colour=red").status, 400);
    // The console takes its days and times in the box's zone from the session.
    const auto session = box.authed("GET", "/api/v1/auth/session");
    ASSERT_EQ(session.status, 200) << session.body;
    EXPECT_EQ(session.json()->getValue<std::string>("timezone"), "Europe/Stockholm") << session.body;
    auto extract = box.authed("GET", "/api/v1/audit/patient-extract?patient=19121212-1212");
    ASSERT_EQ(extract.status, 200) << extract.body;
    EXPECT_EQ(extract.json()->getValue<std::string>("patient"), "191212121212");
    // A period bounds the extract; a filter the extract would not apply is refused, not ignored.
    auto within = box.authed("GET", "/api/v1/audit/patient-extract?patient=191212121212&from=2026-01-01&to=2026-01-31");
    ASSERT_EQ(within.status, 200) << within.body;
    EXPECT_EQ(within.json()->getValue<std::string>("from"), "2026-01-01");
    EXPECT_EQ(within.json()->getArray("entries")->size(), 0u) << within.body;
    EXPECT_EQ(box.authed("GET", "/api/v1/audit/patient-extract?patient=191212121212&user=sara").status, 400);
    EXPECT_EQ(box.authed("GET", "/api/v1/audit/patient-extract?patient=191212121212&from=2026-02-30").status, 400);
    EXPECT_EQ(box.authed("GET", "/api/v1/audit?from=2026-02-30").status, 400);
    // A period past the range the box's instants hold is refused: "to 9999-12-31" wrapped round
    // to 1677 and the extract said nobody had read the patient's data.
    for (const char* q : {"from=2000-01-01&to=9999-12-31", "from=1000-01-01&to=2030-12-31"}) {
        const auto far = box.authed("GET", std::string("/api/v1/audit/patient-extract?patient=191212121212&") + q);
        EXPECT_EQ(far.status, 400) << q << ": " << far.body;
        EXPECT_NE(far.body.find("2199-12-31"), std::string::npos) << far.body;
        EXPECT_EQ(box.authed("GET", std::string("/api/v1/audit?") + q).status, 400) << q;
    }

    auto reviews = box.authed("GET", "/api/v1/audit?action=audit.");
    auto r = reviews.json()->getArray("records");
    bool sawExtract = false;
    for (const auto& v : *r) {
        auto o = v.extract<Poco::JSON::Object::Ptr>();
        if (o->getValue<std::string>("action") == "audit.patient_extract" &&
            o->getValue<std::string>("patient") == "191212121212" && o->getValue<std::string>("purpose") == "loggkontroll")
            sawExtract = true;
    }
    EXPECT_TRUE(sawExtract) << reviews.body;
    auto verify = box.authed("GET", "/api/v1/audit/verify");
    EXPECT_TRUE(verify.json()->getValue<bool>("ok")) << verify.body;
}

// Every console page load asks for the session before anyone has logged in: that answer is
// not an access denial and is not written to the audit log. A review can filter by outcome
// and role and leave out its own records.
TEST(CoreServer, LogReviewHidesNoiseAndTheNotLoggedInSessionCheckIsNoDenial) {
    BoxProcess box;
    box.start();
    for (int i = 0; i < 3; ++i) EXPECT_EQ(box.request("GET", "/api/v1/auth/session").status, 401);
    EXPECT_EQ(box.request("GET", "/api/v1/outbox").status, 401);  // a real denial
    box.loginAs("granskare", "auditor");
    (void)box.request("POST", "/api/v1/auth/login", R"({"username":"nobody","password":"wrong password 123"})");
    auto denied = box.authed("GET", "/api/v1/audit?action=access.denied");
    ASSERT_EQ(denied.status, 200) << denied.body;
    EXPECT_EQ(denied.body.find("/api/v1/auth/session"), std::string::npos) << denied.body;
    EXPECT_NE(denied.body.find("/api/v1/outbox"), std::string::npos) << denied.body;

    (void)box.authed("GET", "/api/v1/audit?limit=1");  // the review's own record
    auto quiet = box.authed("GET", "/api/v1/audit?hide_noise=true&limit=1000");
    ASSERT_EQ(quiet.status, 200) << quiet.body;
    EXPECT_EQ(quiet.body.find("\"action\":\"audit."), std::string::npos) << quiet.body;
    auto failed = box.authed("GET", "/api/v1/audit?outcome=failed&role=anonymous");
    ASSERT_EQ(failed.status, 200) << failed.body;
    auto recs = failed.json()->getArray("records");
    ASSERT_GE(recs->size(), 1u) << failed.body;
    for (const auto& v : *recs) EXPECT_EQ(v.extract<Poco::JSON::Object::Ptr>()->getValue<std::string>("outcome"), "failed");
    EXPECT_EQ(box.authed("GET", "/api/v1/audit?outcome=maybe").status, 400);
    EXPECT_EQ(box.authed("GET", "/api/v1/audit?role=king").status, 400);
    EXPECT_EQ(box.authed("GET", "/api/v1/audit?hide_noise=yes").status, 400);
}

TEST(CoreServer, ClinicHookScriptCanVetoAPluginsEventAndIsListedForIt) {
    TempDir d;
    fs::create_directories(d.file("scripts"));
    std::ofstream(d.file("scripts/names.lua")) << R"(
kb.on("hello.greeted", function(event)
  if event.payload.name == "Voldemort" then kb.reject("Det namnet får inte nämnas") end
end)
)";
    std::ofstream(d.file("scripts/broken.lua")) << "kb.on('hello.greeted', function(";
    BoxProcess box("", helloSet(d));
    std::ofstream(box.configFile(), std::ios::app) << "lua:\n  scripts_dir: " << d.file("scripts") << "\n";
    box.start();
    box.loginAs("ida", "it");
    auto scripts = box.authed("GET", "/api/v1/lua/scripts");
    ASSERT_EQ(scripts.status, 200) << scripts.body;
    EXPECT_EQ(scripts.json()->getArray("scripts")->size(), 2u);
    box.loginAs("sam", "staff");
    auto refused = box.authed("POST", "/api/v1/hello/greetings", R"({"name":"Voldemort"})");
    EXPECT_EQ(refused.status, 422);
    EXPECT_EQ(refused.json()->getValue<std::string>("detail"), "Det namnet får inte nämnas");
    EXPECT_EQ(box.authed("POST", "/api/v1/hello/greetings", R"({"name":"Harry"})").status, 201);
}
