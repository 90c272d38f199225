#include "lua/Sandbox.h"

#include <klinikbox/Money.h>
#include <klinikbox/Personnummer.h>

#include <lua.hpp>

#include <cstdlib>
#include <cstring>
#include <ctime>

namespace klinikbox::lua {

const char* toString(ErrorKind k) {
    switch (k) {
        case ErrorKind::Runtime: return "runtime";
        case ErrorKind::Timeout: return "timeout";
        case ErrorKind::Memory: return "memory";
        case ErrorKind::Syntax: return "syntax";
        case ErrorKind::Sandbox: return "sandbox";
    }
    return "?";
}

struct Sandbox::Guard {
    Limits limits;
    const Clock& clock;
    LogSink log;
    std::size_t used = 0;
    long long executed = 0;
    std::chrono::steady_clock::time_point deadline{};
    bool armed = false;
    bool tripped = false;
};

namespace {

constexpr int kHookEvery = 1000;  // instructions between count-hook calls

Sandbox::Guard* guardOf(lua_State* L) { return *static_cast<Sandbox::Guard**>(lua_getextraspace(L)); }

void* allocate(void* ud, void* ptr, std::size_t osize, std::size_t nsize) {
    auto* g = static_cast<Sandbox::Guard*>(ud);
    const std::size_t old = ptr ? osize : 0;  // without ptr, osize is a type tag
    if (nsize == 0) {
        std::free(ptr);
        g->used -= old;
        return nullptr;
    }
    if (g->used - old + nsize > g->limits.memoryBytes) return nullptr;  // Lua raises "not enough memory"
    void* p = std::realloc(ptr, nsize);
    if (p) g->used = g->used - old + nsize;
    return p;
}

// The count hook: the instruction budget and the deadline. Once tripped it fires on every
// instruction and raises again, so a pcall inside the script cannot swallow the kill.
void countHook(lua_State* L, lua_Debug*) {
    Sandbox::Guard* g = guardOf(L);
    if (!g->armed) return;
    if (!g->tripped) {
        g->executed += kHookEvery;
        if (g->executed < g->limits.instructions && std::chrono::steady_clock::now() < g->deadline) return;
        g->tripped = true;
        lua_sethook(L, countHook, LUA_MASKCOUNT, 1);
    }
    luaL_error(L, "klinikbox: the script ran past its time or instruction limit");
}

// Every coroutine gets the count hook too (Lua 5.4 copies it to new threads, but a state
// tripped later must still stop a running coroutine): wrap coroutine.create/wrap.
int coCreate(lua_State* L) {
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_State* co = lua_newthread(L);
    lua_sethook(co, countHook, LUA_MASKCOUNT, guardOf(L)->tripped ? 1 : kHookEvery);
    lua_pushvalue(L, 1);
    lua_xmove(L, co, 1);
    return 1;
}

// string.rep(s, n [, sep]) with the result capped.
int safeRep(lua_State* L) {
    size_t len = 0, seplen = 0;
    luaL_checklstring(L, 1, &len);
    const lua_Integer n = luaL_checkinteger(L, 2);
    luaL_optlstring(L, 3, "", &seplen);
    const auto cap = guardOf(L)->limits.maxStringBytes;
    if (n > 0 && (static_cast<double>(len) + static_cast<double>(seplen)) * static_cast<double>(n) > static_cast<double>(cap))
        return luaL_error(L, "string.rep: the result would exceed %d bytes", static_cast<int>(cap));
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

// Pattern functions cannot be interrupted by any hook: bound their input instead.
int safePattern(lua_State* L) {
    size_t len = 0, plen = 0;
    luaL_checklstring(L, 1, &len);
    luaL_checklstring(L, 2, &plen);
    const auto cap = guardOf(L)->limits.maxStringBytes / 16;
    if (len > cap || plen > 256)
        return luaL_error(L, "pattern functions accept at most %d bytes of input and 256 of pattern", static_cast<int>(cap));
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

// getmetatable(v): strings' shared metatable stays hidden.
int safeGetmetatable(lua_State* L) {
    luaL_checkany(L, 1);
    if (lua_type(L, 1) == LUA_TSTRING) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, 1, 1);
    return 1;
}

// setmetatable(t, mt): no finalisers (__gc runs outside any budget) and no __close.
int safeSetmetatable(lua_State* L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    if (lua_type(L, 2) == LUA_TTABLE) {
        for (const char* k : {"__gc", "__close", "__mode"}) {
            if (lua_getfield(L, 2, k) != LUA_TNIL) return luaL_error(L, "setmetatable: %s is not allowed in klinikbox scripts", k);
            lua_pop(L, 1);
        }
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, 2, 1);
    return 1;
}

// load(chunk [, name [, mode [, env]]]): text only, into the caller's environment.
int safeLoad(lua_State* L) {
    size_t len = 0;
    const char* s = luaL_checklstring(L, 1, &len);
    const char* name = luaL_optstring(L, 2, "=load");
    if (luaL_loadbufferx(L, s, len, name, "t") != LUA_OK) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    return 1;
}

// kb.now() -> epoch seconds from the box's clock
int kbNow(lua_State* L) {
    lua_pushinteger(L, std::chrono::duration_cast<std::chrono::seconds>(guardOf(L)->clock.now().time_since_epoch()).count());
    return 1;
}

// kb.today() -> "YYYY-MM-DD" in the box's time zone
int kbToday(lua_State* L) {
    const auto d = guardOf(L)->clock.today();
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(d.year()), static_cast<unsigned>(d.month()),
                  static_cast<unsigned>(d.day()));
    lua_pushstring(L, buf);
    return 1;
}

// kb.log.info|warn|error(message)
int kbLog(lua_State* L) {
    const char* msg = luaL_checkstring(L, 1);
    const char* level = lua_tostring(L, lua_upvalueindex(1));
    Sandbox::Guard* g = guardOf(L);
    if (g->log) {
        // No C++ object may be alive across a Lua error: the sink is called in a scope
        // that cannot raise one.
        try {
            g->log(level, maskPersonnummerInText(msg));
        } catch (...) {
        }
    }
    return 0;
}

std::chrono::year_month_day parseDay(const char* s, bool& ok) {
    int y = 0;
    unsigned m = 0, d = 0;
    ok = std::sscanf(s, "%4d-%2u-%2u", &y, &m, &d) == 3;
    const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
    ok = ok && ymd.ok();
    return ymd;
}

// kb.pnr.parse(text [, "YYYY-MM-DD"]) -> {digits, birthdate, sex, age, coordination} | nil, error
int kbPnrParse(lua_State* L) {
    const char* text = luaL_checkstring(L, 1);
    const char* on = luaL_optstring(L, 2, nullptr);
    bool dayOk = true;
    const auto today = on ? parseDay(on, dayOk) : guardOf(L)->clock.today();
    if (!dayOk) return luaL_error(L, "kb.pnr.parse: the date must be YYYY-MM-DD");
    char digits[16] = {}, birth[16] = {}, err[64] = {};
    int age = 0, male = 0, coord = 0;
    {
        auto r = Personnummer::parse(text, today);
        if (auto* e = std::get_if<PersonnummerError>(&r)) {
            std::snprintf(err, sizeof err, "%s", std::string(klinikbox::toString(*e)).c_str());
        } else {
            const auto& p = std::get<Personnummer>(r);
            std::snprintf(digits, sizeof digits, "%s", p.twelveDigits().c_str());
            const auto b = p.birthDate();
            std::snprintf(birth, sizeof birth, "%04d-%02u-%02u", static_cast<int>(b.year()), static_cast<unsigned>(b.month()),
                          static_cast<unsigned>(b.day()));
            age = p.ageOn(today);
            male = p.sex() == Sex::Male;
            coord = p.isCoordinationNumber();
        }
    }
    if (err[0]) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    lua_createtable(L, 0, 5);
    lua_pushstring(L, digits);
    lua_setfield(L, -2, "digits");
    lua_pushstring(L, birth);
    lua_setfield(L, -2, "birthdate");
    lua_pushstring(L, male ? "M" : "F");
    lua_setfield(L, -2, "sex");
    lua_pushinteger(L, age);
    lua_setfield(L, -2, "age");
    lua_pushboolean(L, coord);
    lua_setfield(L, -2, "coordination");
    return 1;
}

// kb.pnr.valid(text) -> boolean
int kbPnrValid(lua_State* L) {
    const char* text = luaL_checkstring(L, 1);
    bool ok;
    {
        ok = std::holds_alternative<Personnummer>(Personnummer::parse(text, guardOf(L)->clock.today()));
    }
    lua_pushboolean(L, ok);
    return 1;
}

// kb.money.parse("150,50") -> öre (integer) | nil
int kbMoneyParse(lua_State* L) {
    const char* text = luaL_checkstring(L, 1);
    long long ore = -1;
    {
        if (auto m = Money::parse(text)) ore = m->ore();
    }
    if (ore < 0) lua_pushnil(L);
    else lua_pushinteger(L, ore);
    return 1;
}

// kb.money.format(ore) -> "150,50 kr"
int kbMoneyFormat(lua_State* L) {
    const lua_Integer ore = luaL_checkinteger(L, 1);
    char buf[64];
    {
        std::snprintf(buf, sizeof buf, "%s", Money::fromOre(ore).toDisplaySv().c_str());
    }
    lua_pushstring(L, buf);
    return 1;
}

// kb.reject(reason): vetoes the event (raises the reject sentinel).
int kbReject(lua_State* L) {
    const char* reason = luaL_checkstring(L, 1);
    lua_createtable(L, 0, 1);
    lua_pushstring(L, reason);
    lua_setfield(L, -2, "kb_reject");
    return lua_error(L);
}

// kb.on(event, [options,] fn): registers a hook; stored in the registry list "kb.hooks".
int kbOn(lua_State* L) {
    luaL_checkstring(L, 1);
    const int fnIdx = lua_type(L, 2) == LUA_TTABLE ? 3 : 2;
    luaL_checktype(L, fnIdx, LUA_TFUNCTION);
    if (lua_getfield(L, LUA_REGISTRYINDEX, "kb.hooks") != LUA_TTABLE) return luaL_error(L, "kb.on: hooks can only be registered while the script loads");
    lua_createtable(L, 0, 3);
    lua_pushvalue(L, 1);
    lua_setfield(L, -2, "event");
    lua_pushvalue(L, fnIdx);
    lua_setfield(L, -2, "fn");
    if (fnIdx == 3) {
        lua_pushvalue(L, 2);
        lua_setfield(L, -2, "options");
    }
    lua_rawseti(L, -2, static_cast<lua_Integer>(lua_rawlen(L, -2)) + 1);
    return 0;
}

void setFuncs(lua_State* L, std::initializer_list<std::pair<const char*, lua_CFunction>> fs) {
    for (const auto& [name, f] : fs) {
        lua_pushcfunction(L, f);
        lua_setfield(L, -2, name);
    }
}

// Replaces a library function with a wrapper holding the original as upvalue 1.
void wrap(lua_State* L, const char* lib, const char* fn, lua_CFunction w) {
    if (lib) lua_getglobal(L, lib);
    else lua_pushglobaltable(L);
    lua_getfield(L, -1, fn);
    lua_pushcclosure(L, w, 1);
    lua_setfield(L, -2, fn);
    lua_pop(L, 1);
}

void removeGlobals(lua_State* L, std::initializer_list<const char*> names) {
    for (const char* n : names) {
        lua_pushnil(L);
        lua_setglobal(L, n);
    }
}

}  // namespace

Sandbox::Sandbox(std::string scriptName, Limits limits, const Clock& clock, LogSink log)
    : name_(std::move(scriptName)), guard_(new Guard{limits, clock, std::move(log)}) {
    L_ = lua_newstate(allocate, guard_.get());
    if (!L_) throw LuaError(ErrorKind::Memory, name_ + ": cannot create a Lua state");
    *static_cast<Guard**>(lua_getextraspace(L_)) = guard_.get();
    lua_sethook(L_, countHook, LUA_MASKCOUNT, kHookEvery);
    // Only safe libraries (never luaL_openlibs).
    for (const auto& [n, f] : {std::pair<const char*, lua_CFunction>{"_G", luaopen_base}, {"string", luaopen_string},
                               {"table", luaopen_table}, {"math", luaopen_math}, {"utf8", luaopen_utf8},
                               {"coroutine", luaopen_coroutine}, {"os", luaopen_os}}) {
        luaL_requiref(L_, n, f, 1);
        lua_pop(L_, 1);
    }
    // os: only the clock functions.
    lua_getglobal(L_, "os");
    lua_createtable(L_, 0, 4);
    for (const char* k : {"time", "date", "clock", "difftime"}) {
        lua_getfield(L_, -2, k);
        lua_setfield(L_, -2, k);
    }
    lua_setglobal(L_, "os");
    lua_pop(L_, 1);
    removeGlobals(L_, {"dofile", "loadfile", "collectgarbage", "print", "require", "package", "io", "debug"});
    lua_getglobal(L_, "string");
    lua_pushnil(L_);
    lua_setfield(L_, -2, "dump");
    lua_pop(L_, 1);
    lua_pushcfunction(L_, safeLoad);
    lua_setglobal(L_, "load");
    wrap(L_, nullptr, "getmetatable", safeGetmetatable);
    wrap(L_, nullptr, "setmetatable", safeSetmetatable);
    wrap(L_, "string", "rep", safeRep);
    for (const char* f : {"find", "match", "gmatch", "gsub"}) wrap(L_, "string", f, safePattern);
    lua_getglobal(L_, "coroutine");
    lua_pushcfunction(L_, coCreate);
    lua_setfield(L_, -2, "create");
    lua_pushnil(L_);
    lua_setfield(L_, -2, "wrap");  // wrap would create threads without the hook check
    lua_pop(L_, 1);

    // kb
    lua_createtable(L_, 0, 8);
    setFuncs(L_, {{"now", kbNow}, {"today", kbToday}, {"reject", kbReject}, {"on", kbOn}});
    lua_createtable(L_, 0, 3);
    for (const char* level : {"info", "warn", "error"}) {
        lua_pushstring(L_, level);
        lua_pushcclosure(L_, kbLog, 1);
        lua_setfield(L_, -2, level);
    }
    lua_setfield(L_, -2, "log");
    lua_createtable(L_, 0, 2);
    setFuncs(L_, {{"parse", kbPnrParse}, {"valid", kbPnrValid}});
    lua_setfield(L_, -2, "pnr");
    lua_createtable(L_, 0, 2);
    setFuncs(L_, {{"parse", kbMoneyParse}, {"format", kbMoneyFormat}});
    lua_setfield(L_, -2, "money");
    lua_setglobal(L_, "kb");
    lua_newtable(L_);
    lua_setfield(L_, LUA_REGISTRYINDEX, "kb.hooks");
}

Sandbox::~Sandbox() {
    if (L_) lua_close(L_);
}

std::size_t Sandbox::memoryUsed() const { return guard_->used; }

void Sandbox::call(int nargs, int nresults, const std::string& context) {
    Guard& g = *guard_;
    g.executed = 0;
    g.tripped = false;
    g.deadline = std::chrono::steady_clock::now() + g.limits.time;
    g.armed = true;
    lua_sethook(L_, countHook, LUA_MASKCOUNT, kHookEvery);
    const int status = lua_pcall(L_, nargs, nresults, 0);
    g.armed = false;
    const bool timeout = g.tripped;
    if (status == LUA_OK && timeout) {
        // The kill was caught inside the script (coroutine.resume returns the error): the
        // call still counts as overrun.
        lua_pop(L_, nresults == LUA_MULTRET ? 0 : nresults);
        g.tripped = false;
        lua_sethook(L_, countHook, LUA_MASKCOUNT, kHookEvery);
        throw LuaError(ErrorKind::Timeout, name_ + (context.empty() ? "" : " (" + context + ")") +
                                               ": the script ran past its time or instruction limit");
    }
    if (status == LUA_OK) return;
    g.tripped = false;
    lua_sethook(L_, countHook, LUA_MASKCOUNT, kHookEvery);
    std::string msg;
    if (lua_type(L_, -1) == LUA_TTABLE && lua_getfield(L_, -1, "kb_reject") == LUA_TSTRING) {
        msg = lua_tostring(L_, -1);
        lua_pop(L_, 2);
        throw LuaError(ErrorKind::Sandbox, "\x01" + msg);  // the reject sentinel, turned into a Veto by the host
    }
    if (lua_type(L_, -1) == LUA_TTABLE) lua_pop(L_, 1);
    const char* m = lua_tostring(L_, -1);
    msg = m ? m : "error object is not a string";
    lua_pop(L_, 1);
    const std::string where = name_ + (context.empty() ? "" : " (" + context + ")");
    if (status == LUA_ERRMEM) throw LuaError(ErrorKind::Memory, where + ": the script used more than its memory limit");
    if (timeout) throw LuaError(ErrorKind::Timeout, where + ": the script ran past its time or instruction limit");
    lua_gc(L_, LUA_GCCOLLECT);
    throw LuaError(ErrorKind::Runtime, where + ": " + msg);
}

void Sandbox::run(const std::string& source) {
    if (!source.empty() && source[0] == '\x1b') throw LuaError(ErrorKind::Sandbox, name_ + ": precompiled Lua is not accepted");
    const int st = luaL_loadbufferx(L_, source.data(), source.size(), ("@" + name_).c_str(), "t");
    if (st != LUA_OK) {
        std::string msg = lua_tostring(L_, -1) ? lua_tostring(L_, -1) : "syntax error";
        lua_pop(L_, 1);
        throw LuaError(st == LUA_ERRMEM ? ErrorKind::Memory : ErrorKind::Syntax, msg);
    }
    call(0, 0, "load");
}

}  // namespace klinikbox::lua
