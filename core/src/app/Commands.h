// The klinikbox command line: one function per subcommand.
#pragma once

#include <functional>
#include <iosfwd>
#include <map>
#include <string>
#include <vector>

namespace klinikbox::app {

using Args = std::vector<std::string>;

// Removes "--name VALUE" (or "--name=VALUE") from args and returns VALUE, or `def`.
std::string takeOption(Args& args, const std::string& name, const std::string& def = {});
bool takeFlag(Args& args, const std::string& name);
// The --config file: the option, else $KLINIKBOX_CONFIG, else /etc/klinikbox/klinikbox.yaml.
std::string configPath(Args& args);

// Subcommands contributed by other source files (users, plugin sets, Lua).
std::map<std::string, std::function<int(Args)>>& extraCommands();
struct RegisterCommand {
    RegisterCommand(const std::string& name, std::function<int(Args)> fn) { extraCommands()[name] = std::move(fn); }
};

// Sets the process time zone (TZ) to a box.timezone value: what "today" and every local time
// the box writes are in. The zone was validated when the configuration was loaded.
void applyTimezone(const std::string& zone);

int cmdServe(Args args);
int cmdConfig(Args args);
int cmdMigrate(Args args);
int cmdBackup(Args args);
int cmdRestore(Args args);
int cmdAudit(Args args);

}  // namespace klinikbox::app
