#include "lua/ScriptVersion.h"

#include <Poco/DigestEngine.h>
#include <Poco/SHA2Engine.h>

#include <algorithm>

namespace klinikbox::lua {

void ScriptStats::recordError(const LuaError& e, std::chrono::system_clock::time_point at) {
    ++errors;
    if (e.kind() == ErrorKind::Timeout) ++timeouts;
    if (e.kind() == ErrorKind::Memory) ++memoryErrors;
    if (e.kind() == ErrorKind::Sandbox) ++sandboxErrors;
    std::lock_guard lock(mu);
    lastError = e.what();
    lastErrorKind = toString(e.kind());
    lastErrorAt = at;
    lastErrorIsLoad = false;
}

void ScriptStats::recordLoadFailure(const LuaError& e, std::chrono::system_clock::time_point at) {
    ++loadFailures;
    std::lock_guard lock(mu);
    lastError = e.what();
    lastErrorKind = toString(e.kind());
    lastErrorAt = at;
    lastErrorIsLoad = true;
}

void ScriptStats::clearLoadError() {
    std::lock_guard lock(mu);
    if (!lastErrorIsLoad) return;
    lastError.clear();
    lastErrorKind.clear();
    lastErrorAt = {};
    lastErrorIsLoad = false;
}

void ScriptStats::recordLatency(const std::string& event, bool async, std::chrono::steady_clock::duration d) {
    const double s = std::chrono::duration<double>(d).count();
    std::size_t b = 0;
    while (b < std::size(kHookLatencyBuckets) && s > kHookLatencyBuckets[b]) ++b;
    std::lock_guard lock(mu);
    auto it = std::find_if(latencies.begin(), latencies.end(), [&](const HookLatency& h) { return h.async == async && h.event == event; });
    if (it == latencies.end()) {
        latencies.push_back(HookLatency{event, async});
        it = latencies.end() - 1;
    }
    ++it->buckets[b];
    ++it->count;
    it->sumSeconds += s;
}

std::string ScriptVersion::sha256(const std::string& text) {
    Poco::SHA2Engine engine(Poco::SHA2Engine::SHA_256);
    engine.update(text);
    return Poco::DigestEngine::digestToHex(engine.digest());
}

namespace {
bool sameRegistrations(const std::vector<HookRegistration>& a, const std::vector<HookRegistration>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const HookRegistration& x, const HookRegistration& y) {
        return x.event == y.event && x.async == y.async && x.spec.phase == y.spec.phase && x.spec.after == y.spec.after &&
               x.spec.before == y.spec.before;
    });
}
}  // namespace

std::shared_ptr<ScriptVersion> ScriptVersion::load(std::string file, std::string source, int version, const Limits& limits,
                                                   std::shared_ptr<const ScriptServices> services, std::size_t maxStates,
                                                   std::shared_ptr<ScriptStats> stats, std::chrono::system_clock::time_point now) {
    auto first = std::make_unique<ScriptInstance>(file, source, ScriptMode::Hook, limits, services);
    {
        // Loaded a second time at once: a top level whose registrations depend on time or
        // chance is refused now, with the load's error, rather than found under load.
        ScriptInstance second(file, source, ScriptMode::Hook, limits, services);
        if (!sameRegistrations(second.hooks(), first->hooks()))
            throw LuaError(ErrorKind::Runtime, file, 0, "load",
                           "the script registered different hooks when loaded again (kb.on must not depend on time or data)");
    }
    std::shared_ptr<ScriptVersion> v(new ScriptVersion());
    v->file_ = file;
    v->hash_ = sha256(source);
    v->version_ = version;
    v->loadedAt_ = now;
    v->limits_ = limits;
    v->hooks_ = first->hooks();
    v->stats_ = std::move(stats);
    v->services_ = services;
    // Further states load the same text; a script whose registrations differ between loads
    // (they depend on time or chance) is refused there rather than run inconsistently.
    auto factory = [file, source = std::move(source), limits, services, expected = v->hooks_]() {
        auto inst = std::make_unique<ScriptInstance>(file, source, ScriptMode::Hook, limits, services);
        if (!sameRegistrations(inst->hooks(), expected))
            throw LuaError(ErrorKind::Runtime, file, 0, "load",
                           "the script registered different hooks when loaded again (kb.on must not depend on time or data)");
        return inst;
    };
    v->pool_ = std::make_unique<StatePool>(file, std::move(factory), maxStates, std::move(first));
    return v;
}

bool ScriptVersion::handles(const std::string& event, bool async) const {
    return std::any_of(hooks_.begin(), hooks_.end(), [&](const HookRegistration& h) { return h.async == async && h.event == event; });
}

namespace {
// Records the call's latency however it ends.
struct LatencyScope {
    ScriptStats& stats;
    const std::string& event;
    bool async;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    ~LatencyScope() {
        try {
            stats.recordLatency(event, async, std::chrono::steady_clock::now() - start);
        } catch (...) {
        }
    }
};
}  // namespace

void ScriptVersion::runSync(Event& event) const {
    ++stats_->calls;
    const LatencyScope timing{*stats_, event.name, false};
    try {
        auto lease = pool_->acquire(limits_.time);
        try {
            auto r = lease->runSync(event);
            if (r.vetoed) {
                ++stats_->vetoes;
                throw Veto(r.reason);
            }
            event.payload = r.payload;
        } catch (const LuaError& e) {
            if (e.leavesStateUntrusted()) lease.discard();
            throw;
        }
    } catch (const LuaError& e) {
        stats_->recordError(e, services_->clock->now());
        throw;
    }
}

void ScriptVersion::runAsync(const Event& event) const {
    ++stats_->calls;
    const LatencyScope timing{*stats_, event.name, true};
    try {
        auto lease = pool_->acquire(limits_.time);
        try {
            lease->runAsync(event);
        } catch (const LuaError& e) {
            if (e.leavesStateUntrusted()) lease.discard();
            throw;
        }
    } catch (const LuaError& e) {
        stats_->recordError(e, services_->clock->now());
        throw;
    }
}

}  // namespace klinikbox::lua
