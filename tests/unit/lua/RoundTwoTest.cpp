// Issue 18 (Lua, round two): error locations in every mode, kb.config in the offline tools,
// kb.audit joining kb.db.transaction in handlers, the batteries (kb.json, kb.time,
// kb.text), Lua route problems, stale errors, registrations checked at load, per-hook
// latency in /metrics.
#include "HookFixture.h"
#include "LuaFixture.h"
#include "PluginFakes.h"

#include "lua/Cli.h"
#include "lua/LuaPlugin.h"

#include "SwedishTimeZoneEnvironment.h"
#include "TempDir.h"
#include "TimeZone.h"

#include <fstream>

using namespace kbtest;
using kbtest::TempDir;

namespace {

bool contains(const std::string& out, const std::string& what) { return out.find(what) != std::string::npos; }

std::string luaTest(const TempDir& dir, const std::string& file, const std::string& source, int& code,
                    const Poco::JSON::Object::Ptr& config = nullptr) {
    std::ofstream(dir.file(file)) << source;
    std::ostringstream out;
    code = runLuaTest(dir.file(file), out, config);
    return out.str();
}

}  // namespace

TEST(LuaRoundTwo, AnErrorInAHookUnderKbFireNamesTheHooksLineAndPhase) {
    TempDir dir;
    int code = 0;
    const std::string out = luaTest(dir, "fee.lua", R"(
kb.on("checkin.fee", { phase = "validate" }, function(e)
  local x = e.payload.missing.field
end)
kb.subscribe("booking.created", function(e)
  kb.reject("nej")
end)
kb.test("fee", function()
  kb.fire("checkin.fee", {})
end)
kb.test("created", function()
  kb.fire("booking.created", {})
end)
kb.test("caught, then another error", function()
  kb.assert_error(function() kb.fire("checkin.fee", {}) end, "missing")
  error("own")
end)
)",
                                    code);
    EXPECT_EQ(code, 1);
    EXPECT_TRUE(contains(out, "fee.lua:3: attempt to index a nil value (field 'missing') (test \"fee\", in checkin.fee, phase validate)"))
        << out;
    EXPECT_TRUE(contains(out, "fee.lua:6: kb.reject can only be used in a sync hook (kb.on) (test \"created\", in booking.created, kb.subscribe)"))
        << out;
    EXPECT_TRUE(contains(out, "fee.lua:16: own (test \"caught, then another error\")")) << out;
}

TEST(LuaRoundTwo, KbConfigReadsTheGivenSettingsAndATestsOwnTable) {
    TempDir dir;
    int code = 0;
    const std::string src = R"(
kb.test("from the file", function() kb.assert_eq(kb.config("free_under"), 18) end)
kb.test("a test's table", function()
  kb.set_config({ free_under = 20, fees = { video = 100 } })
  kb.assert_eq(kb.config("fees.video"), 100)
  kb.set_config(nil)
  kb.assert_eq(kb.config("free_under"), nil)
end)
kb.test("reset for every case", function() kb.assert_eq(kb.config("free_under"), 18) end)
)";
    std::string out = luaTest(dir, "cfg.lua", src, code, obj(R"({"free_under": 18})"));
    EXPECT_EQ(code, 0) << out;
    out = luaTest(dir, "cfg.lua", src, code);
    EXPECT_EQ(code, 1) << out;
    EXPECT_TRUE(contains(out, "1 passed, 2 failed")) << out;

    FixedClock clock{boxNow()};
    const auto r = dryRun("cfg.lua", "kb.on('a.b', function(e) e.payload.limit = kb.config('limit') end)", "a.b", obj("{}"), clock,
                          smallLimits(), obj(R"({"limit": 7})"));
    ASSERT_TRUE(r.accepted);
    EXPECT_EQ(str(r.payload), R"({"limit":7})");
}

