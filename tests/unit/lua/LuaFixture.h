// Shared helpers of the Lua runtime tests: a fixed clock, small limits, captured log lines,
// and one-liners to load a script, run a hook and read a value.
#pragma once

#include "lua/ScriptInstance.h"

#include <klinikbox/Clock.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include <gtest/gtest.h>

#include <lua.hpp>

#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

namespace kbtest {

using namespace klinikbox;
using namespace klinikbox::lua;

// 2026-11-22 10:00:00 UTC, a Sunday.
inline std::chrono::system_clock::time_point boxNow() {
    return std::chrono::system_clock::time_point(std::chrono::seconds(1795341600));
}

inline Limits smallLimits() {
    Limits l;
    l.memoryBytes = 8u << 20;
    l.instructions = 5'000'000;
    l.time = std::chrono::milliseconds(300);
    return l;
}

// smallLimits with a wall clock far beyond any load: for tests whose subject is not the clock
// (memory, stack, concurrency), so a busy CI machine or a sanitizer build cannot turn their
// expected outcome into a timeout.
inline Limits relaxedClockLimits() {
    Limits l = smallLimits();
    l.time = std::chrono::seconds(30);
    return l;
}

struct LuaBox {
    FixedClock clock{boxNow()};
    Limits limits = smallLimits();
    std::shared_ptr<ScriptServices> services = std::make_shared<ScriptServices>();
    std::mutex logMu;
    std::vector<std::string> logs;  // "level script: message"

    LuaBox() {
        services->clock = &clock;
        services->log = [this](const std::string& level, const std::string& script, const std::string& m) {
            std::lock_guard lock(logMu);
            logs.push_back(level + " " + script + ": " + m);
        };
    }

    std::unique_ptr<ScriptInstance> load(const std::string& source, const std::string& name = "t.lua",
                                         ScriptMode mode = ScriptMode::Hook) {
        return std::make_unique<ScriptInstance>(name, source, mode, limits, services);
    }

    // The error a script's load raises (fails the test when it loads).
    LuaError loadError(const std::string& source, const std::string& name = "t.lua") {
        try {
            load(source, name);
        } catch (const LuaError& e) {
            return e;
        }
        ADD_FAILURE() << "the script loaded: " << source;
        return LuaError(ErrorKind::Runtime, "", 0, "", "no error");
    }

    // The value of global `result` after loading `source` (tostring'ed by the script).
    std::string global(ScriptInstance& s, const char* name) {
        lua_State* L = s.sandbox().state();
        lua_rawgeti(L, LUA_REGISTRYINDEX, s.context().envRef);
        lua_pushstring(L, name);
        lua_rawget(L, -2);
        std::string v = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : std::string("<") + luaL_typename(L, -1) + ">";
        lua_pop(L, 2);
        return v;
    }

    // tostring(expr) evaluated at a script's top level.
    std::string eval(const std::string& expr) {
        auto s = load("result = tostring(" + expr + ")");
        return global(*s, "result");
    }
};

inline Poco::JSON::Object::Ptr obj(const std::string& json) {
    return Poco::JSON::Parser().parse(json).extract<Poco::JSON::Object::Ptr>();
}

inline std::string str(const Poco::Dynamic::Var& v) {
    std::ostringstream ss;
    Poco::JSON::Stringifier::condense(v, ss);
    return ss.str();
}

inline Event event(const std::string& name, const std::string& payloadJson = "{}") {
    return Event{name, obj(payloadJson), std::nullopt, "req-1"};
}

}  // namespace kbtest
