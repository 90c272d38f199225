#include "lua/ValueTree.h"

#include <Poco/JSON/Array.h>

#include <lua.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace klinikbox::lua {

namespace {

constexpr int kMaxDepth = 32;
const char kArrayMetatableKey = 0;  // its address keys the marker metatable in the registry

}  // namespace

void appendVar(ValueTree& out, const Poco::Dynamic::Var& v, std::size_t maxNodes, const std::string& key, int depth) {
    if (depth > kMaxDepth) throw std::length_error("the value is nested more than 32 levels deep");
    if (out.size() >= maxNodes) throw std::length_error("the value has more than " + std::to_string(maxNodes) + " parts");
    const std::size_t self = out.size();
    out.emplace_back();
    out[self].key = key;
    using T = ValueNode::Type;
    if (v.isEmpty()) {
        out[self].type = T::Null;
    } else if (v.type() == typeid(Poco::JSON::Object::Ptr) || v.type() == typeid(Poco::JSON::Object)) {
        const Poco::JSON::Object* o = nullptr;
        Poco::JSON::Object::Ptr holder;
        if (v.type() == typeid(Poco::JSON::Object::Ptr)) {
            holder = v.extract<Poco::JSON::Object::Ptr>();
            o = holder.get();
        } else {
            o = &v.extract<Poco::JSON::Object>();
        }
        out[self].type = T::Object;
        if (!o) {
            out[self].type = T::Null;
            return;
        }
        std::size_t n = 0;
        for (const auto& [k, val] : *o) {
            appendVar(out, val, maxNodes, k, depth + 1);
            ++n;
        }
        out[self].children = n;
    } else if (v.type() == typeid(Poco::JSON::Array::Ptr) || v.type() == typeid(Poco::JSON::Array)) {
        const Poco::JSON::Array* a = nullptr;
        Poco::JSON::Array::Ptr holder;
        if (v.type() == typeid(Poco::JSON::Array::Ptr)) {
            holder = v.extract<Poco::JSON::Array::Ptr>();
            a = holder.get();
        } else {
            a = &v.extract<Poco::JSON::Array>();
        }
        out[self].type = T::Array;
        if (!a) {
            out[self].type = T::Null;
            return;
        }
        for (std::size_t i = 0; i < a->size(); ++i) appendVar(out, a->get(static_cast<unsigned>(i)), maxNodes, {}, depth + 1);
        out[self].children = a->size();
    } else if (v.isBoolean()) {
        out[self].type = T::Bool;
        out[self].boolean = v.convert<bool>();
    } else if (v.isInteger()) {
        if (!v.isSigned() && v.convert<Poco::UInt64>() > static_cast<Poco::UInt64>(std::numeric_limits<long long>::max())) {
            out[self].type = T::Float;
            out[self].number = static_cast<double>(v.convert<Poco::UInt64>());
        } else {
            out[self].type = T::Int;
            out[self].integer = v.convert<Poco::Int64>();
        }
    } else if (v.isNumeric()) {
        out[self].type = T::Float;
        out[self].number = v.convert<double>();
    } else {
        out[self].type = T::String;
        out[self].text = v.convert<std::string>();
    }
}

Poco::Dynamic::Var toVar(const ValueTree& t, std::size_t& pos) {
    const ValueNode& n = t.at(pos++);
    using T = ValueNode::Type;
    switch (n.type) {
        case T::Null: return Poco::Dynamic::Var();
        case T::Bool: return n.boolean;
        case T::Int: return static_cast<Poco::Int64>(n.integer);
        case T::Float: return n.number;
        case T::String: return n.text;
        case T::Array: {
            Poco::JSON::Array::Ptr a = new Poco::JSON::Array;
            for (std::size_t i = 0; i < n.children; ++i) a->add(toVar(t, pos));
            return a;
        }
        case T::Object: {
            Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
            for (std::size_t i = 0; i < n.children; ++i) {
                const std::string& k = t.at(pos).key;
                o->set(k, toVar(t, pos));
            }
            return o;
        }
    }
    return Poco::Dynamic::Var();
}

