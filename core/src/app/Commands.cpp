#include "app/Commands.h"

#include "app/Modules.h"
#include "audit/AuditAnchor.h"
#include "audit/AuditLog.h"
#include "server/Box.h"
#include "server/BoxConfig.h"
#include "server/Logging.h"
#include "server/MemorySettings.h"
#include "store/Backup.h"
#include "store/CoreMigrations.h"
#include "store/Migrations.h"

#include "config/Schema.h"

#include <klinikbox/Clock.h>

#include <Poco/Exception.h>
#include <Poco/JSON/Stringifier.h>
#include <Poco/Logger.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Util/ServerApplication.h>

#include <sys/file.h>
#include <csignal>
#include <pthread.h>
#include <pwd.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace klinikbox::app {

namespace fs = std::filesystem;

std::string takeOption(Args& args, const std::string& name, const std::string& def) {
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == name) {
            if (i + 1 >= args.size()) throw std::invalid_argument(name + " needs a value");
            std::string v = args[i + 1];
            args.erase(args.begin() + static_cast<long>(i), args.begin() + static_cast<long>(i) + 2);
            return v;
        }
        if (args[i].rfind(name + "=", 0) == 0) {
            std::string v = args[i].substr(name.size() + 1);
            args.erase(args.begin() + static_cast<long>(i));
            return v;
        }
    }
    return def;
}

bool takeFlag(Args& args, const std::string& name) {
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == name) {
            args.erase(args.begin() + static_cast<long>(i));
            return true;
        }
    }
    return false;
}

std::string configPath(Args& args) {
    std::string p = takeOption(args, "--config");
    if (p.empty()) {
        const char* e = std::getenv("KLINIKBOX_CONFIG");
        p = e && *e ? e : "/etc/klinikbox/klinikbox.yaml";
    }
    return p;
}

namespace {

void noExtraArgs(const Args& args) {
    if (!args.empty()) throw std::invalid_argument("unexpected argument '" + args.front() + "'");
}

struct PathFindings {
    std::vector<std::string> errors, warnings;
};

// Paths that must exist for the box to run what the technician expects: a plugin set or a
// trust directory that is not there would otherwise start a box with no plugins and say OK.
// A missing trust directory refuses; a missing set only warns, because a set can still be
// uploaded in the console of a box that runs (and config check runs before every start).
PathFindings missingPaths(const server::BoxConfig& cfg) {
    PathFindings out;
    std::error_code ec;
    if (!cfg.trustDir.empty() && !fs::is_directory(cfg.trustDir, ec)) {
        out.errors.push_back("plugins.trust_dir: " + cfg.trustDir +
                      " does not exist (or is not a directory); no plugin set could be verified");
    } else if (cfg.production() && cfg.trustDir.empty() && !fs::is_directory(cfg.localTrustDir(), ec)) {
        out.errors.push_back("plugins.trust_dir: empty in production mode; no plugin set could be verified");
    }
    if (!cfg.pluginSet.empty() && !fs::exists(cfg.pluginSet, ec)) {
        // An uploaded set activated in the console lives in the database and data_dir.
        const bool uploaded = fs::exists(fs::path(cfg.dataDir) / "pluginsets", ec);
        if (!uploaded) {
            out.warnings.push_back("plugins.set: " + cfg.pluginSet +
                          " does not exist and no set was uploaded in the console; the box would run with 0 plugins");
        }
    }
    // Plugin settings against the schemas of a plugin set on disk (a set uploaded in the
    // console is checked when it is activated): a wrong value is named before the start. A
    // warning, not an error: the box starts and only that plugin refuses to run, as it would
    // (config check runs before every start, and one plugin's setting must not stop the rest).
    if (!cfg.pluginSet.empty() && fs::is_directory(cfg.pluginSet, ec)) {
        for (const auto& [id, settings] : cfg.pluginSettings) {
            const fs::path schemaFile = fs::path(cfg.pluginSet) / id / "schema.yaml";
            if (!fs::is_regular_file(schemaFile, ec)) continue;
            try {
                const auto schema = config::Schema::fromYaml(YAML::LoadFile(schemaFile.string()), schemaFile.string());
                std::ostringstream text;
                Poco::JSON::Stringifier::stringify(settings, text);
                for (const auto& e : schema.validateJson(text.str(), "plugins.settings." + id).errors)
                    out.warnings.push_back("plugins.settings." + id + "." + e.path + ": " + e.message + " (the " + id + " plugin will not start)");
            } catch (const std::exception& e) {
                out.warnings.push_back("plugins.settings." + id + ": " + schemaFile.string() + " could not be read: " + e.what());
            }
        }
    }
    return out;
}

}  // namespace

