// The Lua runtime in a running box: a `kind: lua` plugin loaded like a native one, the
// console's script API (save with compile check and audit record, dry run), kb.send over a
// configured channel, the scripts' metrics and the `klinikbox lua` command.
#include "BoxProcess.h"
#include "HttpSink.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

using namespace kbtest;
namespace fs = std::filesystem;

namespace {

std::string readFile(const std::string& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// The worked Lua plugin (vardkontakter) and a second Lua plugin that publishes the
// checkin.arrived events it counts.
std::string luaSet(const TempDir& dir) {
    const fs::path set = fs::path(dir.path()) / "set";
    fs::create_directories(set);
    fs::copy(fs::path(KB_SOURCE_DIR) / "plugins/vardkontakter", set / "vardkontakter",
             fs::copy_options::recursive);
    fs::create_directories(set / "arrivals");
    std::ofstream(set / "arrivals" / "plugin.yaml") << R"(id: arrivals
name: Arrivals (test)
version: 1.0.0
api: 1
kind: lua
entry: main.lua
description: Publishes checkin.arrived for the test.
permissions:
  events:
    publish: [checkin.arrived]
  outbound_hosts: []
  patient_data: false
)";
    std::ofstream(set / "arrivals" / "main.lua") << R"(
kb.route("POST", "/arrive", { roles = { "staff" } }, function(req)
  kb.events.publish("checkin.arrived", req.json)
  return { status = 202, json = { queued = true } }
end)
)";
    return set.string();
}

}  // namespace

