#include "lua/KbApi.h"

#include "lua/Guard.h"

#include <klinikbox/Db.h>
#include <klinikbox/Money.h>
#include <klinikbox/Personnummer.h>
#include <klinikbox/PluginContext.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include <lua.hpp>
#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <sstream>

// Rules for every binding in this file (Debian's Lua is C: lua_error is a longjmp):
//  - read and check the Lua arguments first (luaL_check* may raise);
//  - run C++ code only inside cxx(...), which catches every exception and keeps results
//    in the ScriptContext (never in a local with a destructor);
//  - raise Lua errors only after that, with no C++ object alive in the frame.

namespace klinikbox::lua {

namespace {

using CallKind = ScriptContext::CallKind;

ScriptContext& ctxOf(lua_State* L) { return *static_cast<ScriptContext*>(lua_touserdata(L, lua_upvalueindex(1))); }

template <class F>
bool cxx(ScriptContext& c, F&& f) noexcept {
    try {
        f();
        return true;
    } catch (const std::exception& e) {
        try {
            c.error = e.what();
        } catch (...) {
            c.error.clear();
        }
    } catch (...) {
        c.error.clear();
    }
    return false;
}

[[noreturn]] void fail(lua_State* L, const char* fn, ScriptContext& c) {
    luaL_error(L, "%s: %s", fn, c.error.empty() ? "out of memory" : c.error.c_str());
    std::abort();
}

// A sandbox violation: "<a><b>", sticky for the rest of the call.
[[noreturn]] void violation(lua_State* L, const char* a, const char* b) {
    char msg[240];
    std::snprintf(msg, sizeof msg, "%s%s", a, b);
    tripAndRaise(L, Trip::Violation, msg);
}

int callerLine(lua_State* L) {
    lua_Debug ar;
    if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "l", &ar)) return ar.currentline;
    return 0;
}

void requireLoading(lua_State* L, const ScriptContext& c, const char* fn) {
    if (c.call != CallKind::Load) luaL_error(L, "%s can only be used at the top level of the script (while it loads)", fn);
}

void requirePlugin(lua_State* L, const ScriptContext& c, const char* fn) {
    if (c.mode != ScriptMode::Plugin || !c.plugin) violation(L, fn, " is only available in Lua plugins");
}

void requireTest(lua_State* L, const ScriptContext& c, const char* fn) {
    if (c.mode != ScriptMode::Test) luaL_error(L, "%s is only available in tests (klinikbox lua test)", fn);
}

void pushTreeOf(lua_State* L, ScriptContext& c) {
    std::size_t pos = 0;
    pushTree(L, c.tree, pos);
}

std::size_t maxNodes(lua_State* L) { return guardOf(L)->limits.maxValueNodes; }

// Field `name` of the options table at idx: string or absent. Raises on another type.
const char* optStringField(lua_State* L, int idx, const char* fn, const char* name, std::size_t* len) {
    lua_getfield(L, idx, name);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return nullptr;
    }
    if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "%s: %s must be a string", fn, name);
    const char* s = lua_tolstring(L, -1, len);
    lua_pop(L, 1);  // still referenced by the table, so the pointer stays valid
    return s;
}

void checkOptionKeys(lua_State* L, int idx, const char* fn, std::initializer_list<const char*> allowed) {
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "%s: option names must be strings", fn);
        const char* k = lua_tostring(L, -1);
        bool ok = false;
        for (const char* a : allowed) ok = ok || std::strcmp(a, k) == 0;
        if (!ok) {
            char list[160] = {};
            for (const char* a : allowed) {
                std::strncat(list, list[0] ? ", " : "", sizeof list - std::strlen(list) - 1);
                std::strncat(list, a, sizeof list - std::strlen(list) - 1);
            }
            luaL_error(L, "%s: unknown option '%s' (known: %s)", fn, k, list);
        }
    }
}

// Event names are "<domain>.<what>": lower-case letters, digits, '_' and dots.
void checkEventName(lua_State* L, const char* s, std::size_t n, int arg) {
    bool ok = n > 0 && n <= 100 && s[0] >= 'a' && s[0] <= 'z' && std::memchr(s, '.', n) && s[n - 1] != '.';
    for (std::size_t i = 0; ok && i < n; ++i) {
        const char ch = s[i];
        ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '.';
    }
    if (!ok) luaL_argerror(L, arg, "an event name like \"booking.requested\" expected");
}

// ---- logging ----

void emitLog(lua_State* L, ScriptContext& c, const char* level, const char* msg, std::size_t n) {
    Guard* g = guardOf(L);
    if (g->logLines >= g->limits.maxLogLinesPerCall) {
        if (g->droppedLogLines++ > 0) return;
        msg = "further log lines of this call are dropped (limit reached)";
        n = std::strlen(msg);
        level = "warn";
    } else {
        ++g->logLines;
    }
    // A failing log sink must never break a hook: its error is ignored.
    (void)cxx(c, [&] {
        const std::string m = maskPersonnummerInText(std::string_view(msg, std::min<std::size_t>(n, 4000)));
        if (c.mode == ScriptMode::Plugin && c.plugin) {
            Log& log = c.plugin->log();
            if (std::strcmp(level, "error") == 0) log.error(m);
            else if (std::strcmp(level, "warn") == 0) log.warning(m);
            else log.info(m);
        } else if (c.services && c.services->log) {
            c.services->log(level, c.name, m);
        }
    });
}

// kb.log.info(message), kb.log.warn(message), kb.log.error(message)
int kbLog(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    std::size_t n = 0;
    const char* msg = luaL_checklstring(L, 1, &n);
    emitLog(L, c, lua_tostring(L, lua_upvalueindex(2)), msg, n);
    return 0;
}

