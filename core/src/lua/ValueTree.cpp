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

namespace {

// Where converted nodes go: appended to a tree (appendVar) or written over the nodes a
// reused tree already has (fillTree). `add` returns the new node's index.
struct AppendSink {
    ValueTree& t;
    std::size_t size() const { return t.size(); }
    std::size_t add(const std::string& key) {
        t.emplace_back();
        t.back().key = key;
        return t.size() - 1;
    }
};

struct ReuseSink {
    ValueTree& t;
    std::size_t used = 0;
    std::size_t size() const { return used; }
    std::size_t add(const std::string& key) {
        if (used == t.size()) t.emplace_back();
        ValueNode& n = t[used];
        n.type = ValueNode::Type::Null;
        n.boolean = false;
        n.integer = 0;
        n.number = 0;
        n.text.clear();
        n.key.assign(key);
        n.children = 0;
        return used++;
    }
};

template <class Sink>
void appendTo(Sink& out, const Poco::Dynamic::Var& v, std::size_t maxNodes, const std::string& key, int depth);

template <class Sink>
void appendMembers(Sink& out, const Poco::JSON::Object& o, std::size_t self, std::size_t maxNodes, int depth) {
    out.t[self].type = ValueNode::Type::Object;
    std::size_t n = 0;
    for (const auto& [k, val] : o) {
        appendTo(out, val, maxNodes, k, depth + 1);
        ++n;
    }
    out.t[self].children = n;
}

template <class Sink>
void appendTo(Sink& out, const Poco::Dynamic::Var& v, std::size_t maxNodes, const std::string& key, int depth) {
    if (depth > kMaxDepth) throw std::length_error("the value is nested more than 32 levels deep");
    if (out.size() >= maxNodes) throw std::length_error("the value has more than " + std::to_string(maxNodes) + " parts");
    const std::size_t self = out.add(key);
    ValueTree& t = out.t;
    using T = ValueNode::Type;
    // The common cases first, without Var's conversions (which build strings).
    if (v.type() == typeid(std::string)) {
        t[self].type = T::String;
        t[self].text.assign(v.extract<std::string>());
    } else if (v.isEmpty()) {
        t[self].type = T::Null;
    } else if (v.type() == typeid(Poco::JSON::Object::Ptr) || v.type() == typeid(Poco::JSON::Object)) {
        const Poco::JSON::Object* o = nullptr;
        if (v.type() == typeid(Poco::JSON::Object::Ptr)) o = v.extract<Poco::JSON::Object::Ptr>().get();
        else o = &v.extract<Poco::JSON::Object>();
        if (!o) return;  // a null Ptr: JSON null
        appendMembers(out, *o, self, maxNodes, depth);
    } else if (v.type() == typeid(Poco::JSON::Array::Ptr) || v.type() == typeid(Poco::JSON::Array)) {
        const Poco::JSON::Array* a = nullptr;
        if (v.type() == typeid(Poco::JSON::Array::Ptr)) a = v.extract<Poco::JSON::Array::Ptr>().get();
        else a = &v.extract<Poco::JSON::Array>();
        if (!a) return;
        t[self].type = T::Array;
        static const std::string noKey;
        for (const auto& item : *a) appendTo(out, item, maxNodes, noKey, depth + 1);
        t[self].children = a->size();
    } else if (v.isBoolean()) {
        t[self].type = T::Bool;
        t[self].boolean = v.convert<bool>();
    } else if (v.isInteger()) {
        if (!v.isSigned() && v.convert<Poco::UInt64>() > static_cast<Poco::UInt64>(std::numeric_limits<long long>::max())) {
            t[self].type = T::Float;
            t[self].number = static_cast<double>(v.convert<Poco::UInt64>());
        } else {
            t[self].type = T::Int;
            t[self].integer = v.convert<Poco::Int64>();
        }
    } else if (v.isNumeric()) {
        t[self].type = T::Float;
        t[self].number = v.convert<double>();
    } else {
        t[self].type = T::String;
        t[self].text = v.convert<std::string>();
    }
}

}  // namespace

void appendVar(ValueTree& out, const Poco::Dynamic::Var& v, std::size_t maxNodes, const std::string& key, int depth) {
    AppendSink sink{out};
    appendTo(sink, v, maxNodes, key, depth);
}

