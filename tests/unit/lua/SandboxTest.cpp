// The Lua sandbox: what scripts can do, and a suite of hostile scripts that must all be
// contained with the right kind of error while the box goes on.
#include "events/Bus.h"
#include "lua/HookHost.h"
#include "lua/Sandbox.h"

#include <gtest/gtest.h>

#include <lua.hpp>

#include <atomic>
#include <thread>

using namespace klinikbox;
using namespace klinikbox::lua;
using namespace std::chrono_literals;

namespace {

const FixedClock& boxClock() {
    static FixedClock c(std::chrono::system_clock::time_point(std::chrono::hours(24 * 20779)));  // 2026-11-22 (UTC)
    return c;
}

Limits small() {
    Limits l;
    l.memoryBytes = 8u << 20;
    l.instructions = 5'000'000;
    l.time = 200ms;
    return l;
}

// Memory tests get ample time so that only the memory cap can stop them, whatever the
// machine's load (no test may depend on timing).
Limits memoryOnly() {
    Limits l = small();
    l.time = 30s;
    l.instructions = 1LL << 40;
    return l;
}

ErrorKind kindOf(const std::string& source, const Limits& limits = small()) {
    Sandbox sb("hostile.lua", limits, boxClock());
    try {
        sb.run(source);
    } catch (const LuaError& e) {
        // The state is still usable after the failure.
        EXPECT_NO_THROW(sb.run("local x = 1 + 1")) << "state unusable after: " << e.what();
        return e.kind();
    }
    ADD_FAILURE() << "the script was not stopped: " << source;
    return ErrorKind::Runtime;
}

std::string runValue(const std::string& expr) {
    Sandbox sb("t.lua", small(), boxClock());
    sb.run("result = tostring(" + expr + ")");
    lua_getglobal(sb.state(), "result");
    std::string v = lua_tostring(sb.state(), -1);
    lua_pop(sb.state(), 1);
    return v;
}

}  // namespace

TEST(LuaSandbox, EndlessLoopsAreStoppedEvenInsidePcallAndCoroutines) {
    EXPECT_EQ(kindOf("while true do end"), ErrorKind::Timeout);
    EXPECT_EQ(kindOf("while true do pcall(function() while true do end end) end"), ErrorKind::Timeout);
    EXPECT_EQ(kindOf("local co = coroutine.create(function() while true do end end) coroutine.resume(co)"), ErrorKind::Timeout);
    EXPECT_EQ(kindOf("local t = setmetatable({}, {__index = function(t, k) while true do end end}) local _ = t.x"),
              ErrorKind::Timeout);
    EXPECT_EQ(kindOf("local n = 0 while true do n = n + 1 if n % 2 == 0 then pcall(error, 'x') end end"), ErrorKind::Timeout);
}

TEST(LuaSandbox, MemoryBombsHitTheCap) {
    EXPECT_EQ(kindOf("local t = {} for i = 1, 1e9 do t[i] = i end", memoryOnly()), ErrorKind::Memory);
    EXPECT_EQ(kindOf("local s = 'x' while true do s = s .. s end", memoryOnly()), ErrorKind::Memory);
    EXPECT_EQ(kindOf("local t = {} for i = 1, 1e9 do t[#t + 1] = string.rep('x', 1000) .. i end", memoryOnly()),
              ErrorKind::Memory);
}

TEST(LuaSandbox, HugeStringsAndPatternInputsAreRefused) {
    EXPECT_EQ(kindOf("local s = string.rep('x', 1e9)"), ErrorKind::Runtime);
    EXPECT_EQ(kindOf("local s = ('x'):rep(1e8)"), ErrorKind::Runtime);
    EXPECT_EQ(kindOf("local s = string.rep('a', 200000) string.find(s, '(a*)*b')"), ErrorKind::Runtime);
}

TEST(LuaSandbox, DeepRecursionIsContained) {
    const auto k = kindOf("local function f(n) return f(n + 1) + 1 end f(1)");
    EXPECT_TRUE(k == ErrorKind::Runtime || k == ErrorKind::Memory || k == ErrorKind::Timeout);
}

TEST(LuaSandbox, DangerousLibrariesAreAbsent) {
    for (const char* expr : {"io", "debug", "package", "require", "dofile", "loadfile", "collectgarbage", "os.execute",
                             "os.getenv", "os.remove", "string.dump", "coroutine.wrap"}) {
        EXPECT_EQ(runValue(expr), "nil") << expr;
    }
    EXPECT_EQ(runValue("type(os.time)"), "function");
}

TEST(LuaSandbox, BytecodeCannotBeLoaded) {
    EXPECT_EQ(kindOf("\x1bLua"), ErrorKind::Sandbox);
    EXPECT_EQ(runValue("select(2, load('\\27Lua\\84\\0'))"), runValue("select(2, load('\\27Lua\\84\\0'))"));
    EXPECT_NE(runValue("select(2, load('\\27Lua\\84\\0'))").find("binary"), std::string::npos);
}

TEST(LuaSandbox, MetatableTricksAreRefused) {
    EXPECT_EQ(runValue("getmetatable('')"), "nil");
    EXPECT_EQ(kindOf("setmetatable({}, {__gc = function() while true do end end})"), ErrorKind::Runtime);
    EXPECT_EQ(kindOf("setmetatable({}, {__close = function() end})"), ErrorKind::Runtime);
}

