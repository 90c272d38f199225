// Lua plugins (kind: lua) against a fake PluginContext: the shipped care-contacts plugin
// end to end, and what the runtime does with db, outbox, events, audit and broken routes.
#include "LuaFixture.h"
#include "PluginFakes.h"

#include "lua/LuaPlugin.h"

#include "TempDir.h"

#include <filesystem>
#include <fstream>

using namespace kbtest;
using kbtest::TempDir;

namespace {

std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

Request staffRequest(std::multimap<std::string, std::string> query = {}) {
    Request r;
    r.query = std::move(query);
    r.requestId = "req-9";
    r.principal = Principal{7, "anna", Role::Staff, "SE2321000016-STAFF", "SE2321000016-UNIT"};
    return r;
}

struct PluginBox {
    TempDir dir;
    FixedClock clock{boxNow()};
    FakeContext ctx;
    std::unique_ptr<LuaPlugin> plugin;

    explicit PluginBox(const std::string& id) : ctx(id, dir.file("box.db"), clock) {}

    void start(const std::string& mainLua, const std::set<std::string>& channels = {}) {
        LuaPluginSource src;
        src.id = ctx.id;
        src.entry = "main.lua";
        src.files["main.lua"] = mainLua;
        src.channels = channels;
        src.limits = smallLimits();
        src.states = 2;
        plugin = std::make_unique<LuaPlugin>(std::move(src));
        plugin->start(ctx);
    }
};

const std::string kExample = std::string(KB_SOURCE_DIR) + "/plugins/vardkontakter";

void arrive(PluginBox& box, const std::string& booking, const std::string& unit, const std::string& who, const std::string& form,
            const std::string& start) {
    box.ctx.eventsImpl.handlers.at("checkin.arrived")(event(
        "checkin.arrived", R"({"booking_id": ")" + booking + R"(", "care_unit": ")" + unit + R"(", "practitioner": ")" + who +
                               R"(", "visit_form": ")" + form + R"(", "start": ")" + start + R"(", "patient": "191212121212"})"));
}

}  // namespace

