// klinikbox setup-link: prints the one-time link to the first-run wizard (which ends by
// creating the first admin) again, on the
// host name the technician chose, and writes it to the log file as well. A new link replaces
// the previous one (also the one a running box printed at start).
#include "app/Commands.h"

#include "auth/Accounts.h"
#include "auth/AuthModule.h"
#include "server/BoxConfig.h"
#include "server/Logging.h"
#include "store/CoreMigrations.h"
#include "store/Migrations.h"
#include "store/Settings.h"

#include <Poco/Logger.h>

#include <filesystem>
#include <iostream>

namespace klinikbox::app {

namespace {

const char* kSetupUsage = R"(usage: klinikbox setup-link [--host NAME[:PORT]] [--config FILE]
Prints a new one-time link (valid 24 hours) to the first-run wizard: the clinic, host names
and certificate, the region's trust anchor, and the first admin. The link names
--host, else the public URL saved in the first-run wizard, else server.public_url, else the
listen address. It replaces any earlier link.
)";

// The URL staff open: --host wins, then the wizard's saved public URL, then
// server.public_url, then the listen address.
std::string setupBase(const server::BoxConfig& cfg, const std::string& savedUrl, const std::string& host) {
    const std::string scheme = cfg.server.tls ? "https://" : "http://";
    if (!host.empty()) {
        if (host.find("://") != std::string::npos) return host;
        const bool hasPort = host.find(':') != std::string::npos && host.front() != '[';
        std::string url = scheme + host;
        if (!hasPort) {
            url += ':';  // two appends: ":" + string trips GCC 12's false -Werror=restrict at -O3
            url += std::to_string(cfg.server.port);
        }
        return url;
    }
    if (!savedUrl.empty()) return savedUrl;
    if (!cfg.publicUrl.empty()) return cfg.publicUrl;
    std::string listen = cfg.server.listen;
    if (listen == "0.0.0.0" || listen == "::") listen = "127.0.0.1";
    std::string url = scheme + listen;
    url += ':';
    url += std::to_string(cfg.server.port);
    return url;
}

int runSetup(Args args) {
    if (!args.empty() && args.front() == "--help") {
        std::cout << kSetupUsage;
        return 0;
    }
    const auto path = configPath(args);
    const auto host = takeOption(args, "--host");
    if (!args.empty()) throw std::invalid_argument("unexpected argument '" + args.front() + "'\n" + kSetupUsage);
    const auto cfg = server::loadBoxConfig(path);
    std::filesystem::create_directories(cfg.dataDir);
    store::Database db({cfg.databasePath, cfg.synchronousFull, cfg.busyTimeoutMs});
    store::Migrations::apply(db, "core", store::coreMigrations());
    SystemClock clock;
    auth::Accounts accounts(db, clock, auth::accountsOptions(cfg));
    if (accounts.count() > 0) {
        std::cerr << "klinikbox setup-link: accounts exist already; an admin adds more in the console or with "
                     "`klinikbox user add`\n";
        return 1;
    }
    const store::Settings settings(db, clock);
    std::string base = setupBase(cfg, settings.get(store::setting::kPublicUrl).value_or(""), host);
    while (!base.empty() && base.back() == '/') base.pop_back();
    const std::string url = base + "/setup.html#token=" + accounts.createSetupToken(24);
    server::setupLogging(cfg.logLevel, cfg.logFile);
    Poco::Logger::get("setup").notice("setup link for the first admin (valid 24 hours): " + url);
    std::cout << "Set up the box and create the first admin (the first-run wizard) within 24 hours at:\n  " << url
              << "\n(or run: klinikbox user add --username NAME --role admin)\n";
    return 0;
}

const RegisterCommand regSetup("setup-link", runSetup);

}  // namespace
}  // namespace klinikbox::app
