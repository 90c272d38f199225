// klinikbox user add|passwd|disable|enable|list: account administration from the shell,
// for the first admin and for recovery. Every change is audit-logged as "cli:<login>".
#include "app/Commands.h"

#include "audit/AuditAnchor.h"
#include "audit/AuditLog.h"
#include "auth/Accounts.h"
#include "auth/AuthModule.h"
#include "auth/Passwords.h"
#include "server/BoxConfig.h"
#include "store/CoreMigrations.h"
#include "store/Migrations.h"

#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <pwd.h>

namespace klinikbox::app {

namespace {

const char* kUserUsage = R"(usage:
  klinikbox user add --username NAME --role admin|staff|auditor|it [--name "Full Name"]
                     [--hsa-id SE...-...] [--care-unit SE...-...] [--password-stdin] [--config FILE]
  klinikbox user passwd --username NAME [--password-stdin] [--config FILE]
  klinikbox user disable|enable --username NAME [--config FILE]
  klinikbox user list [--config FILE]
Without --password-stdin a strong password is generated and printed once.
)";

std::string readPassword(bool fromStdin) {
    if (!fromStdin) return auth::randomToken(15);  // 20 characters of base64url
    std::string pw;
    std::getline(std::cin, pw);
    return pw;
}

std::string cliActor() {
    const passwd* pw = ::getpwuid(::geteuid());
    return std::string("cli:") + (pw ? pw->pw_name : std::to_string(::geteuid()));
}

int runUser(Args args) {
    if (args.empty() || args.front() == "--help") {
        std::cout << kUserUsage;
        return args.empty() ? 2 : 0;
    }
    const std::string verb = args.front();
    args.erase(args.begin());
    const auto path = configPath(args);
    const auto cfg = server::loadBoxConfig(path);
    std::filesystem::create_directories(cfg.dataDir);
    store::Database db({cfg.databasePath, cfg.synchronousFull, cfg.busyTimeoutMs});
    store::Migrations::apply(db, "core", store::coreMigrations());
    SystemClock clock;
    const auto key = audit::AuditLog::loadOrCreateKeyFor(db, (std::filesystem::path(cfg.dataDir) / "audit.key").string());
    audit::AuditLog audit(db, clock, key);
    // The records written here move the anchor outside the database too (a running box's
    // anchor catches up by itself).
    audit::AuditAnchor anchor(db, key, (std::filesystem::path(cfg.dataDir) / "audit.head").string());
    audit.setAnchor(&anchor);
    struct AdvanceAtExit {
        audit::AuditAnchor& a;
        ~AdvanceAtExit() {
            try {
                if (!a.advance()) std::cerr << "WARNING: " << a.mismatch() << "\n";
            } catch (const std::exception& e) {
                std::cerr << "WARNING: " << e.what() << "\n";
            }
        }
    } advanceAtExit{anchor};
    auth::Accounts accounts(db, clock, auth::accountsOptions(cfg));
    audit::Actor actor;
    actor.username = cliActor();
    actor.role = "cli";

    if (verb == "list") {
        if (!args.empty()) throw std::invalid_argument(kUserUsage);
        for (const auto& u : accounts.list())
            std::cout << u.username << "\t" << toString(u.role) << "\t" << (u.disabled ? "disabled" : "active") << "\t"
                      << u.displayName << "\n";
        return 0;
    }
    const auto username = takeOption(args, "--username");
    if (username.empty()) throw std::invalid_argument("--username is required\n" + std::string(kUserUsage));
    if (verb == "add") {
        auth::NewUser u;
        u.username = username;
        const auto role = roleFromString(takeOption(args, "--role"));
        if (!role) throw std::invalid_argument("--role must be admin, staff, auditor or it");
        u.role = *role;
        u.displayName = takeOption(args, "--name");
        u.hsaId = takeOption(args, "--hsa-id");
        u.careUnit = takeOption(args, "--care-unit");
        const bool fromStdin = takeFlag(args, "--password-stdin");
        if (!args.empty()) throw std::invalid_argument("unexpected argument '" + args.front() + "'");
        u.password = readPassword(fromStdin);
        const auto created = accounts.create(u);
        audit.append(actor, AuditEntry{"user.create", "", "administration", "ok",
                                       "created " + created.username + " with role " + std::string(toString(created.role))});
        std::cout << "created " << created.username << " (" << toString(created.role) << ")\n";
        if (!fromStdin) std::cout << "password: " << u.password << "\n(shown once; change it after the first login)\n";
        return 0;
    }
    auto user = accounts.find(username);
    if (!user) throw std::invalid_argument("no user named " + username);
    if (verb == "passwd") {
        const bool fromStdin = takeFlag(args, "--password-stdin");
        if (!args.empty()) throw std::invalid_argument("unexpected argument '" + args.front() + "'");
        const auto pw = readPassword(fromStdin);
        accounts.setPassword(user->id, pw);
        audit.append(actor, AuditEntry{"user.password_reset", "", "administration", "ok", "password set for " + username});
        std::cout << "password changed for " << username << "; their sessions were ended\n";
        if (!fromStdin) std::cout << "password: " << pw << "\n";
        return 0;
    }
    if (verb == "disable" || verb == "enable") {
        if (!args.empty()) throw std::invalid_argument("unexpected argument '" + args.front() + "'");
        accounts.setDisabled(user->id, verb == "disable");
        audit.append(actor, AuditEntry{"user.update", "", "administration", "ok", verb + "d " + username});
        std::cout << username << " " << verb << "d\n";
        return 0;
    }
    throw std::invalid_argument("unknown user command '" + verb + "'\n" + std::string(kUserUsage));
}

const RegisterCommand regUser("user", runUser);

}  // namespace
}  // namespace klinikbox::app
