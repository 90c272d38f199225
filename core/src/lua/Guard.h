// Internal: the control block of one Sandbox that its C callbacks (allocator, count hook,
// library wrappers, kb bindings) reach through the lua_State's extra space. Not part of
// the runtime's public interface.
#pragma once

#include "lua/Limits.h"

#include <klinikbox/Clock.h>

#include <chrono>
#include <cstddef>
#include <string>

struct lua_State;
struct lua_Debug;

namespace klinikbox::lua {

enum class Trip { None, Instructions, Deadline, Memory, Violation };

struct Guard {
    Limits limits;
    const Clock* clock = nullptr;

    // Allocator accounting.
    std::size_t used = 0;
    std::size_t peak = 0;
    struct Refused {
        const void* ptr = nullptr;
        std::size_t osize = 0, nsize = 0;
        bool valid = false;
    } refused;

    // The running call (all zero between calls).
    bool armed = false;
    long long executed = 0;
    std::chrono::steady_clock::time_point deadline{};
    Trip trip = Trip::None;
    char tripMessage[200] = {};
    char tripSource[80] = {};
    int tripLine = 0;
    // Where the error that ended the call was raised (set by the message handler).
    char errorSource[80] = {};
    int errorLine = 0;
    // A hook or handler that failed under kb.fire (test mode): where it failed and which
    // hook it was, so the error names the hook's line rather than the kb.fire call's.
    // `hookErrorMessage` is the error's text: only that error (rethrown by kb.fire) uses it.
    char hookErrorSource[80] = {};
    int hookErrorLine = 0;
    char hookErrorContext[120] = {};
    std::string hookErrorMessage;
    bool errorFromHook = false;
    // kb.reject is final for the call, even if the script catches its error.
    bool rejected = false;
    std::string rejectReason;
    int logLines = 0;
    int droppedLogLines = 0;
};

Guard* guardOf(lua_State* L);

// Instructions between two count-hook calls while nothing has tripped.
constexpr int kHookEvery = 1000;

// The message handler of every protected call: records where the error was raised
// (errorSource, errorLine) unless a location is already recorded. kb.fire uses it too.
int messageHandler(lua_State* L);
// Records the location of the error on top of the stack (raised inside a hook run by
// kb.fire) for the handler that rethrows it, with `context` ("booking.requested, phase decide").
void recordHookError(lua_State* L, const char* context);
// lua_pcall for a binding that runs the script's own function and rethrows its error
// (kb.db.transaction, kb.request, kb.run_due): the error keeps the line where it was raised
// rather than the line of the binding's call. The function and its nargs are on the stack.
int pcallKeepingLocation(lua_State* L, int nargs, int nresults);

// The count hook (exposed so the pattern matcher and coroutine wrappers can re-arm it).
void countHook(lua_State* L, lua_Debug* ar);

// Ends the call: records `trip` (the first one wins), makes the hook fire on every
// instruction of this thread so no pcall can swallow it, and raises `message`.
[[noreturn]] void tripAndRaise(lua_State* L, Trip trip, const char* message);

// Charges `steps` of C work (pattern matching) to the instruction budget and checks the
// deadline; trips and raises when either is exhausted.
void chargeSteps(lua_State* L, long long steps);

}  // namespace klinikbox::lua
