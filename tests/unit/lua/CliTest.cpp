// `klinikbox lua test` and `klinikbox lua run` (the functions the CLI calls), and the
// example scripts' own tests.
#include "LuaFixture.h"

#include "lua/Cli.h"

#include "TempDir.h"

#include <filesystem>
#include <fstream>

using namespace kbtest;
using kbtest::TempDir;

namespace {

struct Ran {
    int code;
    std::string out;
};

Ran luaTest(const std::string& path) {
    std::ostringstream out;
    const int code = runLuaTest(path, out);
    return {code, out.str()};
}

Ran luaRun(const std::string& script, const std::string& event, const std::string& input) {
    std::ostringstream out;
    const int code = runLuaRun(script, event, input, out);
    return {code, out.str()};
}

bool has(const std::string& out, const std::string& what) { return out.find(what) != std::string::npos; }

}  // namespace

TEST(LuaCli, TestRunnerReportsEachCaseWithItsLineAndExitCode) {
    TempDir dir;
    std::ofstream(dir.file("rules.lua")) << R"(kb.on("booking.requested", function(e)
  if e.payload.visit_form == "video" then kb.reject("Inget video") end
  e.payload.seen = kb.today()
end)

kb.test("video is refused", function()
  kb.assert_true(kb.fire("booking.requested", {visit_form = "video"}).vetoed)
end)

kb.test("the clock is fixed", function()
  kb.assert_eq(kb.fire("booking.requested", {}).payload.seen, "2026-01-15")
  kb.set_now("2026-03-01")
  kb.assert_eq(kb.today(), "2026-03-01")
end)

kb.test("every case starts at the fixed time", function()
  kb.assert_eq(kb.today(), "2026-01-15")
end)

kb.test("a wrong expectation fails", function()
  kb.log.info("about to fail for 191212121212")
  kb.assert_eq(kb.fire("booking.requested", {}).payload.seen, "2020-01-01", "seen")
end)

kb.test("a loop is stopped and the next case still runs", function()
  while true do end
end)

kb.test("after the loop", function() kb.assert_eq(1 + 1, 2) end)
)";
    const auto r = luaTest(dir.file("rules.lua"));
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(has(r.out, "rules.lua: 6 tests\n")) << r.out;
    EXPECT_TRUE(has(r.out, "  PASS  video is refused (rules.lua:6)\n")) << r.out;
    EXPECT_TRUE(has(r.out, "  PASS  the clock is fixed (rules.lua:10)\n")) << r.out;
    EXPECT_TRUE(has(r.out, "  PASS  every case starts at the fixed time (rules.lua:16)\n")) << r.out;
    EXPECT_TRUE(has(r.out, "  FAIL  a wrong expectation fails (rules.lua:20)\n"
                           "        runtime: rules.lua:22: seen: expected \"2020-01-01\", got \"2026-01-15\" (test \"a wrong expectation fails\")\n"
                           "        [info] about to fail for 19121212****\n"))
        << r.out;
    EXPECT_TRUE(has(r.out, "  FAIL  a loop is stopped and the next case still runs (rules.lua:25)\n        timeout: rules.lua:26:"))
        << r.out;
    EXPECT_TRUE(has(r.out, "  PASS  after the loop (rules.lua:29)\n")) << r.out;
    EXPECT_TRUE(has(r.out, "4 passed, 2 failed\n")) << r.out;
}

TEST(LuaCli, TestRunnerRefusesBrokenScriptsAndScriptsWithoutTests) {
    TempDir dir;
    std::ofstream(dir.file("broken.lua")) << "kb.on('a.b', function()\n";
    std::ofstream(dir.file("untested.lua")) << "kb.on('a.b', function() end)\n";
    auto r = luaTest(dir.file("broken.lua"));
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(has(r.out, "FAIL  broken.lua does not load: syntax: broken.lua:2: 'end' expected")) << r.out;
    r = luaTest(dir.file("untested.lua"));
    EXPECT_EQ(r.code, 1);
    EXPECT_EQ(r.out, "untested.lua: no kb.test cases\n");
    r = luaTest(dir.file("missing.lua"));
    EXPECT_EQ(r.code, 2);
}

