#include "audit/AuditLog.h"
#include "store/CoreMigrations.h"
#include "store/Migrations.h"

#include "TempDir.h"

#include <gtest/gtest.h>

using namespace klinikbox;

namespace {
struct AuditFixture {
    kbtest::TempDir dir;
    store::Database db{store::DatabaseOptions{dir.file("kb.db"), true, 5000}};
    SystemClock clock;
    std::string key = audit::AuditLog::loadOrCreateKey(dir.file("audit.key"));
    audit::AuditLog log{db, clock, key};
    AuditFixture() {
        store::Migrations::apply(db, "core", store::coreMigrations());
        audit::Actor a;
        a.username = "ada";
        a.role = "staff";
        for (int i = 0; i < 5; ++i)
            log.append(a, AuditEntry{"booking.read", "191212121212", "vård", "ok", "n" + std::to_string(i)});
    }
    // Tampering as someone with direct database access would: drop the guard triggers first.
    void tamper(const std::string& sql) {
        db.write("core", [&](db::Connection& c) {
            c.exec("DROP TRIGGER kb_audit_no_update; DROP TRIGGER kb_audit_no_delete;");
            c.exec(sql);
        });
    }
};
}  // namespace

TEST(Audit, IntactChainVerifies) {
    AuditFixture f;
    const auto r = f.log.verify();
    EXPECT_TRUE(r.ok) << r.problem;
    EXPECT_EQ(r.records, 5);
}

TEST(Audit, EditedRecordIsDetected) {
    AuditFixture f;
    f.tamper("UPDATE kb_audit SET patient='191010101010' WHERE seq=3");
    const auto r = f.log.verify();
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.firstBadSeq, 3);
}

TEST(Audit, DeletedRecordInTheMiddleIsDetected) {
    AuditFixture f;
    f.tamper("DELETE FROM kb_audit WHERE seq=2");
    const auto r = f.log.verify();
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.firstBadSeq, 2);
}

TEST(Audit, DeletedNewestRecordIsDetected) {
    AuditFixture f;
    f.tamper("DELETE FROM kb_audit WHERE seq=5");
    EXPECT_FALSE(f.log.verify().ok);
}

TEST(Audit, RecomputedHashWithoutTheKeyIsDetected) {
    AuditFixture f;
    // An attacker who rewrites a record and its hash with a guessed key breaks the chain.
    f.tamper("UPDATE kb_audit SET details='x', hash='00' WHERE seq=5");
    EXPECT_FALSE(f.log.verify().ok);
}

TEST(Audit, ADifferentKeyCannotVerifyTheChain) {
    AuditFixture f;
    audit::AuditLog other(f.db, f.clock, std::string(32, 'k'));
    EXPECT_FALSE(other.verify().ok);
}

TEST(Audit, RecordInsideAPluginTransactionRollsBackWithIt) {
    AuditFixture f;
    store::Migrations::apply(f.db, "demo", {{1, "0001.sql", "CREATE TABLE demo_t(a);"}});
    audit::PluginAudit pa(f.log, "demo");
    Request r;
    r.requestId = "x";
    EXPECT_THROW(f.db.write("demo", [&](db::Connection& c) {
        pa.record(r, AuditEntry{"write", "191212121212", "vård", "ok", ""}, c);
        throw std::runtime_error("fail");
    }), std::runtime_error);
    EXPECT_EQ(f.log.verify().records, 5);
    f.db.write("demo", [&](db::Connection& c) { pa.record(r, AuditEntry{"write", "", "vård", "ok", ""}, c); });
    const auto v = f.log.verify();
    EXPECT_TRUE(v.ok) << v.problem;
    EXPECT_EQ(v.records, 6);
}

TEST(Audit, KeyFileIsCreatedPrivateAndReusedAfterwards) {
    AuditFixture f;
    EXPECT_EQ(audit::AuditLog::loadOrCreateKey(f.dir.file("audit.key")), f.key);
    const auto perms = std::filesystem::status(f.dir.file("audit.key")).permissions();
    EXPECT_EQ(perms & std::filesystem::perms::group_all, std::filesystem::perms::none);
    EXPECT_EQ(perms & std::filesystem::perms::others_all, std::filesystem::perms::none);
}
