// The audit chain's anchor outside the database: wiping, swapping and restoring an older
// database are detected; the canonical form tells a NULL user id from 0; keys are never
// created by verification.
#include "audit/AuditAnchor.h"
#include "audit/AuditLog.h"
#include "store/Backup.h"
#include "store/CoreMigrations.h"
#include "store/Migrations.h"

#include "TempDir.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace klinikbox;

namespace {

struct Box {
    explicit Box(const kbtest::TempDir& dir, const std::string& dbName = "kb.db")
        : db{store::DatabaseOptions{dir.file(dbName), true, 5000}} {
        store::Migrations::apply(db, "core", store::coreMigrations());
        key = audit::AuditLog::loadOrCreateKeyFor(db, dir.file("audit.key"));
        log = std::make_unique<audit::AuditLog>(db, clock, key);
        anchor = std::make_unique<audit::AuditAnchor>(db, key, dir.file("audit.head"));
        log->setAnchor(anchor.get());
    }
    void add(int n, long long userId = 0) {
        audit::Actor a;
        a.userId = userId;
        a.username = "ada";
        a.role = "staff";
        for (int i = 0; i < n; ++i) log->append(a, AuditEntry{"booking.read", "191212121212", "vård", "ok", "n"});
        EXPECT_TRUE(anchor->advance());
    }
    void sql(const std::string& s) {
        db.write("core", [&](db::Connection& c) {
            c.exec("DROP TRIGGER IF EXISTS kb_audit_no_update; DROP TRIGGER IF EXISTS kb_audit_no_delete;");
            c.exec(s);
        });
    }
    store::Database db;
    SystemClock clock;
    std::string key;
    std::unique_ptr<audit::AuditLog> log;
    std::unique_ptr<audit::AuditAnchor> anchor;
};

}  // namespace

TEST(AuditAnchor, AnIntactDatabaseMatchesItsAnchor) {
    kbtest::TempDir dir;
    Box b(dir);
    b.add(4);
    const auto r = b.log->verify();
    EXPECT_TRUE(r.ok) << r.problem;
    EXPECT_EQ(b.anchor->check().anchoredSeq, 4);
    const auto perms = std::filesystem::status(dir.file("audit.head")).permissions();
    EXPECT_EQ(perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all), std::filesystem::perms::none);
}

TEST(AuditAnchor, WipingEveryRecordAndTheHeadIsDetected) {
    kbtest::TempDir dir;
    Box b(dir);
    b.add(3);
    b.sql("DELETE FROM kb_audit; DELETE FROM kb_meta WHERE key LIKE 'audit%';");
    const auto r = b.log->verify();
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.problem.find("empty"), std::string::npos) << r.problem;
    // The anchor is evidence: it does not follow the wiped database.
    EXPECT_FALSE(b.anchor->advance());
    EXPECT_TRUE(b.anchor->mismatched());
    EXPECT_EQ(b.anchor->check().anchoredSeq, 3);
}

TEST(AuditAnchor, DeletingTheAnchorOfAnAnchoredDatabaseIsDetected) {
    kbtest::TempDir dir;
    Box b(dir);
    b.add(2);
    std::filesystem::remove(dir.file("audit.head"));
    EXPECT_FALSE(b.log->verify().ok);
}

TEST(AuditAnchor, AnEditedAnchorIsDetected) {
    kbtest::TempDir dir;
    Box b(dir);
    b.add(2);
    std::ofstream(dir.file("audit.head")) << "klinikbox-audit-anchor 1 1 00 00\n";
    const auto r = b.log->verify();
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.problem.find("MAC"), std::string::npos) << r.problem;
}

TEST(AuditAnchor, ASwappedDatabaseIsDetected) {
    kbtest::TempDir dir;
    {
        Box b(dir);
        b.add(5);
    }
    // Another database with an intact chain of its own (same key, e.g. a test copy), longer
    // than the anchored one: its record 5 is not the anchored record 5.
    std::filesystem::rename(dir.file("kb.db"), dir.file("kb.db.orig"));
    for (const char* ext : {"-wal", "-shm"}) std::filesystem::remove(dir.file(std::string("kb.db") + ext));
    std::filesystem::rename(dir.file("audit.head"), dir.file("audit.head.keep"));
    {
        Box other(dir);
        other.add(0);
        other.sql("DELETE FROM kb_meta WHERE key='audit_anchored'");
        audit::Actor a;
        a.username = "eve";
        a.role = "staff";
        for (int i = 0; i < 7; ++i) other.log->append(a, AuditEntry{"x", "", "", "ok", std::to_string(i)});
    }
    std::filesystem::rename(dir.file("audit.head.keep"), dir.file("audit.head"));
    Box b(dir);
    const auto r = b.log->verify();
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.problem.find("swapped"), std::string::npos) << r.problem;
}

