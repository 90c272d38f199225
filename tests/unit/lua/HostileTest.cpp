// Hostile scripts: each must be stopped with the right kind of error, fail its event
// closed, and leave the box working: the same script's pool serves the next call and the
// other scripts never notice.
#include "HookFixture.h"

#include <chrono>

using namespace kbtest;

namespace {

struct HostileBox : HookBox {
    int cases = 0;

    HostileBox() { init(); }
    explicit HostileBox(const Limits& l) : HookBox(l) { init(); }
    void init() {
        EXPECT_TRUE(host->load("bystander.lua", "kb.on('other.event', function(e) e.payload.fine = true end)"));
    }

    struct Result {
        std::string kind;     // from the script's status: the counted error kind
        std::string reason;   // what the bus reports (fails closed)
        std::chrono::milliseconds took{};
    };

    // Runs `code` as the body of a sync hook, then checks that the box is unaffected.
    Result run(const std::string& code) {
        const std::string n = std::to_string(++cases);
        const std::string file = "hostile" + n + ".lua", ev = "hostile.case" + n;
        Result r;
        if (!host->load(file, "kb.on('" + ev + "', function(e)\n  if e.payload.safe then e.payload.ok = true return end\n" + code +
                                  "\nend)")) {
            ADD_FAILURE() << "does not load: " << statusOf(file).error;
            return r;
        }
        auto e = event(ev);
        const auto t0 = std::chrono::steady_clock::now();
        const auto out = publish(e);
        r.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
        EXPECT_TRUE(out.failed) << "not stopped: " << code;
        EXPECT_EQ(out.hook, "lua:" + file);
        r.reason = out.reason;
        r.kind = statusOf(file).errorKind;
        EXPECT_EQ(statusOf(file).errors, 1) << code;
        // Contained: the same script serves its next call, and the bystander works.
        auto safe = event(ev, R"({"safe": true})");
        const auto again = publish(safe);
        EXPECT_FALSE(again.vetoed) << code << ": " << again.reason;
        EXPECT_TRUE(safe.payload->has("ok")) << code;
        auto other = event("other.event");
        EXPECT_FALSE(publish(other).vetoed);
        EXPECT_TRUE(other.payload->has("fine"));
        return r;
    }

    // Runs `code` as a script's top level: the load must be refused with `kind`.
    std::string refusedLoad(const std::string& code) {
        const std::string file = "toplevel" + std::to_string(++cases) + ".lua";
        EXPECT_FALSE(host->load(file, code)) << code;
        return statusOf(file).errorKind;
    }
};

#define EXPECT_CONTAINED(box, code, expectedKind)                                    \
    do {                                                                            \
        const auto r_ = (box).run(code);                                            \
        EXPECT_EQ(r_.kind, expectedKind) << (code) << "\n  " << r_.reason;          \
        EXPECT_LT(r_.took, std::chrono::milliseconds(5000)) << (code);              \
    } while (0)

}  // namespace

TEST(LuaHostile, EndlessLoopsAreStoppedEvenWhereACatchCouldHideThem) {
    HostileBox box;
    EXPECT_CONTAINED(box, "while true do end", "timeout");
    EXPECT_CONTAINED(box, "::again:: goto again", "timeout");
    EXPECT_CONTAINED(box, "while true do pcall(function() while true do end end) end", "timeout");
    EXPECT_CONTAINED(box, "for i = 1, 10 do pcall(function() while true do end end) end e.payload.survived = true", "timeout");
    EXPECT_CONTAINED(box, "while true do local ok = pcall(error, 'x') end", "timeout");
    EXPECT_CONTAINED(box, "xpcall(function() error('x') end, function() while true do end end) e.payload.survived = true", "timeout");
    EXPECT_CONTAINED(box, "local t = setmetatable({}, {__index = function() while true do end end}) local _ = t.x", "timeout");
    EXPECT_CONTAINED(box, "tostring(setmetatable({}, {__tostring = function() while true do end end}))", "timeout");
    EXPECT_CONTAINED(box, "table.sort({3, 2, 1}, function(a, b) while true do end end)", "timeout");
    EXPECT_CONTAINED(box, "string.gsub('abc', '%w', function(c) while true do end end)", "timeout");
    EXPECT_CONTAINED(box, "load('while true do end')()", "timeout");
    EXPECT_CONTAINED(box, "local n = 0 while true do n = n + 1 if n % 2 == 0 then pcall(error, 'x') end end", "timeout");
}