TEST(LuaPlugin, CareContactsReportCountsArrivalsPerUnitPractitionerAndForm) {
    PluginBox box("vardkontakter");
    box.ctx.eventsImpl.maySubscribe = {"checkin.arrived"};
    box.ctx.storeImpl.unguarded(readFile(kExample + "/migrations/0001_contacts.sql"));
    box.start(readFile(kExample + "/main.lua"));

    ASSERT_EQ(box.ctx.routerImpl.routes.size(), 2u);
    EXPECT_EQ(box.ctx.routerImpl.routes[0].pattern, "/api/v1/vardkontakter/report");
    EXPECT_EQ(box.ctx.routerImpl.routes[0].access.roles, (std::set<Role>{Role::Admin, Role::Staff}));
    EXPECT_EQ(box.ctx.routerImpl.routes[1].pattern, "/api/v1/vardkontakter/report.csv");
    EXPECT_EQ(box.ctx.routerImpl.routes[0].doc.tag, "vardkontakter");

    arrive(box, "b1", "UNIT-A", "DR-1", "physical", "2026-11-03T09:00:00+01:00");
    arrive(box, "b2", "UNIT-A", "DR-1", "physical", "2026-11-04T10:00:00+01:00");
    arrive(box, "b2", "UNIT-A", "DR-1", "physical", "2026-11-04T10:00:00+01:00");  // arrived twice: one contact
    arrive(box, "b3", "UNIT-A", "DR-1", "video", "2026-11-05T10:00:00+01:00");
    arrive(box, "b4", "UNIT-B", "DR-2", "phone", "2026-11-30T23:30:00+01:00");
    arrive(box, "b5", "UNIT-B", "DR-2", "phone", "2026-12-01T08:00:00+01:00");  // next month
    box.ctx.eventsImpl.handlers.at("checkin.arrived")(event("checkin.arrived", R"({"booking_id": "b6"})"));
    ASSERT_FALSE(box.ctx.logImpl.lines.empty());
    EXPECT_EQ(box.ctx.logImpl.lines.back(),
              "warning checkin.arrived without booking_id, care_unit, practitioner or visit_form: not counted");

    auto r = box.ctx.routerImpl.call("GET", "/api/v1/vardkontakter/report", staffRequest({{"month", "2026-11"}}));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.contentType, "application/json");
    EXPECT_EQ(str(obj(r.body)), R"({"month":"2026-11","rows":[)"
                                R"({"care_unit":"UNIT-A","contacts":2,"practitioner":"DR-1","visit_form":"physical"},)"
                                R"({"care_unit":"UNIT-A","contacts":1,"practitioner":"DR-1","visit_form":"video"},)"
                                R"({"care_unit":"UNIT-B","contacts":1,"practitioner":"DR-2","visit_form":"phone"}],"total":4})");
    ASSERT_EQ(box.ctx.auditImpl.records.size(), 1u);
    EXPECT_EQ(box.ctx.auditImpl.records[0], "anna report.read  administration månad 2026-11");

    r = box.ctx.routerImpl.call("GET", "/api/v1/vardkontakter/report.csv", staffRequest({{"month", "2026-11"}}));
    EXPECT_EQ(r.contentType, "text/csv; charset=utf-8");
    EXPECT_EQ(r.body, "manad;vardenhet;vardgivare;besoksform;antal\r\n2026-11;UNIT-A;DR-1;physical;2\r\n"
                      "2026-11;UNIT-A;DR-1;video;1\r\n2026-11;UNIT-B;DR-2;phone;1\r\n");
    ASSERT_EQ(r.headers.size(), 1u);
    EXPECT_EQ(r.headers[0].second, "attachment; filename=\"vardkontakter-2026-11.csv\"");

    // Without a month: the previous one (the box's clock says 2026-11-22).
    r = box.ctx.routerImpl.call("GET", "/api/v1/vardkontakter/report", staffRequest());
    EXPECT_EQ(obj(r.body)->getValue<std::string>("month"), "2026-10");
    EXPECT_EQ(obj(r.body)->getValue<int>("total"), 0);
    EXPECT_EQ(str(obj(r.body)->get("rows")), "[]") << "an empty list stays a JSON array";

    r = box.ctx.routerImpl.call("GET", "/api/v1/vardkontakter/report", staffRequest({{"month", "2026-13"}}));
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(obj(r.body)->getValue<std::string>("type"), "/problems/invalid-month");

    box.ctx.settings->set("csv_separator", ",");
    r = box.ctx.routerImpl.call("GET", "/api/v1/vardkontakter/report.csv", staffRequest({{"month", "2026-12"}}));
    EXPECT_EQ(r.body, "manad,vardenhet,vardgivare,besoksform,antal\r\n2026-12,UNIT-B,DR-2,phone,1\r\n");
}

TEST(LuaPlugin, CareContactsTakeTheArrivalsQueuedAtOnceInOneWriteAndSkipABrokenOne) {
    PluginBox box("vardkontakter");
    box.ctx.eventsImpl.maySubscribe = {"checkin.arrived"};
    box.ctx.storeImpl.unguarded(readFile(kExample + "/migrations/0001_contacts.sql"));
    box.start(readFile(kExample + "/main.lua"));
    const auto arrival = [](const std::string& booking, const std::string& form) {
        return event("checkin.arrived", R"({"booking_id": ")" + booking + R"(", "care_unit": "UNIT-A", "practitioner": "DR-1", )"
                                        R"("visit_form": ")" + form + R"(", "start": "2026-11-03T09:00:00+01:00"})");
    };
    Event a = arrival("b1", "physical"), again = arrival("b1", "physical"), broken = arrival("b2", "fax"), b = arrival("b3", "video");
    box.ctx.eventsImpl.batchHandlers.at("checkin.arrived")({&a, &again, &broken, &b});
    ASSERT_FALSE(box.ctx.logImpl.lines.empty());
    EXPECT_EQ(box.ctx.logImpl.lines.back(),
              "warning checkin.arrived without booking_id, care_unit, practitioner or visit_form: not counted");
    auto r = box.ctx.routerImpl.call("GET", "/api/v1/vardkontakter/report", staffRequest({{"month", "2026-11"}}));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(str(obj(r.body)), R"({"month":"2026-11","rows":[)"
                                R"({"care_unit":"UNIT-A","contacts":1,"practitioner":"DR-1","visit_form":"physical"},)"
                                R"({"care_unit":"UNIT-A","contacts":1,"practitioner":"DR-1","visit_form":"video"}],"total":2})");
}

