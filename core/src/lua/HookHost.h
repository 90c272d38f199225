// Hook scripts: every *.lua of a directory is loaded into its own Sandbox and its
// kb.on(...) registrations become sync hooks on the event bus, named "lua:<file>".
// A script that does not compile is refused (the others still load) and its error kept.
#pragma once

#include "lua/Sandbox.h"

#include <klinikbox/Events.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace klinikbox::lua {

struct ScriptState {
    std::string file;
    bool loaded = false;
    std::string error;  // the load error, or the last call error
    std::vector<std::string> events;
};

class HookHost {
public:
    HookHost(EventBus& bus, const Clock& clock, Limits limits, Sandbox::LogSink log = {});

    // Loads one script from text; returns false (and keeps the error) when it is refused.
    bool load(const std::string& file, const std::string& source);
    // Loads every *.lua of a directory in name order.
    void loadDirectory(const std::string& dir);

    [[nodiscard]] std::vector<ScriptState> scripts() const;

private:
    struct Script {
        std::unique_ptr<Sandbox> sandbox;
        std::mutex mu;  // one call at a time per script state
        ScriptState state;
    };
    void runHook(Script& s, int ref, Event& event);

    EventBus& bus_;
    const Clock& clock_;
    Limits limits_;
    Sandbox::LogSink log_;
    mutable std::mutex mu_;
    std::map<std::string, std::shared_ptr<Script>> scripts_;
};

// Converts between event payloads and Lua tables (objects <-> tables with string keys,
// arrays <-> sequences, integers stay integers). Exposed for tests.
void pushJson(lua_State* L, const Poco::Dynamic::Var& v, int depth = 0);
Poco::Dynamic::Var toJson(lua_State* L, int idx, int depth = 0);

}  // namespace klinikbox::lua
