// The Lua runtime's costs for scripts/bench.sh and docs/lua-api.md ("Runtime and limits"):
// state creation, one hook call (empty, and with a 10-field booking payload), the overhead
// a Lua hook adds to publishing booking.requested on the real bus, the count hook's
// overhead, and a pool of states against one state per thread at 1..8 threads.
//   bench_lua [SCALE]      (SCALE multiplies the iteration counts, default 1)
//   bench_lua --script FILE --event NAME [--input PAYLOAD.json] [--config SETTINGS.json] [--calls N]
//                          times the clinic's own script: its load, and one call of its sync
//                          hooks (and kb.subscribe handlers) for the event, as the box runs them
// Prints "name value unit" lines.
#include "events/Bus.h"
#include "lua/HookHost.h"
#include "lua/ScriptInstance.h"
#include "lua/ScriptVersion.h"

#include <Poco/JSON/Parser.h>

#include <fstream>
#include <sstream>

#include <lua.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace klinikbox;
using namespace klinikbox::lua;
using Clock_ = std::chrono::steady_clock;

namespace {

const char* const kEmpty = "kb.on('bench.empty', function(e) end)";
const char* const kGuardian = R"(
kb.on("booking.requested", function(e)
  local p = e.payload
  if p.visit_form ~= "video" then return end
  local age = kb.pnr.age(p.patient, string.sub(p.start, 1, 10))
  if age and age < 18 and not p.guardian then kb.reject("Vårdnadshavare krävs") end
  p.checked = true
end)
)";
const char* const kPayload10 = R"({"patient": "191212121212", "visit_form": "video", "care_unit": "SE2321000016-A1B2",
  "practitioner": "SE2321000016-C3D4", "profession": "läkare", "reason": "feber och hosta", "urgency_days": 3,
  "start": "2026-11-25T09:00:00+01:00", "end": "2026-11-25T09:20:00+01:00", "guardian": "197001011234"})";

double nsPer(Clock_::duration d, long long n) {
    return static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count()) / static_cast<double>(n);
}

void print(const char* name, double value, const char* unit) { std::printf("%-44s %12.1f %s\n", name, value, unit); }

Poco::JSON::Object::Ptr payload10() { return Poco::JSON::Parser().parse(kPayload10).extract<Poco::JSON::Object::Ptr>(); }

std::shared_ptr<ScriptServices> services(const Clock& clock) {
    auto s = std::make_shared<ScriptServices>();
    s->clock = &clock;
    return s;
}

// Calls through ScriptVersion (the pool) or per-thread ScriptInstances from `threads`
// threads; returns wall-clock ns per call (all threads together).
double concurrent(const std::shared_ptr<const ScriptVersion>& v, bool perThread, int threads, long long perThreadCalls,
                  const Limits& limits, const std::shared_ptr<ScriptServices>& svc) {
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) {
        ts.emplace_back([&] {
            std::unique_ptr<ScriptInstance> own;
            if (perThread) own = std::make_unique<ScriptInstance>("guardian.lua", kGuardian, ScriptMode::Hook, limits, svc);
            Event e{"booking.requested", payload10(), std::nullopt, "b"};
            ++ready;
            while (!go) std::this_thread::yield();
            for (long long i = 0; i < perThreadCalls; ++i) {
                if (perThread) {
                    auto r = own->runSync(e);
                    (void)r;
                } else {
                    Event copy = e;
                    v->runSync(copy);
                }
            }
        });
    }
    while (ready < threads) std::this_thread::yield();
    const auto t0 = Clock_::now();
    go = true;
    for (auto& t : ts) t.join();
    return nsPer(Clock_::now() - t0, perThreadCalls * threads);
}

}  // namespace

