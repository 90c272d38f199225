// A plugin written in Lua (plugin.yaml `kind: lua`): the entry script runs in the sandbox
// and registers routes (kb.route), hooks (kb.on, kb.subscribe) and console pages (kb.page)
// that start() puts onto the PluginContext, so it is loaded, configured, started, stopped
// and permitted exactly like a native plugin. Its migrations are the manifest's, applied by
// the core; its tables are reached with kb.db through the context's Store.
#pragma once

#include "lua/StatePool.h"

#include <klinikbox/Plugin.h>

#include <klinikbox/Outbox.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

namespace klinikbox::lua {

// Where the box keeps when each scheduled job (kb.schedule) of a Lua plugin is next due, so
// timers survive restarts. The server's is a core table; tests use their own.
class JobStore {
public:
    virtual ~JobStore() = default;
    // When the job is next due (epoch seconds); nullopt for a job the box has not seen.
    [[nodiscard]] virtual std::optional<long long> next(const std::string& plugin, const std::string& job) = 0;
    // After a run (ranAt > 0, error empty when it succeeded) or when first seen (ranAt 0).
    virtual void record(const std::string& plugin, const std::string& job, long long next, long long ranAt,
                        const std::string& error) = 0;
};

struct LuaPluginSource {
    std::string id;     // the plugin id
    std::string entry;  // the entry file, relative to the plugin directory (manifest `entry`)
    std::map<std::string, std::string> files;  // the plugin's verified files: path -> bytes
    // The outbox channels the manifest declares ("<id>.<name>"): the only ones kb.send may
    // use (a literal other channel refuses the plugin at start). The core's outbox also
    // only accepts the plugin's own channels.
    std::set<std::string> channels;
    // The deliverer of each declared channel (the server's sends through the gateway the
    // admin bound the channel to). Unset: the channels get no deliverer.
    std::function<Deliverer(const std::string& channel)> deliverer;
    // kb.send on a channel the plugin may not use (a name built at run time): the message
    // becomes a dead letter with the reason instead of failing the handler.
    std::function<long long(const std::string& script, const OutboundMessage& message, const std::string& why)> deadLetter;
    // Timers (kb.schedule); without a store the plugin's jobs are refused at start.
    std::shared_ptr<JobStore> jobs;
    // How often the scheduler looks at the clock.
    std::chrono::milliseconds schedulerPoll{1000};
    Limits limits;
    std::size_t states = 8;  // Lua states: the most calls into the plugin at the same time
};

class LuaPlugin final : public Plugin {
public:
    explicit LuaPlugin(LuaPluginSource source);
    ~LuaPlugin() override;

    // Loads the entry script and registers what it declared. Throws LuaError (the host
    // then marks the plugin failed) or what the context refuses (undeclared events).
    void start(PluginContext& ctx) override;
    // Refuses further calls; the host removes the plugin's routes and hooks.
    void stop() override;

    // The pool's counters (after start).
    [[nodiscard]] StatePool::Stats poolStats() const;

private:
    struct Runtime;
    LuaPluginSource source_;
    std::vector<JobRegistration> first_jobs_;
    std::shared_ptr<Runtime> runtime_;
};

}  // namespace klinikbox::lua