TEST(LuaHostile, EndlessLoopsInCoroutinesAreStopped) {
    HostileBox box;
    EXPECT_CONTAINED(box, "local co = coroutine.create(function() while true do end end) coroutine.resume(co) e.payload.survived = true",
                     "timeout");
    EXPECT_CONTAINED(box, "coroutine.wrap(function() while true do end end)()", "timeout");
    EXPECT_CONTAINED(box,
                     "local co = coroutine.wrap(function() pcall(function() while true do coroutine.yield() end end) end)\n"
                     "while true do co() end",
                     "timeout");
    EXPECT_CONTAINED(box,
                     "local co = coroutine.create(function() while true do pcall(function() while true do end end) end end)\n"
                     "while true do coroutine.resume(co) end",
                     "timeout");
    // A coroutine made sticky by one call must not starve the next: the state was replaced.
    EXPECT_CONTAINED(box, "parked = coroutine.create(function() while true do end end) coroutine.resume(parked)", "timeout");
}

TEST(LuaHostile, TheWallClockStopsWhatTheInstructionBudgetAllows) {
    Limits l = smallLimits();
    l.instructions = 1'000'000'000'000;
    l.time = std::chrono::milliseconds(100);
    HostileBox box(l);
    const auto r = box.run("while true do end");
    EXPECT_EQ(r.kind, "timeout");
    EXPECT_NE(r.reason.find("time limit of 100 ms"), std::string::npos) << r.reason;
    EXPECT_GE(r.took, std::chrono::milliseconds(100));
    EXPECT_LT(r.took, std::chrono::milliseconds(1500));
}

TEST(LuaHostile, MemoryBombsHitTheCap) {
    // Ample wall-clock time, so only the memory cap can stop them even on a loaded machine.
    Limits l = smallLimits();
    l.time = std::chrono::seconds(10);
    HostileBox box(l);
    EXPECT_CONTAINED(box, "local t = {} for i = 1, 1e9 do t[i] = i end", "memory");
    EXPECT_CONTAINED(box, "local s = 'x' while true do s = s .. s end", "memory");
    EXPECT_CONTAINED(box, "local t = {} for i = 1, 1e9 do t[#t + 1] = tostring(i) .. 'padding padding' end", "memory");
    EXPECT_CONTAINED(box, "pcall(function() local t = {} for i = 1, 1e9 do t[i] = {} end end) e.payload.survived = true", "memory");
    EXPECT_CONTAINED(box, "local cs = {} for i = 1, 1e8 do cs[i] = coroutine.create(function() end) end", "memory");
    EXPECT_CONTAINED(box, "local t = {} for i = 1, 1e6 do t[i] = 'abcdefghij' end local s = table.concat(t) .. table.concat(t)", "memory");
    EXPECT_CONTAINED(box, "global_cache = {} for i = 1, 1e9 do global_cache[i] = i end", "memory");
}

TEST(LuaHostile, StringRepBombsAreRefusedBeforeAllocating) {
    HostileBox box;
    auto r = box.run("local s = string.rep('x', 1e9)");
    EXPECT_EQ(r.kind, "memory");
    EXPECT_NE(r.reason.find("string.rep: the result (1000000000 bytes) would exceed the limit of 1048576 bytes"), std::string::npos)
        << r.reason;
    EXPECT_CONTAINED(box, "local s = ('x'):rep(2^40)", "memory");
    EXPECT_CONTAINED(box, "local s = ('x'):rep(1e6):rep(1000)", "memory");
    EXPECT_CONTAINED(box, "local s = string.rep('', 1e9, ('x'):rep(100))", "memory");
    EXPECT_CONTAINED(box, "pcall(string.rep, 'x', 1e9) e.payload.survived = true", "memory");
}

