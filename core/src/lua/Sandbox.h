// One Lua 5.4 state for one script, with the limits a clinic's IT staff cannot exceed:
// a memory cap (allocator), an instruction budget and a wall-clock limit (count hook, sticky
// once tripped so pcall cannot swallow it), a string-size cap, and only safe libraries.
// Each script has its own state, so no table or metatable is shared between scripts.
#pragma once

#include <klinikbox/Clock.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

struct lua_State;

namespace klinikbox::lua {

struct Limits {
    std::size_t memoryBytes = 16u << 20;
    long long instructions = 10'000'000;
    std::chrono::milliseconds time{200};
    std::size_t maxStringBytes = 1u << 20;  // string.rep results and pattern-function inputs
};

enum class ErrorKind { Runtime, Timeout, Memory, Syntax, Sandbox };
const char* toString(ErrorKind k);

// A script failed. `what()` names the script, the line and (for hooks) the event.
class LuaError : public std::runtime_error {
public:
    LuaError(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
    [[nodiscard]] ErrorKind kind() const { return kind_; }

private:
    ErrorKind kind_;
};

class Sandbox {
public:
    using LogSink = std::function<void(const std::string& level, const std::string& message)>;

    Sandbox(std::string scriptName, Limits limits, const Clock& clock, LogSink log = {});
    ~Sandbox();
    Sandbox(const Sandbox&) = delete;
    Sandbox& operator=(const Sandbox&) = delete;

    // Compiles text (never bytecode) and runs its top level under the limits.
    void run(const std::string& source);

    // Calls a function the caller pushed, followed by its `nargs` arguments, under the
    // limits; leaves `nresults` results. Throws LuaError and then leaves the stack as it
    // was below the function. `context` names the hook or event in error messages.
    void call(int nargs, int nresults, const std::string& context);

    [[nodiscard]] lua_State* state() const { return L_; }
    [[nodiscard]] const std::string& name() const { return name_; }
    [[nodiscard]] std::size_t memoryUsed() const;

    // Internal state the C callbacks reach through the Lua extra space.
    struct Guard;

private:
    std::string name_;
    std::unique_ptr<Guard> guard_;
    lua_State* L_ = nullptr;
};

}  // namespace klinikbox::lua
