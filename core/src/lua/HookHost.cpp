#include "lua/HookHost.h"

#include <cstdio>

namespace klinikbox::lua {

namespace {
std::shared_ptr<const ScriptServices> basicServices(const Clock& clock, HookHost::LogSink log) {
    auto s = std::make_shared<ScriptServices>();
    s->clock = &clock;
    if (log)
        s->log = [log](const std::string& level, const std::string& script, const std::string& message) {
            log(level, script + ": " + message);
        };
    return s;
}
}  // namespace

HookHost::HookHost(EventBus& bus, std::shared_ptr<const ScriptServices> services, ScriptRegistry::Options registry,
                   LuaHookHost::Options hooks)
    : registry_(std::make_shared<ScriptRegistry>(std::move(services), registry)),
      hooks_(std::make_unique<LuaHookHost>(bus, registry_, std::move(hooks))) {}

HookHost::HookHost(EventBus& bus, const Clock& clock, Limits limits, LogSink log)
    : HookHost(bus, basicServices(clock, std::move(log)), ScriptRegistry::Options{limits}, LuaHookHost::Options{}) {}

HookHost::~HookHost() { stopWatching(); }

bool HookHost::load(const std::string& file, const std::string& source) { return registry_->load(file, source); }

ScriptRegistry::Report HookHost::loadDirectory(const std::string& dir) { return registry_->loadDirectory(dir); }

void HookHost::watch(const std::string& dir, std::chrono::milliseconds interval) {
    stopWatching();
    std::weak_ptr<ScriptRegistry> weak = registry_;
    watcher_ = std::make_unique<DirectoryWatcher>(dir, interval, [weak, dir] {
        if (auto r = weak.lock()) (void)r->loadDirectory(dir);
    });
    watcher_->start();
}

void HookHost::stopWatching() {
    if (watcher_) watcher_->stop();
    watcher_.reset();
}

std::string prometheusMetrics(const std::vector<ScriptStatus>& scripts) {
    std::string out;
    auto family = [&](const char* name, const char* help, auto value) {
        out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + (std::string(name).find("_total") != std::string::npos ? " counter\n" : " gauge\n");
        for (const auto& s : scripts) out += std::string(name) + "{script=\"" + s.file + "\"} " + std::to_string(value(s)) + "\n";
    };
    family("kb_lua_script_loaded", "1 when a version of the script is running", [](const ScriptStatus& s) { return s.loaded ? 1 : 0; });
    family("kb_lua_script_refused", "1 when the file on disk is refused", [](const ScriptStatus& s) { return s.refused ? 1 : 0; });
    family("kb_lua_script_version", "successful loads of the script", [](const ScriptStatus& s) { return s.version; });
    family("kb_lua_script_calls_total", "hook and handler calls", [](const ScriptStatus& s) { return s.calls; });
    family("kb_lua_script_vetoes_total", "events refused with kb.reject", [](const ScriptStatus& s) { return s.vetoes; });
    family("kb_lua_script_errors_total", "calls that failed (any kind)", [](const ScriptStatus& s) { return s.errors; });
    family("kb_lua_script_timeouts_total", "calls stopped by the time or instruction limit", [](const ScriptStatus& s) { return s.timeouts; });
    family("kb_lua_script_memory_errors_total", "calls stopped by the memory limit", [](const ScriptStatus& s) { return s.memoryErrors; });
    family("kb_lua_script_sandbox_errors_total", "calls stopped for a sandbox violation", [](const ScriptStatus& s) { return s.sandboxErrors; });
    family("kb_lua_script_load_failures_total", "refused loads", [](const ScriptStatus& s) { return s.loadFailures; });
    out += "# HELP kb_lua_hook_duration_seconds time of one script's hook (sync) or handler (async) for one event\n"
           "# TYPE kb_lua_hook_duration_seconds histogram\n";
    char num[32];
    for (const auto& s : scripts) {
        for (const auto& h : s.latencies) {
            const std::string labels = "script=\"" + s.file + "\",event=\"" + h.event + "\",kind=\"" + (h.async ? "async" : "sync") + "\"";
            long long cumulative = 0;
            for (std::size_t b = 0; b <= std::size(kHookLatencyBuckets); ++b) {
                cumulative += h.buckets[b];
                std::string le = "+Inf";
                if (b < std::size(kHookLatencyBuckets)) {
                    std::snprintf(num, sizeof num, "%g", kHookLatencyBuckets[b]);
                    le = num;
                }
                out += "kb_lua_hook_duration_seconds_bucket{" + labels + ",le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
            }
            std::snprintf(num, sizeof num, "%.6f", h.sumSeconds);
            out += "kb_lua_hook_duration_seconds_sum{" + labels + "} " + num + "\n";
            out += "kb_lua_hook_duration_seconds_count{" + labels + "} " + std::to_string(h.count) + "\n";
        }
    }
    return out;
}

}  // namespace klinikbox::lua