TEST(LuaServer, LuaPluginIsLoadedLikeANativeOneAndCountsCareContacts) {
    TempDir d;
    BoxProcess box("", luaSet(d));
    box.start();
    auto ready = box.request("GET", "/readyz");
    ASSERT_NE(ready.body.find("vardkontakter"), std::string::npos) << ready.body;
    auto plugins = ready.json()->getArray("plugins");
    ASSERT_TRUE(plugins);
    for (std::size_t i = 0; i < plugins->size(); ++i)
        EXPECT_EQ(plugins->getObject(static_cast<unsigned>(i))->getValue<std::string>("state"), "running")
            << ready.body << box.output();

    box.loginAs("sam", "staff");
    const std::string arrival = R"({"booking_id": 17, "care_unit": "SE2321000016-A1B2", "practitioner": "SE2321000016-C3D4",
        "visit_form": "physical", "start": "2026-11-10T09:00:00+01:00", "patient": "191212121212"})";
    ASSERT_EQ(box.authed("POST", "/api/v1/arrivals/arrive", arrival).status, 202);
    ASSERT_EQ(box.authed("POST", "/api/v1/arrivals/arrive", arrival).status, 202);  // the same contact again
    // The subscriber runs asynchronously: poll the report until it has counted the contact.
    Poco::JSON::Object::Ptr report;
    for (int i = 0; i < 200; ++i) {
        auto r = box.authed("GET", "/api/v1/vardkontakter/report?month=2026-11");
        ASSERT_EQ(r.status, 200) << r.body;
        report = r.json();
        if (report->getValue<int>("total") > 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    EXPECT_EQ(report->getValue<int>("total"), 1);
    auto csv = box.authed("GET", "/api/v1/vardkontakter/report.csv?month=2026-11");
    EXPECT_EQ(csv.status, 200);
    EXPECT_NE(csv.body.find("2026-11;SE2321000016-A1B2;SE2321000016-C3D4;physical;1"), std::string::npos) << csv.body;
    EXPECT_EQ(box.authed("GET", "/api/v1/vardkontakter/report?month=13-2026").status, 400);
    // The route declares its one parameter (kb.route's query): a misspelt one is refused, not
    // ignored for the default month.
    const auto misspelt = box.authed("GET", "/api/v1/vardkontakter/report?monht=2026-11");
    EXPECT_EQ(misspelt.status, 400) << misspelt.body;
    EXPECT_NE(misspelt.body.find("/problems/unknown-parameter"), std::string::npos) << misspelt.body;
    const auto spec = box.request("GET", "/api/v1/openapi.json");
    EXPECT_NE(spec.body.find(R"("in":"query","name":"month")"), std::string::npos) << "published in the OpenAPI document";
    // A contact at 00:30 on 1 December Swedish time, written in UTC, counts in December.
    ASSERT_EQ(box.authed("POST", "/api/v1/arrivals/arrive", R"({"booking_id": 18, "care_unit": "SE2321000016-A1B2",
        "practitioner": "SE2321000016-C3D4", "visit_form": "physical", "start": "2026-11-30T23:30:00Z", "patient": "191212121212"})").status, 202);
    Poco::JSON::Object::Ptr december;
    for (int i = 0; i < 200; ++i) {
        december = box.authed("GET", "/api/v1/vardkontakter/report?month=2026-12").json();
        if (december->getValue<int>("total") > 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    EXPECT_EQ(december->getValue<int>("total"), 1);
    EXPECT_EQ(box.authed("GET", "/api/v1/vardkontakter/report?month=2026-11").json()->getValue<int>("total"), 1);
    // The Lua plugin's routes carry the same role checks as native ones.
    box.loginAs("ivar", "it");
    EXPECT_EQ(box.authed("GET", "/api/v1/vardkontakter/report?month=2026-11").status, 403);
}

TEST(LuaServer, ConsoleSavesAScriptOnlyAfterACompileCheckAndLogsEveryChange) {
    TempDir d;
    fs::create_directories(d.file("scripts"));
    const std::string original = "kb.on('demo.requested', function(e) e.payload.seen = true end)\n";
    std::ofstream(d.file("scripts/triage.lua")) << original;
    BoxProcess box("lua:\n  scripts_dir: " + d.file("scripts") + "\n");
    box.start();

    box.loginAs("sam", "staff");
    EXPECT_EQ(box.authed("GET", "/api/v1/lua/scripts").status, 403);
    box.loginAs("adam", "admin");
    EXPECT_EQ(box.authed("PUT", "/api/v1/lua/scripts/triage.lua", R"({"source":"x"})").status, 403)
        << "only IT staff edit scripts";
    box.loginAs("ivar", "it");
    auto got = box.authed("GET", "/api/v1/lua/scripts/triage.lua");
    ASSERT_EQ(got.status, 200) << got.body;
    EXPECT_EQ(got.json()->getValue<std::string>("source"), original);
    const std::string hash = got.json()->getValue<std::string>("hash");
    const int traversal = box.authed("GET", "/api/v1/lua/scripts/..%2Fetc.lua").status;
    EXPECT_TRUE(traversal == 400 || traversal == 404) << traversal;
    EXPECT_EQ(box.authed("GET", "/api/v1/lua/scripts/.hidden.lua").status, 400);
    EXPECT_EQ(box.authed("GET", "/api/v1/lua/scripts/nothere.lua").status, 404);

    // A script with a syntax error is refused with its line; the file and the running
    // version stay as they were.
    Poco::JSON::Object::Ptr bad = new Poco::JSON::Object;
    bad->set("source", "kb.on('demo.requested', function(e)\n  e.payload.x = \nend)\n");
    bad->set("base_hash", hash);
    std::ostringstream badText;
    bad->stringify(badText);
    auto refused = box.authed("PUT", "/api/v1/lua/scripts/triage.lua", badText.str());
    EXPECT_EQ(refused.status, 422) << refused.body;
    EXPECT_NE(refused.json()->getValue<std::string>("detail").find("triage.lua:3"), std::string::npos) << refused.body;
    EXPECT_EQ(readFile(d.file("scripts/triage.lua")), original);

    // A stale editor (wrong base hash) gets 409, not a silent overwrite.
    EXPECT_EQ(box.authed("PUT", "/api/v1/lua/scripts/triage.lua", R"({"source":"-- x\n","base_hash":"abc"})").status, 409);
    EXPECT_EQ(box.authed("PUT", "/api/v1/lua/scripts/triage.lua", R"({"source":"-- x\n","unknown":1})").status, 400);

    Poco::JSON::Object::Ptr good = new Poco::JSON::Object;
    good->set("source", "kb.on('demo.requested', function(e) kb.reject('Ring mottagningen') end)\n");
    good->set("base_hash", hash);
    std::ostringstream goodText;
    good->stringify(goodText);
    auto saved = box.authed("PUT", "/api/v1/lua/scripts/triage.lua", goodText.str());
    ASSERT_EQ(saved.status, 200) << saved.body;
    EXPECT_EQ(readFile(d.file("scripts/triage.lua")), good->getValue<std::string>("source"));
    EXPECT_EQ(saved.json()->getObject("status")->getValue<int>("version"), 2);

    // A new script (no base hash) can be created.
    EXPECT_EQ(box.authed("PUT", "/api/v1/lua/scripts/new.lua", R"({"source":"-- empty\n","base_hash":""})").status, 200);

    box.loginAs("aud", "auditor");
    auto log = box.authed("GET", "/api/v1/audit?action=lua.script.save");
    ASSERT_EQ(log.status, 200) << log.body;
    int ok = 0, failed = 0;
    auto items = log.json()->getArray("records");
    ASSERT_TRUE(items) << log.body;
    for (std::size_t i = 0; i < items->size(); ++i) {
        auto o = items->getObject(static_cast<unsigned>(i));
        if (o->getValue<std::string>("action") != "lua.script.save") continue;
        EXPECT_EQ(o->getValue<std::string>("username"), "ivar");
        (o->getValue<std::string>("outcome") == "ok" ? ok : failed)++;
    }
    EXPECT_EQ(ok, 2) << log.body;
    EXPECT_EQ(failed, 1) << log.body;

    // The dry run shows what a draft would do, without saving it.
    box.loginAs("iris", "it");
    auto dry = box.authed("POST", "/api/v1/lua/dryrun",
                          R"J({"source":"kb.on('demo.requested', function(e) e.payload.unit = 'akut' end)",
                              "event":"demo.requested","payload":{"patient":"191212121212"}})J");
    ASSERT_EQ(dry.status, 200) << dry.body;
    EXPECT_TRUE(dry.json()->getValue<bool>("accepted"));
    EXPECT_EQ(dry.json()->getObject("payload")->getValue<std::string>("unit"), "akut");
    auto dryBad = box.authed("POST", "/api/v1/lua/dryrun", R"({"source":"while true do end","event":"x.y"})");
    ASSERT_EQ(dryBad.status, 200) << dryBad.body;
    EXPECT_EQ(dryBad.json()->getObject("error")->getValue<std::string>("kind"), "timeout") << dryBad.body;
    EXPECT_EQ(box.authed("POST", "/api/v1/lua/dryrun", R"({"source":"","event":"x.y","payload":[1]})").status, 400);
}

TEST(LuaServer, HookScriptSendsThroughAConfiguredChannelWithItsTokenAndKey) {
    HttpSink sink;
    const std::string url = sink.url("/hook");

    TempDir d;
    fs::create_directories(d.file("scripts"));
    std::ofstream(d.file("scripts/notify.lua")) << R"(
kb.subscribe("checkin.arrived", function(e)
  kb.send("lua.webhook", { text = "Hej " .. e.payload.name, unit = kb.config("unit") },
          { idempotency_key = "greet-" .. e.payload.name })
end)
)";
    // other.lua builds the channel at run time: the box refuses the send but keeps the
    // message as a dead letter; bad.lua names it literally: refused at load.
    std::ofstream(d.file("scripts/other.lua")) << R"(
kb.subscribe("checkin.arrived", function(e)
  kb.send("lua." .. "webhook", { text = "x" }, { idempotency_key = "other" })
end)
)";
    std::ofstream(d.file("scripts/bad.lua")) << R"(
kb.subscribe("checkin.arrived", function(e)
  kb.send("lua.webhook", { text = "x" }, { idempotency_key = "bad" })
end)
)";
    BoxProcess box("lua:\n  scripts_dir: " + d.file("scripts") +
                       "\n  config:\n    notify.lua:\n      unit: Vårdcentralen\n  channels:\n    - name: webhook\n      url: " +
                       url + "\n      scripts: [notify.lua]\n      bearer_token: s3cret-token\n",
                   luaSet(d));
    box.start();
    box.loginAs("sam", "staff");
    ASSERT_EQ(box.authed("POST", "/api/v1/arrivals/arrive", R"({"name":"Maja"})").status, 202);
    {
        const auto got = sink.waitFor(1);
        ASSERT_FALSE(got.empty());
        EXPECT_EQ(got[0].authorization + "|" + got[0].idempotencyKey, "Bearer s3cret-token|greet-Maja");
        EXPECT_NE(got[0].body.find("\"Hej Maja\""), std::string::npos) << got[0].body;
        EXPECT_NE(got[0].body.find("Vårdcentralen"), std::string::npos) << got[0].body;
    }
    // other.lua may not use the channel: the send is refused but not lost (a dead letter),
    // counted on the Skript page and in /metrics; nothing is sent.
    box.loginAs("ivar", "it");
    Poco::JSON::Object::Ptr other, bad;
    for (int i = 0; i < 200 && !other; ++i) {
        auto list = box.authed("GET", "/api/v1/lua/scripts").json()->getArray("scripts");
        for (std::size_t k = 0; k < list->size(); ++k) {
            auto s = list->getObject(static_cast<unsigned>(k));
            if (s->getValue<std::string>("file") == "other.lua" && s->getValue<int>("refused_sends") > 0) other = s;
            if (s->getValue<std::string>("file") == "bad.lua") bad = s;
        }
        if (!other) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    ASSERT_TRUE(other);
    EXPECT_EQ(other->getObject("counters")->getValue<int>("errors"), 0) << "the handler went on";
    ASSERT_TRUE(bad);
    EXPECT_TRUE(bad->getValue<bool>("refused"));
    EXPECT_NE(bad->getValue<std::string>("error").find("which lua.channels in klinikbox.yaml does not give this script"),
              std::string::npos)
        << bad->getValue<std::string>("error");
    auto metrics = box.request("GET", "/metrics");
    EXPECT_NE(metrics.body.find("kb_lua_refused_sends_total{script=\"other.lua\"} 1"), std::string::npos) << metrics.body;
    box.loginAs("ada", "admin");
    auto dead = box.authed("GET", "/api/v1/outbox?state=dead");
    EXPECT_NE(dead.body.find("refused: lua.channels does not give other.lua the channel lua.webhook"), std::string::npos)
        << dead.body;
    EXPECT_EQ(box.output().find("s3cret-token"), std::string::npos) << "the token must never be logged";
    EXPECT_EQ(sink.items().size(), 1u);
}

