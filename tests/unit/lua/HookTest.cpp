// Hook scripts on the real event bus: defined order, payload changes and vetoes, failing
// closed, async handlers, hot reload (also under load) and many threads at once.
#include "HookFixture.h"

#include "TempDir.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace kbtest;
using kbtest::TempDir;

TEST(LuaHooks, ScriptsRunInPhaseThenAfterThenNameOrder) {
    HookBox box;
    box.bus.hook("booking.requested", HookSpec{"booking:routing", Phase::Decide, {}, {}}, [](Event& e) {
        e.payload->set("trail", e.payload->getValue<std::string>("trail") + " native");
    });
    auto script = [&](const char* name, const char* options) {
        return std::string("kb.on('booking.requested', ") + options + "function(e) local p = e.payload p.trail = p.trail .. ' " +
               name + "' end)";
    };
    ASSERT_TRUE(box.host->load("z_last.lua", script("z", "{after = {'a_first.lua'}}, ")));
    ASSERT_TRUE(box.host->load("a_first.lua", script("a", "")));
    ASSERT_TRUE(box.host->load("m_check.lua", script("m", "{phase = 'validate'}, ")));
    ASSERT_TRUE(box.host->load("b_native.lua", script("b", "{after = {'booking:routing'}}, ")));
    EXPECT_EQ(box.bus.order("booking.requested"),
              (std::vector<std::string>{"validate lua:m_check.lua", "decide booking:routing", "decide lua:a_first.lua",
                                        "decide lua:b_native.lua", "decide lua:z_last.lua"}));
    auto e = event("booking.requested", R"({"trail": "start"})");
    const auto out = box.publish(e);
    EXPECT_FALSE(out.vetoed) << out.reason;
    EXPECT_EQ(e.payload->getValue<std::string>("trail"), "start m native a b z");
    EXPECT_EQ(box.host->hooks().registrations(),
              (std::vector<std::string>{"booking.requested lua:a_first.lua (sync, decide)", "booking.requested lua:b_native.lua (sync, decide)",
                                        "booking.requested lua:m_check.lua (sync, validate)", "booking.requested lua:z_last.lua (sync, decide)"}));
}