TEST(LuaRoundTwo, JsonEncodesAndDecodesLikePayloads) {
    LuaBox box;
    EXPECT_EQ(box.eval("kb.json.encode({ a = 1, b = kb.array({ 'x', true }), c = 1.5 })"), R"({"a":1,"b":["x",true],"c":1.5})");
    EXPECT_EQ(box.eval("kb.json.encode('å\\n')"), R"("å\n")");
    EXPECT_EQ(box.eval("kb.json.decode('{\"a\":[1,2,{\"b\":null}],\"c\":\"ö\"}').a[2]"), "2");
    EXPECT_EQ(box.eval("kb.json.decode('{\"c\":\"ö\"}').c"), "ö");
    EXPECT_EQ(box.eval("kb.json.encode(kb.json.decode('[]'))"), "[]");
    EXPECT_EQ(box.eval("select(2, kb.json.decode('{nope'))"), "not JSON: " + box.eval("select(2, kb.json.decode('{nope')):sub(11)"));
    EXPECT_EQ(box.eval("kb.json.decode('{nope')"), "nil");
    // A document of one scalar, as kb.json.encode writes it, reads back ("Attempt to set value
    // on an empty stack" before); two values are not one document.
    EXPECT_EQ(box.eval("kb.json.decode(kb.json.encode('x'))"), "x");
    EXPECT_EQ(box.eval("kb.json.decode(' 5 ') + 1"), "6");
    EXPECT_EQ(box.eval("kb.json.decode('true')"), "true");
    EXPECT_EQ(box.eval("select('#', kb.json.decode('null'))"), "1");
    EXPECT_EQ(box.eval("kb.json.decode('null')"), "nil");
    EXPECT_EQ(box.eval("select(2, kb.json.decode('1, 2'))"), "not JSON: one value expected");
    EXPECT_EQ(box.eval("kb.json.decode('nul')"), "nil");
    // A member named twice is refused as the box refuses it in a request body, at any depth;
    // the same name in two different objects is fine.
    EXPECT_EQ(box.eval("kb.json.decode('{\"a\":1,\"a\":2}')"), "nil");
    EXPECT_EQ(box.eval("select(2, kb.json.decode('{\"x\":[{\"a\":1,\"b\":2,\"a\":3}]}'))"),
              "not JSON: the field 'a' appears more than once in one object");
    EXPECT_EQ(box.eval("kb.json.decode('[{\"a\":1},{\"a\":2}]')[2].a"), "2");
    EXPECT_EQ(box.eval("kb.json.decode('{\"a\":{\"a\":1}}').a.a"), "1");
    EXPECT_NE(box.loadError("kb.json.encode({ f = print })").message().find("function"), std::string::npos);
}

TEST(LuaRoundTwo, TimeParsesAndFormatsIso8601InSwedishTime) {
    LuaBox box;
    // 2026-01-15 12:00 UTC = 13:00 in Sweden (CET); 2026-07-01 12:00 UTC = 14:00 (CEST).
    EXPECT_EQ(box.eval("kb.time.parse('2026-01-15T12:00:00Z')"), "1768478400");
    EXPECT_EQ(box.eval("kb.time.parse('2026-01-15T13:00:00+01:00')"), "1768478400");
    EXPECT_EQ(box.eval("kb.time.parse('2026-01-15T13:00')"), "1768478400");
    EXPECT_EQ(box.eval("kb.time.parse('2026-07-01T14:00:00')"), "1782907200");
    EXPECT_EQ(box.eval("kb.time.format(1768478400)"), "2026-01-15T13:00:00+01:00");
    EXPECT_EQ(box.eval("kb.time.format(1782907200)"), "2026-07-01T14:00:00+02:00");
    EXPECT_EQ(box.eval("kb.time.format(1782907200, 'date')"), "2026-07-01");
    EXPECT_EQ(box.eval("kb.time.format(1782907200, 'time')"), "14:00");
    // 2026-03-29 02:30 does not exist in Sweden; 2026-02-30 not at all.
    EXPECT_EQ(box.eval("select(2, kb.time.parse('2026-03-29T02:30'))"), "that time does not exist in the box's time zone (the clocks moved forward)");
    EXPECT_EQ(box.eval("select(2, kb.time.parse('2026-02-30'))"), "no such date");
    // Monday 1 .. Sunday 7; 23:30 UTC on a Sunday is already Monday in Sweden.
    EXPECT_EQ(box.eval("kb.time.weekday('2026-01-15')"), "4");
    EXPECT_EQ(box.eval("kb.time.weekday('2026-01-18T23:30:00Z')"), "1");
    EXPECT_EQ(box.eval("kb.time.weekday(kb.time.parse('2026-01-18T23:30:00Z'))"), "1");
}

