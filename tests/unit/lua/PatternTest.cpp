// The interruptible pattern functions: same results as Lua's own string library (compared
// on thousands of generated cases), and catastrophic patterns stopped by the budget.
#include "LuaFixture.h"

#include <chrono>
#include <cstring>
#include <random>

using namespace kbtest;

namespace {

std::string quote(const std::string& s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        if (c >= 32 && c < 127 && c != '"' && c != '\\') out += static_cast<char>(c);
        else out += "\\" + std::to_string(c) + (c < 10 ? "" : "");
    }
    // A decimal escape followed by a digit would merge: the generators never put a digit
    // after a control character without a separator, see below.
    return out + "\"";
}

const char* const kRunner = R"lua(
local function ser(...)
  local n = select('#', ...)
  local t = {}
  for i = 1, n do
    local v = select(i, ...)
    t[#t + 1] = type(v) .. ":" .. tostring(v)
  end
  return table.concat(t, ",")
end
local function try(f)
  local ok, v = pcall(f)
  return ok and v or ("E:" .. tostring(v))
end
local out = {}
for _, c in ipairs(cases) do
  local r = {}
  r[#r + 1] = try(function() return ser(string.find(c[1], c[2], c[3])) end)
  r[#r + 1] = try(function() return ser(string.find(c[1], c[2], c[3], true)) end)
  r[#r + 1] = try(function() return ser(string.match(c[1], c[2], c[3])) end)
  r[#r + 1] = try(function()
    local acc, n = {}, 0
    for a, b in string.gmatch(c[1], c[2], c[3]) do
      n = n + 1
      if n > 40 then break end
      acc[#acc + 1] = ser(a, b)
    end
    return table.concat(acc, "|")
  end)
  for _, repl in ipairs({"<%0>", "%1", "[%%]", {a = "A", ab = false, ["("] = 7}, function(x, y) return y and (x .. tostring(y)) or nil end}) do
    r[#r + 1] = try(function() return ser(string.gsub(c[1], c[2], repl)) end)
  end
  r[#r + 1] = try(function() return ser(string.gsub(c[1], c[2], "%2", 2)) end)
  out[#out + 1] = table.concat(r, " ; ")
end
result = table.concat(out, "\n")
)lua";

std::string referenceRun(const std::string& source) {
    lua_State* L = luaL_newstate();
    luaL_openlibs(L);
    std::string out;
    if (luaL_loadstring(L, source.c_str()) != LUA_OK || lua_pcall(L, 0, 0, 0) != LUA_OK) {
        out = std::string("reference failed: ") + lua_tostring(L, -1);
    } else {
        lua_getglobal(L, "result");
        out = lua_tostring(L, -1);
    }
    lua_close(L);
    return out;
}

std::vector<std::string> lines(const std::string& s) {
    std::vector<std::string> out;
    std::istringstream in(s);
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
}

}  // namespace

TEST(LuaPatterns, AgreeWithLuasOwnStringLibraryOnGeneratedCases) {
    const std::vector<std::string> tokens = {"a",    "b",     ".",   "%a",   "%d", "%s",  "%w",  "%A",  "[ab]", "[^a]",
                                             "[a-c]", "[%d]", "%b()", "%f[%w]", "(",  ")",   "()",  "%1",  "*",    "+",
                                             "-",    "?",     "^",   "$",    "x",  "%.",  "%%",  "[]a]", "%z",  " "};
    const std::string alphabet = "aabbx() .1-9%[]";
    std::mt19937 rng(20261122);
    std::ostringstream src;
    src << "cases = {\n";
    const int n = 3000;
    for (int i = 0; i < n; ++i) {
        std::string p, s;
        const int pl = 1 + static_cast<int>(rng() % 6);
        for (int k = 0; k < pl; ++k) p += tokens[rng() % tokens.size()];
        const int sl = static_cast<int>(rng() % 14);
        for (int k = 0; k < sl; ++k) s += alphabet[rng() % alphabet.size()];
        static const char* inits[] = {"nil", "1", "2", "-3", "0", "20", "-100"};
        src << "{" << quote(s) << ", " << quote(p) << ", " << inits[rng() % 7] << "},\n";
    }
    src << "}\n" << kRunner;
    const std::string source = src.str();

    // Error positions name the chunk: Lua's own run calls it [string "..."], ours t.lua.
    std::string reference = referenceRun(source);
    for (std::size_t at; (at = reference.find("[string \"cases = {...\"]")) != std::string::npos;)
        reference.replace(at, std::strlen("[string \"cases = {...\"]"), "t.lua");
    const auto expected = lines(reference);
    LuaBox box;
    box.limits.instructions = 2'000'000'000;
    box.limits.time = std::chrono::seconds(30);
    box.limits.memoryBytes = 64u << 20;
    auto s = box.load(source);
    const auto actual = lines(box.global(*s, "result"));
    ASSERT_EQ(expected.size(), static_cast<std::size_t>(n)) << expected.front();
    ASSERT_EQ(actual.size(), expected.size());
    int differences = 0;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        if (actual[i] != expected[i] && ++differences <= 10)
            ADD_FAILURE() << "case " << i << ": " << lines(source)[1 + i] << "\n  lua:    " << expected[i] << "\n  ours:   " << actual[i];
    }
    EXPECT_EQ(differences, 0);
}

TEST(LuaPatterns, CatastrophicBacktrackingIsStoppedByTheBudget) {
    LuaBox box;
    auto s = box.load("kb.on('x.y', function(e) e.payload.r = ('a'):rep(400):find(('a*'):rep(3) .. 'b') end)");
    const auto t0 = std::chrono::steady_clock::now();
    try {
        (void)s->runSync(event("x.y"));
        FAIL() << "not stopped";
    } catch (const LuaError& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Timeout) << e.what();
        EXPECT_NE(e.message().find("pattern matching"), std::string::npos) << e.what();
        EXPECT_EQ(e.line(), 1);
    }
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
}

TEST(LuaPatterns, PatternTimeCountsAgainstTheDeadlineToo) {
    LuaBox box;
    box.limits.instructions = 1'000'000'000'000;  // only the wall clock can stop it
    box.limits.time = std::chrono::milliseconds(100);
    auto s = box.load("kb.on('x.y', function(e) local s = ('a'):rep(3000) e.payload.r = s:find('a-a-a-a-b') end)");
    const auto t0 = std::chrono::steady_clock::now();
    try {
        (void)s->runSync(event("x.y"));
        FAIL() << "not stopped";
    } catch (const LuaError& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Timeout) << e.what();
        EXPECT_NE(e.message().find("time limit of 100 ms"), std::string::npos) << e.what();
    }
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_LT(took, std::chrono::milliseconds(400)) << "stopped close to the deadline";
}

TEST(LuaPatterns, GsubCallbacksRunUnderTheBudget) {
    LuaBox box;
    auto s = box.load("kb.on('x.y', function(e) string.gsub('abc', '.', function() while true do end end) end)");
    try {
        (void)s->runSync(event("x.y"));
        FAIL() << "not stopped";
    } catch (const LuaError& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Timeout);
    }
}

TEST(LuaPatterns, SubjectAndPatternSizesAreCapped) {
    LuaBox box;
    auto e = box.loadError("local s = ('x'):rep(300 * 1024) string.find(s, 'y')");
    EXPECT_EQ(e.kind(), ErrorKind::Sandbox);
    EXPECT_NE(e.message().find("string.find: the subject (307200 bytes) is longer than the limit of 262144 bytes"), std::string::npos)
        << e.what();
    e = box.loadError("string.match('x', ('a'):rep(5000))");
    EXPECT_EQ(e.kind(), ErrorKind::Sandbox);
    e = box.loadError("local s = ('x'):rep(300 * 1024) s:gsub('x', 'y')");
    EXPECT_EQ(e.kind(), ErrorKind::Sandbox) << "method calls on strings reach the guarded functions too";
    e = box.loadError("for w in (('x'):rep(300 * 1024)):gmatch('x') do end");
    EXPECT_EQ(e.kind(), ErrorKind::Sandbox);
}

TEST(LuaPatterns, LegitimateUseOnLargeTextStaysWithinBudget) {
    LuaBox box;
    box.limits = relaxedClockLimits();  // the instruction and memory budgets are the subject
    auto s = box.load(R"(
local words = {}
for i = 1, 20000 do words[i] = "ord" .. i end
local text = table.concat(words, " ")
local n = 0
for w in text:gmatch("%a+%d+") do n = n + 1 end
local trimmed = ("   hej   "):match("^%s*(.-)%s*$")
local replaced, count = text:gsub("ord", "w")
result = n .. " " .. trimmed .. " " .. count .. " " .. #replaced
)");
    EXPECT_EQ(box.global(*s, "result"), "20000 hej 20000 128893");
}