TEST(AuditAnchor, ARestoredOlderBackupIsDetectedUntilReanchored) {
    kbtest::TempDir dir;
    Box b(dir);
    b.add(3);
    store::backupTo(b.db, dir.file("old.db"));
    b.add(4);
    EXPECT_TRUE(b.log->verify().ok);
    // Restore the older database next to the anchor that saw 7 records.
    std::filesystem::copy_file(dir.file("audit.head"), dir.file("old.head"));
    {
        store::Database old{store::DatabaseOptions{dir.file("old.db"), true, 5000}};
        audit::AuditLog log(old, b.clock, b.key);
        audit::AuditAnchor anchor(old, b.key, dir.file("old.head"));
        log.setAnchor(&anchor);
        const auto r = log.verify();
        EXPECT_FALSE(r.ok);
        EXPECT_EQ(r.firstBadSeq, 4);
        EXPECT_NE(r.problem.find("older backup"), std::string::npos) << r.problem;
        // The operator's explicit re-anchoring accepts it (the CLI also writes audit.reanchor).
        anchor.reset();
        EXPECT_TRUE(log.verify().ok);
    }
}

TEST(AuditAnchor, LoggedCheckpointsCatchADatabaseRolledBackWithItsAnchor) {
    kbtest::TempDir dir;
    Box b(dir);
    b.add(2);
    std::ostringstream logged;
    logged << "2026-12-05T10:00:00Z N audit: " << b.anchor->checkpointLine() << "\n";
    b.add(3);
    logged << "2026-12-05T10:05:00Z N audit: " << b.anchor->checkpointLine() << "\n";
    {
        std::istringstream in(logged.str());
        const auto c = b.anchor->checkCheckpoints(in);
        EXPECT_TRUE(c.ok) << c.problem;
        EXPECT_EQ(c.checkpoints, 2);
        EXPECT_EQ(c.anchoredSeq, 5);
    }
    b.sql("DELETE FROM kb_audit WHERE seq > 3");
    std::istringstream in(logged.str() + "x audit checkpoint seq=9 hash=ab mac=cd\n");
    const auto c = b.anchor->checkCheckpoints(in);
    EXPECT_FALSE(c.ok);
    EXPECT_EQ(c.unreadable, 1);
    EXPECT_NE(c.problem.find("record 5"), std::string::npos) << c.problem;
}

TEST(AuditAnchor, UserIdNullAndZeroAreDistinguished) {
    kbtest::TempDir dir;
    Box b(dir);
    b.add(2);      // no user: NULL
    b.add(1, 42);  // user 42
    ASSERT_TRUE(b.log->verify().ok);
    b.sql("UPDATE kb_audit SET user_id = 0 WHERE seq = 1");
    auto r = b.log->verify();
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.firstBadSeq, 1);
    b.sql("UPDATE kb_audit SET user_id = NULL WHERE seq = 1");
    ASSERT_TRUE(b.log->verify().ok);
    b.sql("UPDATE kb_audit SET user_id = NULL WHERE seq = 3");
    r = b.log->verify();
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.firstBadSeq, 3);
}

TEST(AuditAnchor, AMissingKeyIsNeverCreatedForALogWithRecords) {
    kbtest::TempDir dir;
    {
        Box b(dir);
        b.add(1);
    }
    std::filesystem::remove(dir.file("audit.key"));
    EXPECT_THROW((void)audit::AuditLog::loadKey(dir.file("audit.key")), std::runtime_error);
    store::Database db{store::DatabaseOptions{dir.file("kb.db"), true, 5000}};
    EXPECT_THROW((void)audit::AuditLog::loadOrCreateKeyFor(db, dir.file("audit.key")), std::runtime_error);
    EXPECT_FALSE(std::filesystem::exists(dir.file("audit.key")));
}