TEST(LuaServer, LuaCommandRunsAScriptsTestsAndShowsWhatAHookDoes) {
    TempDir d;
    BoxProcess box;
    std::string out;
    EXPECT_EQ(box.cli({"lua", "test", std::string(KB_SOURCE_DIR) + "/scripts/examples/triage.lua"}, &out), 0) << out;
    EXPECT_NE(out.find("PASS"), std::string::npos) << out;
    std::ofstream(d.file("failing.lua")) << R"(
kb.on("booking.requested", function(e) if e.payload.age < 18 then kb.reject("Vårdnadshavare krävs") end end)
kb.test("adults pass", function()
  local r = kb.fire("booking.requested", { age = 40 })
  assert(r.accepted)
end)
kb.test("wrong on purpose", function()
  local r = kb.fire("booking.requested", { age = 10 })
  assert(r.accepted, "expected acceptance")
end)
)";
    EXPECT_EQ(box.cli({"lua", "test", d.file("failing.lua")}, &out), 1) << out;
    EXPECT_NE(out.find("FAIL"), std::string::npos) << out;
    std::ofstream(d.file("in.json")) << R"({"age": 10})";
    EXPECT_EQ(box.cli({"lua", "run", d.file("failing.lua"), "--event", "booking.requested", "--input", d.file("in.json")}, &out), 3)
        << out;
    EXPECT_NE(out.find("Vårdnadshavare krävs"), std::string::npos) << out;
    EXPECT_EQ(box.cli({"lua", "run", d.file("failing.lua")}, &out), 2) << out;
    EXPECT_EQ(box.cli({"lua", "frobnicate"}, &out), 2) << out;

    // An error inside kb.db.transaction, a route called by kb.request or a job run by
    // kb.run_due names the line where it was raised, not the line of that call.
    const std::string plugin = d.file("txerr");
    std::filesystem::create_directories(plugin + "/tests");
    std::filesystem::create_directories(plugin + "/migrations");
    std::ofstream(plugin + "/plugin.yaml") << "id: txerr\nname: Fel\nversion: 1.0.0\napi: 1\nkind: lua\nentry: main.lua\n"
                                              "permissions:\n  events:\n    subscribe: [booking.created]\nmigrations: migrations\n";
    std::ofstream(plugin + "/migrations/0001_t.sql") << "CREATE TABLE txerr_t (x INTEGER);\n";
    std::ofstream(plugin + "/main.lua") << R"LUA(kb.subscribe("booking.created", function(event)
  kb.db.transaction(function()
    kb.db.exec("INSERT INTO txerr_t (x) VALUES (1)")
    local n = event.payload.missing.field
  end)
