// A box with the real event bus and a HookHost, for the hook, hostile and CLI tests.
#pragma once

#include "LuaFixture.h"

#include "events/Bus.h"
#include "lua/HookHost.h"

namespace kbtest {

struct HookBox : LuaBox {
    events::Bus bus;
    std::unique_ptr<HookHost> host;

    explicit HookBox(bool withUnhook = true, std::size_t states = 4) { init(withUnhook, states); }
    explicit HookBox(const Limits& l, std::size_t states = 4) {
        limits = l;
        init(true, states);
    }
    void init(bool withUnhook, std::size_t states) {
        ScriptRegistry::Options ro{limits};
        ro.statesPerScript = states;
        LuaHookHost::Options ho;
        if (withUnhook) ho.unhook = [this](const std::string& prefix) { bus.removeByPrefix(prefix); };
        host = std::make_unique<HookHost>(bus, services, ro, ho);
    }
    ~HookBox() { host.reset(); }

    HookOutcome publish(Event& e) { return bus.publishSync(e); }

    ScriptStatus statusOf(const std::string& file) {
        for (const auto& s : host->scripts())
            if (s.file == file) return s;
        ADD_FAILURE() << "no status for " << file;
        return {};
    }
};

}  // namespace kbtest
