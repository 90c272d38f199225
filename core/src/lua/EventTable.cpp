#include "lua/EventTable.h"

#include <lua.hpp>

#include <cstdio>
#include <cstring>
#include <exception>

namespace klinikbox::lua {

namespace {

const char kMetaKey = 0;     // its address keys the event tables' metatable in the registry
const char kCurrentKey = 0;  // ... and the running call's event table
const char kPayloadMetaKey = 0;     // the metatable of a payload with lazy members
const char kCurrentPayloadKey = 0;  // ... and the payload table given to the running call

bool isKey(const char* k, std::size_t n, const char* want) {
    return n == std::strlen(want) && std::memcmp(k, want, n) == 0;
}

// Runs `fill` (C++ that fills a ValueTree) and turns what it throws into `why`: no Lua call
// while C++ objects are alive, so the caller raises the Lua error afterwards.
template <class Fill>
bool convert(Fill&& fill, char* why, std::size_t whySize) noexcept {
    try {
        fill();
        return true;
    } catch (const std::exception& e) {
        std::snprintf(why, whySize, "%s", e.what());
    } catch (...) {
        std::snprintf(why, whySize, "unknown error");
    }
    return false;
}

void pushString(lua_State* L, const std::string& s) { lua_pushlstring(L, s.data(), s.size()); }

// Stores the value on top of the stack as t[key] (raw), leaving it on top.
void keepAs(lua_State* L, int t, const char* key, std::size_t n) {
    lua_pushlstring(L, key, n);
    lua_pushvalue(L, -2);
    lua_rawset(L, t);
}

// Sets field `name` of the table on top of the stack to `fn`, with `self` as its upvalue.
void setClosure(lua_State* L, void* self, lua_CFunction fn, const char* name) {
    lua_pushlightuserdata(L, self);
    lua_pushcclosure(L, fn, 1);
    lua_setfield(L, -2, name);
}

// next(t, k) for __pairs: the raw traversal.
int rawNext(lua_State* L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 2);
    if (lua_next(L, 1)) return 2;
    lua_pushnil(L);
    return 1;
}

}  // namespace

EventTable& EventTable::self(lua_State* L) { return *static_cast<EventTable*>(lua_touserdata(L, lua_upvalueindex(1))); }

void EventTable::install(lua_State* L) {
    lua_createtable(L, 0, 5);
    setClosure(L, this, index, "__index");
    setClosure(L, this, newindex, "__newindex");
    setClosure(L, this, pairs, "__pairs");
    // readValue (kb.json.encode(event), kb.send(..., event)) fills the table first.
    setClosure(L, this, pairs, kFillField);
    lua_pushliteral(L, "kb.event");
    lua_setfield(L, -2, "__metatable");  // protected: setmetatable(event, ...) is refused
    lua_rawsetp(L, LUA_REGISTRYINDEX, &kMetaKey);

    lua_createtable(L, 0, 4);
    setClosure(L, this, payloadIndex, "__index");
    setClosure(L, this, payloadFill, "__pairs");
    setClosure(L, this, payloadFill, kFillField);
    lua_pushliteral(L, "kb.payload");
    lua_setfield(L, -2, "__metatable");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &kPayloadMetaKey);
}

void EventTable::push(lua_State* L) {
    luaL_checkstack(L, 4, "cannot push the event");
    lua_createtable(L, 0, 4);
    pushString(L, event_->name);
    lua_setfield(L, -2, "name");
    pushString(L, event_->requestId);
    lua_setfield(L, -2, "request_id");
    lua_rawgetp(L, LUA_REGISTRYINDEX, &kMetaKey);
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &kCurrentKey);
}

bool EventTable::current(lua_State* L, int t) const {
    if (!event_) return false;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &kCurrentKey);
    const bool same = lua_rawequal(L, t, -1) != 0;
    lua_pop(L, 1);
    return same;
}

void EventTable::givePayload(lua_State* L, int t) {
    char why[200];
    static const Poco::JSON::Object empty;
    const auto fill = [&] { (void)fillTree(payload_, event_->payload ? *event_->payload : empty, maxNodes_); };
    if (!convert(fill, why, sizeof why))
        luaL_error(L, "the event's payload cannot be given to Lua: %s", why);
    given_ = true;
    std::size_t pos = 0;
    pushTree(L, payload_, pos);
    if (!event_->lazy.empty()) {
        lua_rawgetp(L, LUA_REGISTRYINDEX, &kPayloadMetaKey);
        lua_setmetatable(L, -2);
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &kCurrentPayloadKey);
    }
    keepAs(L, t, "payload", 7);
}

bool EventTable::currentPayload(lua_State* L, int t) const {
    if (!event_ || !given_) return false;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &kCurrentPayloadKey);
    const bool same = lua_rawequal(L, t, -1) != 0;
    lua_pop(L, 1);
    return same;
}