end)
kb.schedule("sweep", { every_minutes = 5 }, function()
  local t = nil
  return t.x
end)
kb.route("GET", "/boom", { roles = { "staff" } }, function()
  return kb.db.transaction(function()
    error("inside tx")
  end)
end)
)LUA";
    std::ofstream(plugin + "/tests/t_test.lua") << R"LUA(kb.test("handler", function() kb.fire("booking.created", {}) end)
kb.test("job", function() kb.set_now(kb.now() + 600); kb.run_due() end)
kb.test("route", function() kb.request("GET", "/boom", { as = "staff" }) end)
)LUA";
    EXPECT_EQ(box.cli({"lua", "test", plugin}, &out), 1) << out;
    EXPECT_NE(out.find("main.lua:4: attempt to index a nil value"), std::string::npos) << out;
    EXPECT_NE(out.find("main.lua:9: attempt to index a nil value"), std::string::npos) << out;
    EXPECT_NE(out.find("main.lua:13: inside tx"), std::string::npos) << out;
    EXPECT_EQ(out.find("t_test.lua:"), std::string::npos) << out;

    // kb.request answers as the box does: the route's body schema is checked before the route
    // runs, what the route returns is checked and converted as the box sends it, and the
    // route sees req.json and req.headers as the box gives them.
    const std::string echo = d.file("echo");
    std::filesystem::create_directories(echo + "/tests");
    std::ofstream(echo + "/plugin.yaml") << "id: echo\nname: Eko\nversion: 1.0.0\napi: 1\nkind: lua\nentry: main.lua\n";
    std::ofstream(echo + "/main.lua") << R"LUA(kb.route("POST", "/notes", { roles = { "staff" }, status = 201,
  body = { type = "object", additionalProperties = false, required = { "text" }, properties = { text = { type = "string", maxLength = 20 } } } },
  function(req) return { status = 201, json = { text = req.json.text } } end)
