// The one exception the Lua runtime throws: what went wrong (kind), in which script and on
// which line, and in which hook or event.
#pragma once

#include <stdexcept>
#include <string>

namespace klinikbox::lua {

enum class ErrorKind {
    Runtime,  // the script raised an error (error(), a nil index, a bad argument to kb.*)
    Timeout,  // instruction budget or wall-clock limit exceeded
    Memory,   // the state's memory cap (or the string-size cap) was hit
    Syntax,   // the script does not compile
    Sandbox,  // the script tried something the sandbox forbids (bytecode, io, __gc, ...)
};
[[nodiscard]] const char* toString(ErrorKind k);

class LuaError : public std::runtime_error {
public:
    // `line` is 0 when unknown; `context` names the hook's event or "load", may be empty.
    LuaError(ErrorKind kind, std::string script, int line, std::string context, std::string message);

    [[nodiscard]] ErrorKind kind() const { return kind_; }
    [[nodiscard]] const std::string& script() const { return script_; }
    [[nodiscard]] int line() const { return line_; }
    [[nodiscard]] const std::string& context() const { return context_; }
    // The message without script, line and context.
    [[nodiscard]] const std::string& message() const { return message_; }
    // A state that ran out of budget or memory, or met the sandbox, may be half-way through
    // anything: it is discarded, never handed to the next call.
    [[nodiscard]] bool leavesStateUntrusted() const {
        return kind_ == ErrorKind::Timeout || kind_ == ErrorKind::Memory || kind_ == ErrorKind::Sandbox;
    }

private:
    ErrorKind kind_;
    std::string script_;
    int line_;
    std::string context_;
    std::string message_;
};

}  // namespace klinikbox::lua