TEST(LuaHooks, VetoStopsTheChainAndNamesTheScript) {
    HookBox box;
    ASSERT_TRUE(box.host->load("guardian.lua", R"(
kb.on("booking.requested", function(e)
  local p = e.payload
  local patient = kb.pnr.parse(p.patient)
  if p.visit_form == "video" and patient and patient.age < 18 and not p.guardian then
    kb.reject("Ett videobesök för ett barn kräver en vårdnadshavare")
  end
end)
)"));
    ASSERT_TRUE(box.host->load("later.lua", "kb.on('booking.requested', {after = {'guardian.lua'}}, function(e) e.payload.later = true end)"));
    auto child = event("booking.requested", R"({"patient": "201212121212", "visit_form": "video"})");
    const auto out = box.publish(child);
    EXPECT_TRUE(out.vetoed);
    EXPECT_FALSE(out.failed);
    EXPECT_EQ(out.reason, "Ett videobesök för ett barn kräver en vårdnadshavare");
    EXPECT_EQ(out.hook, "lua:guardian.lua");
    EXPECT_FALSE(child.payload->has("later"));
    auto adult = event("booking.requested", R"({"patient": "191212121212", "visit_form": "video"})");
    EXPECT_FALSE(box.publish(adult).vetoed);
    EXPECT_TRUE(adult.payload->getValue<bool>("later"));
    const auto st = box.statusOf("guardian.lua");
    EXPECT_EQ(st.calls, 2);
    EXPECT_EQ(st.vetoes, 1);
    EXPECT_EQ(st.errors, 0);
}

TEST(LuaHooks, ErrorsTimeoutsAndMemoryOverrunsFailClosedAndAreCounted) {
    HookBox box;
    ASSERT_TRUE(box.host->load("loop.lua", "kb.on('a.loop', function(e)\n  while true do end\nend)"));
    // 64 KiB per step: the memory limit is reached in about 130 steps, long before the time
    // limit even under a sanitizer on a loaded machine (a table of integers took ~500,000).
    ASSERT_TRUE(box.host->load("bomb.lua", "kb.on('a.bomb', function(e) local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 65536) end end)"));
    ASSERT_TRUE(box.host->load("bug.lua", "kb.on('a.bug', function(e)\n\n  return e.payload.x.y\nend)"));
    auto loop = event("a.loop");
    auto out = box.publish(loop);
    EXPECT_TRUE(out.failed);
    EXPECT_EQ(out.hook, "lua:loop.lua");
    EXPECT_NE(out.reason.find("loop.lua:2: the script ran past its"), std::string::npos) << out.reason;
    EXPECT_NE(out.reason.find("(a.loop, phase decide)"), std::string::npos) << out.reason;
    auto bomb = event("a.bomb");
    out = box.publish(bomb);
    EXPECT_TRUE(out.failed);
    EXPECT_NE(out.reason.find("bomb.lua: the script used more than its memory limit of 8192 KiB (a.bomb, phase decide)"), std::string::npos)
        << out.reason;
    auto bug = event("a.bug");
    out = box.publish(bug);
    EXPECT_TRUE(out.failed);
    EXPECT_NE(out.reason.find("bug.lua:3: attempt to index a nil value (field 'x') (a.bug, phase decide)"), std::string::npos) << out.reason;

    EXPECT_EQ(box.statusOf("loop.lua").timeouts, 1);
    EXPECT_EQ(box.statusOf("loop.lua").errorKind, "timeout");
    EXPECT_EQ(box.statusOf("bomb.lua").memoryErrors, 1);
    EXPECT_EQ(box.statusOf("bug.lua").errors, 1);
    EXPECT_NE(box.statusOf("bug.lua").error.find("bug.lua:3"), std::string::npos);
    for (const auto& s : box.bus.stats()) {
        if (s.hook.rfind("lua:", 0) == 0) {
            EXPECT_EQ(s.failures, 1) << s.hook;
        }
    }
    const std::string metrics = prometheusMetrics(box.host->scripts());
    EXPECT_NE(metrics.find("kb_lua_script_timeouts_total{script=\"loop.lua\"} 1"), std::string::npos) << metrics;
    EXPECT_NE(metrics.find("kb_lua_script_memory_errors_total{script=\"bomb.lua\"} 1"), std::string::npos);
    // The box goes on: the same scripts' states were replaced and work again.
    ASSERT_TRUE(box.host->load("loop.lua", "kb.on('a.loop', function(e) e.payload.ok = true end)"));
    auto again = event("a.loop");
    EXPECT_FALSE(box.publish(again).failed);
}

TEST(LuaHooks, AsyncHandlersRunAfterTheEventAndTheirErrorsAreCounted) {
    HookBox box;
    std::vector<std::string> sent;
    std::mutex mu;
    box.services->allowedChannels["*"] = {"notify.*"};
    box.services->send = [&](const std::string&, const OutboundMessage& m) {
        std::lock_guard lock(mu);
        sent.push_back(m.channel + " " + m.idempotencyKey);
        return 1LL;
    };
    ASSERT_TRUE(box.host->load("notify.lua", R"(
kb.subscribe("booking.created", function(e)
  if e.payload.fail then error("boom") end
  kb.send("notify.sms", {id = e.payload.id}, {idempotency_key = "created-" .. e.payload.id})
end)
)"));
    box.bus.publish(event("booking.created", R"({"id": 5})"));
    box.bus.publish(event("booking.created", R"({"id": 6, "fail": true})"));
    box.bus.drain();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0], "notify.sms created-5");
    const auto st = box.statusOf("notify.lua");
    EXPECT_EQ(st.calls, 2);
    EXPECT_EQ(st.errors, 1);
    EXPECT_NE(st.error.find("notify.lua:3: boom (booking.created, kb.subscribe)"), std::string::npos) << st.error;
}

