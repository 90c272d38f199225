// The sandboxed state: which libraries a script sees, its own environment, the limits'
// basics, and errors that name script and line.
#include "LuaFixture.h"

using namespace kbtest;

TEST(LuaSandbox, OnlySafeLibrariesAreThere) {
    LuaBox box;
    for (const char* e : {"type(string.format)", "type(table.concat)", "type(math.floor)", "type(utf8.char)",
                          "type(coroutine.create)", "type(coroutine.wrap)", "type(os.time)", "type(os.date)",
                          "type(os.clock)", "type(os.difftime)", "type(pcall)", "type(load)", "type(next)"})
        EXPECT_EQ(box.eval(e), "function") << e;
    EXPECT_EQ(box.eval("rawget(string, 'dump')"), "nil") << "string.dump is not in the copy either";
    EXPECT_EQ(box.eval("rawget(_G, 'io')"), "nil");
    EXPECT_EQ(box.eval("rawget(os, 'execute')"), "nil");
    EXPECT_EQ(box.eval("_G == _ENV"), "true");
    EXPECT_EQ(box.eval("getmetatable(_ENV)"), "false") << "the environment's metatable is locked";
    EXPECT_EQ(box.eval("undefined_name"), "nil") << "an ordinary undefined global reads as nil";
}

TEST(LuaSandbox, RemovedNamesAreSandboxViolationsWithAClearMessage) {
    LuaBox box;
    for (const auto& [code, what] : std::vector<std::pair<std::string, std::string>>{
             {"local x = io", "io is not available"},
             {"local x = debug", "debug is not available"},
             {"local x = require", "require is not available"},
             {"local x = package", "package is not available"},
             {"local x = dofile", "dofile is not available"},
             {"local x = loadfile", "loadfile is not available"},
             {"local x = os.execute", "os.execute is not available"},
             {"local x = os.getenv", "os.getenv is not available"},
             {"local x = os.exit", "os.exit is not available"},
             {"local x = string.dump", "string.dump is not available"}}) {
        const auto e = box.loadError(code);
        EXPECT_EQ(e.kind(), ErrorKind::Sandbox) << code;
        EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
        EXPECT_EQ(e.line(), 1) << code;
    }
}

TEST(LuaSandbox, OsTimeAndDateUseTheInjectedClock) {
    LuaBox box;
    EXPECT_EQ(box.eval("os.time()"), "1795341600");
    EXPECT_EQ(box.eval("kb.now()"), "1795341600");
    EXPECT_EQ(box.eval("os.date('!%Y-%m-%d %H:%M')"), "2026-11-22 10:00");
    EXPECT_EQ(box.eval("os.date('!*t').year"), "2026");
    EXPECT_EQ(box.eval("os.time({year = 2026, month = 1, day = 1, hour = 0}) ~= nil"), "true");
    box.clock.advance(std::chrono::hours(24));
    EXPECT_EQ(box.eval("os.date('!%Y-%m-%d')"), "2026-11-23");
}

TEST(LuaSandbox, EachScriptHasItsOwnGlobalsAndLibraryTables) {
    LuaBox box;
    auto a = box.load("string.upper = function() return 'pwned' end  shared = 1  table.insert = nil");
    auto b = box.load("result = string.upper('x') .. tostring(shared) .. type(table.insert)");
    EXPECT_EQ(box.global(*b, "result"), "Xnilfunction");
    // Even in the same state, a second script gets fresh copies: the string metatable's
    // library is unreachable and the per-script copies are separate.
    EXPECT_EQ(box.global(*a, "shared"), "<number>");
}

TEST(LuaSandbox, ScriptsSharingOneStateCannotReachEachOther) {
    LuaBox box;
    Sandbox sb(box.limits, box.clock);
    ScriptContext ca, cb;
    ca.name = "a.lua";
    cb.name = "b.lua";
    ca.services = cb.services = box.services;
    lua_State* L = sb.state();
    Sandbox::Call call(sb, "both", "load");
    auto body = [&](lua_State* S) -> int {
        for (auto* c : {&ca, &cb}) {
            sb.pushEnvironment();
            installKb(S, *c, -1);
            c->envRef = luaL_ref(S, LUA_REGISTRYINDEX);
        }
        return 0;
    };
    ASSERT_TRUE(call.runC(body, 0, 0));
    auto runIn = [&](ScriptContext& c, const char* code) {
        sb.compile(code, c.name);
        lua_rawgeti(L, LUA_REGISTRYINDEX, c.envRef);
        lua_setupvalue(L, -2, 1);
        return call.run(0, 0);
    };
    EXPECT_TRUE(runIn(ca, "string.upper = function() return 'pwned' end secret = 42 rawset(string, 'lower', print)"));
    EXPECT_TRUE(runIn(cb, "result = ('x'):upper() .. string.upper('y') .. tostring(secret) .. tostring(string.lower == print)"));
    lua_rawgeti(L, LUA_REGISTRYINDEX, cb.envRef);
    lua_getfield(L, -1, "result");
    EXPECT_STREQ(lua_tostring(L, -1), "XYnilfalse");
    lua_pop(L, 2);
}

