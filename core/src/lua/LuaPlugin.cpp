#include "lua/LuaPlugin.h"

#include "lua/Schedule.h"

#include <klinikbox/PluginContext.h>
#include <klinikbox/Problem.h>

#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

namespace klinikbox::lua {

// Shared with every handler the plugin registers, so a handler still in flight when the
// plugin stops keeps what it uses alive.
struct LuaPlugin::Runtime {
    std::string name;
    std::unique_ptr<StatePool> pool;
    Limits limits;
    std::atomic<bool> stopped{false};

    // The scheduler of the plugin's kb.schedule jobs.
    std::string id;
    std::vector<JobRegistration> jobs;
    std::vector<long long> next;  // epoch seconds, per job
    std::shared_ptr<JobStore> store;
    const Clock* clock = nullptr;
    PluginContext* ctx = nullptr;
    std::chrono::milliseconds poll{1000};
    std::mutex mu;
    std::condition_variable wake;
    std::thread thread;

    // Runs fn(state) on a state of the pool; a state that an error left untrusted (budget,
    // memory, sandbox) is discarded instead of going back to the pool.
    template <class Fn>
    decltype(auto) onState(Fn&& fn) {
        auto lease = pool->acquire(limits.time);
        try {
            return fn(*lease);
        } catch (const LuaError& e) {
            if (e.leavesStateUntrusted()) lease.discard();
            throw;
        }
    }

