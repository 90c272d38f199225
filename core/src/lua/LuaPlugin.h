// A plugin written in Lua (plugin.yaml `kind: lua`): the entry script runs in the sandbox
// and registers routes (kb.route), hooks (kb.on, kb.subscribe) and console pages (kb.page)
// that start() puts onto the PluginContext, so it is loaded, configured, started, stopped
// and permitted exactly like a native plugin. Its migrations are the manifest's, applied by
// the core; its tables are reached with kb.db through the context's Store.
#pragma once

#include "lua/StatePool.h"

#include <klinikbox/Plugin.h>

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>

namespace klinikbox::lua {

struct LuaPluginSource {
    std::string id;     // the plugin id
    std::string entry;  // the entry file, relative to the plugin directory (manifest `entry`)
    std::map<std::string, std::string> files;  // the plugin's verified files: path -> bytes
    // Outbox channels kb.send may use (exact names or "prefix.*"); the core's outbox also
    // only accepts the plugin's own channels ("<id>.<name>").
    std::set<std::string> channels;
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
    std::shared_ptr<Runtime> runtime_;
};

}  // namespace klinikbox::lua
