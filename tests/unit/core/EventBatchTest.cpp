// Batch subscriptions of the event bus: a handler that gets every queued event of its
// subscription at once, in the order published, across the event names it subscribed to.
// Each test holds the worker in a handler of its own until the events are queued, so what
// a batch holds does not depend on timing.
#include "events/Bus.h"

#include <Poco/Channel.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>

#include <gtest/gtest.h>

#include <cstdint>
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

// Holds the bus's worker inside a handler of "gate.closed" until open() is called; its
// handler leaves the bus with it, so a test may close another gate later.
struct Gate {
    events::Bus& bus;
    const std::string name;
    std::promise<void> entered, opened;
    std::shared_future<void> open_{opened.get_future().share()};
    explicit Gate(events::Bus& b) : bus(b), name("gate" + std::to_string(reinterpret_cast<std::uintptr_t>(this)) + ":") {
        bus.subscribe("gate.closed", name, [this](const Event&) {
            entered.set_value();
            open_.wait();
        });
        bus.publish(numbered("gate.closed", 0));
        entered.get_future().wait();  // the worker is inside: what is published now queues
    }
    ~Gate() { bus.removeByPrefix(name); }
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

TEST(EventBatch, ABacklogIsLoggedAtEachDoublingWithTheSlowestHandlerUntilTheQueueEmpties) {
    struct Captured final : Poco::Channel {
        std::mutex mu;
        std::vector<std::string> warnings;
        void log(const Poco::Message& m) override {
            std::lock_guard lock(mu);
            if (m.getPriority() == Poco::Message::PRIO_WARNING) warnings.push_back(m.getText());
        }
    };
    auto& logger = Poco::Logger::get("events");
    const Poco::Channel::Ptr before = logger.getChannel();
    const int level = logger.getLevel();
    Poco::AutoPtr<Captured> captured(new Captured);
    logger.setChannel(captured);
    logger.setLevel(Poco::Message::PRIO_INFORMATION);
    struct Restore {
        Poco::Logger& l;
        Poco::Channel::Ptr c;
        int level;
        ~Restore() {
            l.setChannel(c);
            l.setLevel(level);
        }
    } restore{logger, before, level};

    events::Bus bus;
    bus.subscribe("visit.created", "relations", [](const Event&) {});
    const auto n = static_cast<int>(events::Bus::kWarnQueued);
    {
        Gate gate(bus);
        for (int i = 0; i < n - 1; ++i) bus.publish(numbered("visit.created", i));
        EXPECT_TRUE(captured->warnings.empty());  // below the threshold: nothing said
        bus.publish(numbered("visit.created", n));
        ASSERT_EQ(captured->warnings.size(), 1u);
        EXPECT_NE(captured->warnings[0].find(std::to_string(n) + " events are waiting"), std::string::npos) << captured->warnings[0];
        EXPECT_NE(captured->warnings[0].find("none finished yet"), std::string::npos) << captured->warnings[0];
        for (int i = 0; i < n - 1; ++i) bus.publish(numbered("visit.created", i));
        EXPECT_EQ(captured->warnings.size(), 1u);  // the next warning comes at twice as many
        bus.publish(numbered("visit.created", 2 * n));
        EXPECT_EQ(captured->warnings.size(), 2u);
        gate.open();
        bus.drain();
    }
    // Caught up: a new backlog warns again, naming the slowest handler of the last take.
    Gate again(bus);
    for (int i = 0; i < n; ++i) bus.publish(numbered("visit.created", i));
    ASSERT_EQ(captured->warnings.size(), 3u);
    EXPECT_NE(captured->warnings[2].find("the slowest handler of the last batch: "), std::string::npos) << captured->warnings[2];
    EXPECT_EQ(captured->warnings[2].find("none finished yet"), std::string::npos) << captured->warnings[2];
    again.open();
    bus.drain();
}