TEST(LuaSandbox, ScriptsCannotReachEachOther) {
    Sandbox a("a.lua", small(), boxClock()), b("b.lua", small(), boxClock());
    a.run("string.upper = function() return 'pwned' end shared = 1");
    b.run("result = string.upper('x') .. tostring(shared)");
    lua_getglobal(b.state(), "result");
    EXPECT_STREQ(lua_tostring(b.state(), -1), "Xnil");
}

TEST(LuaSandbox, KbHelpersUseTheBoxClockAndDomainTypes) {
    EXPECT_EQ(runValue("kb.today()"), "2026-11-22");
    EXPECT_EQ(runValue("kb.pnr.valid('19121212-1212')"), "true");
    EXPECT_EQ(runValue("kb.pnr.valid('19121212-1213')"), "false");
    EXPECT_EQ(runValue("kb.pnr.parse('191212121212').age"), "113");
    EXPECT_EQ(runValue("kb.pnr.parse('191212121212').sex"), "M");
    EXPECT_EQ(runValue("select(2, kb.pnr.parse('1212'))"), "wrong-length");
    EXPECT_EQ(runValue("kb.money.parse('150,50')"), "15050");
    EXPECT_EQ(runValue("kb.money.format(120050)"), "1 200,50 kr");
    EXPECT_EQ(kindOf("kb.money.format('a lot')"), ErrorKind::Runtime) << "wrong argument types give a Lua error";
}

TEST(LuaSandbox, LogLinesAreMasked) {
    std::string logged;
    Sandbox sb("log.lua", small(), boxClock(), [&](const std::string&, const std::string& m) { logged = m; });
    sb.run("kb.log.info('patient 19121212-1212 arrived')");
    EXPECT_EQ(logged, "patient 19121212-**** arrived");
}

TEST(LuaSandbox, SyntaxErrorsNameScriptAndLine) {
    Sandbox sb("triage.lua", small(), boxClock());
    try {
        sb.run("local x = 1\nif x then\n");
        FAIL();
    } catch (const LuaError& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Syntax);
        EXPECT_NE(std::string(e.what()).find("triage.lua:3"), std::string::npos) << e.what();
    }
}

TEST(LuaHooks, HookChangesThePayloadOrVetoesInScriptOrder) {
    events::Bus bus;
    HookHost host(bus, boxClock(), small());
    ASSERT_TRUE(host.load("a_route.lua", R"(
kb.on("booking.requested", function(event)
  if event.payload.visit_form == "video" and kb.pnr.parse(event.payload.patient).age < 18 and not event.payload.guardian then
    kb.reject("Ett videobesök för ett barn kräver en vårdnadshavare")
  end
  event.payload.urgency_days = event.payload.urgency_days or 14
end)
)"));
    ASSERT_TRUE(host.load("b_after.lua", R"(
kb.on("booking.requested", {after = {"a_route.lua"}}, function(event)
  event.payload.reminders = {48, 2}
end)
)"));
    Poco::JSON::Object::Ptr p = new Poco::JSON::Object;
    p->set("patient", "191212121212");
    p->set("visit_form", "video");
    Event adult{"booking.requested", p, std::nullopt, "r"};
    EXPECT_FALSE(bus.publishSync(adult).vetoed);
    EXPECT_EQ(adult.payload->getValue<int>("urgency_days"), 14);
    EXPECT_EQ(adult.payload->getArray("reminders")->getElement<int>(0), 48);

    Poco::JSON::Object::Ptr q = new Poco::JSON::Object;
    q->set("patient", "201212121212");
    q->set("visit_form", "video");
    Event child{"booking.requested", q, std::nullopt, "r"};
    const auto out = bus.publishSync(child);
    EXPECT_TRUE(out.vetoed);
    EXPECT_FALSE(out.failed);
    EXPECT_EQ(out.reason, "Ett videobesök för ett barn kräver en vårdnadshavare");
    EXPECT_EQ(out.hook, "lua:a_route.lua");
}

TEST(LuaHooks, BrokenHookFailsClosedAndBrokenScriptIsRefused) {
    events::Bus bus;
    HookHost host(bus, boxClock(), small());
    EXPECT_FALSE(host.load("syntax.lua", "kb.on('x.y', function("));
    ASSERT_TRUE(host.load("loop.lua", "kb.on('x.y', function(e) while true do end end)"));
    Event e{"x.y", new Poco::JSON::Object, std::nullopt, "r"};
    const auto out = bus.publishSync(e);
    EXPECT_TRUE(out.failed);
    EXPECT_NE(out.reason.find("loop.lua"), std::string::npos);
    EXPECT_NE(out.reason.find("time or instruction limit"), std::string::npos) << out.reason;
    const auto states = host.scripts();
    ASSERT_EQ(states.size(), 2u);
    EXPECT_FALSE(states[1].loaded);
    EXPECT_NE(states[1].error.find("syntax.lua"), std::string::npos);
}

TEST(LuaHooks, ManyThreadsFireHooksAtOnce) {
    events::Bus bus;
    HookHost host(bus, boxClock(), small());
    ASSERT_TRUE(host.load("count.lua", "n = 0 kb.on('x.y', function(e) n = n + 1 e.payload.n = n end)"));
    std::atomic<int> ok{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < 8; ++t)
        ts.emplace_back([&] {
            for (int i = 0; i < 250; ++i) {
                Event e{"x.y", new Poco::JSON::Object, std::nullopt, "r"};
                if (!bus.publishSync(e).vetoed && e.payload->has("n")) ++ok;
            }
        });
    for (auto& t : ts) t.join();
    EXPECT_EQ(ok, 2000);
}