TEST(LuaHostile, DeepRecursionIsContained) {
    HostileBox box(relaxedClockLimits());
    // With an 8 MiB cap the Lua stack cannot reach its own limit: the allocator stops it.
    EXPECT_CONTAINED(box, "local function f(n) return 1 + f(n + 1) end f(1)", "memory");
    // Recursion through C (metamethods, gsub callbacks, nested coroutines) meets Lua's C-stack limit.
    auto r = box.run("local t t = setmetatable({}, {__index = function(_, k) return t[k] end}) local _ = t.x");
    EXPECT_EQ(r.kind, "runtime");
    EXPECT_NE(r.reason.find("stack overflow"), std::string::npos) << r.reason;
    r = box.run("local function g(s) return (s:gsub('.', g)) end g('ab')");
    EXPECT_EQ(r.kind, "runtime");
    EXPECT_NE(r.reason.find("stack overflow"), std::string::npos) << r.reason;
    r = box.run("local function nest() local co = coroutine.create(nest) local ok, err = coroutine.resume(co) error(err, 0) end nest()");
    EXPECT_EQ(r.kind, "runtime");
    EXPECT_NE(r.reason.find("stack overflow"), std::string::npos) << r.reason;
    r = box.run("string.find(('a'):rep(1000), ('a?'):rep(300))");
    EXPECT_EQ(r.kind, "runtime");
    EXPECT_NE(r.reason.find("pattern too complex"), std::string::npos) << r.reason;
}

TEST(LuaHostile, DeepRecursionWithRoomMeetsLuasStackLimit) {
    Limits l = smallLimits();
    l.memoryBytes = 256u << 20;
    l.instructions = 100'000'000;
    l.time = std::chrono::seconds(30);  // the stack limit is the subject, not the clock
    HostileBox box(l);
    const auto r = box.run("local function f(n) return 1 + f(n + 1) end f(1)");
    EXPECT_EQ(r.kind, "runtime");
    EXPECT_NE(r.reason.find("stack overflow"), std::string::npos) << r.reason;
}