void restoreNulls(const Poco::JSON::Object::Ptr& before, Poco::JSON::Object::Ptr after) {
    if (!before || !after) return;
    for (const auto& [k, v] : *before) {
        if (v.isEmpty()) {
            if (!after->has(k)) after->set(k, Poco::Dynamic::Var());
        } else if (v.type() == typeid(Poco::JSON::Object::Ptr) && after->has(k) && after->isObject(k)) {
            restoreNulls(v.extract<Poco::JSON::Object::Ptr>(), after->getObject(k));
        }
    }
}

// ---- Lua side. Only plain data lives in these frames: a Lua error may longjmp out. ----

void registerArrayMetatable(lua_State* L) {
    lua_createtable(L, 0, 2);
    lua_pushliteral(L, "kb.array");
    lua_setfield(L, -2, "__metatable");  // getmetatable() shows this string; setmetatable() refuses
    lua_pushliteral(L, "kb.array");
    lua_setfield(L, -2, "__name");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &kArrayMetatableKey);
}

void markArray(lua_State* L, int idx) {
    idx = lua_absindex(L, idx);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &kArrayMetatableKey);
    lua_setmetatable(L, idx);
}

namespace {

void pushNode(lua_State* L, const ValueTree& t, std::size_t& pos, int depth) {
    luaL_checkstack(L, 3, "value nested too deeply");
    const ValueNode& n = t[pos++];
    using T = ValueNode::Type;
    switch (n.type) {
        case T::Null: lua_pushnil(L); break;
        case T::Bool: lua_pushboolean(L, n.boolean); break;
        case T::Int: lua_pushinteger(L, n.integer); break;
        case T::Float: lua_pushnumber(L, n.number); break;
        case T::String: lua_pushlstring(L, n.text.data(), n.text.size()); break;
        case T::Array: {
            const int count = static_cast<int>(n.children);
            lua_createtable(L, count, 0);
            markArray(L, -1);
            for (int i = 1; i <= count; ++i) {
                pushNode(L, t, pos, depth + 1);
                lua_rawseti(L, -2, i);
            }
            break;
        }
        case T::Object: {
            lua_createtable(L, 0, static_cast<int>(n.children));
            for (std::size_t i = 0; i < n.children; ++i) {
                const ValueNode& member = t[pos];
                lua_pushlstring(L, member.key.data(), member.key.size());
                pushNode(L, t, pos, depth + 1);
                lua_rawset(L, -3);
            }
            break;
        }
    }
}

// A path like payload.visits[2].form for error messages, in a fixed buffer.
struct Path {
    char text[160];
    std::size_t len;
};

void pathPush(Path& p, const char* piece, std::size_t n) {
    const std::size_t room = sizeof p.text - 1 - p.len;
    if (n > room) n = room;
    std::memcpy(p.text + p.len, piece, n);
    p.len += n;
    p.text[p.len] = '\0';
}

[[noreturn]] void fail(lua_State* L, const Path& p, const char* why) {
    luaL_error(L, "%s cannot be converted to JSON: %s", p.text, why);
    std::abort();  // not reached: luaL_error does not return
}

bool addNode(ValueTree& out, ValueNode::Type type, const char* key, std::size_t keylen) noexcept {
    try {
        out.emplace_back();
        out.back().type = type;
        if (key) out.back().key.assign(key, keylen);
        return true;
    } catch (...) {
        return false;
    }
}

bool setText(ValueTree& out, std::size_t i, const char* s, std::size_t n) noexcept {
    try {
        out[i].text.assign(s, n);
        return true;
    } catch (...) {
        return false;
    }
}

bool isMarkedArray(lua_State* L, int idx) {
    if (!lua_getmetatable(L, idx)) return false;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &kArrayMetatableKey);
    const bool marked = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return marked;
}

