// The script registry (directory loading, versions, refusals), the directory watcher that
// drives hot reload, and the state pool under contention.
#include "HookFixture.h"

#include "lua/DirectoryWatcher.h"
#include "lua/StatePool.h"

#include "TempDir.h"

#include <filesystem>
#include <fstream>
#include <thread>

using namespace kbtest;
using kbtest::TempDir;

namespace {
void write(const TempDir& d, const std::string& f, const std::string& text) { std::ofstream(d.file(f)) << text; }
}  // namespace

TEST(LuaRegistry, LoadsTheLuaFilesOfADirectoryAndExplainsRefusals) {
    TempDir dir;
    write(dir, "good.lua", "kb.on('a.b', function(e) e.payload.good = true end)\nkb.subscribe('a.c', function() end)");
    write(dir, "broken.lua", "kb.on('a.b', function(e)\n  e.payload.x = \nend)");
    write(dir, "bad name.lua", "kb.on('a.b', function() end)");
    write(dir, "notes.txt", "not a script");
    write(dir, ".hidden.lua", "error('never loaded')");
    std::filesystem::create_symlink(dir.file("good.lua"), dir.file("link.lua"));
    HookBox box;
    const auto report = box.host->loadDirectory(dir.path());
    EXPECT_EQ(report.loaded, std::vector<std::string>{"good.lua"});
    EXPECT_EQ(report.refused, (std::vector<std::string>{"bad name.lua", "broken.lua"}));
    const auto good = box.statusOf("good.lua");
    EXPECT_TRUE(good.loaded);
    EXPECT_EQ(good.version, 1);
    EXPECT_EQ(good.events, (std::vector<std::string>{"a.b", "a.c (async)"}));
    EXPECT_EQ(good.loadedAt, boxNow());
    EXPECT_EQ(good.states, 1u);
    const auto broken = box.statusOf("broken.lua");
    EXPECT_FALSE(broken.loaded);
    EXPECT_TRUE(broken.refused);
    EXPECT_EQ(broken.errorKind, "syntax");
    EXPECT_EQ(broken.error, "broken.lua:3: unexpected symbol near 'end' (load)");
    EXPECT_EQ(box.statusOf("bad name.lua").errorKind, "sandbox");
    EXPECT_EQ(box.host->scripts().size(), 3u) << "no status for ignored files";
    ASSERT_FALSE(box.logs.empty());
    EXPECT_EQ(box.logs[0].rfind("error bad name.lua: script refused: ", 0), 0u) << box.logs[0];

    // Reloading an unchanged directory changes nothing.
    const auto again = box.host->loadDirectory(dir.path());
    EXPECT_TRUE(again.loaded.empty());
    EXPECT_EQ(again.unchanged, std::vector<std::string>{"good.lua"});
    EXPECT_EQ(box.statusOf("good.lua").version, 1);
    EXPECT_EQ(box.statusOf("broken.lua").loadFailures, 1) << "the same refused text is not counted again";

    // Fixing the broken one and deleting the good one.
    write(dir, "broken.lua", "kb.on('a.b', function(e) e.payload.fixed = true end)");
    std::filesystem::remove(dir.file("good.lua"));
    std::filesystem::remove(dir.file("link.lua"));
    const auto third = box.host->loadDirectory(dir.path());
    EXPECT_EQ(third.loaded, std::vector<std::string>{"broken.lua"});
    EXPECT_EQ(third.removed, std::vector<std::string>{"good.lua"});
    auto e = event("a.b");
    EXPECT_FALSE(box.publish(e).vetoed);
    EXPECT_TRUE(e.payload->has("fixed"));
    EXPECT_FALSE(e.payload->has("good"));
    EXPECT_EQ(box.statusOf("broken.lua").version, 1);
    EXPECT_FALSE(box.statusOf("broken.lua").refused);
}