namespace {

std::string readAll(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// bench_lua --script ...: the clinic's own script, with the box's default limits.
int benchScript(int argc, char** argv) {
    std::string script, event, input, config;
    long long calls = 2000;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i], v = argv[i + 1];
        if (k == "--script") script = v;
        else if (k == "--event") event = v;
        else if (k == "--input") input = v;
        else if (k == "--config") config = v;
        else if (k == "--calls") calls = std::max(1LL, std::atoll(v.c_str()));
        else {
            std::fprintf(stderr, "bench_lua: unknown option %s\n", k.c_str());
            return 2;
        }
    }
    if (script.empty() || event.empty()) {
        std::fprintf(stderr, "usage: bench_lua --script FILE --event NAME [--input PAYLOAD.json] [--config SETTINGS.json] [--calls N]\n");
        return 2;
    }
    try {
        const std::string source = readAll(script);
        Poco::JSON::Object::Ptr payload = new Poco::JSON::Object;
        if (!input.empty()) payload = Poco::JSON::Parser().parse(readAll(input)).extract<Poco::JSON::Object::Ptr>();
        Poco::JSON::Object::Ptr settings;
        if (!config.empty()) settings = Poco::JSON::Parser().parse(readAll(config)).extract<Poco::JSON::Object::Ptr>();
        SystemClock clock;
        auto svc = services(clock);
        svc->config = [settings](const std::string&) { return settings; };
        svc->log = [](const std::string&, const std::string&, const std::string&) {};
        svc->allowedChannels["*"] = {"*"};
        svc->send = [](const std::string&, const OutboundMessage&) { return 1LL; };
        const std::string name = script.substr(script.find_last_of('/') + 1);
        const Limits limits;
        const int loads = 50;
        auto t0 = Clock_::now();
        for (int i = 0; i < loads; ++i) ScriptInstance(name, source, ScriptMode::Hook, limits, svc);
        print((name + " load").c_str(), nsPer(Clock_::now() - t0, loads) / 1000.0, "us");
        ScriptInstance inst(name, source, ScriptMode::Hook, limits, svc);
        const bool sync = inst.handles(event, false), async = inst.handles(event, true);
        if (!sync && !async) {
            std::fprintf(stderr, "bench_lua: %s has no hook for %s\n", name.c_str(), event.c_str());
            return 1;
        }
        const Event ev{event, payload, std::nullopt, "bench"};
        if (sync) {
            long long vetoes = 0;
            t0 = Clock_::now();
            for (long long i = 0; i < calls; ++i) vetoes += inst.runSync(ev).vetoed ? 1 : 0;
            print((name + " " + event + " sync hooks").c_str(), nsPer(Clock_::now() - t0, calls) / 1000.0, "us/call");
            if (vetoes) std::printf("  (%lld of %lld calls refused with kb.reject)\n", vetoes, calls);
        }
        if (async) {
            t0 = Clock_::now();
            for (long long i = 0; i < calls; ++i) inst.runAsync(ev);
            print((name + " " + event + " handlers").c_str(), nsPer(Clock_::now() - t0, calls) / 1000.0, "us/call");
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_lua: %s\n", e.what());
        return 1;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1 && std::string(argv[1]) == "--script") return benchScript(argc, argv);
    const long long scale = argc > 1 ? std::max(1LL, std::atoll(argv[1])) : 1;
    FixedClock clock{std::chrono::system_clock::time_point(std::chrono::seconds(1795341600))};
    Limits limits;
    auto svc = services(clock);

    // State creation: a bare sandbox, and a sandbox with the guardian script loaded.
    {
        const long long n = 2000 * scale;
        auto t0 = Clock_::now();
        for (long long i = 0; i < n; ++i) Sandbox sb(limits, clock);
        print("lua_sandbox_create_us", nsPer(Clock_::now() - t0, n) / 1000, "us");
        t0 = Clock_::now();
        for (long long i = 0; i < n; ++i) ScriptInstance s("guardian.lua", kGuardian, ScriptMode::Hook, limits, svc);
        print("lua_script_state_create_us", nsPer(Clock_::now() - t0, n) / 1000, "us");
        ScriptInstance s("guardian.lua", kGuardian, ScriptMode::Hook, limits, svc);
        print("lua_script_state_memory_kib", static_cast<double>(s.sandbox().memoryUsed()) / 1024, "KiB");
    }

    // One budgeted call of a trivial function (the floor of every hook call).
    {
        ScriptInstance s("empty.lua", kEmpty, ScriptMode::Hook, limits, svc);
        lua_State* L = s.sandbox().state();
        const int ref = s.hooks().at(0).ref;
        const long long n = 1'000'000 * scale;
        const auto t0 = Clock_::now();
        for (long long i = 0; i < n; ++i) {
            Sandbox::Call call(s.sandbox(), "empty.lua", "bench");
            lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
            lua_pushnil(L);
            (void)call.run(1, 0);
        }
        print("lua_budgeted_call_ns", nsPer(Clock_::now() - t0, n), "ns");
    }

    // One hook call: payload to Lua and back, with and without the pool.
    {
        ScriptInstance empty("empty.lua", kEmpty, ScriptMode::Hook, limits, svc);
        ScriptInstance guardian("guardian.lua", kGuardian, ScriptMode::Hook, limits, svc);
        const long long n = 200'000 * scale;
        Event e0{"bench.empty", new Poco::JSON::Object, std::nullopt, "b"};
        auto t0 = Clock_::now();
        for (long long i = 0; i < n; ++i) (void)empty.runSync(e0);
        print("lua_hook_empty_payload_ns", nsPer(Clock_::now() - t0, n), "ns");
        Event e10{"bench.empty", payload10(), std::nullopt, "b"};
        t0 = Clock_::now();
        for (long long i = 0; i < n; ++i) (void)empty.runSync(e10);
        print("lua_hook_empty_fn_10_fields_ns", nsPer(Clock_::now() - t0, n), "ns");
        Event g{"booking.requested", payload10(), std::nullopt, "b"};
        t0 = Clock_::now();
        for (long long i = 0; i < n; ++i) (void)guardian.runSync(g);
        print("lua_hook_guardian_10_fields_ns", nsPer(Clock_::now() - t0, n), "ns");

        auto v = ScriptVersion::load("guardian.lua", kGuardian, 1, limits, svc, 4, std::make_shared<ScriptStats>(), clock.now());
        t0 = Clock_::now();
        for (long long i = 0; i < n; ++i) {
            Event copy{"booking.requested", g.payload, std::nullopt, "b"};
            v->runSync(copy);
        }
        print("lua_hook_guardian_10_fields_pooled_ns", nsPer(Clock_::now() - t0, n), "ns");
    }

    // What a Lua hook adds to publishing booking.requested on the real bus. The payload is
    // parsed once (parsing JSON is the HTTP layer's cost, not the bus's); each publish gets
    // an Event of its own that shares it, as a plugin publishing its booking does.
    {
        const long long n = 200'000 * scale;
        double without = 0, with = 0, none = 0, async = 0;
        const Poco::JSON::Object::Ptr booking = payload10();
        {
            events::Bus bus;
            bus.hook("booking.requested", HookSpec{"booking:native", Phase::Decide, {}, {}}, [](Event& e) { e.payload->set("n", 1); });
            const auto t0 = Clock_::now();
            for (long long i = 0; i < n; ++i) {
                Event e{"booking.requested", booking, std::nullopt, "b"};
                (void)bus.publishSync(e);
            }
            without = nsPer(Clock_::now() - t0, n);
            // Events nobody hooks or subscribes to (booking.created with no plugin listening).
            auto t1 = Clock_::now();
            for (long long i = 0; i < n; ++i) {
                Event e{"booking.created", booking, std::nullopt, "b"};
                (void)bus.publishSync(e);
            }
            none = nsPer(Clock_::now() - t1, n);
            t1 = Clock_::now();
            for (long long i = 0; i < n; ++i) bus.publish(Event{"booking.created", booking, std::nullopt, "b"});
            bus.drain();
            async = nsPer(Clock_::now() - t1, n);
        }
        {
            events::Bus bus;
            bus.hook("booking.requested", HookSpec{"booking:native", Phase::Decide, {}, {}}, [](Event& e) { e.payload->set("n", 1); });
            HookHost host(bus, svc, ScriptRegistry::Options{limits}, LuaHookHost::Options{});
            host.load("guardian.lua", kGuardian);
            const auto t0 = Clock_::now();
            for (long long i = 0; i < n; ++i) {
                Event e{"booking.requested", booking, std::nullopt, "b"};
                (void)bus.publishSync(e);
            }
            with = nsPer(Clock_::now() - t0, n);
        }
        print("bus_publish_booking_without_lua_ns", without, "ns");
        print("bus_publish_booking_with_guardian_lua_ns", with, "ns");
        print("lua_hook_overhead_per_booking_ns", with - without, "ns");
        print("bus_publish_sync_unhooked_ns", none, "ns");
        print("bus_publish_async_unsubscribed_ns", async, "ns");
    }

    // The count hook's cost on pure Lua code: the same loop in a plain state and in the sandbox.
    {
        const char* loop = "local s = 0 for i = 1, 5000000 do s = s + i % 7 end return s";
        lua_State* plain = luaL_newstate();
        luaL_openlibs(plain);
        auto t0 = Clock_::now();
        luaL_loadstring(plain, loop);
        lua_pcall(plain, 0, 1, 0);
        const double plainNs = nsPer(Clock_::now() - t0, 5'000'000);
        lua_close(plain);
        Limits big = limits;
        big.instructions = 1'000'000'000;
        big.time = std::chrono::seconds(60);
        ScriptInstance s("loop.lua", "kb.on('bench.loop', function(e) " + std::string(loop) + " end)", ScriptMode::Hook, big, svc);
        Event e{"bench.loop", new Poco::JSON::Object, std::nullopt, "b"};
        t0 = Clock_::now();
        (void)s.runSync(e);
        print("lua_loop_iteration_plain_ns", plainNs, "ns");
        print("lua_loop_iteration_sandbox_ns", nsPer(Clock_::now() - t0, 5'000'000), "ns");
    }

    // Pool of states against one state per thread (guardian hook, 10-field payload). The
    // calls get a 10 s budget here: this measures throughput, and on a loaded machine a
    // thread descheduled while it holds one of 2 states for 8 threads must not end the run.
    {
        Limits patient = limits;
        patient.time = std::chrono::seconds(10);
        const long long perThread = 50'000 * scale;
        for (int threads : {1, 2, 4, 8}) {
            auto pooled = ScriptVersion::load("guardian.lua", kGuardian, 1, patient, svc, static_cast<std::size_t>(threads),
                                              std::make_shared<ScriptStats>(), clock.now());
            auto small = ScriptVersion::load("guardian.lua", kGuardian, 1, patient, svc, 2, std::make_shared<ScriptStats>(), clock.now());
            char name[80];
            std::snprintf(name, sizeof name, "lua_pool_%d_threads_ns_per_call", threads);
            print(name, concurrent(pooled, false, threads, perThread, patient, svc), "ns");
            std::snprintf(name, sizeof name, "lua_pool2_%d_threads_ns_per_call", threads);
            print(name, concurrent(small, false, threads, perThread, patient, svc), "ns");
            std::snprintf(name, sizeof name, "lua_per_thread_%d_threads_ns_per_call", threads);
            print(name, concurrent(nullptr, true, threads, perThread, patient, svc), "ns");
        }
    }
    return 0;
}
