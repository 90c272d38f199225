#include "events/Bus.h"

#include "events/QueuedTime.h"

#include <Poco/Logger.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <stdexcept>
#include <string_view>
#include <tuple>

namespace klinikbox::events {

namespace {
const char* phaseName(Phase p) {
    switch (p) {
        case Phase::Validate: return "validate";
        case Phase::Decide: return "decide";
        case Phase::Finalize: return "finalize";
    }
    return "?";
}
}  // namespace

Bus::Bus() : table_(std::make_shared<const Table>()), worker_([this] { run(); }) {}

Bus::~Bus() { stop(); }

void Bus::stop() {
    {
        std::lock_guard lock(qmu_);
        if (stopping_) return;
        stopping_ = true;
    }
    qcv_.notify_all();
    if (worker_.joinable()) worker_.join();
}

void Bus::hook(const std::string& event, HookSpec spec, SyncHook fn) {
    std::lock_guard lock(writeMu_);
    auto next = std::make_shared<Table>(*table_.load());
    auto& v = next->hooks[event];
    for (const auto& h : v) {
        if (h.spec.name == spec.name) {
            throw std::invalid_argument("a hook named " + spec.name + " is already registered for " + event);
        }
    }
    auto st = std::make_shared<Counters>();
    st->event = event;
    st->hook = spec.name;
    v.push_back(HookEntry{std::move(spec), std::move(fn), st});
    resort(event, v);  // throws on a cycle: the published table stays as it was
    table_.store(std::move(next));
}

HookStats Bus::Counters::snapshot() const {
    HookStats s;
    s.event = event;
    s.hook = hook;
    s.calls = calls;
    s.vetoes = vetoes;
    s.failures = failures;
    std::lock_guard lock(mu);
    s.lastError = lastError;
    return s;
}

// Orders hooks by phase, then by explicit after/before constraints (a stable topological
// sort), then by name. A cycle is refused at registration.
void Bus::resort(const std::string& event, std::vector<HookEntry>& v) {
    std::sort(v.begin(), v.end(), [](const HookEntry& a, const HookEntry& b) {
        if (a.spec.phase != b.spec.phase) return a.spec.phase < b.spec.phase;
        return a.spec.name < b.spec.name;
    });
    const std::size_t n = v.size();
    std::vector<std::set<std::size_t>> preds(n);
    auto indexOf = [&](const std::string& name) -> std::optional<std::size_t> {
        for (std::size_t i = 0; i < n; ++i)
            if (v[i].spec.name == name) return i;
        return std::nullopt;
    };
    for (std::size_t i = 0; i < n; ++i) {
        for (const auto& a : v[i].spec.after)
            if (auto j = indexOf(a); j && v[*j].spec.phase == v[i].spec.phase) preds[i].insert(*j);
        for (const auto& b : v[i].spec.before)
            if (auto j = indexOf(b); j && v[*j].spec.phase == v[i].spec.phase) preds[*j].insert(i);
    }
    std::vector<HookEntry> out;
    std::vector<bool> done(n, false);
    for (std::size_t round = 0; round < n; ++round) {
        bool progressed = false;
        for (std::size_t i = 0; i < n; ++i) {
            if (done[i]) continue;
            // Respect phase order: only take a hook whose earlier-phase hooks are all placed.
            bool ready = std::all_of(preds[i].begin(), preds[i].end(), [&](std::size_t p) { return done[p]; });
            for (std::size_t k = 0; k < n && ready; ++k)
                if (!done[k] && v[k].spec.phase < v[i].spec.phase) ready = false;
            if (ready) {
                done[i] = true;
                out.push_back(v[i]);
                progressed = true;
                break;
            }
        }
        if (!progressed) {
            std::string names;
            for (std::size_t i = 0; i < n; ++i)
                if (!done[i]) names += (names.empty() ? "" : ", ") + v[i].spec.name;
            throw std::invalid_argument("hooks of " + event + " have a cycle in before/after: " + names);
        }
    }
    v = std::move(out);
}

void Bus::subscribe(const std::string& event, std::string name, AsyncHandler fn) {
    std::lock_guard lock(writeMu_);
    auto next = std::make_shared<Table>(*table_.load());
    auto st = std::make_shared<Counters>();
    st->event = event;
    st->hook = name;
    next->handlers[event].push_back(Handler{std::move(name), std::move(fn), st});
    table_.store(std::move(next));
}

void Bus::subscribeBatch(const std::vector<std::string>& events, std::string name, BatchHandler fn) {
    std::lock_guard lock(writeMu_);
    auto next = std::make_shared<Table>(*table_.load());
    const auto shared = std::make_shared<const BatchHandler>(std::move(fn));
    for (const auto& event : std::set<std::string>(events.begin(), events.end())) {
        auto st = std::make_shared<Counters>();
        st->event = event;
        st->hook = name;
        next->handlers[event].push_back(Handler{name, nullptr, st, shared});
    }
    table_.store(std::move(next));
}

HookOutcome Bus::publishSync(Event& event) {
    const std::shared_ptr<const Table> table = table_.load();  // keeps the hooks alive while they run
    const auto it = table->hooks.find(event.name);
    if (it == table->hooks.end()) return HookOutcome{};
    for (const auto& h : it->second) {
        const auto t0 = std::chrono::steady_clock::now();
        const auto queued0 = QueuedTime::total();
        ++h.stats->calls;
        HookOutcome out;  // its strings are only filled when the hook refuses or fails
        try {
            // A hook that does not make lazy members itself gets them in the payload (made
            // here, on its time and at its risk: a failure to make them fails it closed).
            if (!h.spec.readsLazyFields) event.completePayload();
            h.fn(event);
        } catch (const Veto& v) {
            ++h.stats->vetoes;
            out.hook = h.spec.name;
            out.vetoed = true;
            out.reason = v.what();
            return out;
        } catch (const std::exception& e) {
            h.stats->fail(e.what());
            out.hook = h.spec.name;
            out.vetoed = true;
            out.failed = true;
            out.reason = std::string("hook ") + h.spec.name + " failed: " + e.what();
            Poco::Logger::get("events").error(out.reason);
            return out;
        } catch (...) {
            out.hook = h.spec.name;
            out.vetoed = true;
            out.failed = true;
            out.reason = "hook " + h.spec.name + " failed with an unknown error";
            h.stats->fail(out.reason);
            return out;
        }
        // The budget is the hook's own time: waiting for the database writer behind other
        // requests (QueuedTime) is load, bounded by the writer, and does not count.
        const auto took = std::chrono::steady_clock::now() - t0 - (QueuedTime::total() - queued0);
        if (took > h.spec.budget) {
            out.hook = h.spec.name;
            out.vetoed = true;
            out.failed = true;
            out.reason = "hook " + h.spec.name + " exceeded its time budget of " +
                         std::to_string(h.spec.budget.count()) + " ms";
            h.stats->fail(out.reason);
            Poco::Logger::get("events").error(out.reason);
            return out;
        }
    }
    return HookOutcome{};
}

void Bus::publish(Event event) {
    {
        // Nobody subscribed: nothing to queue (a handler subscribed later does not get it).
        const std::shared_ptr<const Table> table = table_.load();
        const auto it = table->handlers.find(event.name);
        if (it == table->handlers.end() || it->second.empty()) return;
    }
    event.completePayload();  // the handlers run later, on another thread: nothing stays lazy
    std::string warning;
    {
        std::lock_guard lock(qmu_);
        if (stopping_) return;
        queue_.push_back(std::move(event));
        queueHighWater_ = std::max(queueHighWater_, queue_.size());
        if (queue_.size() >= warnAt_) {
            warnAt_ *= 2;
            warning = std::to_string(queue_.size()) +
                      " events are waiting for their asynchronous handlers, which are slower than the events arrive"
                      " (kb_events_queued); the slowest handler of the last batch: " +
                      (slowest_.empty() ? std::string("none finished yet") : slowest_);
        }
    }
    qcv_.notify_one();
    if (!warning.empty()) Poco::Logger::get("events").warning(warning);
}

void Bus::run() {
    std::vector<Event> taken;
    for (;;) {
        taken.clear();
        {
            std::unique_lock lock(qmu_);
            qcv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) {
                busy_ = false;
                idle_.notify_all();
                if (stopping_) return;
                continue;
            }
            // Everything queued so far, up to a batch: a batch handler gets all of it at once.
            const auto n = std::min(queue_.size(), kMaxBatch);
            taken.reserve(n);
            for (std::size_t i = 0; i < n; ++i) {
                taken.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
            busy_ = true;
        }
        auto slowest = deliver(taken);
        {
            std::lock_guard lock(qmu_);
            busy_ = false;
            slowest_ = std::move(slowest);
            if (queue_.empty()) {
                warnAt_ = kWarnQueued;  // caught up: the next backlog warns again
                idle_.notify_all();
            }
        }
    }
}

std::string Bus::deliver(const std::vector<Event>& events) const {
    // The handlers subscribed now (a handler removed since the event was queued, e.g. of a
    // plugin that stopped, does not run).
    const std::shared_ptr<const Table> table = table_.load();
    auto report = [](Counters& stats, const std::string& who, const std::string& what, const char* why) {
        stats.fail(why);
        Poco::Logger::get("events").error("handler " + who + " of " + what + " failed: " + why);
    };
    // A handler per event runs at once; a batch subscription collects its events, in order,
    // and runs once after them. Subscribers are independent of each other, so only each
    // one's own order matters.
    struct Batch {
        const Handler* handler;
        std::vector<const Event*> events;
        std::vector<Counters*> stats;  // of each event name in the batch
    };
    std::vector<Batch> batches;
    // The time each handler took in this take, summed over its calls.
    std::vector<std::tuple<std::string_view, std::chrono::steady_clock::duration, std::size_t>> times;
    auto took = [&](const std::string& name, std::chrono::steady_clock::duration d, std::size_t n) {
        auto it = std::find_if(times.begin(), times.end(), [&](const auto& t) { return std::get<0>(t) == name; });
        if (it == times.end()) {
            times.emplace_back(name, d, n);
        } else {
            std::get<1>(*it) += d;
            std::get<2>(*it) += n;
        }
    };
    for (const auto& ev : events) {
        const auto it = table->handlers.find(ev.name);
        if (it == table->handlers.end()) continue;
        for (const auto& h : it->second) {
            ++h.stats->calls;
            if (h.batch) {
                auto b = std::find_if(batches.begin(), batches.end(), [&](const Batch& x) { return x.handler->batch == h.batch; });
                if (b == batches.end()) b = batches.insert(batches.end(), Batch{&h, {}, {}});
                b->events.push_back(&ev);
                if (std::find(b->stats.begin(), b->stats.end(), h.stats.get()) == b->stats.end()) b->stats.push_back(h.stats.get());
                continue;
            }
            const auto t0 = std::chrono::steady_clock::now();
            try {
                h.fn(ev);
            } catch (const std::exception& e) {
                report(*h.stats, h.name, ev.name, e.what());
            } catch (...) {
                report(*h.stats, h.name, ev.name, "unknown error");
            }
            took(h.name, std::chrono::steady_clock::now() - t0, 1);
        }
    }
    for (const auto& b : batches) {
        const auto what = std::to_string(b.events.size()) + " event(s)";
        const auto t0 = std::chrono::steady_clock::now();
        try {
            (*b.handler->batch)(b.events);
        } catch (const std::exception& e) {
            for (auto* st : b.stats) st->fail(e.what());
            Poco::Logger::get("events").error("handler " + b.handler->name + " of " + what + " failed: " + e.what());
        } catch (...) {
            for (auto* st : b.stats) st->fail("unknown error");
            Poco::Logger::get("events").error("handler " + b.handler->name + " of " + what + " failed: unknown error");
        }
        took(b.handler->name, std::chrono::steady_clock::now() - t0, b.events.size());
    }
    const auto slowest = std::max_element(times.begin(), times.end(),
                                          [](const auto& a, const auto& b) { return std::get<1>(a) < std::get<1>(b); });
    if (slowest == times.end()) return {};
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::get<1>(*slowest)).count();
    return std::string(std::get<0>(*slowest)) + ": " + std::to_string(ms) + " ms for " + std::to_string(std::get<2>(*slowest)) +
           " event(s)";
}

