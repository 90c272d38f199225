// klinikbox lua test|run: the IT technician's offline tools for hook scripts.
#include "app/Commands.h"

#include "app/LuaPluginTest.h"
#include "lua/Cli.h"

#include <iostream>

namespace klinikbox::app {
namespace {

constexpr const char* kLuaUsage = R"(usage:
  klinikbox lua test SCRIPT
      run the script's kb.test cases with a fixed clock and fake events;
      exit 0 when all pass, 1 when one fails or the script is refused, 2 when unreadable
  klinikbox lua test PLUGIN_DIR
      run a Lua plugin's tests (tests/*.lua) against a throwaway in-memory box:
      migrations, settings' defaults, routes (kb.request), events (kb.fire),
      timers (kb.set_now, kb.run_due), declared channels (kb.sent)
  klinikbox lua run SCRIPT --event NAME --input FILE
      show what the script's hooks do to the JSON payload in FILE;
      exit 0 accepted, 3 refused (kb.reject), 1 script error, 2 unreadable input
)";

int run(Args args) {
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        std::cout << kLuaUsage;
        return args.empty() ? 2 : 0;
    }
    (void)takeOption(args, "--config");  // accepted for symmetry; the offline tools need no box
    const std::string sub = args[0];
    args.erase(args.begin());
    if (sub == "test") {
        if (args.size() != 1) {
            std::cerr << "klinikbox lua test: expected exactly one SCRIPT\n\n" << kLuaUsage;
            return 2;
        }
        if (isLuaPluginDir(args[0])) return runLuaPluginTest(args[0], std::cout);
        return lua::runLuaTest(args[0], std::cout);
    }
    if (sub == "run") {
        const std::string event = takeOption(args, "--event");
        const std::string input = takeOption(args, "--input");
        if (args.size() != 1 || event.empty() || input.empty()) {
            std::cerr << "klinikbox lua run: expected SCRIPT --event NAME --input FILE\n\n" << kLuaUsage;
            return 2;
        }
        return lua::runLuaRun(args[0], event, input, std::cout);
    }
    std::cerr << "klinikbox lua: unknown subcommand '" << sub << "'\n\n" << kLuaUsage;
    return 2;
}

const RegisterCommand reg("lua", run);

}  // namespace
}  // namespace klinikbox::app
