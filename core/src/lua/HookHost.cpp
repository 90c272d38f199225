#include "lua/HookHost.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <lua.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace klinikbox::lua {

namespace {
constexpr int kMaxDepth = 32;

Phase phaseOf(const std::string& s) {
    if (s == "validate") return Phase::Validate;
    if (s == "finalize") return Phase::Finalize;
    return Phase::Decide;
}

std::vector<std::string> stringList(lua_State* L, int idx, const char* field) {
    std::vector<std::string> out;
    if (lua_getfield(L, idx, field) == LUA_TTABLE) {
        const auto n = lua_rawlen(L, -1);
        for (lua_Integer i = 1; i <= static_cast<lua_Integer>(n); ++i) {
            lua_rawgeti(L, -1, i);
            if (const char* s = lua_tostring(L, -1)) out.push_back(std::string("lua:") + s);
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    return out;
}
}  // namespace

void pushJson(lua_State* L, const Poco::Dynamic::Var& v, int depth) {
    if (depth > kMaxDepth) {
        lua_pushnil(L);
        return;
    }
    if (v.isEmpty()) {
        lua_pushnil(L);
    } else if (v.type() == typeid(Poco::JSON::Object::Ptr)) {
        auto o = v.extract<Poco::JSON::Object::Ptr>();
        lua_createtable(L, 0, static_cast<int>(o->size()));
        for (const auto& [k, val] : *o) {
            pushJson(L, val, depth + 1);
            lua_setfield(L, -2, k.c_str());
        }
    } else if (v.type() == typeid(Poco::JSON::Array::Ptr)) {
        auto a = v.extract<Poco::JSON::Array::Ptr>();
        lua_createtable(L, static_cast<int>(a->size()), 0);
        for (unsigned i = 0; i < a->size(); ++i) {
            pushJson(L, a->get(i), depth + 1);
            lua_rawseti(L, -2, static_cast<lua_Integer>(i) + 1);
        }
    } else if (v.isBoolean()) {
        lua_pushboolean(L, v.convert<bool>());
    } else if (v.isInteger()) {
        lua_pushinteger(L, v.convert<lua_Integer>());
    } else if (v.isNumeric()) {
        lua_pushnumber(L, v.convert<double>());
    } else {
        const std::string s = v.convert<std::string>();
        lua_pushlstring(L, s.data(), s.size());
    }
}

Poco::Dynamic::Var toJson(lua_State* L, int idx, int depth) {
    idx = lua_absindex(L, idx);
    switch (lua_type(L, idx)) {
        case LUA_TBOOLEAN: return static_cast<bool>(lua_toboolean(L, idx));
        case LUA_TNUMBER:
            if (lua_isinteger(L, idx)) return static_cast<Poco::Int64>(lua_tointeger(L, idx));
            return lua_tonumber(L, idx);
        case LUA_TSTRING: {
            size_t n = 0;
            const char* s = lua_tolstring(L, idx, &n);
            return std::string(s, n);
        }
        case LUA_TTABLE: {
            if (depth > kMaxDepth) throw std::runtime_error("the payload is nested too deeply");
            const auto n = lua_rawlen(L, idx);
            if (n > 0) {
                Poco::JSON::Array::Ptr a = new Poco::JSON::Array;
                for (lua_Integer i = 1; i <= static_cast<lua_Integer>(n); ++i) {
                    lua_rawgeti(L, idx, i);
                    a->add(toJson(L, -1, depth + 1));
                    lua_pop(L, 1);
                }
                return a;
            }
            Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
            lua_pushnil(L);
            while (lua_next(L, idx) != 0) {
                if (lua_type(L, -2) == LUA_TSTRING) o->set(lua_tostring(L, -2), toJson(L, -1, depth + 1));
                lua_pop(L, 1);
            }
            return o;
        }
        default:
            return Poco::Dynamic::Var();
    }
}

HookHost::HookHost(EventBus& bus, const Clock& clock, Limits limits, Sandbox::LogSink log)
    : bus_(bus), clock_(clock), limits_(limits), log_(std::move(log)) {}

bool HookHost::load(const std::string& file, const std::string& source) {
    auto s = std::make_shared<Script>();
    s->state.file = file;
    try {
        s->sandbox = std::make_unique<Sandbox>(file, limits_, clock_, log_);
        s->sandbox->run(source);
    } catch (const LuaError& e) {
        s->state.error = e.what();
        std::lock_guard lock(mu_);
        scripts_[file] = s;
        return false;
    }
    lua_State* L = s->sandbox->state();
    lua_getfield(L, LUA_REGISTRYINDEX, "kb.hooks");
    const auto n = lua_rawlen(L, -1);
    struct Reg {
        std::string event;
        HookSpec spec;
        int ref;
    };
    std::vector<Reg> regs;
    for (lua_Integer i = 1; i <= static_cast<lua_Integer>(n); ++i) {
        lua_rawgeti(L, -1, i);
        Reg r;
        lua_getfield(L, -1, "event");
        r.event = lua_tostring(L, -1);
        lua_pop(L, 1);
        r.spec.name = "lua:" + file;
        r.spec.budget = limits_.time + std::chrono::milliseconds(50);
        if (lua_getfield(L, -1, "options") == LUA_TTABLE) {
            if (lua_getfield(L, -1, "phase") == LUA_TSTRING) r.spec.phase = phaseOf(lua_tostring(L, -1));
            lua_pop(L, 1);
            r.spec.after = stringList(L, lua_gettop(L), "after");
            r.spec.before = stringList(L, lua_gettop(L), "before");
        }
        lua_pop(L, 1);
        lua_getfield(L, -1, "fn");
        r.ref = luaL_ref(L, LUA_REGISTRYINDEX);
        lua_pop(L, 1);
        regs.push_back(std::move(r));
    }
    lua_pop(L, 1);
    lua_pushnil(L);  // no registrations after load
    lua_setfield(L, LUA_REGISTRYINDEX, "kb.hooks");
    s->state.loaded = true;
    for (auto& r : regs) {
        s->state.events.push_back(r.event);
        std::weak_ptr<Script> weak = s;
        const int ref = r.ref;
        bus_.hook(r.event, r.spec, [this, weak, ref](Event& e) {
            auto script = weak.lock();
            if (!script) return;
            runHook(*script, ref, e);
        });
    }
    std::lock_guard lock(mu_);
    scripts_[file] = s;
    return true;
}

void HookHost::runHook(Script& s, int ref, Event& event) {
    std::lock_guard lock(s.mu);
    lua_State* L = s.sandbox->state();
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    lua_createtable(L, 0, 3);
    lua_pushstring(L, event.name.c_str());
    lua_setfield(L, -2, "name");
    pushJson(L, event.payload ? Poco::Dynamic::Var(event.payload) : Poco::Dynamic::Var(Poco::JSON::Object::Ptr(new Poco::JSON::Object)));
    lua_setfield(L, -2, "payload");
    lua_pushvalue(L, -1);
    const int eventRef = luaL_ref(L, LUA_REGISTRYINDEX);
    try {
        s.sandbox->call(1, 0, event.name);
    } catch (const LuaError& e) {
        luaL_unref(L, LUA_REGISTRYINDEX, eventRef);
        const std::string msg = e.what();
        if (!msg.empty() && msg[0] == '\x01') throw Veto(msg.substr(1));
        s.state.error = msg;
        throw std::runtime_error(msg);
    }
    // The hook returned normally: its changes to event.payload apply.
    lua_rawgeti(L, LUA_REGISTRYINDEX, eventRef);
    luaL_unref(L, LUA_REGISTRYINDEX, eventRef);
    lua_getfield(L, -1, "payload");
    auto v = toJson(L, -1);
    lua_pop(L, 2);
    if (v.type() == typeid(Poco::JSON::Object::Ptr)) event.payload = v.extract<Poco::JSON::Object::Ptr>();
}

void HookHost::loadDirectory(const std::string& dir) {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(dir))
        if (e.is_regular_file() && e.path().extension() == ".lua") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
        std::ifstream in(f, std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        load(f.filename().string(), ss.str());
    }
}

std::vector<ScriptState> HookHost::scripts() const {
    std::lock_guard lock(mu_);
    std::vector<ScriptState> out;
    for (const auto& [k, s] : scripts_) {
        std::lock_guard scriptLock(s->mu);
        out.push_back(s->state);
    }
    return out;
}

}  // namespace klinikbox::lua
