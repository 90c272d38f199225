// klinikbox: the appliance's single binary. `klinikbox serve` runs the box; the other
// subcommands are for installation, operations and plugin development.
#include "app/Commands.h"

#include <klinikbox/Version.h>

#include <functional>
#include <iostream>
#include <map>

namespace {

const char* kUsage = R"(usage: klinikbox <command> [options]

Running the box
  serve [--config FILE]              run the box (HTTPS, plugins, outbox); SIGTERM drains and stops
  migrate [--config FILE]            apply pending database migrations and exit
  config check [--config FILE]       validate a configuration file (file:line:column errors)
  config reference                   print the configuration reference (Markdown)

Operations
  backup FILE [--config FILE]        online backup of the database (safe while serving)
  restore FILE [--config FILE]       replace the database with a backup (box must be stopped)
  audit verify [--checkpoints FILE] check the audit chain and its anchor outside the database
                                     (and logged checkpoints); exit 1 on a broken chain
  audit re-anchor --reason TEXT      accept this database after a deliberate restore (audit-logged)
  user add|passwd|disable ...        manage staff accounts (see `klinikbox user --help`)
  tls show|renew [--name HOST]...    the HTTPS certificate: fingerprint, names; a new self-signed one

Plugins and scripts
  pluginset create|sign|verify|inspect|pack ...   region-certified plugin sets
  lua test SCRIPT                    run a script's kb.test cases offline
  lua run SCRIPT --event NAME --input FILE        show what a hook does to a payload

  version                            print the version

The configuration file is --config FILE, else $KLINIKBOX_CONFIG, else /etc/klinikbox/klinikbox.yaml.
)";

}  // namespace

namespace klinikbox::app {
std::map<std::string, std::function<int(Args)>>& extraCommands() {
    static std::map<std::string, std::function<int(Args)>> m;
    return m;
}
}  // namespace klinikbox::app

int main(int argc, char** argv) {
    using namespace klinikbox::app;
    if (argc < 2) {
        std::cerr << kUsage;
        return 2;
    }
    const std::string cmd = argv[1];
    Args args(argv + 2, argv + argc);
    static const std::map<std::string, std::function<int(Args)>> builtin = {
        {"serve", cmdServe}, {"config", cmdConfig}, {"migrate", cmdMigrate},
        {"backup", cmdBackup}, {"restore", cmdRestore}, {"audit", cmdAudit}};
    try {
        if (cmd == "version" || cmd == "--version") {
            std::cout << "klinikbox " << klinikbox::kBoxVersion << " (plugin SDK API " << klinikbox::kSdkApiVersion
                      << ")\n";
            return 0;
        }
        if (cmd == "help" || cmd == "--help" || cmd == "-h") {
            std::cout << kUsage;
            return 0;
        }
        if (auto it = builtin.find(cmd); it != builtin.end()) return it->second(args);
        if (auto it = extraCommands().find(cmd); it != extraCommands().end()) return it->second(args);
        std::cerr << "klinikbox: unknown command '" << cmd << "'\n\n" << kUsage;
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "klinikbox " << cmd << ": " << e.what() << "\n";
        return 1;
    }
}