TEST(LuaPlugin, ManifestPermissionsAreEnforcedByTheContext) {
    PluginBox box("vardkontakter");
    // The manifest declares no subscription: start fails as a native plugin's would.
    LuaPluginSource src;
    src.id = "vardkontakter";
    src.entry = "main.lua";
    src.files["main.lua"] = readFile(kExample + "/main.lua");
    LuaPlugin p(src);
    try {
        p.start(box.ctx);
        FAIL();
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("does not declare a subscription to checkin.arrived"), std::string::npos);
    }
    LuaPluginSource missing = src;
    missing.entry = "lua/main.lua";
    LuaPlugin q(missing);
    EXPECT_THROW(q.start(box.ctx), std::runtime_error);
}

TEST(LuaPlugin, DbIsLimitedToThePluginsOwnTablesAndOneStatementPerCall) {
    PluginBox box("demo");
    box.ctx.storeImpl.unguarded("CREATE TABLE demo_items(id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL, note TEXT);"
                                "CREATE TABLE kb_users(name TEXT); INSERT INTO kb_users VALUES ('admin')");
    box.start(R"lua(
kb.route("POST", "/items", function(req)
  local changes, id = kb.db.exec("INSERT INTO demo_items(name, price, note) VALUES (?, ?, ?)", req.json.name, req.json.price, req.json.note)
  return { status = 201, json = { id = id, changes = changes } }
end)
kb.route("GET", "/items", function(req)
  return { json = { items = kb.db.query("SELECT id, name, price, note FROM demo_items ORDER BY id") } }
end)
kb.route("GET", "/users", function(req) return { json = kb.db.query("SELECT name FROM kb_users") } end)
kb.route("GET", "/two", function(req) kb.db.exec("DELETE FROM demo_items; DELETE FROM demo_items") end)
kb.route("GET", "/bad-param", function(req) kb.db.query("SELECT ?", {}) end)
kb.route("POST", "/tx", function(req)
  local ok, err = pcall(kb.db.transaction, function()
    kb.db.exec("INSERT INTO demo_items(name) VALUES ('in tx')")
    error("rolled back")
  end)
  local n = kb.db.query("SELECT COUNT(*) AS n FROM demo_items WHERE name = 'in tx'")[1].n
  local id = kb.db.transaction(function()
    local _, id = kb.db.exec("INSERT INTO demo_items(name) VALUES ('kept')")
    return id
  end)
  return { json = { rolled_back = n == 0, error = tostring(err), kept = id } }
end)
)lua");
    Request post = staffRequest();
    post.headers["content-type"] = "application/json";
    post.body = R"({"name": "Plåster", "price": 12.5})";
    auto r = box.ctx.routerImpl.call("POST", "/api/v1/demo/items", post);
    EXPECT_EQ(r.status, 201);
    EXPECT_EQ(str(obj(r.body)), R"({"changes":1,"id":1})");
    r = box.ctx.routerImpl.call("GET", "/api/v1/demo/items", staffRequest());
    EXPECT_EQ(str(obj(r.body)), R"({"items":[{"id":1,"name":"Plåster","price":12.5}]})") << "NULL columns are absent";

    auto failure = [&](const std::string& method, const std::string& path) -> std::string {
        try {
            box.ctx.routerImpl.call(method, path, staffRequest());
        } catch (const Problem& p) {
            EXPECT_EQ(p.status(), 500);
            EXPECT_EQ(p.type(), "/problems/lua-script-failed");
            return p.detail();
        }
        return "no problem";
    };
    const auto denied = failure("GET", "/api/v1/demo/users");
    EXPECT_NE(denied.find("kb.db.query: "), std::string::npos) << denied;
    EXPECT_NE(denied.find("access to kb_users.name is prohibited (a plugin may only use its own tables, named demo_...)"),
              std::string::npos)
        << denied;
    EXPECT_NE(failure("GET", "/api/v1/demo/two").find("kb.db.exec: one SQL statement per call"), std::string::npos);
    EXPECT_NE(failure("GET", "/api/v1/demo/bad-param").find("bad argument #2 to 'query' (nil, boolean, number or string expected)"),
              std::string::npos);

    r = box.ctx.routerImpl.call("POST", "/api/v1/demo/tx", staffRequest());
    const auto tx = obj(r.body);
    EXPECT_TRUE(tx->getValue<bool>("rolled_back"));
    EXPECT_NE(tx->getValue<std::string>("error").find("rolled back"), std::string::npos);
    EXPECT_EQ(tx->getValue<int>("kept"), 2);
    EXPECT_GE(box.ctx.storeImpl.rollbacks, 1);
}

