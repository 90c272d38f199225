// What a Lua plugin of several files needs from the runtime: require of its own modules,
// the channels its manifest declares (checked at load, refused sends kept as dead letters)
// and timers (kb.schedule) that survive a restart.
#include "LuaFixture.h"
#include "PluginFakes.h"
#include "TempDir.h"
#include "lua/LuaPlugin.h"
#include "lua/Schedule.h"

#include <condition_variable>
#include <mutex>

using namespace kbtest;
using kbtest::TempDir;

namespace {

// Timers kept in memory, shared by the "before" and "after" of a restart.
struct MemoryJobStore : JobStore {
    std::mutex mu;
    std::condition_variable changed;
    std::map<std::string, long long> nextAt;
    std::map<std::string, int> runs;
    std::map<std::string, std::string> errors;
    std::optional<long long> next_(const std::string& key) {
        std::lock_guard lock(mu);
        auto it = nextAt.find(key);
        if (it == nextAt.end()) return std::nullopt;
        return it->second;
    }
    std::optional<long long> next(const std::string& plugin, const std::string& job) override { return next_(plugin + "/" + job); }
    void record(const std::string& plugin, const std::string& job, long long n, long long ranAt, const std::string& error) override {
        {
            std::lock_guard lock(mu);
            nextAt[plugin + "/" + job] = n;
            if (ranAt > 0) ++runs[plugin + "/" + job];
            errors[plugin + "/" + job] = error;
        }
        changed.notify_all();
    }
    bool waitRuns(const std::string& key, int n) {
        std::unique_lock lock(mu);
        return changed.wait_for(lock, std::chrono::seconds(30), [&] { return runs[key] >= n; });
    }
};

long long secondsOf(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

struct Box {
    TempDir dir;
    FixedClock clock{boxNow()};
    FakeContext ctx;
    std::shared_ptr<MemoryJobStore> jobs = std::make_shared<MemoryJobStore>();
    std::vector<std::string> deadLetters;
    std::unique_ptr<LuaPlugin> plugin;
    explicit Box(const std::string& id) : ctx(id, dir.file("box.db"), clock) {}
    LuaPluginSource source(std::map<std::string, std::string> files, std::set<std::string> channels = {}) {
        LuaPluginSource src;
        src.id = ctx.id;
        src.entry = "main.lua";
        src.files = std::move(files);
        src.channels = std::move(channels);
        src.limits = smallLimits();
        src.states = 2;
        src.jobs = jobs;
        src.schedulerPoll = std::chrono::milliseconds(5);
        src.deadLetter = [this](const std::string& script, const OutboundMessage& m, const std::string& why) {
            deadLetters.push_back(script + " " + m.channel + " " + why);
            return static_cast<long long>(deadLetters.size());
        };
        return src;
    }
    void start(std::map<std::string, std::string> files, std::set<std::string> channels = {}) {
        plugin = std::make_unique<LuaPlugin>(source(std::move(files), std::move(channels)));
        plugin->start(ctx);
    }
};

Request staff() {
    Request r;
    r.requestId = "req-1";
    r.principal = Principal{7, "anna", Role::Staff, "", ""};
    return r;
}

}  // namespace

TEST(LuaPluginModules, RequireLoadsThePluginsOwnLuaFilesOnce) {
    Box box("demo");
    box.start({{"main.lua", R"lua(
local a = require("util")
local b = require("util")
local q = require("db.queries")
kb.route("GET", "/x", function() return { json = { same = a == b, n = a.loads, q = q.name } } end)
)lua"},
               {"lua/util.lua", "loads = (loads or 0) + 1\nreturn { loads = loads }\n"},
               {"lua/db/queries.lua", "return { name = 'queries' }\n"}});
    auto r = box.ctx.routerImpl.call("GET", "/api/v1/demo/x", staff());
    EXPECT_EQ(r.body, R"({"n":1,"q":"queries","same":true})");
}

TEST(LuaPluginModules, RequireReachesNothingButTheLuaFolder) {
    for (const char* name : {"\"../main\"", "\"/etc/passwd\"", "\"missing\"", "\"main\""}) {
        Box box("demo");
        try {
            box.start({{"main.lua", std::string("require(") + name + ")"}, {"secret.lua", "return 1"}});
            FAIL() << name << " loaded";
        } catch (const LuaError& e) {
            EXPECT_TRUE(std::string(e.what()).find("module") != std::string::npos) << e.what();
        }
    }
}

TEST(LuaPluginModules, ACycleOfModulesIsAnErrorNotARecursion) {
    Box box("demo");
    try {
        box.start({{"main.lua", "require('a')"}, {"lua/a.lua", "return require('b')"}, {"lua/b.lua", "return require('a')"}});
        FAIL();
    } catch (const LuaError& e) {
        EXPECT_NE(std::string(e.what()).find("requires itself"), std::string::npos) << e.what();
    }
}

TEST(LuaPluginModules, AHookScriptHasNoRequire) {
    LuaBox box;
    const auto e = box.loadError("local x = require('util')");
    EXPECT_EQ(e.kind(), ErrorKind::Sandbox) << e.what();
}

TEST(LuaPluginChannels, ASendOnAnUndeclaredChannelRefusesThePluginAtStart) {
    Box box("demo");
    try {
        box.start({{"main.lua", "kb.route('POST', '/x', function()\n  kb.send('demo.mail', {}, { idempotency_key = 'k' })\nend)"}},
                  {"demo.sms"});
        FAIL();
    } catch (const LuaError& e) {
        EXPECT_EQ(e.line(), 2);
        EXPECT_NE(std::string(e.what()).find("plugin.yaml does not declare"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("demo.sms"), std::string::npos) << e.what();
    }
}

TEST(LuaPluginChannels, ARefusedSendAtRunTimeIsADeadLetterAndTheHandlerGoesOn) {
    Box box("demo");
    box.ctx.storeImpl.unguarded("CREATE TABLE demo_done(x INTEGER)");
    box.start({{"main.lua", R"lua(
kb.route("POST", "/x", function()
  kb.send("demo." .. "mail", { a = 1 }, { idempotency_key = "k" })
  kb.send("demo.sms", { a = 2 }, { idempotency_key = "k" })
  kb.db.exec("INSERT INTO demo_done VALUES (1)")
end)
)lua"}},
              {"demo.sms"});
    auto r = box.ctx.routerImpl.call("POST", "/api/v1/demo/x", staff());
    EXPECT_EQ(r.status, 204);
    ASSERT_EQ(box.deadLetters.size(), 1u);
    EXPECT_EQ(box.deadLetters[0], "demo/main.lua demo.mail refused: plugin.yaml does not declare the channel demo.mail");
    ASSERT_EQ(box.ctx.outboxImpl.queued.size(), 1u);
    EXPECT_EQ(box.ctx.outboxImpl.queued[0].channel, "demo.sms");
}

TEST(LuaPluginChannels, AHookScriptNamingAChannelItIsNotGivenIsRefusedAtLoadWhenTheBoxChecks) {
    LuaBox box;
    box.services->checkChannels = true;
    box.services->allowedChannels["t.lua"] = {"lua.sms"};
    EXPECT_NO_THROW(box.load("kb.subscribe('booking.created', function(e) kb.send('lua.sms', {}, {idempotency_key = 'k'}) end)"));
    const auto e = box.loadError("kb.subscribe('booking.created', function(e)\n kb.send(\"lua.mail\", {}, {idempotency_key = 'k'}) end)");
    EXPECT_EQ(e.line(), 2);
    EXPECT_NE(std::string(e.what()).find("lua.channels"), std::string::npos) << e.what();
}

TEST(LuaPluginTimers, AJobRunsWhenDueAndItsNextTimeIsKept) {
    Box box("demo");
    box.ctx.storeImpl.unguarded("CREATE TABLE demo_runs(due INTEGER)");
    const std::map<std::string, std::string> files{{"main.lua", R"lua(
kb.schedule("tick", { every_minutes = 5 }, function(job)
  kb.db.exec("INSERT INTO demo_runs(due) VALUES (?)", job.due)
end)
)lua"}};
    box.start(files);
    const long long start = secondsOf(box.clock.now());
    EXPECT_EQ(box.jobs->next_("demo/tick"), start + 300) << "first due one interval after the plugin first starts";
    box.clock.advance(std::chrono::minutes(5));
    ASSERT_TRUE(box.jobs->waitRuns("demo/tick", 1));
    EXPECT_EQ(box.jobs->next_("demo/tick"), start + 600);
    box.plugin->stop();

    // A restart (a new plugin object, the same store) keeps the time; the box was down past
    // two due times: the job runs once, not twice.
    box.clock.advance(std::chrono::minutes(12));
    box.start(files);
    ASSERT_TRUE(box.jobs->waitRuns("demo/tick", 2));
    box.plugin->stop();
    EXPECT_EQ(box.jobs->next_("demo/tick"), start + 17 * 60 + 300);
    long long runs = 0;
    box.ctx.storeImpl.read([&](db::Connection& c) {
        auto st = c.prepare("SELECT COUNT(*) FROM demo_runs");
        if (st.step()) runs = st.getInt(0);
    });
    EXPECT_EQ(runs, 2);
}

TEST(LuaPluginTimers, AFailingJobIsRecordedAndTriedAgainAtItsNextTime) {
    Box box("demo");
    box.start({{"main.lua", "kb.schedule('bad', { every_minutes = 1 }, function() error('boom') end)"}});
    box.clock.advance(std::chrono::minutes(1));
    ASSERT_TRUE(box.jobs->waitRuns("demo/bad", 1));
    box.plugin->stop();
    std::lock_guard lock(box.jobs->mu);
    EXPECT_NE(box.jobs->errors["demo/bad"].find("boom"), std::string::npos) << box.jobs->errors["demo/bad"];
}

TEST(LuaPluginTimers, ScheduleOptionsAreChecked) {
    for (const char* bad : {"kb.schedule('x', {}, function() end)", "kb.schedule('x', { every_minutes = 0 }, function() end)",
                            "kb.schedule('x', { at = '25:00' }, function() end)",
                            "kb.schedule('x', { at = '07:00', every_minutes = 5 }, function() end)",
                            "kb.schedule('X Y', { at = '07:00' }, function() end)",
                            "kb.schedule('x', { at = '07:00' }, function() end) kb.schedule('x', { at = '08:00' }, function() end)",
                            "kb.route('GET', '/x', function() kb.schedule('x', { at = '07:00' }, function() end) end)"}) {
        Box box("demo");
        if (std::string(bad).find("kb.route") != std::string::npos) {
            box.start({{"main.lua", bad}});
            EXPECT_ANY_THROW(box.ctx.routerImpl.call("GET", "/api/v1/demo/x", staff())) << bad;
        } else {
            EXPECT_THROW(box.start({{"main.lua", bad}}), LuaError) << bad;
        }
    }
}

TEST(LuaPluginTimers, ADailyJobIsNextDueAtItsLocalTime) {
    JobRegistration j;
    j.atMinute = 7 * 60 + 30;
    const long long now = secondsOf(boxNow());
    const long long next = nextDue(j, now);
    EXPECT_GT(next, now);
    EXPECT_LE(next, now + 25 * 3600);
    const std::time_t t = static_cast<std::time_t>(next);
    std::tm tm{};
    localtime_r(&t, &tm);
    EXPECT_EQ(tm.tm_hour, 7);
    EXPECT_EQ(tm.tm_min, 30);
    EXPECT_EQ(nextDue(j, next), next + 24 * 3600) << "no daylight-saving change in the fixture's week";
}