void readNode(lua_State* L, int idx, ValueTree& out, std::size_t maxNodes, Path& path, const char* key,
              std::size_t keylen, int depth) {
    idx = lua_absindex(L, idx);
    if (out.size() >= maxNodes) fail(L, path, "it has too many parts");
    luaL_checkstack(L, 4, "value nested too deeply");
    using T = ValueNode::Type;
    const std::size_t self = out.size();
    switch (lua_type(L, idx)) {
        case LUA_TNIL:
            if (!addNode(out, T::Null, key, keylen)) fail(L, path, "out of memory");
            return;
        case LUA_TBOOLEAN:
            if (!addNode(out, T::Bool, key, keylen)) fail(L, path, "out of memory");
            out[self].boolean = lua_toboolean(L, idx) != 0;
            return;
        case LUA_TNUMBER:
            if (lua_isinteger(L, idx)) {
                if (!addNode(out, T::Int, key, keylen)) fail(L, path, "out of memory");
                out[self].integer = lua_tointeger(L, idx);
            } else {
                const double d = lua_tonumber(L, idx);
                if (!std::isfinite(d)) fail(L, path, "JSON has no infinity or NaN");
                if (!addNode(out, T::Float, key, keylen)) fail(L, path, "out of memory");
                out[self].number = d;
            }
            return;
        case LUA_TSTRING: {
            std::size_t n = 0;
            const char* s = lua_tolstring(L, idx, &n);
            if (!addNode(out, T::String, key, keylen) || !setText(out, self, s, n)) fail(L, path, "out of memory");
            return;
        }
        case LUA_TTABLE: break;
        default: {
            char why[64];
            std::snprintf(why, sizeof why, "a %s has no JSON form", lua_typename(L, lua_type(L, idx)));
            fail(L, path, why);
        }
    }
    if (depth >= kMaxDepth) fail(L, path, "it is nested more than 32 levels deep (a table that contains itself?)");
    // Classify: all keys positive integers -> array; all keys strings -> object.
    lua_Integer maxIndex = 0;
    std::size_t count = 0, named = 0;
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        ++count;
        if (lua_type(L, -2) == LUA_TSTRING) {
            ++named;
        } else if (lua_isinteger(L, -2) && lua_tointeger(L, -2) > 0) {
            if (lua_tointeger(L, -2) > maxIndex) maxIndex = lua_tointeger(L, -2);
        } else {
            lua_pop(L, 2);
            fail(L, path, "its keys must be strings, or 1, 2, 3 ... for a list");
        }
        lua_pop(L, 1);
    }
    const bool marked = isMarkedArray(L, idx);
    if (named > 0 && named < count) fail(L, path, "a table cannot mix list items and named fields");
    if (named == 0 && (count > 0 || marked)) {
        if (static_cast<std::size_t>(maxIndex) > maxNodes) fail(L, path, "its list is too long");
        if (!addNode(out, T::Array, key, keylen)) fail(L, path, "out of memory");
        const std::size_t before = path.len;
        for (lua_Integer i = 1; i <= maxIndex; ++i) {
            char piece[32];
            const int n = std::snprintf(piece, sizeof piece, "[%lld]", static_cast<long long>(i));
            pathPush(path, piece, static_cast<std::size_t>(n));
            lua_rawgeti(L, idx, i);
            readNode(L, -1, out, maxNodes, path, nullptr, 0, depth + 1);
            lua_pop(L, 1);
            path.len = before;
            path.text[before] = '\0';
        }
        out[self].children = static_cast<std::size_t>(maxIndex);
        return;
    }
    if (!addNode(out, T::Object, key, keylen)) fail(L, path, "out of memory");
    const std::size_t before = path.len;
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        std::size_t klen = 0;
        const char* k = lua_tolstring(L, -2, &klen);  // a string key: no conversion, next() stays valid
        pathPush(path, ".", 1);
        pathPush(path, k, klen);
        readNode(L, -1, out, maxNodes, path, k, klen, depth + 1);
        path.len = before;
        path.text[before] = '\0';
        lua_pop(L, 1);
    }
    out[self].children = count;
}

}  // namespace

void pushTree(lua_State* L, const ValueTree& t, std::size_t& pos) {
    if (pos >= t.size()) {
        lua_pushnil(L);
        return;
    }
    pushNode(L, t, pos, 0);
}

void readValue(lua_State* L, int idx, ValueTree& out, std::size_t maxNodes, const char* what) {
    Path path{};
    pathPush(path, what, std::strlen(what));
    readNode(L, idx, out, maxNodes, path, nullptr, 0, 0);
}

}  // namespace klinikbox::lua