void EventTable::giveLazy(lua_State* L, int t, std::size_t i) {
    char why[200];
    if (!convert([&] { (void)fillTree(lazy_, event_->lazy[i].get(), maxNodes_); }, why, sizeof why))
        luaL_error(L, "the event's payload member %s cannot be made: %s", event_->lazy[i].key.c_str(), why);
    lazyGiven_[i] = true;
    std::size_t pos = 0;
    pushTree(L, lazy_, pos);
    keepAs(L, t, event_->lazy[i].key.data(), event_->lazy[i].key.size());
}

int EventTable::payloadIndex(lua_State* L) {
    EventTable& s = self(L);
    if (lua_type(L, 2) != LUA_TSTRING || !s.currentPayload(L, 1)) return 0;
    std::size_t n = 0;
    const char* k = lua_tolstring(L, 2, &n);
    for (std::size_t i = 0; i < s.lazyGiven_.size(); ++i) {
        const std::string& key = s.event_->lazy[i].key;
        if (!s.lazyGiven_[i] && n == key.size() && std::memcmp(k, key.data(), n) == 0) {
            s.giveLazy(L, 1, i);
            return 1;
        }
    }
    return 0;
}

int EventTable::payloadFill(lua_State* L) {
    EventTable& s = self(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    if (!s.readingBack_ && s.currentPayload(L, 1)) {
        for (std::size_t i = 0; i < s.lazyGiven_.size(); ++i) {
            if (s.lazyGiven_[i]) continue;
            pushString(L, s.event_->lazy[i].key);
            const bool present = lua_rawget(L, 1) != LUA_TNIL;  // the script set it itself
            lua_pop(L, 1);
            if (present) {
                s.lazyGiven_[i] = true;
                continue;
            }
            s.giveLazy(L, 1, i);
            lua_pop(L, 1);
        }
    }
    lua_pushcfunction(L, rawNext);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

void pushPrincipal(lua_State* L, const Principal& p) {
    lua_createtable(L, 0, 4);
    pushString(L, p.username);
    lua_setfield(L, -2, "username");
    const std::string_view role = toString(p.role);
    lua_pushlstring(L, role.data(), role.size());
    lua_setfield(L, -2, "role");
    pushString(L, p.hsaId);
    lua_setfield(L, -2, "hsa_id");
    pushString(L, p.careUnit);
    lua_setfield(L, -2, "care_unit");
}

void EventTable::giveUser(lua_State* L, int t) {
    userGiven_ = true;
    if (!event_->principal) {
        lua_pushnil(L);
        return;
    }
    pushPrincipal(L, *event_->principal);
    keepAs(L, t, "user", 4);
}

int EventTable::index(lua_State* L) {
    EventTable& s = self(L);
    if (lua_type(L, 2) != LUA_TSTRING || !s.current(L, 1)) return 0;
    std::size_t n = 0;
    const char* k = lua_tolstring(L, 2, &n);
    if (isKey(k, n, "payload")) {
        if (s.given_ || s.touched_) return 0;  // set to nil by the script
        s.givePayload(L, 1);
        return 1;
    }
    if (isKey(k, n, "user")) {
        if (s.userGiven_) return 0;
        s.giveUser(L, 1);
        return 1;
    }
    return 0;
}

int EventTable::newindex(lua_State* L) {
    EventTable& s = self(L);
    lua_settop(L, 3);
    if (lua_type(L, 2) == LUA_TSTRING && s.current(L, 1)) {
        std::size_t n = 0;
        const char* k = lua_tolstring(L, 2, &n);
        if (isKey(k, n, "payload")) s.touched_ = true;
        if (isKey(k, n, "user")) s.userGiven_ = true;
    }
    lua_rawset(L, 1);
    return 0;
}

int EventTable::pairs(lua_State* L) {
    EventTable& s = self(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    if (s.current(L, 1)) {
        if (!s.given_ && !s.touched_) {
            s.givePayload(L, 1);
            lua_pop(L, 1);
        }
        if (!s.userGiven_) {
            s.giveUser(L, 1);
            lua_pop(L, 1);
        }
    }
    lua_pushcfunction(L, rawNext);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

bool EventTable::readBack(lua_State* L, int ev, ValueTree& out) {
    ev = lua_absindex(L, ev);
    lua_pushliteral(L, "payload");
    const int type = lua_rawget(L, ev);
    if (type == LUA_TNIL && !given_ && !touched_) {
        lua_pop(L, 1);
        return false;  // never read, never replaced
    }
    if (type != LUA_TTABLE) luaL_error(L, "event.payload must stay a table");
    if (given_ && sameAsTree(L, -1, payload_, 0)) {
        lua_pop(L, 1);
        return false;
    }
    // A lazy member the script did not read stays out of what comes back: the event keeps
    // it lazy (Event::lazy), for the hooks after this one.
    readingBack_ = true;
    readValue(L, -1, out, maxNodes_, "event.payload");
    readingBack_ = false;
    lua_pop(L, 1);
    return true;
}

}  // namespace klinikbox::lua
