// string.find, string.match, string.gmatch and string.gsub with Lua 5.4 pattern semantics,
// implemented here so that matching can be interrupted: every matching step counts against
// the call's instruction budget and the deadline is checked as it runs. (The C library's
// matcher cannot be interrupted by any hook: one find on 400 bytes can run for seconds.)
// Subjects and patterns are also capped (Limits::maxPatternSubject, maxPatternLength).
#pragma once

struct lua_State;

namespace klinikbox::lua {

// Replaces find/match/gmatch/gsub in the string library table at `stringTableIndex`.
void installPatternFunctions(lua_State* L, int stringTableIndex);

}  // namespace klinikbox::lua