kb.route("POST", "/echo", { roles = { "staff" } }, function(req)
  return { json = { has_json = req.json ~= nil, a = req.json and req.json.a, headers = req.headers } }
end)
kb.route("GET", "/ret/{kind}", { roles = { "staff" } }, function(req)
  local k = req.params.kind
  if k == "extra" then return { status = 200, json = {}, foo = 1 } end
  if k == "status" then return { status = 1000 } end
  if k == "cookie" then return { headers = { ["Set-Cookie"] = "a=b" }, body = "x" } end
  if k == "both" then return { json = { a = 1 }, body = "x" } end
  if k == "problem" then return { status = 409, json = { title = "Konflikt" } } end
  return { body = "text" }
end)
)LUA";
    std::ofstream(echo + "/tests/echo_test.lua") << R"LUA(kb.test("the body schema is checked before the route", function()
  local r = kb.request("POST", "/notes", { as = "staff", json = { text = "hej", extra = 1 } })
  kb.assert_eq(r.status, 400)
  kb.assert_eq(r.json.type, "/problems/unknown-field")
  kb.assert_eq(r.content_type, "application/problem+json")
  kb.assert_eq(kb.request("POST", "/notes", { as = "staff", json = {} }).status, 400)
  kb.assert_eq(kb.request("POST", "/notes", { as = "staff", body = "{nope", headers = { ["Content-Type"] = "application/json" } }).status, 400)
  kb.assert_eq(kb.request("POST", "/notes", { as = "staff", json = { text = "hej" } }).json.text, "hej")
end)
kb.test("the route sees req.json and req.headers as the box gives them", function()
  local r = kb.request("POST", "/echo", { as = "staff", body = '{"a":1}',
    headers = { ["Content-Type"] = "application/json", Authorization = "Bearer x", Cookie = "kb_session=abc", ["X-Trace"] = "t" } })
  kb.assert_eq(r.status, 200)
  kb.assert_eq(r.json.has_json, true)
  kb.assert_eq(r.json.a, 1)
  kb.assert_eq(r.json.headers["x-trace"], "t")
  kb.assert_eq(r.json.headers["content-type"], "application/json")
  kb.assert_eq(r.json.headers.cookie, nil)
  kb.assert_eq(r.json.headers.authorization, nil)
end)
kb.test("what a route returns is checked as the box checks it", function()
  for _, k in ipairs({ "extra", "status", "cookie", "both" }) do
    local ok, err = pcall(kb.request, "GET", "/ret/" .. k, { as = "staff" })
    kb.assert_eq(ok, false, k)
  end
  local p = kb.request("GET", "/ret/problem", { as = "staff" })
  kb.assert_eq(p.status, 409)
  kb.assert_eq(p.json.type, "about:blank")
  kb.assert_eq(p.json.status, 409)
  kb.assert_eq(p.json.instance, "/api/v1/echo/ret/problem")
  local t = kb.request("GET", "/ret/text", { as = "staff" })
  kb.assert_eq(t.body, "text")
  kb.assert_eq(t.status, 200)
  local refused = kb.request("GET", "/ret/text?x=1&x=2", { as = "staff" })
  kb.assert_eq(refused.json.type, "/problems/duplicate-parameter")
  kb.assert_eq(kb.request("GET", "/ret/text", { as = false }).json.type, "/problems/unauthenticated")
end)
)LUA";
    EXPECT_EQ(box.cli({"lua", "test", echo}, &out), 0) << out;
    EXPECT_NE(out.find("3 passed, 0 failed"), std::string::npos) << out;
}