TEST(LuaHooks, ReloadSwapsInTheNewVersionAndRefusedVersionsLeaveTheOldRunning) {
    HookBox box;
    ASSERT_TRUE(box.host->load("v.lua", "kb.on('x.y', function(e) e.payload.v = 1 end)"));
    const auto first = box.statusOf("v.lua");
    EXPECT_EQ(first.version, 1);
    EXPECT_EQ(first.hash, ScriptVersion::sha256("kb.on('x.y', function(e) e.payload.v = 1 end)"));
    ASSERT_TRUE(box.host->load("v.lua", "kb.on('x.y', function(e) e.payload.v = 2 end)"));
    auto e = event("x.y");
    EXPECT_FALSE(box.publish(e).vetoed);
    EXPECT_EQ(e.payload->getValue<int>("v"), 2);
    EXPECT_EQ(box.statusOf("v.lua").version, 2);

    EXPECT_FALSE(box.host->load("v.lua", "kb.on('x.y', function(e) e.payload.v = 3 end"));
    auto st = box.statusOf("v.lua");
    EXPECT_TRUE(st.loaded);
    EXPECT_TRUE(st.refused);
    EXPECT_EQ(st.version, 2);
    EXPECT_EQ(st.errorKind, "syntax");
    EXPECT_NE(st.error.find("v.lua:1: ')' expected near <eof> (load)"), std::string::npos) << st.error;
    auto e2 = event("x.y");
    EXPECT_FALSE(box.publish(e2).vetoed);
    EXPECT_EQ(e2.payload->getValue<int>("v"), 2) << "the old version keeps running";
    // The same broken text again is not a new failure.
    EXPECT_FALSE(box.host->load("v.lua", "kb.on('x.y', function(e) e.payload.v = 3 end"));
    EXPECT_EQ(box.statusOf("v.lua").loadFailures, 1);
    // A top level that fails is refused the same way.
    EXPECT_FALSE(box.host->load("v.lua", "kb.on('x.y', function() end)\nwhile true do end"));
    EXPECT_EQ(box.statusOf("v.lua").errorKind, "timeout");
    EXPECT_EQ(box.statusOf("v.lua").loadFailures, 2);
    ASSERT_TRUE(box.host->load("v.lua", "kb.on('x.y', function(e) e.payload.v = 4 end)"));
    EXPECT_FALSE(box.statusOf("v.lua").refused);
    EXPECT_EQ(box.statusOf("v.lua").version, 3);
}