    [[nodiscard]] long long nowSeconds() const {
        return std::chrono::duration_cast<std::chrono::seconds>(clock->now().time_since_epoch()).count();
    }
    // Runs every due job once (in a state of the pool, under the same limits as a route).
    void runDue() {
        for (std::size_t i = 0; i < jobs.size() && !stopped; ++i) {
            const long long now = nowSeconds();
            if (next[i] > now) continue;
            const long long due = next[i];
            std::string error;
            try {
                onState([&](ScriptInstance& s) { s.runJob(i, due); });
            } catch (const std::exception& e) {
                error = e.what();
                ctx->log().error("job " + jobs[i].name + " failed: " + error);
            }
            next[i] = nextDue(jobs[i], nowSeconds());
            try {
                store->record(id, jobs[i].name, next[i], now, error);
            } catch (const std::exception& e) {
                ctx->log().error("job " + jobs[i].name + ": cannot record its next run: " + e.what());
            }
        }
    }
    void loop() {
        std::unique_lock lock(mu);
        while (!stopped) {
            lock.unlock();
            runDue();
            lock.lock();
            wake.wait_for(lock, poll, [this] { return stopped.load(); });
        }
    }
    void stopScheduler() {
        {
            std::lock_guard lock(mu);
            stopped = true;
        }
        wake.notify_all();
        if (thread.joinable() && thread.get_id() != std::this_thread::get_id()) thread.join();
    }
    void checkRunning() const {
        if (stopped) throw Problem(503, "/problems/plugin-stopped", "Tillägget är stoppat", name + " is stopped");
    }
};

LuaPlugin::LuaPlugin(LuaPluginSource source) : source_(std::move(source)) {}

LuaPlugin::~LuaPlugin() {
    if (runtime_) runtime_->stopScheduler();
}

void LuaPlugin::start(PluginContext& ctx) {
    auto it = source_.files.find(source_.entry);
    if (it == source_.files.end()) throw std::runtime_error("the entry " + source_.entry + " is not among the plugin's files");
    const std::string name = source_.id + "/" + source_.entry;
    auto services = std::make_shared<ScriptServices>();
    services->clock = &ctx.clock();
    services->deadLetter = source_.deadLetter;
    const std::string text = it->second;
    PluginContext* context = &ctx;
    const Limits limits = source_.limits;
    auto files = std::make_shared<const std::map<std::string, std::string>>(source_.files);
    auto extras = std::make_shared<PluginExtras>();
    extras->files = files.get();
    extras->channels = source_.channels;
    auto factory = [name, text, limits, services, context, extras, files] {
        return std::make_unique<ScriptInstance>(name, text, ScriptMode::Plugin, limits, services, context, extras.get());
    };
    auto first = factory();
    const auto routes = first->routes();
    const auto hooks = first->hooks();
    const auto pages = first->pages();
    first_jobs_ = first->jobs();

    auto rt = std::make_shared<Runtime>();
    rt->name = name;
    rt->limits = limits;
    rt->pool = std::make_unique<StatePool>(name, factory, source_.states, std::move(first));
    runtime_ = rt;

    for (std::size_t i = 0; i < routes.size(); ++i) {
        const auto& r = routes[i];
        const std::string path = r.path.rfind("/api/", 0) == 0 ? r.path : "/api/v1/" + source_.id + r.path;
        RouteSpec spec;
        spec.summary = r.summary.empty() ? r.method + " " + path : r.summary;
        spec.tag = source_.id;
        spec.body = r.body;
        spec.status = r.status;
        spec.problems = r.problems;
        for (const auto& q : r.query) spec.query.push_back(ParamSpec{q, nullptr, false, ""});
        ctx.router().add(r.method, path, r.access,
                         [rt, i](Request& req) -> Response {
                             rt->checkRunning();
                             try {
                                 return rt->onState([&](ScriptInstance& s) { return s.runRoute(i, req); });
                             } catch (const LuaError& e) {
                                 throw Problem(500, "/problems/lua-script-failed", "Skriptet misslyckades", e.what());
                             }
                         },
                         std::move(spec));
    }
    std::set<std::pair<std::string, bool>> done;
    std::set<std::string> batched;  // events of kb.subscribe(..., {batch = true}, fn)
    for (const auto& h : hooks) {
        if (h.async && h.batch) {
            batched.insert(h.event);
            continue;
        }
        if (!done.insert({h.event, h.async}).second) continue;
        if (h.async) {
            ctx.events().subscribe(h.event, "lua", [rt](const Event& e) {
                if (!rt->stopped) rt->onState([&](ScriptInstance& s) { s.runAsync(e); });
            });
        } else {
            HookSpec spec = h.spec;
            spec.name = "lua";
            spec.budget = limits.time + std::chrono::milliseconds(50);
            ctx.events().hook(h.event, spec, [rt](Event& e) {
                rt->checkRunning();
                auto r = rt->onState([&](ScriptInstance& s) { return s.runSync(e); });
                if (r.vetoed) throw Veto(r.reason);
                e.payload = r.payload;
            });
        }
    }
    if (!batched.empty()) {
        // One subscription for all of them: the worker's take of each, in publish order.
        ctx.events().subscribeBatch(std::vector<std::string>(batched.begin(), batched.end()), "lua-batch",
                                    [rt](const std::vector<const Event*>& events) {
                                        if (!rt->stopped) rt->onState([&](ScriptInstance& s) { s.runAsyncBatch(events); });
                                    });
    }
    for (const auto& p : pages) ctx.addConsolePage(ConsolePage{p.id, p.title, p.script, p.access});
    if (source_.deliverer)
        for (const auto& channel : source_.channels) ctx.outbox().registerChannel(channel, source_.deliverer(channel));

    // Timers: when each job is next due comes from the store (a restart keeps it); a job
    // seen for the first time is due after its first interval (or at its next HH:MM).
    rt->jobs = first_jobs_;
    if (!rt->jobs.empty()) {
        if (!source_.jobs) throw std::runtime_error("this box keeps no timers for Lua plugins (kb.schedule)");
        rt->id = source_.id;
        rt->store = source_.jobs;
        rt->clock = &ctx.clock();
        rt->ctx = &ctx;
        rt->poll = source_.schedulerPoll;
        const long long now = rt->nowSeconds();
        for (const auto& j : rt->jobs) {
            auto n = rt->store->next(source_.id, j.name);
            if (!n) {
                n = nextDue(j, now);
                rt->store->record(source_.id, j.name, *n, 0, "");
            }
            rt->next.push_back(*n);
        }
        rt->thread = std::thread([rt] { rt->loop(); });
    }
}

void LuaPlugin::stop() {
    if (runtime_) runtime_->stopScheduler();
}

StatePool::Stats LuaPlugin::poolStats() const { return runtime_ ? runtime_->pool->stats() : StatePool::Stats{}; }

}  // namespace klinikbox::lua
