// The clinic's hook scripts as the server runs them: a ScriptRegistry (compile, versions,
// atomic swap, state and counters), a LuaHookHost (the scripts' hooks on the event bus) and
// optionally a DirectoryWatcher (hot reload of lua.scripts_dir), in one object.
#pragma once

#include "lua/DirectoryWatcher.h"
#include "lua/LuaHookHost.h"
#include "lua/ScriptRegistry.h"

#include <klinikbox/Events.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace klinikbox::lua {

// What the console lists per script (kept under its older name).
using ScriptState = ScriptStatus;

class HookHost {
public:
    // (level, message): message starts with the script's file name.
    using LogSink = std::function<void(const std::string& level, const std::string& message)>;

    // Everything injected: clock, log, config, outbox and allow-lists (ScriptServices),
    // limits and states per script (registry options), and the bus's unhook.
    HookHost(EventBus& bus, std::shared_ptr<const ScriptServices> services, ScriptRegistry::Options registry,
             LuaHookHost::Options hooks);
    // The short form: clock, limits and a log only (kb.config is empty, kb.send refused).
    HookHost(EventBus& bus, const Clock& clock, Limits limits, LogSink log = {});
    ~HookHost();
    HookHost(const HookHost&) = delete;
    HookHost& operator=(const HookHost&) = delete;

    // Loads one script from text; false when it is refused (see scripts() for why).
    bool load(const std::string& file, const std::string& source);
    // Loads (or reloads) every *.lua of `dir`.
    ScriptRegistry::Report loadDirectory(const std::string& dir);
    // Watches `dir` and reloads it when a script changes (polls every `interval`).
    void watch(const std::string& dir, std::chrono::milliseconds interval = std::chrono::milliseconds(1000));
    void stopWatching();

    [[nodiscard]] std::vector<ScriptState> scripts() const { return registry_->status(); }
    [[nodiscard]] ScriptRegistry& registry() { return *registry_; }
    [[nodiscard]] LuaHookHost& hooks() { return *hooks_; }

private:
    std::shared_ptr<ScriptRegistry> registry_;
    std::unique_ptr<LuaHookHost> hooks_;
    std::unique_ptr<DirectoryWatcher> watcher_;
};

// Prometheus text lines (kb_lua_script_*) for the given scripts, for /metrics.
[[nodiscard]] std::string prometheusMetrics(const std::vector<ScriptStatus>& scripts);

}  // namespace klinikbox::lua
