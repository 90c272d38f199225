// One loaded version of one hook script: its source hash, what it registered (kb.on,
// kb.subscribe) and the pool of states that run it. Immutable once built and shared by the
// calls that use it, so a hot reload can swap in a new version while in-flight calls
// finish on the old one.
#pragma once

#include "lua/StatePool.h"

#include <atomic>
#include <chrono>
#include <iterator>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace klinikbox::lua {

// The latency of one script's hook (sync) or handler (async) for one event: a Prometheus
// histogram (kHookLatencyBuckets, seconds; the last bucket is +Inf).
inline constexpr double kHookLatencyBuckets[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0};
struct HookLatency {
    std::string event;
    bool async = false;
    long long buckets[std::size(kHookLatencyBuckets) + 1] = {};  // not cumulative; the last is > 1 s
    long long count = 0;
    double sumSeconds = 0;
};

// Counters of one script file, kept across its versions (for /metrics and the console).
struct ScriptStats {
    std::atomic<long long> calls{0}, vetoes{0}, errors{0}, timeouts{0}, memoryErrors{0}, sandboxErrors{0}, loadFailures{0};
    mutable std::mutex mu;
    std::string lastError;
    std::string lastErrorKind;
    std::chrono::system_clock::time_point lastErrorAt{};
    bool lastErrorIsLoad = false;  // the last error is a refused load (cleared when a good text runs)
    std::vector<HookLatency> latencies;  // under mu

    void recordError(const LuaError& e, std::chrono::system_clock::time_point at);
    void recordLoadFailure(const LuaError& e, std::chrono::system_clock::time_point at);
    // The text on disk runs again (or a new version loaded): a refusal is no longer news.
    void clearLoadError();
    void recordLatency(const std::string& event, bool async, std::chrono::steady_clock::duration d);
};

class ScriptVersion {
public:
    // Compiles and loads the script (the compile check); throws LuaError when refused.
    static std::shared_ptr<ScriptVersion> load(std::string file, std::string source, int version, const Limits& limits,
                                               std::shared_ptr<const ScriptServices> services, std::size_t maxStates,
                                               std::shared_ptr<ScriptStats> stats, std::chrono::system_clock::time_point now);

    [[nodiscard]] const std::string& file() const { return file_; }
    [[nodiscard]] const std::string& hash() const { return hash_; }
    [[nodiscard]] int version() const { return version_; }
    [[nodiscard]] std::chrono::system_clock::time_point loadedAt() const { return loadedAt_; }
    [[nodiscard]] const std::vector<HookRegistration>& hooks() const { return hooks_; }
    [[nodiscard]] const Limits& limits() const { return limits_; }
    [[nodiscard]] bool handles(const std::string& event, bool async) const;
    [[nodiscard]] StatePool& pool() const { return *pool_; }
    [[nodiscard]] ScriptStats& stats() const { return *stats_; }

    // Runs the script's sync hooks for event.name: applies their payload changes to
    // `event`, or throws Veto (kb.reject) or LuaError (error, timeout, memory, sandbox).
    void runSync(Event& event) const;
    // Runs the script's kb.subscribe handlers; throws LuaError.
    void runAsync(const Event& event) const;

    // SHA-256 of a source text, hex.
    [[nodiscard]] static std::string sha256(const std::string& text);

private:
    ScriptVersion() = default;
    std::string file_, hash_;
    int version_ = 0;
    std::chrono::system_clock::time_point loadedAt_{};
    Limits limits_;
    std::vector<HookRegistration> hooks_;
    std::shared_ptr<ScriptStats> stats_;
    std::shared_ptr<const ScriptServices> services_;  // its clock times the error records
    std::unique_ptr<StatePool> pool_;
};

}  // namespace klinikbox::lua