TEST(LuaPlugin, SendAuditAndPublishGoThroughTheContext) {
    PluginBox box("demo");
    box.ctx.eventsImpl.mayPublish = {"demo.done"};
    box.ctx.storeImpl.unguarded("CREATE TABLE demo_log(id INTEGER PRIMARY KEY, what TEXT)");
    box.start(R"lua(
kb.route("POST", "/go", { roles = { "staff" } }, function(req)
  kb.db.transaction(function()
    kb.db.exec("INSERT INTO demo_log(what) VALUES ('go')")
    kb.send("demo.notify", { text = "klart" }, { idempotency_key = "go-1" })
    kb.audit("log.write", { patient = "191212121212", details = "go" })
  end)
  kb.send("demo.notify", { text = "efter" }, { idempotency_key = "go-2" })
  kb.events.publish("demo.done", { by = req.user.username })
  return { status = 202 }
end)
kb.route("POST", "/other-channel", function(req) kb.send("sms" .. ".send", {}, { idempotency_key = "x" }) end)
kb.route("POST", "/undeclared", function(req) kb.events.publish("booking.created", {}) end)
)lua",
              {"demo.notify"});
    auto r = box.ctx.routerImpl.call("POST", "/api/v1/demo/go", staffRequest());
    EXPECT_EQ(r.status, 202);
    EXPECT_TRUE(r.body.empty());
    ASSERT_EQ(box.ctx.outboxImpl.queued.size(), 2u);
    EXPECT_EQ(box.ctx.outboxImpl.queued[0].payload, R"({"text":"klart"})");
    EXPECT_EQ(box.ctx.outboxImpl.queued[1].idempotencyKey, "go-2");
    ASSERT_EQ(box.ctx.auditImpl.records.size(), 1u);
    EXPECT_EQ(box.ctx.auditImpl.records[0], "anna log.write 191212121212 vård go [tx]");
    ASSERT_EQ(box.ctx.eventsImpl.published.size(), 1u);
    EXPECT_EQ(str(box.ctx.eventsImpl.published[0].payload), R"({"by":"anna"})");
    EXPECT_EQ(box.ctx.eventsImpl.published[0].requestId, "req-9");
    try {
        box.ctx.routerImpl.call("POST", "/api/v1/demo/other-channel", staffRequest());
        FAIL();
    } catch (const Problem& p) {
        EXPECT_NE(p.detail().find("may not send on channel 'sms.send'"), std::string::npos) << p.detail();
    }
    try {
        box.ctx.routerImpl.call("POST", "/api/v1/demo/undeclared", staffRequest());
        FAIL();
    } catch (const Problem& p) {
        EXPECT_NE(p.detail().find("does not declare that it publishes booking.created"), std::string::npos) << p.detail();
    }
}

