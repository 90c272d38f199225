#include "lua/LuaPlugin.h"

#include <klinikbox/PluginContext.h>
#include <klinikbox/Problem.h>

#include <set>

namespace klinikbox::lua {

// Shared with every handler the plugin registers, so a handler still in flight when the
// plugin stops keeps what it uses alive.
struct LuaPlugin::Runtime {
    std::string name;
    std::unique_ptr<StatePool> pool;
    Limits limits;
    std::atomic<bool> stopped{false};

    void checkRunning() const {
        if (stopped) throw Problem(503, "/problems/plugin-stopped", "Tillägget är stoppat", name + " is stopped");
    }
};

namespace {
bool untrusted(const LuaError& e) {
    return e.kind() == ErrorKind::Timeout || e.kind() == ErrorKind::Memory || e.kind() == ErrorKind::Sandbox;
}
}  // namespace

LuaPlugin::LuaPlugin(LuaPluginSource source) : source_(std::move(source)) {}

LuaPlugin::~LuaPlugin() = default;

void LuaPlugin::start(PluginContext& ctx) {
    auto it = source_.files.find(source_.entry);
    if (it == source_.files.end()) throw std::runtime_error("the entry " + source_.entry + " is not among the plugin's files");
    const std::string name = source_.id + "/" + source_.entry;
    auto services = std::make_shared<ScriptServices>();
    services->clock = &ctx.clock();
    services->allowedChannels[name] = source_.channels;
    const std::string text = it->second;
    PluginContext* context = &ctx;
    const Limits limits = source_.limits;
    auto factory = [name, text, limits, services, context] {
        return std::make_unique<ScriptInstance>(name, text, ScriptMode::Plugin, limits, services, context);
    };
    auto first = factory();
    const auto routes = first->routes();
    const auto hooks = first->hooks();
    const auto pages = first->pages();

    auto rt = std::make_shared<Runtime>();
    rt->name = name;
    rt->limits = limits;
    rt->pool = std::make_unique<StatePool>(name, factory, source_.states, std::move(first));
    runtime_ = rt;

    for (std::size_t i = 0; i < routes.size(); ++i) {
        const auto& r = routes[i];
        const std::string path = r.path.rfind("/api/", 0) == 0 ? r.path : "/api/v1/" + source_.id + r.path;
        RouteDoc doc;
        doc.summary = r.summary.empty() ? r.method + " " + path : r.summary;
        doc.tag = source_.id;
        ctx.router().add(r.method, path, r.access,
                         [rt, i](Request& req) -> Response {
                             rt->checkRunning();
                             auto lease = rt->pool->acquire(rt->limits.time);
                             try {
                                 return lease->runRoute(i, req);
                             } catch (const LuaError& e) {
                                 if (untrusted(e)) lease.discard();
                                 throw Problem(500, "/problems/lua-script-failed", "Skriptet misslyckades", e.what());
                             }
                         },
                         doc);
    }
    std::set<std::pair<std::string, bool>> done;
    for (const auto& h : hooks) {
        if (!done.insert({h.event, h.async}).second) continue;
        if (h.async) {
            ctx.events().subscribe(h.event, "lua", [rt](const Event& e) {
                if (rt->stopped) return;
                auto lease = rt->pool->acquire(rt->limits.time);
                try {
                    lease->runAsync(e);
                } catch (const LuaError& err) {
                    if (untrusted(err)) lease.discard();
                    throw;
                }
            });
        } else {
            HookSpec spec = h.spec;
            spec.name = "lua";
            spec.budget = limits.time + std::chrono::milliseconds(50);
            ctx.events().hook(h.event, spec, [rt](Event& e) {
                rt->checkRunning();
                auto lease = rt->pool->acquire(rt->limits.time);
                try {
                    auto r = lease->runSync(e);
                    if (r.vetoed) throw Veto(r.reason);
                    e.payload = r.payload;
                } catch (const LuaError& err) {
                    if (untrusted(err)) lease.discard();
                    throw;
                }
            });
        }
    }
    for (const auto& p : pages) ctx.addConsolePage(ConsolePage{p.id, p.title, p.script, p.access});
}

void LuaPlugin::stop() {
    if (runtime_) runtime_->stopped = true;
}

StatePool::Stats LuaPlugin::poolStats() const { return runtime_ ? runtime_->pool->stats() : StatePool::Stats{}; }

}  // namespace klinikbox::lua
