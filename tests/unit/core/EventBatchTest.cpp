// Batch subscriptions of the event bus: a handler that gets every queued event of its
// subscription at once, in the order published, across the event names it subscribed to.
// Each test holds the worker in a handler of its own until the events are queued, so what
// a batch holds does not depend on timing.
#include "events/Bus.h"

#include <gtest/gtest.h>

#include <future>
#include <map>
#include <mutex>

using namespace klinikbox;

namespace {

Event numbered(const std::string& name, int n) {
    Poco::JSON::Object::Ptr p = new Poco::JSON::Object;
    p->set("n", n);
    return Event{name, p, std::nullopt, "r"};
}

// Holds the bus's worker inside a handler of "gate.closed" until open() is called.
struct Gate {
    std::promise<void> entered, opened;
    std::shared_future<void> open_{opened.get_future().share()};
    explicit Gate(events::Bus& bus) {
        bus.subscribe("gate.closed", "gate", [this](const Event&) {
            entered.set_value();
            open_.wait();
        });
        bus.publish(numbered("gate.closed", 0));
        entered.get_future().wait();  // the worker is inside: what is published now queues
    }
    void open() { opened.set_value(); }
};

struct Recorder {
    std::mutex mu;
    std::vector<std::vector<std::string>> calls;  // "name:n" per event, per call
    BatchHandler handler() {
        return [this](const std::vector<const Event*>& events) {
            std::vector<std::string> call;
            for (const auto* e : events) call.push_back(e->name + ":" + std::to_string(e->payload->getValue<int>("n")));
            std::lock_guard lock(mu);
            calls.push_back(std::move(call));
        };
    }
};

}  // namespace

TEST(EventBatch, ASubscriptionGetsItsQueuedEventsAtOnceInPublishOrderAcrossItsEventNames) {
    events::Bus bus;
    Recorder batch;
    bus.subscribeBatch({"visit.created", "visit.cancelled"}, "relations", batch.handler());
    std::vector<int> perEvent;  // an ordinary handler of one of the names still gets each event
    bus.subscribe("visit.created", "count", [&](const Event& e) { perEvent.push_back(e.payload->getValue<int>("n")); });
    Gate gate(bus);
    bus.publish(numbered("visit.created", 1));
    bus.publish(numbered("other.event", 2));  // nobody subscribed: never queued
    bus.publish(numbered("visit.cancelled", 3));
    bus.publish(numbered("visit.created", 4));
    gate.open();
    bus.drain();
    ASSERT_EQ(batch.calls.size(), 1u);
    EXPECT_EQ(batch.calls[0], (std::vector<std::string>{"visit.created:1", "visit.cancelled:3", "visit.created:4"}));
    EXPECT_EQ(perEvent, (std::vector<int>{1, 4}));
}

TEST(EventBatch, ABatchHoldsAtMostTheBusesLimitAndTheRestFollowsInOrder) {
    events::Bus bus;
    Recorder batch;
    bus.subscribeBatch({"visit.created"}, "relations", batch.handler());
    Gate gate(bus);
    const int total = static_cast<int>(events::Bus::kMaxBatch) + 10;
    for (int i = 1; i <= total; ++i) bus.publish(numbered("visit.created", i));
    EXPECT_EQ(bus.queued(), static_cast<std::size_t>(total));  // /metrics: kb_events_queued
    gate.open();
    bus.drain();
    EXPECT_EQ(bus.queued(), 0u);
    EXPECT_EQ(bus.queuedHighWater(), static_cast<std::size_t>(total));
    ASSERT_EQ(batch.calls.size(), 2u);
    EXPECT_EQ(batch.calls[0].size(), events::Bus::kMaxBatch);
    EXPECT_EQ(batch.calls[1].size(), 10u);
    int expected = 1;
    for (const auto& call : batch.calls)
        for (const auto& e : call) EXPECT_EQ(e, "visit.created:" + std::to_string(expected++));
}

TEST(EventBatch, AFailingBatchIsCountedForEachOfItsEventNamesAndLaterBatchesStillRun) {
    events::Bus bus;
    int calls = 0;
    bus.subscribeBatch({"visit.created", "visit.cancelled", "visit.created"}, "relations", [&](const std::vector<const Event*>& events) {
        if (++calls == 1) throw std::runtime_error("the database is locked");
        EXPECT_EQ(events.size(), 1u);
    });
    {
        Gate gate(bus);
        bus.publish(numbered("visit.created", 1));
        bus.publish(numbered("visit.cancelled", 2));
        bus.publish(numbered("visit.created", 3));
        gate.open();
        bus.drain();
    }
    bus.publish(numbered("visit.created", 4));
    bus.drain();
    EXPECT_EQ(calls, 2);
    std::map<std::string, events::HookStats> byEvent;
    for (const auto& s : bus.stats())
        if (s.hook == "relations") byEvent[s.event] = s;
    ASSERT_EQ(byEvent.size(), 2u);  // an event named twice is subscribed once
    EXPECT_EQ(byEvent["visit.created"].calls, 3);
    EXPECT_EQ(byEvent["visit.created"].failures, 1);
    EXPECT_EQ(byEvent["visit.created"].lastError, "the database is locked");
    EXPECT_EQ(byEvent["visit.cancelled"].calls, 1);
    EXPECT_EQ(byEvent["visit.cancelled"].failures, 1);
}

TEST(EventBatch, RemovingTheSubscriptionStopsItsBatches) {
    events::Bus bus;
    Recorder batch;
    bus.subscribeBatch({"visit.created"}, "journal:relations", batch.handler());
    Gate gate(bus);
    bus.publish(numbered("visit.created", 1));
    bus.removeByPrefix("journal:");  // the plugin stopped while its event waited
    gate.open();
    bus.drain();
    EXPECT_TRUE(batch.calls.empty());
}

TEST(EventBatch, TheInterfacesDefaultDeliversEachEventAsABatchOfOne) {
    // A bus without a queue of its own (test doubles) inherits EventBus::subscribeBatch.
    struct Direct final : EventBus {
        std::map<std::string, std::vector<AsyncHandler>> handlers;
        void hook(const std::string&, HookSpec, SyncHook) override {}
        void subscribe(const std::string& event, std::string, AsyncHandler fn) override { handlers[event].push_back(std::move(fn)); }
        HookOutcome publishSync(Event&) override { return {}; }
        void publish(Event e) override {
            for (auto& h : handlers[e.name]) h(e);
        }
    } direct;
    Recorder batch;
    direct.subscribeBatch({"visit.created", "visit.cancelled"}, "relations", batch.handler());
    direct.publish(numbered("visit.created", 1));
    direct.publish(numbered("visit.cancelled", 2));
    EXPECT_EQ(batch.calls, (std::vector<std::vector<std::string>>{{"visit.created:1"}, {"visit.cancelled:2"}}));
}
