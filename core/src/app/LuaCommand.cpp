// klinikbox lua test|run: the IT technician's offline tools for hook scripts.
#include "app/Commands.h"

#include "app/LuaPluginTest.h"
#include "lua/Cli.h"
#include "server/BoxConfig.h"

#include <algorithm>
#include <filesystem>
#include <iostream>

namespace klinikbox::app {
namespace {

constexpr const char* kLuaUsage = R"(usage:
  klinikbox lua test SCRIPT [--config FILE]
      run the script's kb.test cases with a fixed clock and fake events;
      exit 0 when all pass, 1 when one fails or the script is refused, 2 when unreadable
  klinikbox lua test PLUGIN_DIR
      run a Lua plugin's tests (tests/*.lua) against a throwaway in-memory box:
      migrations, settings' defaults, routes (kb.request), events (kb.fire),
      timers (kb.set_now, kb.run_due), declared channels (kb.sent)
  klinikbox lua run SCRIPT --event NAME --input FILE [--config FILE]
      show what the script's hooks do to the JSON payload in FILE;
      exit 0 accepted, 3 refused (kb.reject), 1 script error, 2 unreadable input
  --config FILE: the box's klinikbox.yaml; kb.config then reads the script's
      lua.config.<file> settings (without it kb.config is nil unless a test calls
      kb.set_config), and kb.time counts in its box.timezone (without it in
      Europe/Stockholm, the box's default), whatever zone this machine is in
)";

// The box's configuration file, or the defaults without one. Returns false (after saying
// why) when the file cannot be loaded.
bool loadConfig(const std::string& configFile, server::BoxConfig& out) {
    if (configFile.empty()) return true;
    try {
        out = server::loadBoxConfig(configFile);
        return true;
    } catch (const std::exception& e) {
        std::cerr << "klinikbox lua: cannot use --config " << configFile << ": " << e.what() << "\n";
        return false;
    }
}

// The script's settings from the box's configuration file (lua.config.<file name>).
Poco::JSON::Object::Ptr scriptSettings(const server::BoxConfig& cfg, const std::string& script) {
    const auto it = cfg.luaScriptConfig.find(std::filesystem::path(script).filename().string());
    return it != cfg.luaScriptConfig.end() ? it->second : Poco::JSON::Object::Ptr{};
}

int runLua(Args args) {
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        std::cout << kLuaUsage;
        return args.empty() ? 2 : 0;
    }
    if (std::any_of(args.begin(), args.end(), [](const std::string& a) { return a == "--help" || a == "-h"; })) {
        std::cout << kLuaUsage;
        return 0;
    }
    const std::string configFile = takeOption(args, "--config");
    const std::string sub = args[0];
    args.erase(args.begin());
    server::BoxConfig cfg;
    if (!loadConfig(configFile, cfg)) return 2;
    // kb.time and the test clock's days count in the box's zone, as on the box.
    applyTimezone(cfg.timezone);
    if (sub == "test") {
        if (args.size() != 1) {
            std::cerr << "klinikbox lua test: expected exactly one SCRIPT\n\n" << kLuaUsage;
            return 2;
        }
        if (isLuaPluginDir(args[0])) return runLuaPluginTest(args[0], std::cout);
        return lua::runLuaTest(args[0], std::cout, scriptSettings(cfg, args[0]));
    }
    if (sub == "run") {
        const std::string event = takeOption(args, "--event");
        const std::string input = takeOption(args, "--input");
        if (args.size() != 1 || event.empty() || input.empty()) {
            std::cerr << "klinikbox lua run: expected SCRIPT --event NAME --input FILE\n\n" << kLuaUsage;
            return 2;
        }
        return lua::runLuaRun(args[0], event, input, std::cout, scriptSettings(cfg, args[0]));
    }
    std::cerr << "klinikbox lua: unknown subcommand '" << sub << "'\n\n" << kLuaUsage;
    return 2;
}

const RegisterCommand regLua("lua", runLua);

}  // namespace
}  // namespace klinikbox::app