TEST(LuaHostile, MetatableTricksCannotReachSharedState) {
    HostileBox box;
    EXPECT_CONTAINED(box, "getmetatable('').__index.upper = function() return 'pwned' end", "runtime");
    EXPECT_CONTAINED(box, "setmetatable(_G, {})", "runtime");
    EXPECT_CONTAINED(box, "_ENV = nil x = 1", "runtime");
    EXPECT_CONTAINED(box, "local s = getmetatable('') s.__index = nil", "runtime");
    // Changes to a script's own copies stay there.
    ASSERT_TRUE(box.host->load("vandal.lua", R"(
kb.on("vandal.run", function(e)
  string.upper = function() return "pwned" end
  rawset(string, "lower", nil)
  rawset(table, "concat", nil)
  kb.reject = function() end
  kb.pnr = nil
  math.floor = nil
  _G.print = nil
  os.time = function() return 0 end
  e.payload.locked = not pcall(setmetatable, string, nil)
end)
)"));
    auto v = event("vandal.run");
    EXPECT_FALSE(box.publish(v).vetoed);
    EXPECT_TRUE(v.payload->getValue<bool>("locked")) << "a library copy's metatable is locked";
    ASSERT_TRUE(box.host->load("victim.lua", R"(
kb.on("victim.run", function(e)
  e.payload.r = table.concat({("x"):upper(), string.upper("y"), string.lower("Z"), tostring(math.floor(2.5)),
                              tostring(kb.pnr.valid("191212121212")), tostring(os.time())}, " ")
  if e.payload.veto then kb.reject("still works") end
end)
)"));
    auto w = event("victim.run");
    EXPECT_FALSE(box.publish(w).vetoed);
    EXPECT_EQ(w.payload->getValue<std::string>("r"), "X Y z 2 true 1795341600");
    auto x = event("victim.run", R"({"veto": true})");
    EXPECT_EQ(box.publish(x).reason, "still works");
    // The vandal's own next call still sees its own (vandalised) copies, not a broken state.
    auto v2 = event("vandal.run");
    EXPECT_FALSE(box.publish(v2).failed);
}

TEST(LuaHostile, NoWayToIoOsDebugPackageOrBytecode) {
    HostileBox box;
    for (const char* code : {"io.open('/etc/passwd')", "os.execute('id')", "os.getenv('HOME')", "os.remove('/tmp/x')",
                             "os.exit(1)", "require('os')", "package.loadlib('libc.so.6', 'system')", "debug.getregistry()",
                             "dofile('/etc/passwd')", "loadfile('/etc/passwd')", "load(string.dump(print))",
                             "load('\\27Lua\\84\\0\\25\\147\\r\\n\\26\\n')", "load('\\27Lua', 'x', 'b')", "local f = _G.io",
                             "local f = _ENV['debug']", "local f = rawget(_G, 'load')('\\27Lua')"}) {
        EXPECT_CONTAINED(box, code, "sandbox");
    }
    EXPECT_EQ(box.refusedLoad("\x1bLuaT\x00"), "sandbox") << "a precompiled file";
    EXPECT_CONTAINED(box, "load(function() return 'x' end)", "runtime");
}

TEST(LuaHostile, FinalisersAreRefusedOrNeverRun) {
    HostileBox box;
    EXPECT_CONTAINED(box, "setmetatable({}, {__gc = function() while true do end end})", "sandbox");
    EXPECT_CONTAINED(box, "setmetatable({}, {__gc = function() error('x') end})", "sandbox");
    EXPECT_CONTAINED(box, "local t <close> = setmetatable({}, {__close = function() while true do end end})", "sandbox");
    EXPECT_CONTAINED(box, "setmetatable({}, {__mode = 'k'})", "sandbox");
    // A __gc added after setmetatable does not make the object finalisable (Lua 5.4 manual
    // 2.5.3), nor does one behind __index: closing the state runs nothing.
    LuaBox lbox;
    auto s = lbox.load(R"(
local mt = {}
keep = setmetatable({}, mt)
mt.__gc = function() while true do end end
keep2 = setmetatable({}, setmetatable({}, {__index = {__gc = function() while true do end end}}))
keep = nil
collectgarbage()
)");
    const auto t0 = std::chrono::steady_clock::now();
    s.reset();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(100));
}

TEST(LuaHostile, HugePatternInputsAreRefusedOrStopped) {
    HostileBox box;
    EXPECT_CONTAINED(box, "string.find(('x'):rep(300 * 1024), 'y')", "sandbox");
    EXPECT_CONTAINED(box, "string.match('x', ('a'):rep(5000))", "sandbox");
    EXPECT_CONTAINED(box, "('a'):rep(400):find(('a*'):rep(3) .. 'b')", "timeout");
    EXPECT_CONTAINED(box, "('a'):rep(200000):find('.-.-b')", "timeout");
    EXPECT_CONTAINED(box, "for k in ('a'):rep(100000):gmatch('a-a-a-b') do end", "timeout");
    EXPECT_CONTAINED(box, "local s = ('('):rep(300 * 1024) s:find('%b()')", "sandbox");
    EXPECT_CONTAINED(box, "local s = ('('):rep(100000) s:find('%b()')", "timeout");
}

TEST(LuaHostile, UninterruptibleLibraryLoopsAreCapped) {
    HostileBox box;
    EXPECT_CONTAINED(box, "table.move({}, 1, 1e12, 2)", "sandbox");
    EXPECT_CONTAINED(box, "table.move({}, -1e15, 1e15, 1)", "sandbox");
    EXPECT_CONTAINED(box, "table.unpack({}, 1, 1e8)", "runtime");
    EXPECT_CONTAINED(box, "table.concat({}, '', 1, 1e12)", "runtime");
    EXPECT_CONTAINED(box, "os.date(('%c'):rep(1000))", "runtime");
    EXPECT_CONTAINED(box, "local s = string.format('%s', {}) .. ('x'):rep(1e9)", "memory");
}

TEST(LuaHostile, HostileTopLevelsAreRefusedAtLoad) {
    HostileBox box;
    EXPECT_EQ(box.refusedLoad("while true do end"), "timeout");
    // Big steps reach the memory cap before the clock on a loaded machine (the table growth
    // of MemoryBombsHitTheCap runs with ample time).
    EXPECT_EQ(box.refusedLoad("local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 65536) end"), "memory");
    EXPECT_EQ(box.refusedLoad("io.write('x')"), "sandbox");
    EXPECT_EQ(box.refusedLoad("kb.on('x.y', function() end) error('late')"), "runtime");
    EXPECT_EQ(box.refusedLoad("kb.on('x.y', function("), "syntax");
    EXPECT_EQ(box.refusedLoad(std::string(600 * 1024, '-')), "memory") << "a script over the size limit";
    // Nothing of a refused script is hooked.
    auto e = event("x.y");
    EXPECT_FALSE(box.publish(e).vetoed);
}