TEST(LuaHooks, CallsInFlightFinishOnTheOldVersion) {
    // Ample wall-clock time: the slow call must finish, not time out, on a loaded machine.
    Limits l = smallLimits();
    l.time = std::chrono::seconds(10);
    l.instructions = 1'000'000'000'000;
    HookBox box(l);
    ASSERT_TRUE(box.host->load("slow.lua", R"(
kb.on("x.y", function(e)
  kb.log.info("version 1 runs")
  local t = os.clock()
  while os.clock() - t < 0.1 do end
  e.payload.v = 1
end)
)"));
    Event inFlight = event("x.y");
    HookOutcome out;
    std::thread t([&] { out = box.publish(inFlight); });
    // Reload only once the old version is running (a fixed sleep raced a loaded machine).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    auto running = [&] {
        std::lock_guard lock(box.logMu);
        return std::any_of(box.logs.begin(), box.logs.end(),
                           [](const std::string& line) { return line.find("version 1 runs") != std::string::npos; });
    };
    while (!running() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_TRUE(running()) << "the old version never started";
    ASSERT_TRUE(box.host->load("slow.lua", "kb.on('x.y', function(e) e.payload.v = 2 end)"));
    auto after = event("x.y");
    EXPECT_FALSE(box.publish(after).vetoed);
    t.join();
    EXPECT_FALSE(out.vetoed) << out.reason;
    EXPECT_EQ(inFlight.payload->getValue<int>("v"), 1);
    EXPECT_EQ(after.payload->getValue<int>("v"), 2);
}

TEST(LuaHooks, ChangedOrderAndDeletedScriptsWithAndWithoutUnhook) {
    TempDir dir;
    auto write = [&](const std::string& f, const std::string& text) { std::ofstream(dir.file(f)) << text; };
    write("a.lua", "kb.on('x.y', {phase = 'finalize'}, function(e) e.payload.a = true end)");
    write("b.lua", "kb.on('x.y', function(e) e.payload.b = true end)");
    {
        HookBox box(true);
        box.host->loadDirectory(dir.path());
        EXPECT_EQ(box.bus.order("x.y"), (std::vector<std::string>{"decide lua:b.lua", "finalize lua:a.lua"}));
        write("a.lua", "kb.on('x.y', {phase = 'validate'}, function(e) e.payload.a = true end)");
        std::filesystem::remove(dir.file("b.lua"));
        const auto report = box.host->loadDirectory(dir.path());
        EXPECT_EQ(report.loaded, std::vector<std::string>{"a.lua"});
        EXPECT_EQ(report.removed, std::vector<std::string>{"b.lua"});
        EXPECT_EQ(box.bus.order("x.y"), std::vector<std::string>{"validate lua:a.lua"});
        EXPECT_TRUE(box.host->hooks().pendingRestart().empty());
    }
    write("a.lua", "kb.on('x.y', {phase = 'finalize'}, function(e) e.payload.a = true end)");
    write("b.lua", "kb.on('x.y', function(e) e.payload.b = true end)");
    {
        HookBox box(false);
        box.host->loadDirectory(dir.path());
        write("a.lua", "kb.on('x.y', {phase = 'validate'}, function(e) e.payload.a = 2 end)");
        std::filesystem::remove(dir.file("b.lua"));
        box.host->loadDirectory(dir.path());
        EXPECT_EQ(box.bus.order("x.y"), (std::vector<std::string>{"decide lua:b.lua", "finalize lua:a.lua"}));
        EXPECT_EQ(box.host->hooks().pendingRestart(), std::vector<std::string>{"a.lua"});
        auto e = event("x.y");
        EXPECT_FALSE(box.publish(e).vetoed);
        EXPECT_EQ(e.payload->getValue<int>("a"), 2) << "the new version runs, in the old position";
        EXPECT_FALSE(e.payload->has("b")) << "a deleted script's hook does nothing";
    }
}

TEST(LuaHooks, ManyThreadsFireHooksAtOnce) {
    HookBox box(relaxedClockLimits(), 4);
    ASSERT_TRUE(box.host->load("a.lua", "local n = 0 kb.on('x.y', function(e) n = n + 1 e.payload.a = e.payload.i * 2 end)"));
    ASSERT_TRUE(box.host->load("b.lua", "kb.on('x.y', {after = {'a.lua'}}, function(e) e.payload.b = e.payload.a + 1 end)"));
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 1000; ++i) {
                auto e = event("x.y", "{\"i\": " + std::to_string(t * 1000 + i) + "}");
                const auto out = box.publish(e);
                if (!out.vetoed && e.payload->getValue<int>("b") == (t * 1000 + i) * 2 + 1) ++ok;
            }
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok, 8000);
    EXPECT_EQ(box.statusOf("a.lua").calls, 8000);
    EXPECT_EQ(box.statusOf("b.lua").errors, 0);
    EXPECT_LE(box.statusOf("a.lua").states, 4u);
    EXPECT_GE(box.statusOf("a.lua").states, 1u);
}

TEST(LuaHooks, ReloadUnderLoad) {
    HookBox box(relaxedClockLimits(), 4);
    ASSERT_TRUE(box.host->load("v.lua", "kb.on('x.y', function(e) e.payload.v = 0 end)"));
    std::atomic<bool> stop{false};
    std::atomic<int> calls{0}, bad{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 6; ++t)
        threads.emplace_back([&] {
            while (!stop) {
                auto e = event("x.y");
                const auto out = box.publish(e);
                ++calls;
                if (out.vetoed || !e.payload->has("v")) ++bad;
            }
        });
    for (int round = 1; round <= 60; ++round) {
        // Alternate between versions, with a refused one in between.
        ASSERT_TRUE(box.host->load("v.lua", "kb.on('x.y', function(e) e.payload.v = " + std::to_string(round) + " end)"));
        EXPECT_FALSE(box.host->load("v.lua", "kb.on('x.y', function(e) broken " + std::to_string(round)));
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    stop = true;
    for (auto& t : threads) t.join();
    EXPECT_GT(calls, 100);
    EXPECT_EQ(bad, 0);
    EXPECT_EQ(box.statusOf("v.lua").version, 61);
    auto e = event("x.y");
    EXPECT_FALSE(box.publish(e).vetoed);
    EXPECT_EQ(e.payload->getValue<int>("v"), 60);
}
