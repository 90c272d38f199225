#include "outbox/OutboxService.h"

#include <Poco/JSON/Object.h>
#include "store/CoreMigrations.h"
#include "store/Migrations.h"

#include "TempDir.h"

#include <gtest/gtest.h>

#include <atomic>

using namespace klinikbox;
using namespace std::chrono_literals;

namespace {
struct OutboxFixture {
    kbtest::TempDir dir;
    store::Database db{store::DatabaseOptions{dir.file("kb.db"), true, 5000}};
    FixedClock clock{std::chrono::system_clock::time_point(std::chrono::hours(24 * 20000))};
    outbox::OutboxOptions opts = [] {
        outbox::OutboxOptions o;
        o.maxAttempts = 3;
        o.baseDelayMs = 1000;
        o.maxDelayMs = 8000;
        o.pollIntervalMs = 10;
        return o;
    }();
    outbox::OutboxService svc{db, clock, opts};
    OutboxFixture() {
        store::Migrations::apply(db, "core", store::coreMigrations());
        store::Migrations::apply(db, "demo", {{1, "0001.sql", "CREATE TABLE demo_t(a);"}});
    }
    void enqueue(const std::string& key, const std::string& payload = "{}") {
        outbox::PluginOutbox po(svc, "demo");
        db.write("demo", [&](db::Connection& c) {
            c.exec("INSERT INTO demo_t VALUES(1)");
            po.enqueue(c, OutboundMessage{"demo.send", payload, key});
        });
    }
    std::string state(long long id) {
        std::string s;
        const auto all = svc.list("", 100);
        for (const auto& v : *all) {
            auto o = v.extract<Poco::JSON::Object::Ptr>();
            if (o->getValue<long long>("id") == id) s = o->getValue<std::string>("state");
        }
        return s;
    }
};
}  // namespace

TEST(Outbox, MessageCommitsAndRollsBackWithTheChangeThatCausedIt) {
    OutboxFixture f;
    outbox::PluginOutbox po(f.svc, "demo");
    EXPECT_THROW(f.db.write("demo", [&](db::Connection& c) {
        po.enqueue(c, OutboundMessage{"demo.send", "{}", "k1"});
        throw std::runtime_error("the change failed");
    }), std::runtime_error);
    EXPECT_EQ(f.svc.counts().pending, 0);
    f.enqueue("k1");
    EXPECT_EQ(f.svc.counts().pending, 1);
}

TEST(Outbox, SameIdempotencyKeyIsQueuedOnce) {
    OutboxFixture f;
    f.enqueue("k1");
    f.enqueue("k1");
    EXPECT_EQ(f.svc.counts().pending, 1);
}

TEST(Outbox, PluginMayOnlyUseItsOwnChannels) {
    OutboxFixture f;
    outbox::PluginOutbox po(f.svc, "demo");
    EXPECT_THROW(po.registerChannel("other.send", [](const QueuedMessage&) { return DeliveryResult::delivered(); }),
                 std::invalid_argument);
    EXPECT_THROW(f.db.write("demo", [&](db::Connection& c) { po.enqueue(c, OutboundMessage{"demox.send", "{}", "k"}); }),
                 std::invalid_argument);
}

TEST(Outbox, EnqueueOutsideATransactionIsAProgrammingError) {
    OutboxFixture f;
    auto c = f.db.acquire("demo");
    EXPECT_THROW(f.svc.enqueue("demo", *c, OutboundMessage{"demo.send", "{}", "k"}), std::logic_error);
}

TEST(Outbox, DeliveredMessageIsNotSentAgain) {
    OutboxFixture f;
    int calls = 0;
    f.svc.registerChannel("demo.send", [&](const QueuedMessage& m) {
        ++calls;
        EXPECT_EQ(m.idempotencyKey, "k1");
        EXPECT_EQ(m.attempt, 1);
        return DeliveryResult::delivered();
    });
    f.enqueue("k1");
    EXPECT_EQ(f.svc.deliverDue(), 1);
    EXPECT_EQ(f.svc.deliverDue(), 0);
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(f.svc.counts().delivered, 1);
}

TEST(Outbox, FailuresBackOffExponentiallyThenGoToDeadLetters) {
    OutboxFixture f;
    int calls = 0;
    f.svc.registerChannel("demo.send", [&](const QueuedMessage&) {
        ++calls;
        return DeliveryResult::retry("peer down");
    });
    f.enqueue("k1");
    EXPECT_EQ(f.svc.deliverDue(), 1);
    EXPECT_EQ(f.svc.deliverDue(), 0) << "a retry must wait for its backoff";
    f.clock.advance(1s);  // backoff after 1 attempt: 0.5..1 s
    EXPECT_EQ(f.svc.deliverDue(), 1);
    f.clock.advance(2s);
    EXPECT_EQ(f.svc.deliverDue(), 1);
    EXPECT_EQ(calls, 3);
    EXPECT_EQ(f.svc.counts().dead, 1);
    f.clock.advance(1h);
    EXPECT_EQ(f.svc.deliverDue(), 0);
    EXPECT_EQ(f.svc.backoffMs(1), 1000);
    EXPECT_EQ(f.svc.backoffMs(3), 4000);
    EXPECT_EQ(f.svc.backoffMs(10), 8000);
}

TEST(Outbox, PermanentFailureGoesStraightToDeadLettersAndCanBeRetried) {
    OutboxFixture f;
    bool fail = true;
    f.svc.registerChannel("demo.send", [&](const QueuedMessage&) {
        return fail ? DeliveryResult::failed("peer says invalid") : DeliveryResult::delivered();
    });
    f.enqueue("k1");
    f.svc.deliverDue();
    EXPECT_EQ(f.state(1), "dead");
    fail = false;
    EXPECT_TRUE(f.svc.retry(1));
    f.svc.deliverDue();
    EXPECT_EQ(f.state(1), "delivered");
    EXPECT_FALSE(f.svc.retry(1)) << "a delivered message cannot be retried";
}