TEST(LuaPlugin, AListOfPatientsIsOneAuditRecordWithItsSubjects) {
    PluginBox box("demo");
    box.start(R"lua(
kb.route("GET", "/list", { roles = { "staff" } }, function(req)
  kb.audit("list.read", { subjects = { "191212121212", "199001012385" }, details = "day list" })
  kb.db.transaction(function()
    kb.audit("list.read", { subjects = { "198507099805" } })
  end)
  return { json = {} }
end)
kb.route("GET", "/both", function() kb.audit("x", { patient = "191212121212", subjects = { "199001012385" } }) end)
kb.route("GET", "/numbers", function() kb.audit("x", { subjects = { 191212121212 } }) end)
kb.route("GET", "/not-a-list", function() kb.audit("x", { subjects = "191212121212" }) end)
)lua");
    EXPECT_EQ(box.ctx.routerImpl.call("GET", "/api/v1/demo/list", staffRequest()).status, 200);
    ASSERT_EQ(box.ctx.auditImpl.records.size(), 2u);
    EXPECT_EQ(box.ctx.auditImpl.records[0], "anna list.read {191212121212,199001012385} vård day list");
    EXPECT_EQ(box.ctx.auditImpl.records[1], "anna list.read {198507099805} vård  [tx]");
    auto failure = [&](const std::string& path) {
        try {
            box.ctx.routerImpl.call("GET", path, staffRequest());
        } catch (const Problem& p) {
            return p.detail();
        } catch (const std::exception& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_NE(failure("/api/v1/demo/both").find("either patient or subjects"), std::string::npos);
    EXPECT_NE(failure("/api/v1/demo/numbers").find("subjects[1] must be a non-empty string"), std::string::npos);
    EXPECT_NE(failure("/api/v1/demo/not-a-list").find("subjects must be an array"), std::string::npos);
    EXPECT_EQ(box.ctx.auditImpl.records.size(), 2u);
}

TEST(LuaPlugin, HooksPagesAndResponsesAreChecked) {
    PluginBox box("demo");
    box.ctx.eventsImpl.mayHook = {"booking.requested"};
    box.start(R"lua(
kb.on("booking.requested", { phase = "validate" }, function(e)
  if not e.payload.care_unit then kb.reject("Vårdenhet saknas") end
  e.payload.checked_by = "demo"
end)
kb.page{ id = "day", title = "Dagens kontakter", script = "day.js", roles = { "staff" } }
kb.page{ id = "admin", title = "Inställningar", script = "admin.js" }
kb.route("GET", "/bad-status", function() return { status = 99 } end)
kb.route("GET", "/unknown-field", function() return { stauts = 200 } end)
kb.route("GET", "/both", function() return { json = {}, body = "x" } end)
kb.route("GET", "/cookie", function() return { body = "x", headers = { ["Set-Cookie"] = "a=b" } } end)
kb.route("GET", "/text", function() return { body = "hej", headers = { ["Cache-Control"] = "no-store" } } end)
kb.route("GET", "/loop", function() while true do end end)
kb.route("GET", "/absolute/{id}", function(req) return { json = { id = req.params.id } } end)
kb.route("GET", "/api/v1/demo/full", function(req) return nil end)
)lua");
    ASSERT_EQ(box.ctx.eventsImpl.specs.size(), 1u);
    EXPECT_EQ(box.ctx.eventsImpl.specs[0].name, "lua");
    EXPECT_EQ(box.ctx.eventsImpl.specs[0].phase, Phase::Validate);
    auto e = event("booking.requested", R"({"care_unit": "U"})");
    box.ctx.eventsImpl.hooks.at("booking.requested")(e);
    EXPECT_EQ(e.payload->getValue<std::string>("checked_by"), "demo");
    auto v = event("booking.requested");
    EXPECT_THROW(box.ctx.eventsImpl.hooks.at("booking.requested")(v), Veto);

    ASSERT_EQ(box.ctx.pages.size(), 2u);
    EXPECT_EQ(box.ctx.pages[0].access.roles, std::set<Role>{Role::Staff});
    EXPECT_EQ(box.ctx.pages[1].access.roles, (std::set<Role>{Role::Admin, Role::It}));

    auto detail = [&](const std::string& path) -> std::string {
        try {
            box.ctx.routerImpl.call("GET", "/api/v1/demo" + path, staffRequest());
        } catch (const Problem& p) {
            return p.detail();
        }
        return "no problem";
    };
    EXPECT_NE(detail("/bad-status").find("status must be an integer 100-599"), std::string::npos);
    EXPECT_NE(detail("/unknown-field").find("unknown field 'stauts'"), std::string::npos);
    EXPECT_NE(detail("/both").find("json or body, not both"), std::string::npos);
    EXPECT_NE(detail("/cookie").find("may not set the header Set-Cookie"), std::string::npos);
    EXPECT_NE(detail("/loop").find("ran past its limit"), std::string::npos);
    auto r = box.ctx.routerImpl.call("GET", "/api/v1/demo/text", staffRequest());
    EXPECT_EQ(r.body, "hej");
    EXPECT_EQ(r.contentType, "text/plain; charset=utf-8");
    Request withId = staffRequest();
    withId.pathParams["id"] = "42";
    r = box.ctx.routerImpl.call("GET", "/api/v1/demo/absolute/{id}", withId);
    EXPECT_EQ(str(obj(r.body)), R"({"id":"42"})");
    r = box.ctx.routerImpl.call("GET", "/api/v1/demo/full", staffRequest());
    EXPECT_EQ(r.status, 204);
    // After stop, the plugin refuses calls that still reach it.
    box.plugin->stop();
    try {
        box.ctx.routerImpl.call("GET", "/api/v1/demo/text", staffRequest());
        FAIL();
    } catch (const Problem& p) {
        EXPECT_EQ(p.status(), 503);
    }
}