void applyTimezone(const std::string& zone) {
    ::setenv("TZ", zone.c_str(), 1);
    ::tzset();
    Clock::timeZoneChanged();
}

namespace {

// Held by a running box; restore and migrate refuse to work under a running box.
class ProcessLock {
public:
    explicit ProcessLock(const std::string& dataDir) {
        fs::create_directories(dataDir);
        const auto path = (fs::path(dataDir) / "klinikbox.lock").string();
        fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd_ < 0) throw std::runtime_error("cannot open " + path);
        if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
            ::close(fd_);
            throw std::runtime_error("a klinikbox is already running on " + dataDir + " (stop it first)");
        }
    }
    ~ProcessLock() {
        ::flock(fd_, LOCK_UN);
        ::close(fd_);
    }

private:
    int fd_ = -1;
};

class ServeApp final : public Poco::Util::ServerApplication {
public:
    explicit ServeApp(server::BoxConfig cfg) : cfg_(std::move(cfg)) {}

protected:
    // A start failure also goes to standard error, not only to the log file: under systemd
    // that is the journal, where `systemctl status klinikbox` shows it next to the exit status
    // (70). An errno-coded I/O error (a bind refused by the unit's sandbox, for one) is named.
    int main(const std::vector<std::string>&) override {
        try {
            return serve();
        } catch (const Poco::Exception& e) {
            std::string why = e.displayText();
            if (dynamic_cast<const Poco::IOException*>(&e) && e.code() > 0 && e.code() < 4096) {
                const std::string name = std::strerror(e.code());
                if (why.find(name) == std::string::npos) why += " (" + name + ")";
            }
            std::cerr << "klinikbox: " << (started_ ? "stopped by an error: " : "cannot start: ") << why << std::endl;
            throw;
        } catch (const std::exception& e) {
            std::cerr << "klinikbox: " << (started_ ? "stopped by an error: " : "cannot start: ") << e.what() << std::endl;
            throw;
        }
    }

private:
    int serve() {
        // Block the termination signals before any thread exists, so every thread inherits the
        // mask and only waitForTerminationRequest()'s sigwait receives them. Otherwise a SIGTERM
        // can land on a worker thread and kill the box with the default action (exit 143)
        // instead of draining.
        sigset_t stop;
        sigemptyset(&stop);
        sigaddset(&stop, SIGINT);
        sigaddset(&stop, SIGQUIT);
        sigaddset(&stop, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &stop, nullptr);
        // Before the box's threads exist: arenas are handed out as threads first allocate.
        const bool memoryOk = server::applyMemorySettings(cfg_.memory);
        // After the Application framework's own initialisation, which resets logging.
        server::setupLogging(cfg_.logLevel, cfg_.logFile);
        if (!memoryOk) Poco::Logger::get("box").warning("the C library refused memory.* (malloc_arenas, trim_threshold_kib, mmap_threshold_kib); its defaults apply");
        ProcessLock lock(cfg_.dataDir);
        SystemClock system;
        OffsetClock shifted(cfg_.clockStart ? *cfg_.clockStart - std::chrono::system_clock::now() : std::chrono::system_clock::duration{});
        const Clock& clock = cfg_.clockStart ? static_cast<const Clock&>(shifted) : system;
        if (cfg_.clockStart) std::cout << "klinikbox: development clock starts at box.clock_start" << std::endl;
        server::Box box(cfg_, clock);
        box.open();
        installModules(box);
        box.start();
        // Scripts and tests read this line to find the port (server.port 0 = ephemeral).
        std::cout << "klinikbox: listening on " << box.baseUrl() << "/" << std::endl;
        started_ = true;
        waitForTerminationRequest();
        std::cout << "klinikbox: stopping (draining requests)" << std::endl;
        box.stop();
        return EXIT_OK;
    }

