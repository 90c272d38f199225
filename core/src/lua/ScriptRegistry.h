// The clinic's hook scripts: every *.lua of the scripts directory, each compiled and
// loaded (a script that does not compile, or whose top level fails, is refused with
// file:line and the version before it keeps running), swapped in as one set atomically:
// new calls use the new set, calls in flight finish on the old versions. Keeps per-script
// state and counters for the console and /metrics.
#pragma once

#include "lua/ScriptVersion.h"

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace klinikbox::lua {

// What the console and /metrics show of one script.
struct ScriptStatus {
    std::string file;
    bool loaded = false;   // a version is running
    int version = 0;       // 1, 2, ... counted per successful load of the file
    std::string hash;      // SHA-256 of the running version
    std::chrono::system_clock::time_point loadedAt{};
    std::vector<std::string> events;  // "booking.requested" (sync) or "booking.created (async)"
    bool refused = false;  // the file on disk is refused (an older version may still run)
    std::string error;     // the last load refusal or call error ("file:line: message (event)")
    std::string errorKind;  // "syntax", "runtime", "timeout", "memory", "sandbox"
    std::chrono::system_clock::time_point errorAt{};
    long long calls = 0, vetoes = 0, errors = 0, timeouts = 0, memoryErrors = 0, sandboxErrors = 0, loadFailures = 0;
    std::size_t states = 0;  // Lua states of the running version's pool
    std::vector<HookLatency> latencies;  // per event and kind (sync hook, async handler)
};

class ScriptRegistry {
public:
    struct Options {
        Limits limits;
        // Lua states per script: the most calls of one script that run at the same time.
        std::size_t statesPerScript = 8;
        // Scripts larger than this are refused.
        std::size_t maxScriptBytes = 512u << 10;
    };
    using Set = std::map<std::string, std::shared_ptr<const ScriptVersion>>;

    ScriptRegistry(std::shared_ptr<const ScriptServices> services, Options options);
    ~ScriptRegistry();
    ScriptRegistry(const ScriptRegistry&) = delete;
    ScriptRegistry& operator=(const ScriptRegistry&) = delete;

    // Loads one script from text; an unchanged text is a no-op. Returns false (and records
    // the error) when it is refused; the running version, if any, stays.
    bool load(const std::string& file, const std::string& source);
    void remove(const std::string& file);

    struct Report {
        std::vector<std::string> loaded, refused, removed, unchanged;
    };
    // Brings the registry in line with the *.lua files of `dir` (new and changed files
    // loaded, deleted ones dropped) and swaps them in at once.
    Report loadDirectory(const std::string& dir);

    // The running set (never null).
    [[nodiscard]] std::shared_ptr<const Set> current() const { return set_.load(); }
    [[nodiscard]] std::shared_ptr<const ScriptVersion> find(const std::string& file) const;
    [[nodiscard]] std::vector<ScriptStatus> status() const;
    [[nodiscard]] const Options& options() const { return options_; }
    [[nodiscard]] const ScriptServices& services() const { return *services_; }

    // Records an error about a script found outside a call (e.g. the bus refused its hook).
    void recordProblem(const std::string& file, const std::string& message);

    // Called after every swap, with the registry's write lock held (callbacks must not
    // load scripts). Returns an id for removeListener.
    int addListener(std::function<void()> listener);
    void removeListener(int id);

    // A file name the registry accepts: letters, digits, '_', '-', '.', ending in ".lua".
    [[nodiscard]] static bool validFileName(const std::string& file);

private:
    struct FileRecord {
        std::shared_ptr<ScriptStats> stats = std::make_shared<ScriptStats>();
        int versions = 0;
        std::string refusedHash;  // the text last refused, so it is not retried on every poll
    };
    // Compiles `source` for `file`; nullptr when refused (recorded).
    std::shared_ptr<const ScriptVersion> compile(const std::string& file, const std::string& source, bool& unchanged);
    void publish(std::shared_ptr<const Set> set);

    std::shared_ptr<const ScriptServices> services_;
    Options options_;
    mutable std::recursive_mutex writeMu_;  // one writer at a time (listeners may re-enter); readers only load set_
    std::atomic<std::shared_ptr<const Set>> set_;
    std::map<std::string, FileRecord> records_;
    std::map<int, std::function<void()>> listeners_;
    int nextListener_ = 1;
};

}  // namespace klinikbox::lua
