#include "app/Modules.h"

#include "audit/AuditReview.h"
#include "auth/AuthModule.h"
#include "lua/HookHost.h"
#include "server/PluginSets.h"
#include "server/PluginSettings.h"

#include <Poco/JSON/Array.h>
#include <Poco/Logger.h>

namespace klinikbox::app {

namespace {

// The clinic's hook scripts (lua.scripts_dir): each in its own sandbox, hooked onto the bus.
void installLuaHooks(server::Box& box) {
    box.addModule([](server::Box& b) {
        const auto& cfg = b.config();
        lua::Limits limits;
        limits.memoryBytes = static_cast<std::size_t>(cfg.luaMemoryLimit);
        limits.instructions = cfg.luaInstructionLimit;
        limits.time = std::chrono::milliseconds(cfg.luaTimeLimitMs);
        auto host = std::make_shared<lua::HookHost>(b.bus(), b.clock(), limits, [](const std::string& level, const std::string& m) {
            auto& log = Poco::Logger::get("lua");
            if (level == "error") log.error(m);
            else if (level == "warn") log.warning(m);
            else log.information(m);
        });
        if (!cfg.luaScriptsDir.empty()) {
            host->loadDirectory(cfg.luaScriptsDir);
            for (const auto& s : host->scripts())
                if (!s.loaded) Poco::Logger::get("lua").error("script refused: " + s.error);
        }
        b.routes().addCore("lua", "GET", "/api/v1/lua/scripts", Access::only({Role::It, Role::Admin}), [host, &b](Request&) {
            Poco::JSON::Array::Ptr arr = new Poco::JSON::Array;
            for (const auto& s : host->scripts()) {
                Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
                o->set("file", s.file);
                o->set("loaded", s.loaded);
                o->set("error", s.error);
                Poco::JSON::Array::Ptr events = new Poco::JSON::Array;
                for (const auto& e : s.events) events->add(e);
                o->set("events", events);
                arr->add(o);
            }
            Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
            o->set("scripts_dir", b.config().luaScriptsDir);
            o->set("scripts", arr);
            return Response::json(o);
        }, "The clinic's hook scripts, their events and last errors");
    });
}

}  // namespace

void installModules(server::Box& box) {
    auth::install(box);
    audit::installReview(box);
    server::installPluginSettings(box);
    installLuaHooks(box);
    server::installPluginSets(box);
}

}  // namespace klinikbox::app
