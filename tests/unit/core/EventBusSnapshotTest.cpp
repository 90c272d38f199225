// The bus's listener snapshot: publishing while hooks and handlers are added and removed
// on other threads sees each registration whole and in order, never a half-changed list;
// an async event nobody subscribes to is not queued (so a later subscriber does not get it).
#include "events/Bus.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace klinikbox;

namespace {
Event counted(const std::string& name) {
    Poco::JSON::Object::Ptr p = new Poco::JSON::Object;
    p->set("n", 0);
    return Event{name, p, std::nullopt, "r"};
}
}  // namespace

TEST(EventBusSnapshot, PublishersSeeHooksAddedConcurrentlyWholeAndInOrder) {
    events::Bus bus;
    constexpr int kHooks = 60;
    constexpr int kPublishers = 3;
    std::atomic<bool> writerDone{false};
    std::atomic<int> started{0};
    std::atomic<long long> publishes{0};
    std::vector<std::string> failures(kPublishers);
    std::vector<std::thread> publishers;
    for (int t = 0; t < kPublishers; ++t) {
        publishers.emplace_back([&, t] {
            ++started;
            int seen = 0;
            // Each hook i checks that hooks 0..i-1 ran before it (names sort h00, h01, ...),
            // then counts itself: a publish sees some prefix of the hooks, never fewer than before.
            while (!writerDone.load() || seen < kHooks) {
                Event e = counted("a.b");
                const auto out = bus.publishSync(e);
                ++publishes;
                const int n = e.payload->getValue<int>("n");
                if (out.vetoed) failures[t] = "vetoed: " + out.reason;
                else if (n < seen) failures[t] = "saw " + std::to_string(n) + " hooks after " + std::to_string(seen);
                if (!failures[t].empty()) return;
                seen = n;
            }
        });
    }
    while (started.load() < kPublishers) std::this_thread::yield();
    for (int i = 0; i < kHooks; ++i) {
        char name[8];
        std::snprintf(name, sizeof name, "h%02d", i);
        bus.hook("a.b", HookSpec{name, Phase::Decide, {}, {}}, [i](Event& e) {
            if (e.payload->getValue<int>("n") != i) throw std::runtime_error("hook ran out of order");
            e.payload->set("n", i + 1);
        });
        bus.subscribe("a.b", name, [](const Event&) {});
    }
    writerDone = true;
    for (auto& th : publishers) th.join();
    for (const auto& f : failures) EXPECT_EQ(f, "");
    EXPECT_GE(publishes.load(), kPublishers);
    Event last = counted("a.b");
    EXPECT_FALSE(bus.publishSync(last).vetoed);
    EXPECT_EQ(last.payload->getValue<int>("n"), kHooks);
}

TEST(EventBusSnapshot, HooksRemovedWhilePublishingStayAliveUntilTheirRunEnds) {
    events::Bus bus;
    std::atomic<bool> stop{false};
    std::atomic<int> started{0};
    std::string failure;
    std::thread publisher([&] {
        ++started;
        while (!stop.load()) {
            Event e = counted("c.d");
            const auto out = bus.publishSync(e);
            const int n = e.payload->getValue<int>("n");
            if (out.vetoed || n < 0 || n > 2) {
                failure = "n = " + std::to_string(n) + " " + out.reason;
                return;
            }
        }
    });
    while (started.load() < 1) std::this_thread::yield();
    for (int round = 0; round < 300; ++round) {
        // Each hook owns state its function reads: a hook destroyed while a publish still
        // runs it would be a use after free (the sanitizer build sees it).
        auto step = std::make_shared<int>(1);
        auto inc = [step](Event& e) { e.payload->set("n", e.payload->getValue<int>("n") + *step); };
        bus.hook("c.d", HookSpec{"plugin:a", Phase::Decide, {}, {}}, inc);
        bus.hook("c.d", HookSpec{"plugin:b", Phase::Decide, {}, {}}, inc);
        bus.removeByPrefix("plugin:");
    }
    stop = true;
    publisher.join();
    EXPECT_EQ(failure, "");
    EXPECT_TRUE(bus.order("c.d").empty());
}

TEST(EventBusSnapshot, AnAsyncEventNobodySubscribesToIsNotQueued) {
    events::Bus bus;
    std::atomic<int> calls{0};
    bus.publish(counted("late.event"));
    bus.subscribe("late.event", "late", [&](const Event&) { ++calls; });
    bus.drain();
    EXPECT_EQ(calls.load(), 0) << "the event was published before anyone subscribed";
    bus.publish(counted("late.event"));
    bus.drain();
    EXPECT_EQ(calls.load(), 1);
}

TEST(EventBusSnapshot, AHookMayRegisterAnotherWhileItRuns) {
    events::Bus bus;
    int later = 0;
    bus.hook("e.f", HookSpec{"first", Phase::Decide, {}, {}}, [&](Event&) {
        if (bus.order("e.f").size() == 1)
            bus.hook("e.f", HookSpec{"second", Phase::Finalize, {}, {}}, [&](Event&) { ++later; });
    });
    Event e = counted("e.f");
    EXPECT_FALSE(bus.publishSync(e).vetoed);
    EXPECT_EQ(later, 0) << "the running publish keeps the list it started with";
    Event e2 = counted("e.f");
    EXPECT_FALSE(bus.publishSync(e2).vetoed);
    EXPECT_EQ(later, 1);
}