std::size_t Bus::queued() const {
    std::lock_guard lock(qmu_);
    return queue_.size();
}

std::size_t Bus::queuedHighWater() const {
    std::lock_guard lock(qmu_);
    return queueHighWater_;
}

void Bus::drain() {
    std::unique_lock lock(qmu_);
    idle_.wait(lock, [&] { return (queue_.empty() && !busy_) || stopping_; });
}

void Bus::removeByPrefix(const std::string& prefix) {
    std::lock_guard lock(writeMu_);
    auto next = std::make_shared<Table>(*table_.load());
    for (auto& [ev, v] : next->hooks)
        v.erase(std::remove_if(v.begin(), v.end(),
                               [&](const HookEntry& h) { return h.spec.name.rfind(prefix, 0) == 0; }),
                v.end());
    for (auto& [ev, v] : next->handlers)
        v.erase(std::remove_if(v.begin(), v.end(),
                               [&](const Handler& h) { return h.name.rfind(prefix, 0) == 0; }),
                v.end());
    table_.store(std::move(next));
}

std::vector<std::string> Bus::order(const std::string& event) const {
    const std::shared_ptr<const Table> table = table_.load();
    std::vector<std::string> out;
    auto it = table->hooks.find(event);
    if (it == table->hooks.end()) return out;
    for (const auto& h : it->second) out.push_back(std::string(phaseName(h.spec.phase)) + " " + h.spec.name);
    return out;
}

std::vector<HookStats> Bus::stats() const {
    const std::shared_ptr<const Table> table = table_.load();
    std::vector<HookStats> out;
    for (const auto& [ev, v] : table->hooks)
        for (const auto& h : v) out.push_back(h.stats->snapshot());
    for (const auto& [ev, v] : table->handlers)
        for (const auto& h : v) out.push_back(h.stats->snapshot());
    return out;
}

}  // namespace klinikbox::events