TEST(LuaCli, RunShowsWhatAHookDoesToAPayload) {
    TempDir dir;
    std::ofstream(dir.file("hook.lua")) << R"(
kb.on("booking.requested", function(e)
  local p = e.payload
  if p.visit_form == "video" and kb.pnr.age(p.patient) < 18 then kb.reject("Vårdnadshavare krävs") end
  p.urgency_days = math.min(p.urgency_days or 90, 14)
  p.reminders = {48, 2}
  p.note = nil
  kb.log.info("hook ran")
end)
kb.subscribe("booking.requested", function(e)
  kb.send("sms.reminder", {to = e.payload.phone}, {idempotency_key = "r-1"})
end)
kb.on("other.event", function(e) error("broken on purpose") end)
)";
    std::ofstream(dir.file("adult.json")) << R"({"patient": "191212121212", "visit_form": "video", "urgency_days": 30, "note": "x", "phone": "070"})";
    std::ofstream(dir.file("child.json")) << R"({"patient": "201212121212", "visit_form": "video"})";
    std::ofstream(dir.file("list.json")) << R"([1, 2])";
    auto r = luaRun(dir.file("hook.lua"), "booking.requested", dir.file("adult.json"));
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(has(r.out, "[info] hook ran\n")) << r.out;
    EXPECT_TRUE(has(r.out, "[send] would send on sms.reminder (idempotency key r-1): {\"to\":\"070\"}\n")) << r.out;
    EXPECT_TRUE(has(r.out, "ACCEPTED  3 change(s)\n  - note\n  + reminders: [48,2]\n  ~ urgency_days: 30 -> 14\n")) << r.out;
    EXPECT_TRUE(has(r.out, "\"urgency_days\": 14")) << r.out;
    r = luaRun(dir.file("hook.lua"), "booking.requested", dir.file("child.json"));
    EXPECT_EQ(r.code, 3);
    EXPECT_EQ(r.out, "REFUSED  Vårdnadshavare krävs\n");
    r = luaRun(dir.file("hook.lua"), "other.event", dir.file("child.json"));
    EXPECT_EQ(r.code, 1);
    EXPECT_EQ(r.out, "ERROR  runtime: hook.lua:13: broken on purpose (other.event, phase decide)\n");
    r = luaRun(dir.file("hook.lua"), "nobody.listens", dir.file("child.json"));
    EXPECT_EQ(r.code, 1);
    EXPECT_EQ(r.out, "hook.lua has no hook for nobody.listens\n");
    r = luaRun(dir.file("hook.lua"), "booking.requested", dir.file("list.json"));
    EXPECT_EQ(r.code, 2);
    EXPECT_TRUE(has(r.out, "is not a JSON object")) << r.out;
}

class LuaExamples : public ::testing::TestWithParam<std::string> {};

TEST_P(LuaExamples, PassTheirOwnTests) {
    const std::string path = std::string(KB_SOURCE_DIR) + "/scripts/examples/" + GetParam();
    const auto r = luaTest(path);
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(has(r.out, " passed, 0 failed\n")) << r.out;
    EXPECT_FALSE(has(r.out, "FAIL")) << r.out;
}

INSTANTIATE_TEST_SUITE_P(Scripts, LuaExamples,
                         ::testing::Values("triage.lua", "guardian.lua", "reminders.lua", "fee_override.lua"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param.substr(0, p.param.find('.')); });

TEST(LuaExamplesDir, EveryExampleScriptIsCovered) {
    std::set<std::string> found;
    for (const auto& e : std::filesystem::directory_iterator(std::string(KB_SOURCE_DIR) + "/scripts/examples"))
        if (e.path().extension() == ".lua") found.insert(e.path().filename().string());
    EXPECT_EQ(found, (std::set<std::string>{"triage.lua", "guardian.lua", "reminders.lua", "fee_override.lua"}));
}