    server::BoxConfig cfg_;
    bool started_ = false;
};

}  // namespace

int cmdServe(Args args) {
    const auto path = configPath(args);
    noExtraArgs(args);
    auto cfg = server::loadBoxConfig(path);
    applyTimezone(cfg.timezone);
    ServeApp app(cfg);
    char name[] = "klinikbox";
    char* argv[] = {name, nullptr};
    return app.run(1, argv);
}

int cmdConfig(Args args) {
    if (args.empty()) throw std::invalid_argument("usage: klinikbox config check|reference [--config FILE]");
    const std::string verb = args.front();
    args.erase(args.begin());
    if (verb == "check") {
        const auto path = configPath(args);
        noExtraArgs(args);
        try {
            const auto cfg = server::loadBoxConfig(path);
            const auto missing = missingPaths(cfg);
            for (const auto& m : missing.warnings) std::cerr << "WARNING: " << path << ": " << m << "\n";
            if (!missing.errors.empty()) {
                for (const auto& m : missing.errors) std::cerr << path << ": " << m << "\n";
                return 1;
            }
            std::cout << path << ": " << (missing.warnings.empty() ? "OK" : "OK WITH WARNINGS") << " (" << cfg.mode
                      << " mode, data in " << cfg.dataDir << ")\n";
            return 0;
        } catch (const server::ConfigInvalid& e) {
            for (const auto& m : e.errors) std::cerr << m << "\n";
            return 1;
        }
    }
    if (verb == "reference") {
        noExtraArgs(args);
        std::cout << config::renderMarkdownReference(
            config::Schema::fromYaml(YAML::Load(server::embeddedSchema()), "config/schema.yaml"));
        return 0;
    }
    throw std::invalid_argument("unknown config command '" + verb + "' (check or reference)");
}

int cmdMigrate(Args args) {
    const auto path = configPath(args);
    noExtraArgs(args);
    auto cfg = server::loadBoxConfig(path);
    ProcessLock lock(cfg.dataDir);
    store::Database db({cfg.databasePath, cfg.synchronousFull, cfg.busyTimeoutMs});
    const int n = store::Migrations::apply(db, "core", store::coreMigrations());
    std::cout << "core: " << n << " migration(s) applied, schema version "
              << store::Migrations::appliedVersion(db, "core") << "\n"
              << "plugin migrations are applied when each plugin is loaded at start\n";
    return 0;
}

int cmdBackup(Args args) {
    const auto path = configPath(args);
    if (args.size() != 1) throw std::invalid_argument("usage: klinikbox backup FILE [--config FILE]");
    auto cfg = server::loadBoxConfig(path);
    if (fs::exists(args[0])) throw std::runtime_error(args[0] + " exists already; choose a new file name");
    store::Database db({cfg.databasePath, cfg.synchronousFull, cfg.busyTimeoutMs});
    store::backupTo(db, args[0]);
    store::giveToOwnerOf(args[0], cfg.dataDir);
    std::cout << "backup written to " << args[0] << " (" << fs::file_size(args[0]) << " bytes)\n"
              << "keep " << (fs::path(cfg.dataDir) / "audit.key").string()
              << " safe as well: the audit log cannot be verified without it\n";
    return 0;
}

int cmdRestore(Args args) {
    const auto path = configPath(args);
    if (args.size() != 1) throw std::invalid_argument("usage: klinikbox restore FILE [--config FILE]");
    auto cfg = server::loadBoxConfig(path);
    ProcessLock lock(cfg.dataDir);
    const int known = store::coreMigrations().back().version;
    store::restoreFrom(args[0], cfg.databasePath, known);
    std::cout << "restored " << args[0] << " into " << cfg.databasePath << "; the previous database is kept as "
              << cfg.databasePath << ".before-restore\n";
    // The anchor outside the database still names the newest record of the replaced log.
    const auto keyPath = (fs::path(cfg.dataDir) / "audit.key").string();
    if (fs::exists(keyPath)) {
        store::Database db({cfg.databasePath, cfg.synchronousFull, cfg.busyTimeoutMs});
        audit::AuditAnchor anchor(db, audit::AuditLog::loadKey(keyPath), (fs::path(cfg.dataDir) / "audit.head").string());
        const auto c = anchor.check();
        if (!c.ok)
            std::cout << "NOTE: " << c.problem << "\nthe box reports this until you run, after checking:\n"
                      << "  klinikbox audit re-anchor --reason \"restored the backup of ...\"\n";
    }
    return 0;
}

