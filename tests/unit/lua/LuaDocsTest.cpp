// The Lua documentation cannot drift from the runtime: every function of the kb table, as a
// script sees it in each mode (hook script, Lua plugin, `klinikbox lua test`), must be
// documented in docs/lua-api.md and declared in docs/lua/klinikbox.d.lua, and neither file
// may name a kb function the runtime does not have. klinikbox.d.lua must load as Lua.
#include "LuaFixture.h"
#include "PluginFakes.h"

#include "TempDir.h"

#include <fstream>
#include <regex>
#include <set>

using namespace kbtest;

namespace {

const std::string kApiDoc = std::string(KB_SOURCE_DIR) + "/docs/lua-api.md";
const std::string kDefinitions = std::string(KB_SOURCE_DIR) + "/docs/lua/klinikbox.d.lua";

std::string readDoc(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in) << "cannot read " << path;
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Walks kb recursively at the script's top level and leaves the sorted function names
// ("kb.pnr.parse", ...) in the global `result`, one per line.
const char* const kEnumerate = R"lua(
local names = {}
local function walk(t, prefix, depth)
  for k, v in pairs(t) do
    local name = prefix .. "." .. tostring(k)
    if type(v) == "function" then
      names[#names + 1] = name
    elseif type(v) == "table" and depth < 5 then
      walk(v, name, depth + 1)
    end
  end
end
walk(kb, "kb", 0)
table.sort(names)
result = table.concat(names, "\n")
)lua";

std::set<std::string> docLines(const std::string& text) {
    std::set<std::string> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);)
        if (!l.empty()) out.insert(l);
    return out;
}

std::set<std::string> kbFunctions(LuaBox& box, ScriptInstance& s) { return docLines(box.global(s, "result")); }

// The kb functions a script sees in each mode, by mode name.
std::map<std::string, std::set<std::string>> functionsByMode() {
    std::map<std::string, std::set<std::string>> out;
    LuaBox box;
    {
        auto s = box.load(kEnumerate, "docs.lua", ScriptMode::Hook);
        out["hook"] = kbFunctions(box, *s);
    }
    {
        auto s = box.load(kEnumerate, "docs.lua", ScriptMode::Test);
        out["test"] = kbFunctions(box, *s);
    }
    {
        TempDir dir;
        FakeContext ctx("docs", dir.file("box.db"), box.clock);
        ScriptInstance s("docs/main.lua", kEnumerate, ScriptMode::Plugin, box.limits, box.services, &ctx);
        out["plugin"] = kbFunctions(box, s);
    }
    return out;
}

std::set<std::string> allFunctions() {
    std::set<std::string> all;
    for (const auto& [mode, names] : functionsByMode()) all.insert(names.begin(), names.end());
    return all;
}

bool identifierChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
}

// `needle` occurs in `text` not followed by a further name character ("`kb.pnr.parse" in
// "`kb.pnr.parse(text)`", but "`kb.db" not in "`kb.db.query").
bool mentions(const std::string& text, const std::string& needle) {
    for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) {
        const auto end = pos + needle.size();
        if (end >= text.size() || !identifierChar(text[end])) return true;
    }
    return false;
}

// Every "kb.a.b(" or "kb.a{" call named in `text`.
std::set<std::string> namedCalls(const std::string& text, const std::regex& re) {
    std::set<std::string> out;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it)
        out.insert((*it)[1].str());
    return out;
}

}  // namespace

TEST(LuaDocs, TheKbTableIsFoundInEveryMode) {
    const auto modes = functionsByMode();
    ASSERT_EQ(modes.size(), 3u);
    for (const auto& [mode, names] : modes) {
        // The walk works: a sample from every part of the API is there.
        for (const char* f : {"kb.on", "kb.send", "kb.log.info", "kb.pnr.parse", "kb.money.format", "kb.db.transaction",
                              "kb.events.publish", "kb.fire", "kb.assert_eq"})
            EXPECT_TRUE(names.count(f)) << f << " missing in mode " << mode;
        EXPECT_GE(names.size(), 30u) << mode;
    }
}

TEST(LuaDocs, EveryKbFunctionIsDocumentedInLuaApiMd) {
    const std::string doc = readDoc(kApiDoc);
    ASSERT_FALSE(doc.empty());
    const auto all = allFunctions();
    ASSERT_FALSE(all.empty());
    for (const auto& name : all)
        EXPECT_TRUE(mentions(doc, "`" + name)) << name << " is not documented in docs/lua-api.md (write it as `" << name
                                               << "(...)` in the API table)";
}

TEST(LuaDocs, EveryKbFunctionIsDeclaredInKlinikboxDLua) {
    const std::string defs = readDoc(kDefinitions);
    ASSERT_FALSE(defs.empty());
    const auto all = allFunctions();
    for (const auto& name : all)
        EXPECT_NE(defs.find("function " + name + "("), std::string::npos)
            << name << " is not declared in docs/lua/klinikbox.d.lua (add `function " << name << "(...) end` with annotations)";
}

TEST(LuaDocs, TheDocsNameNoKbFunctionTheRuntimeLacks) {
    const auto all = allFunctions();
    const std::regex call(R"(\b(kb(?:\.[a-z_]+)+)\s*[({])");
    for (const auto& name : namedCalls(readDoc(kApiDoc), call))
        EXPECT_TRUE(all.count(name)) << "docs/lua-api.md calls " << name << ", which the runtime does not have";
    const std::regex declared(R"(\bfunction\s+(kb(?:\.[a-z_]+)+)\s*\()");
    for (const auto& name : namedCalls(readDoc(kDefinitions), declared))
        EXPECT_TRUE(all.count(name)) << "docs/lua/klinikbox.d.lua declares " << name << ", which the runtime does not have";
}

TEST(LuaDocs, KlinikboxDLuaLoadsAndDefinesEveryFunction) {
    const std::string defs = readDoc(kDefinitions);
    lua_State* L = luaL_newstate();
    ASSERT_NE(L, nullptr);
    luaL_openlibs(L);
    // It compiles as a Lua chunk (text)...
    const int st = luaL_loadbufferx(L, defs.data(), defs.size(), "=klinikbox.d.lua", "t");
    ASSERT_EQ(st, LUA_OK) << (lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
    // ...and running it defines every kb function of the runtime as a function.
    ASSERT_EQ(lua_pcall(L, 0, 0, 0), LUA_OK) << (lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
    for (const auto& name : allFunctions()) {
        lua_pushglobaltable(L);
        std::size_t from = 0;
        bool found = true;
        while (found) {
            const auto dot = name.find('.', from);
            const std::string part = name.substr(from, dot == std::string::npos ? std::string::npos : dot - from);
            found = lua_type(L, -1) == LUA_TTABLE;
            if (found) lua_getfield(L, -1, part.c_str());
            if (dot == std::string::npos) break;
            from = dot + 1;
        }
        EXPECT_TRUE(found && lua_type(L, -1) == LUA_TFUNCTION) << name << " is not a function after running klinikbox.d.lua";
        lua_settop(L, 0);
    }
    lua_close(L);
}