std::size_t fillTree(ValueTree& t, const Poco::Dynamic::Var& v, std::size_t maxNodes) {
    ReuseSink sink{t};
    static const std::string noKey;
    appendTo(sink, v, maxNodes, noKey, 0);
    return sink.used;
}

std::size_t fillTree(ValueTree& t, const Poco::JSON::Object& o, std::size_t maxNodes) {
    ReuseSink sink{t};
    static const std::string noKey;
    if (maxNodes == 0) throw std::length_error("the value has more than 0 parts");
    appendMembers(sink, o, sink.add(noKey), maxNodes, 0);
    return sink.used;
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

// Counts the entries of the table at `idx` (any keys).
std::size_t entryCount(lua_State* L, int idx) {
    std::size_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        ++n;
        lua_pop(L, 1);
    }
    return n;
}

bool sameNode(lua_State* L, int idx, const ValueTree& t, std::size_t& pos, int depth) {
    using T = ValueNode::Type;
    const ValueNode& n = t[pos++];
    idx = lua_absindex(L, idx);
    switch (n.type) {
        case T::Null: return lua_isnil(L, idx);
        case T::Bool: return lua_type(L, idx) == LUA_TBOOLEAN && (lua_toboolean(L, idx) != 0) == n.boolean;
        case T::Int: return lua_type(L, idx) == LUA_TNUMBER && lua_isinteger(L, idx) && lua_tointeger(L, idx) == n.integer;
        case T::Float: {
            if (lua_type(L, idx) != LUA_TNUMBER || lua_isinteger(L, idx)) return false;
            const double d = lua_tonumber(L, idx);
            return d == n.number && std::signbit(d) == std::signbit(n.number);
        }
        case T::String: {
            if (lua_type(L, idx) != LUA_TSTRING) return false;
            std::size_t len = 0;
            const char* s = lua_tolstring(L, idx, &len);
            return len == n.text.size() && std::memcmp(s, n.text.data(), len) == 0;
        }
        case T::Array:
        case T::Object: break;
    }
    if (lua_type(L, idx) != LUA_TTABLE || depth >= kMaxDepth) return false;
    luaL_checkstack(L, 4, "value nested too deeply");
    const bool marked = isMarkedArray(L, idx);
    if (n.type == T::Array) {
        // readValue gives back exactly n.children items only when the keys are 1..children
        // and none of them is nil; a JSON null inside an array takes the slow path.
        if (n.children == 0 && !marked) return false;
        if (entryCount(L, idx) != n.children) return false;
        for (std::size_t i = 0; i < n.children; ++i) {
            if (t[pos].type == T::Null) return false;
            lua_rawgeti(L, idx, static_cast<lua_Integer>(i + 1));
            const bool same = sameNode(L, -1, t, pos, depth + 1);
            lua_pop(L, 1);
            if (!same) return false;
        }
        return true;
    }
    // An object: every member as it was (a null member absent, as restoreNulls puts it
    // back), and no other keys.
    std::size_t present = 0;
    for (std::size_t i = 0; i < n.children; ++i) {
        const ValueNode& member = t[pos];
        lua_pushlstring(L, member.key.data(), member.key.size());
        lua_rawget(L, idx);
        if (!lua_isnil(L, -1)) ++present;
        const bool same = sameNode(L, -1, t, pos, depth + 1);
        lua_pop(L, 1);
        if (!same) return false;
    }
    if (present == 0 && marked) return false;  // an empty table marked as array comes back as []
    return entryCount(L, idx) == present;
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
    if (lua_getmetatable(L, idx)) {
        lua_pushstring(L, kFillField);
        const int fill = lua_rawget(L, -2);
        if (fill == LUA_TFUNCTION) {
            lua_pushvalue(L, idx);
            lua_call(L, 1, 0);
            lua_pop(L, 1);
        } else {
            lua_pop(L, 2);
        }
    }
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

bool sameAsTree(lua_State* L, int idx, const ValueTree& t, std::size_t pos) {
    if (pos >= t.size()) return false;
    return sameNode(L, idx, t, pos, 0);
}

void readValue(lua_State* L, int idx, ValueTree& out, std::size_t maxNodes, const char* what) {
    Path path{};
    pathPush(path, what, std::strlen(what));
    readNode(L, idx, out, maxNodes, path, nullptr, 0, 0);
}

}  // namespace klinikbox::lua