TEST(LuaRoundTwo, TimeCountsInTheBoxsZoneWhateverItIs) {
    // box.timezone is the process's TZ: kb.time agrees with the booking plugin and the console.
    const ScopedTimeZone zone("America/St_Johns");  // -03:30, summer -02:30 from 8 March 2026
    LuaBox box;
    EXPECT_EQ(box.eval("kb.time.format(1768478400)"), "2026-01-15T08:30:00-03:30");
    EXPECT_EQ(box.eval("kb.time.format(1782907200)"), "2026-07-01T09:30:00-02:30");
    EXPECT_EQ(box.eval("kb.time.parse('2026-01-15T08:30')"), "1768478400");
    EXPECT_EQ(box.eval("select(2, kb.time.parse('2026-03-08T02:30'))"),
              "that time does not exist in the box's time zone (the clocks moved forward)");
    EXPECT_EQ(box.eval("kb.time.parse('2026-03-29T02:30') ~= nil"), "true");  // Sweden's skipped hour exists here
    // 02:00 UTC on a Monday is still Sunday evening here.
    EXPECT_EQ(box.eval("kb.time.weekday('2026-01-19T02:00:00Z')"), "7");
}

TEST(LuaRoundTwo, SetNowReadsTimesAsKbTimeParseDoes) {
    TempDir dir;
    int code = 0;
    // sscanf and mktime took "2026-02-30" for 2 March, dropped "Z" and "+05:00", and ignored
    // what followed the time.
    const auto out = luaTest(dir, "clock.lua", R"(
kb.test("times", function()
  kb.set_now("2026-01-15"); kb.assert_eq(kb.time.format(kb.now()), "2026-01-15T12:00:00+01:00")
  kb.set_now("2026-01-15T08:00Z"); kb.assert_eq(kb.time.format(kb.now()), "2026-01-15T09:00:00+01:00")
  kb.set_now("2026-01-15T08:00:00+05:00"); kb.assert_eq(kb.time.format(kb.now()), "2026-01-15T04:00:00+01:00")
  kb.set_now("2026-07-01T09:30"); kb.assert_eq(kb.time.format(kb.now()), "2026-07-01T09:30:00+02:00")
  for _, bad in ipairs({ "2026-02-30", "2026-01-15T25:61", "2026-01-15Tgarbage", "2026-03-29T02:30" }) do
    kb.assert_eq(pcall(kb.set_now, bad), false, bad)
  end
end)
)", code);
    EXPECT_EQ(code, 0) << out;
    EXPECT_TRUE(contains(out, "1 passed, 0 failed")) << out;
}

TEST(LuaRoundTwo, TextCaseMappingKnowsSwedishLetters) {
    LuaBox box;
    EXPECT_EQ(box.eval("kb.text.upper('åsa östlund-ärlig é ß × 1')"), "ÅSA ÖSTLUND-ÄRLIG É ß × 1");
    EXPECT_EQ(box.eval("kb.text.lower('ÅSA ÖSTLUND-ÄRLIG É ÷')"), "åsa östlund-ärlig é ÷");
}

