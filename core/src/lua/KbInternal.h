// What the kb.* module files (Kb<Module>.cpp) share: the rules every binding follows, the
// helpers they use, and the C functions each module defines for installKb (KbApi.cpp).
// Internal to the core; scripts see only the kb table (KbApi.h).
#pragma once

#include "lua/Guard.h"
#include "lua/KbApi.h"

#include <lua.hpp>

#include <chrono>
#include <cstddef>
#include <exception>
#include <initializer_list>
#include <string>

// Rules for every binding (Debian's Lua is C: lua_error is a longjmp):
//  - read and check the Lua arguments first (luaL_check* may raise);
//  - run C++ code only inside cxx(...), which catches every exception and keeps results
//    in the ScriptContext (never in a local with a destructor);
//  - raise Lua errors only after that, with no C++ object alive in the frame.

namespace klinikbox::lua::kbapi {

using CallKind = ScriptContext::CallKind;

// The ScriptContext of the running binding (its first upvalue).
inline ScriptContext& ctxOf(lua_State* L) { return *static_cast<ScriptContext*>(lua_touserdata(L, lua_upvalueindex(1))); }

template <class F>
inline bool cxx(ScriptContext& c, F&& f) noexcept {
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

[[noreturn]] void fail(lua_State* L, const char* fn, ScriptContext& c);
// A sandbox violation: "<a><b>", sticky for the rest of the call.
[[noreturn]] void violation(lua_State* L, const char* a, const char* b);
int callerLine(lua_State* L);
void requireLoading(lua_State* L, const ScriptContext& c, const char* fn);
void requirePlugin(lua_State* L, const ScriptContext& c, const char* fn);
void requireTest(lua_State* L, const ScriptContext& c, const char* fn);
void pushTreeOf(lua_State* L, ScriptContext& c);
std::size_t maxNodes(lua_State* L);
// Field `name` of the options table at idx: string or absent. Raises on another type.
const char* optStringField(lua_State* L, int idx, const char* fn, const char* name, std::size_t* len);
void checkOptionKeys(lua_State* L, int idx, const char* fn, std::initializer_list<const char*> allowed);
// Event names are "<domain>.<what>": lower-case letters, digits, '_' and dots.
void checkEventName(lua_State* L, const char* s, std::size_t n, int arg);

// ---- the bindings, by module file ----

// KbLog.cpp
int kbLog(lua_State* L);
int kbPrint(lua_State* L);

// KbTime.cpp (formatDay and parseDay, "YYYY-MM-DD", are also used by KbPnr.cpp)
int kbNow(lua_State* L);
void formatDay(std::chrono::year_month_day d, char* buf, std::size_t n);
bool parseDay(const char* s, std::chrono::year_month_day& out);
int kbToday(lua_State* L);

// KbConfig.cpp
int kbConfig(lua_State* L);
int kbSetConfig(lua_State* L);

// KbJson.cpp
int kbJsonEncode(lua_State* L);
int kbJsonDecode(lua_State* L);

// KbDate.cpp
int kbTimeParse(lua_State* L);
// kb.time.parse's reading of ISO 8601 text ("YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS]" with an
// optional Z or offset; no offset: the box's local time) into epoch seconds; nullptr, or why not.
const char* parseIsoTime(const char* s, std::size_t n, long long& epoch);
int kbTimeFormat(lua_State* L);
int kbTimeWeekday(lua_State* L);

// KbText.cpp
int kbTextLower(lua_State* L);
int kbTextUpper(lua_State* L);

// KbPnr.cpp
int kbPnrValid(lua_State* L);
int kbPnrParse(lua_State* L);
int kbPnrAge(lua_State* L);
int kbPnrMask(lua_State* L);

// KbMoney.cpp
int kbMoneyParse(lua_State* L);
int kbMoneyFormat(lua_State* L);

// KbHooks.cpp
int kbArray(lua_State* L);
int kbReject(lua_State* L);
int kbOn(lua_State* L);
int kbSubscribe(lua_State* L);

// KbSend.cpp
int kbSend(lua_State* L);
// True when the script may send on `channel`: a Lua plugin's declared channels, a hook
// script's lua.channels (services->allowedChannels).
bool channelAllowed(const ScriptContext& c, const std::string& channel);
// True when kb.send's channel is checked at all (a plugin, or a box/test with configuration).
bool channelsChecked(const ScriptContext& c);

// KbTest.cpp (hookLabel: "booking.requested, phase decide", also used by ScriptInstance)
void hookLabel(const HookRegistration& h, char* buf, std::size_t n);
int kbTest(lua_State* L);
int kbFire(lua_State* L);
int kbSent(lua_State* L);
int kbSetNow(lua_State* L);

// KbPlugin.cpp
int kbRoute(lua_State* L);
int kbPage(lua_State* L);

// KbSchedule.cpp
int kbSchedule(lua_State* L);
// require(name): a Lua plugin's own module lua/<name>.lua (dots are folders)
int kbRequire(lua_State* L);

// KbRequest.cpp (tests of Lua plugins)
int kbRequest(lua_State* L);
int kbPublished(lua_State* L);
int kbRunDue(lua_State* L);

// KbDb.cpp
int kbDbQuery(lua_State* L);
int kbDbExec(lua_State* L);
int kbDbTransaction(lua_State* L);

// KbEvents.cpp
int kbPublish(lua_State* L);
int kbPublishSync(lua_State* L);
int kbAnswer(lua_State* L);

// KbAudit.cpp
int kbAudit(lua_State* L);

// KbTest.cpp: the assert_* helpers, Lua source compiled into each script's environment.
extern const char* const kPrelude;

}  // namespace klinikbox::lua::kbapi