TEST(LuaSandbox, StringMetatableIsHidden) {
    LuaBox box;
    EXPECT_EQ(box.eval("getmetatable('')"), "nil");
    EXPECT_EQ(box.eval("('abc'):upper()"), "ABC");
    EXPECT_EQ(box.eval("getmetatable(setmetatable({}, {__metatable = 'locked'}))"), "locked");
}

TEST(LuaSandbox, LoadIsTextOnlyAndUsesTheScriptsEnvironment) {
    LuaBox box;
    EXPECT_EQ(box.eval("load('return 1 + 1')()"), "2");
    EXPECT_EQ(box.eval("(function() x = 5 return load('return x')() end)()"), "5");
    EXPECT_EQ(box.eval("load('return y', 'c', 't', {y = 7})()"), "7");
    EXPECT_EQ(box.eval("select(2, load('return +'))"), "load:1: unexpected symbol near '+'");
    const auto e = box.loadError("local f = load('\\27Lua\\84\\0\\25\\147\\r\\n')");
    EXPECT_EQ(e.kind(), ErrorKind::Sandbox);
    EXPECT_NE(std::string(e.what()).find("bytecode"), std::string::npos) << e.what();
    EXPECT_EQ(box.loadError("\x1bLua\x54").kind(), ErrorKind::Sandbox) << "a precompiled script file";
}

TEST(LuaSandbox, XpcallHandlersWorkAndYieldingThroughPcallWorks) {
    LuaBox box;
    EXPECT_EQ(box.eval("select(2, xpcall(function() error('x', 0) end, function(m) return 'handled ' .. m end))"), "handled x");
    EXPECT_EQ(box.eval("select(2, xpcall(function(a, b) return a + b end, print, 2, 3))"), "5");
    EXPECT_EQ(box.eval("select(2, coroutine.resume(coroutine.create(function() return xpcall(function() coroutine.yield(7) end, print) end)))"),
              "7");
    EXPECT_EQ(box.eval("select(2, coroutine.resume(coroutine.create(function() return pcall(function() coroutine.yield(8) end) end)))"),
              "8");
}

TEST(LuaSandbox, CollectgarbageOnlyReportsMemory) {
    LuaBox box;
    EXPECT_EQ(box.eval("collectgarbage('count') > 1"), "true");
    EXPECT_EQ(box.eval("collectgarbage('stop')"), "0");
    EXPECT_EQ(box.eval("collectgarbage()"), "0");
}

TEST(LuaSandbox, SyntaxErrorsNameScriptAndLine) {
    LuaBox box;
    const auto e = box.loadError("local x = 1\nif x then\n", "triage.lua");
    EXPECT_EQ(e.kind(), ErrorKind::Syntax);
    EXPECT_EQ(e.script(), "triage.lua");
    EXPECT_EQ(e.line(), 3);
    EXPECT_EQ(e.context(), "load");
    EXPECT_EQ(std::string(e.what()), "triage.lua:3: 'end' expected (to close 'if' at line 2) near <eof> (load)");
}

TEST(LuaSandbox, RuntimeErrorsNameScriptLineAndMaskPersonnummer) {
    LuaBox box;
    auto e = box.loadError("local a = 1\nlocal b = nil\nreturn b.x", "fee.lua");
    EXPECT_EQ(e.kind(), ErrorKind::Runtime);
    EXPECT_EQ(e.line(), 3);
    EXPECT_EQ(e.message(), "attempt to index a nil value (local 'b')");
    e = box.loadError("\n\nerror('patient 191212121212 not found')", "fee.lua");
    EXPECT_EQ(e.line(), 3);
    EXPECT_EQ(e.message(), "patient 19121212**** not found");
    e = box.loadError("error({code = 1})", "fee.lua");
    EXPECT_EQ(e.message(), "error object is a table value");
    EXPECT_EQ(e.line(), 1) << "the message handler knows where";
    e = box.loadError("error('no position', 0)", "fee.lua");
    EXPECT_EQ(e.line(), 1);
    EXPECT_EQ(e.message(), "no position");
}

TEST(LuaSandbox, SetmetatableRefusesFinalisersCloseAndWeakTables) {
    LuaBox box;
    for (const char* mm : {"__gc", "__close", "__mode"}) {
        const auto e = box.loadError(std::string("setmetatable({}, {") + mm + " = 'k'})");
        EXPECT_EQ(e.kind(), ErrorKind::Sandbox) << mm;
        EXPECT_NE(e.message().find(mm), std::string::npos) << e.what();
    }
    EXPECT_EQ(box.eval("getmetatable(setmetatable({}, {__index = {a = 1}})).__index.a"), "1");
}