TEST(Outbox, DiscardRemovesADeadMessage) {
    OutboxFixture f;
    f.svc.registerChannel("demo.send", [](const QueuedMessage&) { return DeliveryResult::failed("no"); });
    f.enqueue("k1");
    f.svc.deliverDue();
    EXPECT_TRUE(f.svc.discard(1));
    EXPECT_EQ(f.svc.counts().dead, 0);
}

TEST(Outbox, ThrowingDelivererCountsAsRetry) {
    OutboxFixture f;
    f.svc.registerChannel("demo.send", [](const QueuedMessage&) -> DeliveryResult { throw std::runtime_error("tls"); });
    f.enqueue("k1");
    f.svc.deliverDue();
    EXPECT_EQ(f.state(1), "pending");
}

TEST(Outbox, MessageClaimedWhenTheBoxDiedIsDeliveredAfterRestart) {
    OutboxFixture f;
    f.enqueue("k1");
    // Simulate a crash mid-delivery: the row is left 'delivering'.
    f.db.write("core", [](db::Connection& c) { c.exec("UPDATE kb_outbox SET state='delivering'"); });
    std::atomic<int> calls{0};
    f.svc.registerChannel("demo.send", [&](const QueuedMessage&) {
        ++calls;
        return DeliveryResult::delivered();
    });
    f.svc.start();
    for (int i = 0; i < 200 && calls == 0; ++i) std::this_thread::sleep_for(10ms);
    f.svc.stop();
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(f.state(1), "delivered");
}

TEST(Outbox, StopDoesNotWaitForAHungPeerBeyondItsLimit) {
    kbtest::TempDir dir;
    store::Database db({dir.file("kb.db"), true, 5000});
    store::Migrations::apply(db, "core", store::coreMigrations());
    SystemClock clock;
    outbox::OutboxOptions o;
    o.workers = 1;
    o.pollIntervalMs = 10;
    o.stopWaitMs = 200;
    auto svc = std::make_unique<outbox::OutboxService>(db, clock, o);
    std::atomic<bool> entered{false};
    std::atomic<bool> release{false};
    svc->registerChannel("demo.send", [&](const QueuedMessage&) {
        entered = true;
        while (!release) std::this_thread::sleep_for(5ms);
        return DeliveryResult::delivered();
    });
    db.write("core", [&](db::Connection& c) { svc->enqueue("demo", c, OutboundMessage{"demo.send", "{}", "k"}); });
    svc->start();
    while (!entered) std::this_thread::sleep_for(5ms);
    const auto t0 = std::chrono::steady_clock::now();
    svc->stop();  // returns although the peer is still hung (it is released only below)
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 30s) << "stop waits stopWaitMs (200 ms), not for the peer";
    release = true;
    // The detached worker finishes its delivery and leaves; the service must outlive it.
    for (int i = 0; i < 6000 && svc->workersRunning() > 0; ++i) std::this_thread::sleep_for(10ms);
    EXPECT_EQ(svc->workersRunning(), 0);
}

TEST(Outbox, MessageWithNotBeforeWaitsUntilItIsDueAndSurvivesARestart) {
    OutboxFixture f;
    int calls = 0;
    outbox::PluginOutbox po(f.svc, "demo");
    f.db.write("demo", [&](db::Connection& c) {
        OutboundMessage m{"demo.send", "{}", "reminder-1"};
        m.notBefore = f.clock.now() + 2h;
        po.enqueue(c, m);
    });
    // A second service on the same database stands in for the box after a restart.
    outbox::OutboxService restarted{f.db, f.clock, f.opts};
    restarted.registerChannel("demo.send", [&](const QueuedMessage&) {
        ++calls;
        return DeliveryResult::delivered();
    });
    EXPECT_EQ(restarted.deliverDue(), 0);
    f.clock.advance(119min);
    EXPECT_EQ(restarted.deliverDue(), 0);
    f.clock.advance(1min);
    EXPECT_EQ(restarted.deliverDue(), 1);
    EXPECT_EQ(calls, 1);
}

TEST(Outbox, DeliveredPayloadsArePurgedPendingAndDeadOnesKept) {
    OutboxFixture f;
    const std::string link = R"({"text":"Öppna https://box/plugins/booking/invite.html#SeCrEtToKeN0123456789abcdefghijk"})";
    f.svc.registerChannel("demo.send", [&](const QueuedMessage& m) {
        EXPECT_EQ(m.payload, link);  // the deliverer still gets the whole message
        return m.idempotencyKey == "ok" ? DeliveryResult::delivered() : DeliveryResult::failed("refused");
    });
    f.enqueue("ok", link);
    f.enqueue("dead", link);
    EXPECT_EQ(f.svc.deliverDue(), 2);
    auto payloadOf = [&](const std::string& key) {
        std::string p;
        f.db.read("core", [&](db::Connection& c) {
            auto st = c.prepare("SELECT payload FROM kb_outbox WHERE idempotency_key = ?");
            st.bind(1, key);
            if (st.step()) p = st.getText(0);
        });
        return p;
    };
    EXPECT_EQ(payloadOf("ok"), "");
    EXPECT_EQ(payloadOf("dead"), link) << "a dead message can be retried, so it keeps its payload";
    // A message delivered by an older version is purged at the next start.
    f.db.write("core", [&](db::Connection& c) { c.exec("UPDATE kb_outbox SET payload='old' WHERE idempotency_key='ok'"); });
    f.svc.start();
    f.svc.stop();
    EXPECT_EQ(payloadOf("ok"), "");
}
