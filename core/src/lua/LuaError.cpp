#include "lua/LuaError.h"

namespace klinikbox::lua {

const char* toString(ErrorKind k) {
    switch (k) {
        case ErrorKind::Runtime: return "runtime";
        case ErrorKind::Timeout: return "timeout";
        case ErrorKind::Memory: return "memory";
        case ErrorKind::Syntax: return "syntax";
        case ErrorKind::Sandbox: return "sandbox";
    }
    return "unknown";
}

namespace {
std::string compose(const std::string& script, int line, const std::string& context, const std::string& message) {
    std::string s = script.empty() ? std::string("lua") : script;
    if (line > 0) {
        // Appended in two steps: `":" + std::to_string(line)` trips GCC 12's false
        // -Werror=restrict at -O3 (Release builds).
        s += ':';
        s += std::to_string(line);
    }
    s += ": " + message;
    if (!context.empty()) s += " (" + context + ")";
    return s;
}
}  // namespace

LuaError::LuaError(ErrorKind kind, std::string script, int line, std::string context, std::string message)
    : std::runtime_error(compose(script, line, context, message)),
      kind_(kind),
      script_(std::move(script)),
      line_(line),
      context_(std::move(context)),
      message_(std::move(message)) {}

}  // namespace klinikbox::lua