namespace {

std::string cliLogin() {
    const struct passwd* pw = ::getpwuid(::geteuid());
    return std::string("cli:") + (pw ? pw->pw_name : std::to_string(::geteuid()));
}

}  // namespace

int cmdAudit(Args args) {
    static const char* kUsage =
        "usage: klinikbox audit verify [--checkpoints FILE|-] [--config FILE]\n"
        "       klinikbox audit re-anchor --reason TEXT [--config FILE]";
    if (args.empty() || (args.front() != "verify" && args.front() != "re-anchor")) throw std::invalid_argument(kUsage);
    const std::string verb = args.front();
    args.erase(args.begin());
    const auto path = configPath(args);
    const std::string checkpoints = verb == "verify" ? takeOption(args, "--checkpoints") : "";
    const std::string reason = verb == "re-anchor" ? takeOption(args, "--reason") : "";
    noExtraArgs(args);
    auto cfg = server::loadBoxConfig(path);
    // Verifying never creates a key: a new one would make every record look forged.
    const auto key = audit::AuditLog::loadKey((fs::path(cfg.dataDir) / "audit.key").string());
    std::unique_ptr<ProcessLock> lock;
    if (verb == "re-anchor") {
        if (reason.size() < 3) throw std::invalid_argument("re-anchor needs --reason TEXT (why the database changed)");
        lock = std::make_unique<ProcessLock>(cfg.dataDir);
    }
    store::Database db({cfg.databasePath, cfg.synchronousFull, cfg.busyTimeoutMs});
    store::Migrations::apply(db, "core", store::coreMigrations());
    SystemClock clock;
    audit::AuditLog log(db, clock, key);
    audit::AuditAnchor anchor(db, key, (fs::path(cfg.dataDir) / "audit.head").string());

    if (verb == "re-anchor") {
        const auto chain = log.verify();  // without the anchor: the chain itself must be intact
        if (!chain.ok) {
            std::cout << "refused: the audit chain itself is broken at record " << chain.firstBadSeq << ": " << chain.problem
                      << "\nre-anchoring accepts an older or another intact database, never a damaged one\n";
            return 1;
        }
        const auto before = anchor.check();
        if (before.ok) {
            std::cout << "the database matches its anchor (record " << before.anchoredSeq << "); nothing to do\n";
            return 0;
        }
        audit::Actor actor;
        actor.username = cliLogin();
        actor.role = "cli";
        log.append(actor, AuditEntry{"audit.reanchor", "", "administration", "ok",
                                     "anchor moved from record " + std::to_string(before.anchoredSeq) + " to this database (" +
                                         std::to_string(before.databaseSeq) + " records): " + before.problem +
                                         "; reason: " + reason});
        anchor.reset();
        std::cout << "re-anchored at record " << before.databaseSeq + 1 << " (audit.reanchor, by " << actor.username
                  << "); was: " << before.problem << "\n";
        return 0;
    }

    log.setAnchor(&anchor);
    const auto r = log.verify();
    if (!r.ok) {
        std::cout << "audit log BROKEN at record " << r.firstBadSeq << ": " << r.problem << "\n";
        return 1;
    }
    if (!checkpoints.empty()) {
        std::ifstream file;
        if (checkpoints != "-") {
            file.open(checkpoints);
            if (!file) throw std::runtime_error("cannot read " + checkpoints);
        }
        const auto c = anchor.checkCheckpoints(checkpoints == "-" ? std::cin : file);
        if (c.unreadable > 0)
            std::cout << "WARNING: " << c.unreadable << " checkpoint line(s) with a wrong MAC (another box's, or edited)\n";
        if (!c.ok) {
            std::cout << "audit log BROKEN: " << c.problem << "\n";
            return 1;
        }
        std::cout << c.checkpoints << " logged checkpoint(s) up to record " << c.anchoredSeq << " match the database\n";
    }
    std::cout << "audit log OK: " << r.records << " records, chain intact, anchored\n";
    return 0;
}

}  // namespace klinikbox::app