TEST(LuaRoundTwo, AuditInsideATransactionOfAHandlerJoinsIt) {
    TempDir dir;
    FixedClock clock{boxNow()};
    FakeContext ctx("demo", dir.file("box.db"), clock);
    ctx.eventsImpl.maySubscribe = {"booking.cancelled"};
    ctx.storeImpl.unguarded("CREATE TABLE demo_log(id INTEGER PRIMARY KEY, what TEXT)");
    LuaPluginSource src;
    src.id = "demo";
    src.entry = "main.lua";
    src.files["main.lua"] = R"lua(
kb.subscribe("booking.cancelled", function(e)
  kb.db.transaction(function()
    kb.db.exec("INSERT INTO demo_log(what) VALUES ('offer')")
    kb.audit("offer.create", { patient = e.payload.patient, details = "slot freed" })
  end)
  kb.audit("offer.sent", { details = "outside" })
end)
kb.route("GET", "/problem", function(req)
  return { status = 409, json = { type = "/problems/offer-taken", title = "Erbjudandet är redan taget" } }
end)
kb.route("GET", "/plain", function(req) return { status = 404, json = { found = false } } end)
)lua";
    src.limits = smallLimits();
    src.states = 1;
    LuaPlugin plugin(std::move(src));
    plugin.start(ctx);
    ctx.eventsImpl.handlers.at("booking.cancelled")(event("booking.cancelled", R"({"patient": "191212121212"})"));
    ASSERT_EQ(ctx.auditImpl.records.size(), 2u);
    EXPECT_EQ(ctx.auditImpl.records[0], "system offer.create vård slot freed [tx]");
    EXPECT_EQ(ctx.auditImpl.records[1], "system offer.sent vård outside");

    const Response p = ctx.routerImpl.call("GET", "/api/v1/demo/problem");
    EXPECT_EQ(p.status, 409);
    EXPECT_EQ(p.contentType, "application/problem+json");
    EXPECT_EQ(p.body,
              R"({"instance":"/api/v1/demo/problem","status":409,"title":"Erbjudandet är redan taget","type":"/problems/offer-taken"})");
    // Any other refusal is still sent as a problem document (every 4xx/5xx of the box is one),
    // but nothing is added to it: it has neither a title nor a type.
    const Response plain = ctx.routerImpl.call("GET", "/api/v1/demo/plain");
    EXPECT_EQ(plain.status, 404);
    EXPECT_EQ(plain.contentType, "application/problem+json");
    EXPECT_EQ(plain.body, R"({"found":false})");
}

TEST(LuaRoundTwo, ARefusalIsNoLongerShownOnceTheGoodTextIsBack) {
    HookBox box;
    const std::string good = "kb.on('a.b', function(e) end)";
    ASSERT_TRUE(box.host->load("s.lua", good));
    EXPECT_FALSE(box.host->load("s.lua", "kb.on('a.b', function(e)"));
    EXPECT_TRUE(box.statusOf("s.lua").refused);
    EXPECT_FALSE(box.statusOf("s.lua").error.empty());
    ASSERT_TRUE(box.host->load("s.lua", good));
    EXPECT_FALSE(box.statusOf("s.lua").refused);
    EXPECT_EQ(box.statusOf("s.lua").error, "");
    EXPECT_EQ(box.statusOf("s.lua").errorKind, "");
}

TEST(LuaRoundTwo, ATopLevelThatRegistersDifferentHooksOnEachLoadIsRefusedAtLoad) {
    HookBox box;
    // Each Lua state seeds math.random on its own: 40 coin flips differ between two loads.
    EXPECT_FALSE(box.host->load("flaky.lua", R"(
for i = 1, 40 do
  if math.random(0, 1) == 1 then kb.on("a.e" .. i, function() end) end
end
)"));
    EXPECT_TRUE(contains(box.statusOf("flaky.lua").error, "registered different hooks when loaded again")) << box.statusOf("flaky.lua").error;
}

TEST(LuaRoundTwo, MetricsHaveALatencyHistogramPerHook) {
    HookBox box;
    ASSERT_TRUE(box.host->load("t.lua", "kb.on('a.b', function(e) end)\nkb.subscribe('a.c', function(e) end)"));
    Event e = event("a.b");
    (void)box.publish(e);
    (void)box.publish(e);
    const std::string m = prometheusMetrics(box.host->scripts());
    EXPECT_TRUE(contains(m, "# TYPE kb_lua_hook_duration_seconds histogram")) << m;
    EXPECT_TRUE(contains(m, R"(kb_lua_hook_duration_seconds_bucket{script="t.lua",event="a.b",kind="sync",le="+Inf"} 2)")) << m;
    EXPECT_TRUE(contains(m, R"(kb_lua_hook_duration_seconds_count{script="t.lua",event="a.b",kind="sync"} 2)")) << m;
    EXPECT_TRUE(contains(m, R"(kb_lua_hook_duration_seconds_bucket{script="t.lua",event="a.b",kind="sync",le="1"} 2)")) << m;
}