// print(...): one info line, arguments separated by tabs
int kbPrint(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    const int n = lua_gettop(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; ++i) {
        if (i > 1) luaL_addchar(&b, '\t');
        luaL_tolstring(L, i, nullptr);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    std::size_t len = 0;
    const char* s = lua_tolstring(L, -1, &len);
    emitLog(L, c, "info", s, len);
    return 0;
}

// ---- time ----

// kb.now() -> seconds since 1970 on the box's clock
int kbNow(lua_State* L) {
    lua_pushinteger(L, static_cast<lua_Integer>(std::chrono::system_clock::to_time_t(guardOf(L)->clock->now())));
    return 1;
}

void formatDay(std::chrono::year_month_day d, char* buf, std::size_t n) {
    std::snprintf(buf, n, "%04d-%02u-%02u", static_cast<int>(d.year()), static_cast<unsigned>(d.month()),
                  static_cast<unsigned>(d.day()));
}

bool parseDay(const char* s, std::chrono::year_month_day& out) {
    int y = 0;
    unsigned m = 0, d = 0;
    char tail = 0;
    if (std::strlen(s) != 10 || std::sscanf(s, "%4d-%2u-%2u%c", &y, &m, &d, &tail) != 3) return false;
    out = std::chrono::year_month_day{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
    return out.ok();
}

// kb.today() -> "YYYY-MM-DD" in the box's time zone
int kbToday(lua_State* L) {
    char buf[16];
    formatDay(guardOf(L)->clock->today(), buf, sizeof buf);
    lua_pushstring(L, buf);
    return 1;
}

// ---- config ----

// kb.config(key) -> value | nil; "a.b" reads a nested setting
int kbConfig(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    std::size_t kl = 0;
    const char* key = luaL_checklstring(L, 1, &kl);
    const std::size_t limit = maxNodes(L);
    bool found = false;
    if (!cxx(c, [&] {
            c.tree.clear();
            Poco::JSON::Object::Ptr cfg;
            if (c.plugin) cfg = c.plugin->config();
            else if (c.services && c.services->config) cfg = c.services->config(c.name);
            if (!cfg) return;
            Poco::Dynamic::Var v = cfg;
            std::string_view rest(key, kl);
            while (true) {
                const auto dot = rest.find('.');
                const std::string part(rest.substr(0, dot));
                if (v.type() != typeid(Poco::JSON::Object::Ptr)) return;
                auto o = v.extract<Poco::JSON::Object::Ptr>();
                if (!o || !o->has(part)) return;
                v = o->get(part);
                if (dot == std::string_view::npos) break;
                rest.remove_prefix(dot + 1);
            }
            appendVar(c.tree, v, limit);
            found = true;
        }))
        fail(L, "kb.config", c);
    if (!found) {
        lua_pushnil(L);
        return 1;
    }
    pushTreeOf(L, c);
    return 1;
}

// ---- personnummer ----

struct PnrResult {
    bool ok;
    char error[48];
    char digits[16];
    char birth[16];
    int age;
    bool male;
    bool coordination;
};

// Parses argument 1 as of argument 2 (a date) or today.
PnrResult parsePnr(lua_State* L, ScriptContext& c, const char* fn) {
    std::size_t n = 0;
    const char* text = luaL_checklstring(L, 1, &n);
    std::chrono::year_month_day day{};
    const bool dated = !lua_isnoneornil(L, 2);
    if (dated && !parseDay(luaL_checkstring(L, 2), day)) luaL_argerror(L, 2, "a date \"YYYY-MM-DD\" expected");
    const Clock* clock = guardOf(L)->clock;
    PnrResult r{};
    if (!cxx(c, [&] {
            if (!dated) day = clock->today();
            auto parsed = Personnummer::parse(std::string_view(text, n), day);
            if (auto* e = std::get_if<PersonnummerError>(&parsed)) {
                std::snprintf(r.error, sizeof r.error, "%s", std::string(toString(*e)).c_str());
                return;
            }
            const auto& p = std::get<Personnummer>(parsed);
            r.ok = true;
            std::snprintf(r.digits, sizeof r.digits, "%s", p.twelveDigits().c_str());
            formatDay(p.birthDate(), r.birth, sizeof r.birth);
            r.age = p.ageOn(day);
            r.male = p.sex() == Sex::Male;
            r.coordination = p.isCoordinationNumber();
        }))
        fail(L, fn, c);
    return r;
}

// kb.pnr.valid(text) -> boolean
int kbPnrValid(lua_State* L) {
    const PnrResult r = parsePnr(L, ctxOf(L), "kb.pnr.valid");
    lua_pushboolean(L, r.ok);
    return 1;
}

// kb.pnr.parse(text [, on_date]) -> {digits, birthdate, sex, age, coordination} | nil, error
int kbPnrParse(lua_State* L) {
    const PnrResult r = parsePnr(L, ctxOf(L), "kb.pnr.parse");
    if (!r.ok) {
        lua_pushnil(L);
        lua_pushstring(L, r.error);
        return 2;
    }
    lua_createtable(L, 0, 5);
    lua_pushstring(L, r.digits);
    lua_setfield(L, -2, "digits");
    lua_pushstring(L, r.birth);
    lua_setfield(L, -2, "birthdate");
    lua_pushstring(L, r.male ? "M" : "F");
    lua_setfield(L, -2, "sex");
    lua_pushinteger(L, r.age);
    lua_setfield(L, -2, "age");
    lua_pushboolean(L, r.coordination);
    lua_setfield(L, -2, "coordination");
    return 1;
}

// kb.pnr.age(text [, on_date]) -> years | nil, error
int kbPnrAge(lua_State* L) {
    const PnrResult r = parsePnr(L, ctxOf(L), "kb.pnr.age");
    if (!r.ok) {
        lua_pushnil(L);
        lua_pushstring(L, r.error);
        return 2;
    }
    lua_pushinteger(L, r.age);
    return 1;
}

// kb.pnr.mask(text) -> text with every personnummer masked (YYYYMMDD-****)
int kbPnrMask(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    std::size_t n = 0;
    const char* text = luaL_checklstring(L, 1, &n);
    if (!cxx(c, [&] { c.text = maskPersonnummerInText(std::string_view(text, n)); })) fail(L, "kb.pnr.mask", c);
    lua_pushlstring(L, c.text.data(), c.text.size());
    return 1;
}

// ---- money ----

// kb.money.parse(text) -> öre (integer) | nil, "invalid-amount"
int kbMoneyParse(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    std::size_t n = 0;
    const char* text = luaL_checklstring(L, 1, &n);
    long long ore = 0;
    bool ok = false;
    if (!cxx(c, [&] {
            if (auto m = Money::parse(std::string_view(text, n))) {
                ore = m->ore();
                ok = true;
            }
        }))
        fail(L, "kb.money.parse", c);
    if (!ok) {
        lua_pushnil(L);
        lua_pushliteral(L, "invalid-amount");
        return 2;
    }
    lua_pushinteger(L, ore);
    return 1;
}

// kb.money.format(ore) -> "1 234,50 kr"
int kbMoneyFormat(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    const lua_Integer ore = luaL_checkinteger(L, 1);
    if (!cxx(c, [&] { c.text = Money::fromOre(ore).toDisplaySv(); })) fail(L, "kb.money.format", c);
    lua_pushlstring(L, c.text.data(), c.text.size());
    return 1;
}

// ---- payload helpers ----

// kb.array([t]) -> t marked as a JSON array (so that an empty one stays [])
int kbArray(lua_State* L) {
    if (lua_isnoneornil(L, 1)) {
        lua_settop(L, 0);
        lua_newtable(L);
    } else {
        luaL_checktype(L, 1, LUA_TTABLE);
        lua_settop(L, 1);
        if (lua_getmetatable(L, 1)) {
            // Only tables without a metatable (or already arrays) can be marked.
            lua_pushliteral(L, "__name");
            lua_rawget(L, -2);
            const bool isArray = lua_type(L, -1) == LUA_TSTRING && std::strcmp(lua_tostring(L, -1), "kb.array") == 0;
            if (!isArray) return luaL_argerror(L, 1, "a table without a metatable expected");
            lua_settop(L, 1);
        }
    }
    markArray(L, 1);
    return 1;
}

// ---- hooks ----

// kb.reject(reason): refuses the event (sync hooks only); final even if caught
int kbReject(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    std::size_t n = 0;
    const char* reason = luaL_checklstring(L, 1, &n);
    if (c.call != CallKind::SyncHook) return luaL_error(L, "kb.reject can only be used in a sync hook (kb.on)");
    if (n == 0) return luaL_argerror(L, 1, "the reason must not be empty (it is shown to the user)");
    Guard* g = guardOf(L);
    if (!cxx(c, [&] { g->rejectReason.assign(reason, std::min<std::size_t>(n, 1000)); })) fail(L, "kb.reject", c);
    g->rejected = true;
    lua_pushfstring(L, "kb.reject: %s", reason);
    return lua_error(L);
}

Phase phaseOption(lua_State* L, int opts) {
    std::size_t n = 0;
    const char* p = optStringField(L, opts, "kb.on", "phase", &n);
    if (!p || std::strcmp(p, "decide") == 0) return Phase::Decide;
    if (std::strcmp(p, "validate") == 0) return Phase::Validate;
    if (std::strcmp(p, "finalize") == 0) return Phase::Finalize;
    luaL_error(L, "kb.on: phase must be \"validate\", \"decide\" or \"finalize\", not \"%s\"", p);
    return Phase::Decide;
}

// Checks that option `field` is absent or a list of strings; returns its length.
lua_Integer nameList(lua_State* L, int opts, const char* field) {
    lua_getfield(L, opts, field);
    const int t = lua_type(L, -1);
    if (t == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    if (t != LUA_TTABLE) luaL_error(L, "kb.on: %s must be a list of script or hook names", field);
    const lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, -1));
    for (lua_Integer i = 1; i <= n; ++i) {
        if (lua_rawgeti(L, -1, i) != LUA_TSTRING) luaL_error(L, "kb.on: %s[%d] must be a string", field, static_cast<int>(i));
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return n;
}

// Copies option list `field` into `out`; "other.lua" means the hook "lua:other.lua".
void copyNames(lua_State* L, ScriptContext& c, int opts, const char* field, std::vector<std::string>& out, lua_Integer n) {
    lua_getfield(L, opts, field);
    for (lua_Integer i = 1; i <= n; ++i) {
        lua_rawgeti(L, -1, i);
        std::size_t len = 0;
        const char* s = lua_tolstring(L, -1, &len);
        if (!cxx(c, [&] {
                std::string name(s, len);
                out.push_back(name.find(':') == std::string::npos ? "lua:" + name : name);
            }))
            fail(L, "kb.on", c);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

void registerHook(lua_State* L, bool async) {
    ScriptContext& c = ctxOf(L);
    const char* fn = async ? "kb.subscribe" : "kb.on";
    requireLoading(L, c, fn);
    std::size_t n = 0;
    const char* event = luaL_checklstring(L, 1, &n);
    checkEventName(L, event, n, 1);
    const bool hasOptions = !async && lua_type(L, 2) == LUA_TTABLE;
    const int fnIndex = hasOptions ? 3 : 2;
    luaL_checktype(L, fnIndex, LUA_TFUNCTION);
    Phase phase = Phase::Decide;
    lua_Integer nAfter = 0, nBefore = 0;
    if (hasOptions) {
        checkOptionKeys(L, 2, fn, {"phase", "after", "before"});
        phase = phaseOption(L, 2);
        nAfter = nameList(L, 2, "after");
        nBefore = nameList(L, 2, "before");
    }
    const int line = callerLine(L);
    if (!cxx(c, [&] {
            HookRegistration h;
            h.event.assign(event, n);
            h.async = async;
            h.spec.phase = phase;
            h.line = line;
            c.hooks.push_back(std::move(h));
        }))
        fail(L, fn, c);
    const std::size_t self = c.hooks.size() - 1;
    if (hasOptions) {
        copyNames(L, c, 2, "after", c.hooks[self].spec.after, nAfter);
        copyNames(L, c, 2, "before", c.hooks[self].spec.before, nBefore);
    }
    // One script hooks one event with one set of options: it is one hook on the bus.
    for (std::size_t i = 0; i < self; ++i) {
        const HookRegistration& o = c.hooks[i];
        if (o.async || async || o.event != c.hooks[self].event) continue;
        if (o.spec.phase != c.hooks[self].spec.phase || o.spec.after != c.hooks[self].spec.after ||
            o.spec.before != c.hooks[self].spec.before)
            luaL_error(L, "kb.on: %s is already hooked on line %d with other options (one phase/after/before per event)",
                       c.hooks[self].event.c_str(), o.line);
    }
    lua_pushvalue(L, fnIndex);
    c.hooks[self].ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

// kb.on(event, [options,] fn): a sync hook; fn(event) may change event.payload or kb.reject
int kbOn(lua_State* L) {
    registerHook(L, false);
    return 0;
}

// kb.subscribe(event, fn): an async handler, called after the event happened
int kbSubscribe(lua_State* L) {
    registerHook(L, true);
    return 0;
}

// ---- outbox ----

bool channelAllowed(const ScriptContext& c, const std::string& channel) {
    if (!c.services) return false;
    for (const char* who : {c.name.c_str(), "*"}) {
        auto it = c.services->allowedChannels.find(who);
        if (it == c.services->allowedChannels.end()) continue;
        for (const auto& a : it->second) {
            if (a == channel || a == "*") return true;
            if (a.size() >= 2 && a.compare(a.size() - 2, 2, ".*") == 0 && channel.size() > a.size() - 1 &&
                channel.compare(0, a.size() - 1, a, 0, a.size() - 1) == 0)
                return true;
        }
    }
    return false;
}

// kb.send(channel, payload, {idempotency_key = key}) -> message id
int kbSend(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    std::size_t cn = 0, kn = 0;
    const char* channel = luaL_checklstring(L, 1, &cn);
    luaL_checkany(L, 2);
    luaL_checktype(L, 3, LUA_TTABLE);
    checkOptionKeys(L, 3, "kb.send", {"idempotency_key"});
    const char* key = optStringField(L, 3, "kb.send", "idempotency_key", &kn);
    if (!key || kn == 0 || kn > 200)
        return luaL_error(L, "kb.send: options.idempotency_key (1-200 characters, e.g. the booking id) is required, so a "
                             "repeated event is not sent twice");
    if (c.call == CallKind::Load) return luaL_error(L, "kb.send cannot be used while the script loads");
    if (c.call == CallKind::SyncHook)
        return luaL_error(L, "kb.send cannot be used in a sync hook: the event may still be refused. Send from "
                             "kb.subscribe on the event that follows (e.g. booking.created)");
    bool allowed = c.mode == ScriptMode::Test;
    if (!allowed && !cxx(c, [&] { allowed = channelAllowed(c, std::string(channel, cn)); })) fail(L, "kb.send", c);
    if (!allowed) {
        char msg[200];
        std::snprintf(msg, sizeof msg, "kb.send: this script may not send on channel '%s'", channel);
        violation(L, msg, " (the channel is not on its allow-list)");
    }
    if (!cxx(c, [&] { c.tree.clear(); })) fail(L, "kb.send", c);
    readValue(L, 2, c.tree, maxNodes(L), "kb.send payload");
    long long id = 0;
    if (!cxx(c, [&] {
            std::size_t pos = 0;
            std::ostringstream json;
            Poco::JSON::Stringifier::stringify(toVar(c.tree, pos), json);
            OutboundMessage m{std::string(channel, cn), json.str(), std::string(key, kn)};
            if (c.mode == ScriptMode::Test) {
                c.sent.push_back(SentMessage{m.channel, m.payload, m.idempotencyKey});
                id = static_cast<long long>(c.sent.size());
            } else if (c.mode == ScriptMode::Plugin && c.plugin) {
                if (c.tx) id = c.plugin->outbox().enqueue(*c.tx, m);
                else c.plugin->store().write([&](db::Connection& conn) { id = c.plugin->outbox().enqueue(conn, m); });
            } else {
                if (!c.services || !c.services->send) throw std::runtime_error("this box has no outbox for scripts");
                id = c.services->send(c.name, m);
            }
        }))
        fail(L, "kb.send", c);
    lua_pushinteger(L, id);
    return 1;
}

// ---- tests ----

// kb.test(name, fn): a test case for `klinikbox lua test`; ignored when the script is deployed
int kbTest(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    std::size_t n = 0;
    const char* name = luaL_checklstring(L, 1, &n);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    requireLoading(L, c, "kb.test");
    if (c.mode != ScriptMode::Test) return 0;
    const int line = callerLine(L);
    if (!cxx(c, [&] { c.tests.push_back(TestRegistration{std::string(name, n), 0, line}); })) fail(L, "kb.test", c);
    lua_pushvalue(L, 2);
    c.tests.back().ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

// Runs the handlers of `event` (kind sync or async) with the event table at evIdx.
// Returns true when a sync hook vetoed. Rethrows a handler's error.
bool runTestHandlers(lua_State* L, ScriptContext& c, const char* event, bool async, int evIdx) {
    Guard* g = guardOf(L);
    const CallKind previous = c.call;
    for (std::size_t i = 0; i < c.hooks.size(); ++i) {
        if (c.hooks[i].async != async || c.hooks[i].event != event) continue;
        c.call = async ? CallKind::AsyncHandler : CallKind::SyncHook;
        lua_rawgeti(L, LUA_REGISTRYINDEX, c.hooks[i].ref);
        lua_pushvalue(L, evIdx);
        const int st = lua_pcall(L, 1, 0, 0);
        c.call = previous;
        if (g->rejected) {
            if (st != LUA_OK) lua_pop(L, 1);
            return true;
        }
        if (st != LUA_OK) lua_error(L);
    }
    return false;
}

// kb.fire(event, payload [, user]) -> {vetoed = bool, reason = string|nil, payload = table|nil}
// Test mode: runs this script's sync hooks for the event as the box would (payload
// converted to JSON and back), then, unless vetoed, its kb.subscribe handlers.
int kbFire(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    requireTest(L, c, "kb.fire");
    std::size_t n = 0;
    const char* event = luaL_checklstring(L, 1, &n);
    checkEventName(L, event, n, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    if (!lua_isnoneornil(L, 3)) luaL_checktype(L, 3, LUA_TTABLE);
    lua_settop(L, 3);
    if (!cxx(c, [&] { c.tree.clear(); })) fail(L, "kb.fire", c);
    readValue(L, 2, c.tree, maxNodes(L), "kb.fire payload");
    lua_createtable(L, 0, 4);  // 4: the event
    lua_pushvalue(L, 1);
    lua_setfield(L, 4, "name");
    pushTreeOf(L, c);
    lua_setfield(L, 4, "payload");
    lua_pushliteral(L, "test");
    lua_setfield(L, 4, "request_id");
    if (lua_istable(L, 3)) {
        lua_pushvalue(L, 3);
        lua_setfield(L, 4, "user");
    }
    Guard* g = guardOf(L);
    g->rejected = false;
    const bool vetoed = runTestHandlers(L, c, event, false, 4);
    lua_createtable(L, 0, 3);  // 5: the result
    lua_pushboolean(L, vetoed);
    lua_setfield(L, 5, "vetoed");
    if (vetoed) {
        lua_pushlstring(L, g->rejectReason.data(), g->rejectReason.size());
        lua_setfield(L, 5, "reason");
        g->rejected = false;
        return 1;
    }
    if (lua_getfield(L, 4, "payload") != LUA_TTABLE) return luaL_error(L, "event.payload must stay a table");
    if (!cxx(c, [&] { c.tree.clear(); })) fail(L, "kb.fire", c);
    readValue(L, -1, c.tree, maxNodes(L), "event.payload");
    lua_pop(L, 1);
    pushTreeOf(L, c);
    lua_pushvalue(L, -1);
    lua_setfield(L, 5, "payload");
    lua_setfield(L, 4, "payload");
    runTestHandlers(L, c, event, true, 4);
    lua_settop(L, 5);
    return 1;
}

// kb.sent() -> {{channel =, payload =, idempotency_key =}, ...}: what kb.send queued (tests)
int kbSent(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    requireTest(L, c, "kb.sent");
    const std::size_t limit = maxNodes(L);
    if (!cxx(c, [&] {
            Poco::JSON::Array::Ptr list = new Poco::JSON::Array;
            for (const auto& m : c.sent) {
                Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
                o->set("channel", m.channel);
                o->set("payload", Poco::JSON::Parser().parse(m.payload));
                o->set("idempotency_key", m.idempotencyKey);
                list->add(o);
            }
            c.tree.clear();
            appendVar(c.tree, list, limit);
        }))
        fail(L, "kb.sent", c);
    pushTreeOf(L, c);
    return 1;
}

// kb.set_now(epoch_seconds | "YYYY-MM-DD" | "YYYY-MM-DDTHH:MM[:SS]"): moves the test clock
// (a date alone means noon, local time)
int kbSetNow(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    requireTest(L, c, "kb.set_now");
    long long epoch = 0;
    if (lua_type(L, 1) == LUA_TNUMBER) {
        epoch = luaL_checkinteger(L, 1);
    } else {
        const char* s = luaL_checkstring(L, 1);
        std::tm tm{};
        int y = 0, mo = 0, d = 0, h = 12, mi = 0, sec = 0;
        const int got = std::sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &sec);
        if (got != 3 && got != 5 && got != 6) return luaL_argerror(L, 1, "\"YYYY-MM-DD\" or \"YYYY-MM-DDTHH:MM[:SS]\" expected");
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = sec;
        tm.tm_isdst = -1;
        epoch = static_cast<long long>(std::mktime(&tm));
    }
    if (c.testClock) c.testClock->set(std::chrono::system_clock::time_point(std::chrono::seconds(epoch)));
    return 0;
}

// ---- plugins ----

bool isMethod(const char* m) {
    for (const char* k : {"GET", "POST", "PUT", "PATCH", "DELETE"})
        if (std::strcmp(k, m) == 0) return true;
    return false;
}

// Reads options.roles / options.anonymous into `access` (fields of the table at opts).
void readAccess(lua_State* L, ScriptContext& c, int opts, const char* fn, Access& access) {
    lua_getfield(L, opts, "anonymous");
    const bool anonymous = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (lua_getfield(L, opts, "roles") == LUA_TTABLE) {
        const auto n = static_cast<lua_Integer>(lua_rawlen(L, -1));
        for (lua_Integer i = 1; i <= n; ++i) {
            lua_rawgeti(L, -1, i);
            const char* r = lua_tostring(L, -1);
            bool known = false;
            if (!cxx(c, [&] {
                    if (auto role = r ? roleFromString(r) : std::nullopt) {
                        access.roles.insert(*role);
                        known = true;
                    }
                }))
                fail(L, fn, c);
            if (!known) luaL_error(L, "%s: unknown role '%s' (admin, staff, auditor, it)", fn, r ? r : "?");
            lua_pop(L, 1);
        }
    } else if (!lua_isnil(L, -1)) {
        luaL_error(L, "%s: roles must be a list such as {\"staff\"}", fn);
    }
    lua_pop(L, 1);
    access.anonymous = anonymous;
}

// kb.route(method, path, [options,] fn): fn(request) -> {status =, json = | body =, content_type =, headers =}
int kbRoute(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    requirePlugin(L, c, "kb.route");
    requireLoading(L, c, "kb.route");
    const char* method = luaL_checkstring(L, 1);
    std::size_t pn = 0;
    const char* path = luaL_checklstring(L, 2, &pn);
    if (!isMethod(method)) return luaL_argerror(L, 1, "GET, POST, PUT, PATCH or DELETE expected");
    if (pn == 0 || pn > 200 || path[0] != '/' || std::strpbrk(path, " \t\r\n?#"))
        return luaL_argerror(L, 2, "a path such as \"/report\" or \"/visits/{id}\" expected");
    const bool hasOptions = lua_type(L, 3) == LUA_TTABLE;
    const int fnIndex = hasOptions ? 4 : 3;
    luaL_checktype(L, fnIndex, LUA_TFUNCTION);
    if (hasOptions) checkOptionKeys(L, 3, "kb.route", {"roles", "anonymous", "summary"});
    std::size_t sn = 0;
    const char* summary = hasOptions ? optStringField(L, 3, "kb.route", "summary", &sn) : nullptr;
    const int line = callerLine(L);
    if (!cxx(c, [&] {
            RouteRegistration r;
            r.method = method;
            r.path.assign(path, pn);
            if (summary) r.summary.assign(summary, sn);
            r.line = line;
            r.access = Access::loggedIn();
            c.routes.push_back(std::move(r));
        }))
        fail(L, "kb.route", c);
    if (hasOptions) readAccess(L, c, 3, "kb.route", c.routes.back().access);
    lua_pushvalue(L, fnIndex);
    c.routes.back().ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

// kb.page{id =, title =, script =, roles = {...}}: a console page of the plugin
int kbPage(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    requirePlugin(L, c, "kb.page");
    requireLoading(L, c, "kb.page");
    luaL_checktype(L, 1, LUA_TTABLE);
    checkOptionKeys(L, 1, "kb.page", {"id", "title", "script", "roles"});
    std::size_t a = 0, b = 0, d = 0;
    const char* id = optStringField(L, 1, "kb.page", "id", &a);
    const char* title = optStringField(L, 1, "kb.page", "title", &b);
    const char* script = optStringField(L, 1, "kb.page", "script", &d);
    if (!id || !title || !script) return luaL_error(L, "kb.page: id, title and script are required");
    if (!cxx(c, [&] {
            c.pages.push_back(PageRegistration{std::string(id, a), std::string(title, b), std::string(script, d), Access{}});
        }))
        fail(L, "kb.page", c);
    readAccess(L, c, 1, "kb.page", c.pages.back().access);
    // Without roles a page is for admin and it.
    if (!cxx(c, [&] {
            Access& access = c.pages.back().access;
            if (access.roles.empty() && !access.anonymous) access = Access::only({Role::Admin, Role::It});
        }))
        fail(L, "kb.page", c);
    return 0;
}

void checkParams(lua_State* L, int from, int to) {
    for (int i = from; i <= to; ++i) {
        const int t = lua_type(L, i);
        if (t != LUA_TNIL && t != LUA_TBOOLEAN && t != LUA_TNUMBER && t != LUA_TSTRING)
            luaL_argerror(L, i, "nil, boolean, number or string expected");
    }
}

// C++ side (inside cxx): reads checked parameters with non-raising API calls.
void bindParams(lua_State* L, db::Statement& st, int from, int to) {
    for (int i = from; i <= to; ++i) {
        const int at = i - from + 1;
        switch (lua_type(L, i)) {
            case LUA_TNIL: st.bindNull(at); break;
            case LUA_TBOOLEAN: st.bindInt(at, lua_toboolean(L, i) ? 1 : 0); break;
            case LUA_TNUMBER:
                if (lua_isinteger(L, i)) st.bindInt(at, lua_tointeger(L, i));
                else st.bind(at, static_cast<double>(lua_tonumber(L, i)));
                break;
            default: {
                std::size_t n = 0;
                const char* s = lua_tolstring(L, i, &n);  // a string: no conversion, cannot raise
                st.bind(at, std::string_view(s, n));
            }
        }
    }
}

// One statement per call: SQLite would silently ignore the rest.
void checkSingleStatement(db::Connection& conn, std::string_view sql) {
    sqlite3_stmt* s = nullptr;
    const char* tail = nullptr;
    const int rc = sqlite3_prepare_v2(conn.raw(), sql.data(), static_cast<int>(sql.size()), &s, &tail);
    if (s) sqlite3_finalize(s);
    if (rc != SQLITE_OK) conn.throwError(rc, "cannot prepare statement");
    const char* end = sql.data() + sql.size();
    while (tail && tail < end && (*tail == ' ' || *tail == '\n' || *tail == '\t' || *tail == '\r' || *tail == ';')) ++tail;
    if (tail && tail < end) throw std::invalid_argument("one SQL statement per call");
}

// Runs `f` (C++ side); a refusal of the authorizer gets a hint of what is allowed.
template <class F>
void withTableHint(const ScriptContext& c, F&& f) {
    try {
        f();
    } catch (const db::AccessDenied& e) {
        throw std::runtime_error(std::string(e.what()) + " (a plugin may only use its own tables, named " +
                                 (c.plugin ? c.plugin->pluginId() : std::string("<plugin-id>")) + "_...)");
    }
}

// kb.db.query(sql, params...) -> {row, ...} (each row: column name -> value)
int kbDbQuery(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    requirePlugin(L, c, "kb.db.query");
    std::size_t sl = 0;
    const char* sql = luaL_checklstring(L, 1, &sl);
    const int top = lua_gettop(L);
    checkParams(L, 2, top);
    const std::size_t rowLimit = guardOf(L)->limits.maxQueryRows;
    const std::size_t nodeLimit = maxNodes(L);
    if (!cxx(c, [&] {
            c.tree.clear();
            auto run = [&](db::Connection& conn) {
                checkSingleStatement(conn, std::string_view(sql, sl));
                auto st = conn.prepare(std::string_view(sql, sl));
                bindParams(L, st, 2, top);
                c.tree.emplace_back();
                c.tree[0].type = ValueNode::Type::Array;
                std::size_t rows = 0;
                while (st.step()) {
                    if (rows == rowLimit)
                        throw std::length_error("the query returned more than " + std::to_string(rowLimit) + " rows; add a LIMIT");
                    const int cols = st.columnCount();
                    if (c.tree.size() + static_cast<std::size_t>(cols) + 1 > nodeLimit)
                        throw std::length_error("the query result is too large");
                    ValueNode row;
                    row.type = ValueNode::Type::Object;
                    row.children = static_cast<std::size_t>(cols);
                    c.tree.push_back(std::move(row));
                    for (int i = 0; i < cols; ++i) {
                        ValueNode v;
                        v.key = st.columnName(i);
                        switch (st.columnType(i)) {
                            case SQLITE_INTEGER:
                                v.type = ValueNode::Type::Int;
                                v.integer = st.getInt(i);
                                break;
                            case SQLITE_FLOAT:
                                v.type = ValueNode::Type::Float;
                                v.number = st.getDouble(i);
                                break;
                            case SQLITE_NULL: v.type = ValueNode::Type::Null; break;
                            default:
                                v.type = ValueNode::Type::String;
                                v.text = st.getText(i);
                        }
                        c.tree.push_back(std::move(v));
                    }
                    ++rows;
                }
                c.tree[0].children = rows;
            };
            withTableHint(c, [&] {
                if (c.tx) run(*c.tx);
                else c.plugin->store().read(run);
            });
        }))
        fail(L, "kb.db.query", c);
    pushTreeOf(L, c);
    return 1;
}

// kb.db.exec(sql, params...) -> changes, last_insert_id
int kbDbExec(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    requirePlugin(L, c, "kb.db.exec");
    std::size_t sl = 0;
    const char* sql = luaL_checklstring(L, 1, &sl);
    const int top = lua_gettop(L);
    checkParams(L, 2, top);
    long long changes = 0, lastId = 0;
    if (!cxx(c, [&] {
            auto run = [&](db::Connection& conn) {
                checkSingleStatement(conn, std::string_view(sql, sl));
                auto st = conn.prepare(std::string_view(sql, sl));
                bindParams(L, st, 2, top);
                st.exec();
                changes = conn.changes();
                lastId = conn.lastInsertId();
            };
            withTableHint(c, [&] {
                if (c.tx) run(*c.tx);
                else c.plugin->store().write(run);
            });
        }))
        fail(L, "kb.db.exec", c);
    lua_pushinteger(L, changes);
    lua_pushinteger(L, lastId);
    return 2;
}

struct TransactionAborted {};

// kb.db.transaction(fn) -> fn's results; one write transaction, rolled back if fn fails
int kbDbTransaction(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    requirePlugin(L, c, "kb.db.transaction");
    luaL_checktype(L, 1, LUA_TFUNCTION);
    if (c.tx) return luaL_error(L, "kb.db.transaction: already inside a transaction");
    lua_settop(L, 1);
    int status = LUA_OK;
    // The function runs under lua_pcall inside the C++ transaction, so its errors never
    // unwind the Store's frames; they come back as a status and roll the transaction back.
    const bool ok = cxx(c, [&] {
        c.plugin->store().write([&](db::Connection& conn) {
            c.tx = &conn;
            lua_pushvalue(L, 1);
            status = lua_pcall(L, 0, LUA_MULTRET, 0);
            c.tx = nullptr;
            if (status != LUA_OK) throw TransactionAborted{};
        });
    });
    c.tx = nullptr;
    if (status != LUA_OK) return lua_error(L);
    if (!ok) fail(L, "kb.db.transaction", c);
    return lua_gettop(L) - 1;
}

// kb.events.publish(name, payload): an async event of the plugin (declared in plugin.yaml)
int kbPublish(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    requirePlugin(L, c, "kb.events.publish");
    std::size_t n = 0;
    const char* name = luaL_checklstring(L, 1, &n);
    checkEventName(L, name, n, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    if (!cxx(c, [&] { c.tree.clear(); })) fail(L, "kb.events.publish", c);
    readValue(L, 2, c.tree, maxNodes(L), "event payload");
    if (c.tree.empty() || c.tree[0].type != ValueNode::Type::Object)
        return luaL_argerror(L, 2, "a table with named fields expected");
    if (!cxx(c, [&] {
            std::size_t pos = 0;
            Event e;
            e.name.assign(name, n);
            e.payload = toVar(c.tree, pos).extract<Poco::JSON::Object::Ptr>();
            if (c.request) {
                e.principal = c.request->principal;
                e.requestId = c.request->requestId;
            }
            c.plugin->events().publish(std::move(e));
        }))
        fail(L, "kb.events.publish", c);
    return 0;
}

// kb.audit(action, {patient =, purpose =, details =, outcome =}): a PDL audit record
int kbAudit(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    requirePlugin(L, c, "kb.audit");
    std::size_t an = 0, pn = 0, un = 0, dn = 0, on = 0;
    const char* action = luaL_checklstring(L, 1, &an);
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        checkOptionKeys(L, 2, "kb.audit", {"patient", "purpose", "details", "outcome"});
    } else {
        lua_settop(L, 1);
        lua_newtable(L);
    }
    const char* patient = optStringField(L, 2, "kb.audit", "patient", &pn);
    const char* purpose = optStringField(L, 2, "kb.audit", "purpose", &un);
    const char* details = optStringField(L, 2, "kb.audit", "details", &dn);
    const char* outcome = optStringField(L, 2, "kb.audit", "outcome", &on);
    if (an == 0) return luaL_argerror(L, 1, "an action such as \"report.read\" expected");
    if (!cxx(c, [&] {
            AuditEntry e;
            e.action.assign(action, an);
            if (patient) e.patient.assign(patient, pn);
            e.purpose = purpose ? std::string(purpose, un) : std::string("vård");
            if (details) e.details.assign(details, dn);
            if (outcome) e.outcome.assign(outcome, on);
            Audit& a = c.plugin->audit();
            if (c.request && c.tx) a.record(*c.request, e, *c.tx);
            else if (c.request) a.record(*c.request, e);
            else a.recordSystem(e);
        }))
        fail(L, "kb.audit", c);
    return 0;
}

// The assertion helpers, in Lua: their errors point at the test's line (level 2).
const char* const kPrelude = R"lua(
local type, pairs, tostring, error, pcall, ipairs = type, pairs, tostring, error, pcall, ipairs
local format, find, sort, concat = string.format, string.find, table.sort, table.concat
local M = {}

local function repr(v, depth)
  local t = type(v)
  if t == "string" then return format("%q", v) end
  if t ~= "table" then return tostring(v) end
  if depth > 2 then return "{...}" end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  sort(keys, function(a, b)
    local ta, tb = type(a), type(b)
    if ta ~= tb then return ta < tb end
    if ta == "number" or ta == "string" then return a < b end
    return tostring(a) < tostring(b)
  end)
  local parts = {}
  for i, k in ipairs(keys) do
    if i > 20 then parts[#parts + 1] = "..." break end
    local key = type(k) == "string" and k or "[" .. tostring(k) .. "]"
    parts[#parts + 1] = key .. "=" .. repr(v[k], depth + 1)
  end
  return "{" .. concat(parts, ", ") .. "}"
end

local function equal(a, b, depth)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" or depth > 20 then return false end
  for k, va in pairs(a) do
    if not equal(va, b[k], depth + 1) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

local function prefix(message)
  return message and (tostring(message) .. ": ") or ""
end

function M.assert_eq(actual, expected, message)
  if not equal(actual, expected, 0) then
    error(prefix(message) .. "expected " .. repr(expected, 0) .. ", got " .. repr(actual, 0), 2)
  end
end

function M.assert_ne(actual, unexpected, message)
  if equal(actual, unexpected, 0) then
    error(prefix(message) .. "expected anything but " .. repr(unexpected, 0), 2)
  end
end

function M.assert_true(value, message)
  if not value then error(prefix(message) .. "expected a true value, got " .. repr(value, 0), 2) end
end

function M.assert_false(value, message)
  if value then error(prefix(message) .. "expected false or nil, got " .. repr(value, 0), 2) end
end

function M.assert_error(fn, contains, message)
  local ok, err = pcall(fn)
  if ok then error(prefix(message) .. "expected an error", 2) end
  err = tostring(err)
  if contains and not find(err, contains, 1, true) then
    error(prefix(message) .. "expected an error containing " .. repr(contains, 0) .. ", got " .. repr(err, 0), 2)
  end
  return err
end

return M
)lua";

void setClosure(lua_State* L, ScriptContext& ctx, const char* name, lua_CFunction f) {
    lua_pushlightuserdata(L, &ctx);
    lua_pushcclosure(L, f, 1);
    lua_setfield(L, -2, name);
}

}  // namespace

void installKb(lua_State* L, ScriptContext& ctx, int envIndex) {
    envIndex = lua_absindex(L, envIndex);
    lua_createtable(L, 0, 32);
    const int kb = lua_gettop(L);
    for (const auto& [name, f] : {std::pair<const char*, lua_CFunction>{"now", kbNow},
                                  {"today", kbToday},
                                  {"config", kbConfig},
                                  {"array", kbArray},
                                  {"reject", kbReject},
                                  {"on", kbOn},
                                  {"subscribe", kbSubscribe},
                                  {"send", kbSend},
                                  {"test", kbTest},
                                  {"fire", kbFire},
                                  {"sent", kbSent},
                                  {"set_now", kbSetNow},
                                  {"route", kbRoute},
                                  {"page", kbPage},
                                  {"audit", kbAudit}}) {
        setClosure(L, ctx, name, f);
    }
    lua_createtable(L, 0, 3);
    for (const char* level : {"info", "warn", "error"}) {
        lua_pushlightuserdata(L, &ctx);
        lua_pushstring(L, level);
        lua_pushcclosure(L, kbLog, 2);
        lua_setfield(L, -2, level);
    }
    lua_setfield(L, kb, "log");
    lua_createtable(L, 0, 4);
    setClosure(L, ctx, "valid", kbPnrValid);
    setClosure(L, ctx, "parse", kbPnrParse);
    setClosure(L, ctx, "age", kbPnrAge);
    setClosure(L, ctx, "mask", kbPnrMask);
    lua_setfield(L, kb, "pnr");
    lua_createtable(L, 0, 2);
    setClosure(L, ctx, "parse", kbMoneyParse);
    setClosure(L, ctx, "format", kbMoneyFormat);
    lua_setfield(L, kb, "money");
    lua_createtable(L, 0, 3);
    setClosure(L, ctx, "query", kbDbQuery);
    setClosure(L, ctx, "exec", kbDbExec);
    setClosure(L, ctx, "transaction", kbDbTransaction);
    lua_setfield(L, kb, "db");
    lua_createtable(L, 0, 1);
    setClosure(L, ctx, "publish", kbPublish);
    lua_setfield(L, kb, "events");

    // The assertion helpers, compiled into this script's environment.
    if (luaL_loadbufferx(L, kPrelude, std::strlen(kPrelude), "=kb", "t") != LUA_OK) lua_error(L);
    lua_pushvalue(L, envIndex);
    lua_setupvalue(L, -2, 1);
    lua_call(L, 0, 1);
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, kb);
    }
    lua_pop(L, 1);

    lua_pushvalue(L, kb);
    lua_setfield(L, envIndex, "kb");
    lua_pushlightuserdata(L, &ctx);
    lua_pushcclosure(L, kbPrint, 1);
    lua_setfield(L, envIndex, "print");
    lua_pop(L, 1);
}

}  // namespace klinikbox::lua
