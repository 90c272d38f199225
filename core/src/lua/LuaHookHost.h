// Puts the registry's hook scripts onto the event bus: for every (event, script) one sync
// hook named "lua:<file>" (phase, after and before from kb.on's options; the bus orders
// them: phase, then explicit after/before, then name) and one async handler for
// kb.subscribe. The hooks look up the script's current version at each call, so a hot
// reload takes effect at once; they fail closed (the bus refuses the event) on any
// error, timeout, memory overrun or sandbox violation, with script, line and event.
#pragma once

#include "lua/ScriptRegistry.h"

#include <klinikbox/Events.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace klinikbox::lua {

class LuaHookHost {
public:
    struct Options {
        // Removes every bus hook and handler whose name starts with the prefix (the core's
        // events::Bus::removeByPrefix). With it, a script's changed phase/after/before and
        // a deleted script's hooks are re-registered or dropped at once; without it they
        // wait for a restart (a deleted script's hooks then do nothing).
        std::function<void(const std::string& prefix)> unhook;
        // Added to the time limit for the bus's own budget of a Lua hook (marshalling, a
        // wait for a free state).
        std::chrono::milliseconds budgetSlack{50};
    };

    LuaHookHost(EventBus& bus, std::shared_ptr<ScriptRegistry> registry, Options options);
    ~LuaHookHost();
    LuaHookHost(const LuaHookHost&) = delete;
    LuaHookHost& operator=(const LuaHookHost&) = delete;

    // Registers what the registry's current scripts need (also run after every reload).
    void sync();
    // "booking.requested lua:guardian.lua (sync, decide)" per registration, for the console.
    [[nodiscard]] std::vector<std::string> registrations() const;
    // Scripts whose changed phase/after/before waits for a restart (no unhook given).
    [[nodiscard]] std::vector<std::string> pendingRestart() const;

private:
    struct Key {
        std::string event;
        bool async;
        std::string file;
        bool operator<(const Key& o) const {
            return std::tie(event, async, file) < std::tie(o.event, o.async, o.file);
        }
    };
    void syncLocked(std::vector<std::pair<std::string, std::string>>& problems);
    // Returns the bus's refusal, if any.
    std::string registerOne(const Key& key, const HookSpec& spec);

    EventBus& bus_;
    std::shared_ptr<ScriptRegistry> registry_;
    Options options_;
    int listener_ = 0;
    mutable std::mutex mu_;
    std::map<Key, HookSpec> registered_;
    std::set<std::string> pending_;
};

}  // namespace klinikbox::lua
