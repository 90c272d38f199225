// One sandboxed Lua 5.4 state (RAII over lua_State) with the limits a clinic's scripts
// cannot exceed: a memory cap (allocator), an instruction budget and a wall-clock deadline
// (count hook, sticky once tripped so a pcall in the script cannot swallow the kill),
// string-size caps, interruptible pattern functions, and only safe libraries. Scripts get
// environments of their own (pushEnvironment), so several can share one state without
// seeing each other's globals or library tables.
//
// A Sandbox is used by one thread at a time. Every Lua API call that can raise an error
// runs inside a Call (lua_pcall), so no longjmp crosses a C++ frame with live destructors.
#pragma once

#include "lua/Limits.h"
#include "lua/LuaError.h"

#include <klinikbox/Clock.h>

#include <memory>
#include <string>
#include <string_view>

struct lua_State;

namespace klinikbox::lua {

struct Guard;

class Sandbox {
public:
    Sandbox(const Limits& limits, const Clock& clock);
    ~Sandbox();
    Sandbox(const Sandbox&) = delete;
    Sandbox& operator=(const Sandbox&) = delete;

    [[nodiscard]] lua_State* state() const { return L_.get(); }
    [[nodiscard]] const Limits& limits() const;
    [[nodiscard]] std::size_t memoryUsed() const;
    [[nodiscard]] std::size_t memoryPeak() const;
    // os.time/os.date and kb.now/kb.today read this clock (tests swap in a fixed one).
    void setClock(const Clock& clock);
    [[nodiscard]] const Clock& clock() const;

    // Pushes a fresh environment for one script: its own table holding copies of the safe
    // base functions and of the string/table/math/utf8/coroutine/os libraries, with
    // _G referring to itself. Reading io, debug, package, require, dofile, loadfile or
    // os.execute & co. is a sandbox violation. Call inside a Call (it allocates).
    void pushEnvironment();

    // Compiles text (never bytecode) named `script` and pushes the function; give it an
    // environment (upvalue 1) before calling it. Throws LuaError (Syntax, Sandbox, Memory).
    void compile(std::string_view source, const std::string& script);

    class Call;

private:
    std::unique_ptr<Guard> guard_;
    std::unique_ptr<lua_State, void (*)(lua_State*)> L_;
};

// One budgeted call into the state: construction arms the limits (fresh instruction
// budget and deadline), destruction disarms them and restores the stack.
class Sandbox::Call {
public:
    // `script` and `context` (event name, "load", "route GET /x") name errors.
    Call(Sandbox& sb, std::string script, std::string context);
    // The same with names the caller keeps alive for the whole call (a hook call on the hot
    // path copies no strings).
    struct Borrowed {};
    Call(Sandbox& sb, const std::string& script, const std::string& context, Borrowed);
    ~Call();
    Call(const Call&) = delete;
    Call& operator=(const Call&) = delete;

    // Calls the function below its `nargs` arguments. Returns true when it returned (its
    // results are on the stack), false when the script vetoed with kb.reject (nothing
    // pushed). Throws LuaError on an error or an exceeded limit, even one the script caught.
    bool run(int nargs, int nresults);

    // Runs `body` (callable as int(lua_State*)) as a C function under the same protection,
    // with the `nargs` values on top of the stack as its arguments. The body may use only
    // plain data in its own frame: a Lua error unwinds it with longjmp. Same result as run.
    template <class F>
    bool runC(F& body, int nargs, int nresults) {
        pushTrampoline(&trampoline<F>, &body, nargs);
        return run(nargs + 1, nresults);
    }

    [[nodiscard]] const std::string& rejectReason() const;
    [[nodiscard]] lua_State* state() const { return sb_.state(); }

private:
    template <class F>
    static int trampoline(lua_State* L);
    static void* takeBody(lua_State* L);
    void pushTrampoline(int (*fn)(lua_State*), void* body, int nargs);
    [[nodiscard]] LuaError error(int status);

    void arm();

    Sandbox& sb_;
    std::string ownScript_, ownContext_;
    const std::string& script_;
    const std::string& context_;
    int base_ = 0;
};

template <class F>
int Sandbox::Call::trampoline(lua_State* L) {
    return (*static_cast<F*>(takeBody(L)))(L);
}

}  // namespace klinikbox::lua
