#include "server/Box.h"
#include "server/Maintenance.h"

#include "TempDir.h"

#include <gtest/gtest.h>

using namespace klinikbox;
using namespace std::chrono_literals;

TEST(Maintenance, OldDeliveredMessagesAndDeadSessionsArePrunedAndRecentOnesKept) {
    kbtest::TempDir dir;
    auto cfg = server::parseBoxConfig("box: {data_dir: data}\nserver: {port: 0}\n", "t.yaml", dir.path());
    FixedClock clock(std::chrono::system_clock::time_point(std::chrono::hours(24 * 20000)));
    server::Box box(cfg, clock);
    box.open();
    const long long now = std::chrono::duration_cast<std::chrono::milliseconds>(clock.now().time_since_epoch()).count();
    const long long day = 86'400'000;
    box.db().write("core", [&](db::Connection& c) {
        for (int i = 0; i < 1200; ++i) {
            auto st = c.prepare("INSERT INTO kb_outbox(owner, channel, idempotency_key, payload, state, next_attempt_at,"
                                " created_at, updated_at, delivered_at) VALUES('x','x.y',?,'{}','delivered',0,0,0,?)");
            st.bind(1, "old" + std::to_string(i)).bind(2, now - 40 * day).exec();
        }
        auto recent = c.prepare("INSERT INTO kb_outbox(owner, channel, idempotency_key, payload, state, next_attempt_at,"
                                " created_at, updated_at, delivered_at) VALUES('x','x.y','new','{}','delivered',0,0,0,?)");
        recent.bind(1, now - day).exec();
        c.exec("INSERT INTO kb_outbox(owner, channel, idempotency_key, payload, next_attempt_at, created_at, updated_at)"
               " VALUES('x','x.y','pending','{}',0,0,0)");
    });
    server::Maintenance m(box, server::MaintenanceOptions{});
    EXPECT_EQ(m.runOnce(), 1200);
    long long left = 0;
    box.db().read("core", [&](db::Connection& c) {
        auto st = c.prepare("SELECT COUNT(*) FROM kb_outbox");
        ASSERT_TRUE(st.step());
        left = st.getInt(0);
    });
    EXPECT_EQ(left, 2) << "the recent delivered and the pending message stay";
    EXPECT_GT(m.freeBytes(), 0);
}

TEST(Maintenance, RunningSetIsFlaggedAsItsExpiryNearsAndRefusedAfterTheGracePeriod) {
    kbtest::TempDir dir;
    auto cfg = server::parseBoxConfig("box: {data_dir: data}\nserver: {port: 0}\nplugins: {grace_days: 14}\n", "t.yaml", dir.path());
    FixedClock clock(std::chrono::system_clock::from_time_t(1'800'000'000));  // 2027-01-15
    server::Box box(cfg, clock);
    box.open();
    int loads = 0;
    box.setBundleSource([&](server::Box& b) {
        ++loads;
        b.activeSet().status = "refused";
        return std::vector<plugin::PluginBundle>{};
    });
    auto& set = box.activeSet();
    set.isSigned = true;
    set.name = "Regionens paket";
    set.expires = "2027-02-01";
    set.status = "valid";
    server::Maintenance m(box, server::MaintenanceOptions{});
    m.checkPluginSet();
    EXPECT_EQ(set.status, "expiring-soon");
    clock.advance(std::chrono::hours(24 * 20));  // 2027-02-04
    m.checkPluginSet();
    EXPECT_EQ(set.status, "expired-in-grace");
    EXPECT_EQ(loads, 0);
    clock.advance(std::chrono::hours(24 * 12));  // 2027-02-16: past 14 days of grace
    m.checkPluginSet();
    EXPECT_EQ(loads, 1) << "the set is verified again (and refused)";
}