TEST(LuaRegistry, AScriptWhoseRegistrationsChangeBetweenLoadsIsNotRunInconsistently) {
    HookBox box(true, 2);
    ASSERT_TRUE(box.host->load("moody.lua", R"(
if kb.now() % 2 == 0 then kb.on("a.b", function(e) e.payload.even = true end)
else kb.on("a.b", {phase = "finalize"}, function(e) e.payload.odd = true end) end
)"));
    box.clock.advance(std::chrono::seconds(1));
    auto v = box.host->registry().find("moody.lua");
    ASSERT_TRUE(v);
    auto first = v->pool().acquire(std::chrono::milliseconds(100));  // holds the loaded state
    try {
        (void)v->pool().acquire(std::chrono::milliseconds(100));  // must load a second one
        FAIL() << "a second state with other registrations was accepted";
    } catch (const LuaError& e) {
        EXPECT_NE(e.message().find("registered different hooks when loaded again"), std::string::npos) << e.what();
    }
    EXPECT_EQ(v->pool().stats().live, 1u) << "the failed load gave its slot back";
}

TEST(LuaRegistry, WatcherReloadsChangedScripts) {
    TempDir dir;
    write(dir, "w.lua", "kb.on('a.b', function(e) e.payload.v = 1 end)");
    HookBox box;
    box.host->loadDirectory(dir.path());
    int changes = 0;
    DirectoryWatcher w(dir.path(), std::chrono::milliseconds(10), [&] { ++changes; });
    EXPECT_TRUE(w.poll()) << "the first poll sees the directory";
    EXPECT_FALSE(w.poll());
    write(dir, "w.lua", "kb.on('a.b', function(e) e.payload.v = 2 end)");  // same size, maybe the same mtime tick
    EXPECT_TRUE(w.poll());
    write(dir, "x.lua", "");
    EXPECT_TRUE(w.poll());
    std::filesystem::remove(dir.file("x.lua"));
    EXPECT_TRUE(w.poll());
    write(dir, "notes.txt", "ignored");
    EXPECT_FALSE(w.poll());
    EXPECT_EQ(changes, 4);

    // The HookHost's watcher thread picks up a change by itself.
    box.host->watch(dir.path(), std::chrono::milliseconds(20));
    write(dir, "w.lua", "kb.on('a.b', function(e) e.payload.v = 3 end)");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (box.statusOf("w.lua").version < 2 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    auto e = event("a.b");
    EXPECT_FALSE(box.publish(e).vetoed);
    EXPECT_EQ(e.payload->getValue<int>("v"), 3);
    // A broken save is refused and the running version stays; the fix is picked up.
    write(dir, "w.lua", "kb.on('a.b', function(e) e.payload.v = end)");
    while (!box.statusOf("w.lua").refused && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_TRUE(box.statusOf("w.lua").refused);
    auto e2 = event("a.b");
    EXPECT_FALSE(box.publish(e2).vetoed);
    EXPECT_EQ(e2.payload->getValue<int>("v"), 3);
    box.host->stopWatching();
}

TEST(LuaStatePool, WaitsForAFreeStateAndTimesOutWhenNoneFreesUp) {
    LuaBox box;
    int made = 0;
    StatePool pool("p.lua", [&] { ++made; return box.load("x = 1", "p.lua"); }, 2);
    auto a = pool.acquire(std::chrono::milliseconds(10));
    auto b = pool.acquire(std::chrono::milliseconds(10));
    EXPECT_EQ(made, 2);
    try {
        (void)pool.acquire(std::chrono::milliseconds(30));
        FAIL();
    } catch (const LuaError& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Timeout);
        EXPECT_EQ(e.message(), "all 2 Lua states of the script stayed busy for 30 ms");
    }
    std::thread releaser([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        auto gone = std::move(a);
    });
    auto c = pool.acquire(std::chrono::milliseconds(2000));
    releaser.join();
    EXPECT_EQ(made, 2) << "the released state was reused";
    c.discard();
    auto d = pool.acquire(std::chrono::milliseconds(10));
    EXPECT_EQ(made, 3) << "a discarded state is replaced";
    const auto st = pool.stats();
    EXPECT_EQ(st.live, 2u);
    EXPECT_EQ(st.discarded, 1u);
    EXPECT_GE(st.waits, 2u);
}
