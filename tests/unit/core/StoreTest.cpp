#include "store/Backup.h"
#include "store/CoreMigrations.h"
#include "store/Database.h"
#include "store/Migrations.h"

#include "DbCount.h"
#include "TempDir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

using namespace klinikbox;
using namespace klinikbox::store;

namespace {

struct StoreFixture {
    kbtest::TempDir dir;
    Database db{DatabaseOptions{dir.file("kb.db"), true, 5000}};
    StoreFixture() { Migrations::apply(db, "core", coreMigrations()); }
};

long long count(Database& db, const std::string& sql) { return kbtest::countRows(db, sql); }

}  // namespace

TEST(Store, DatabaseRunsInWalModeWithForeignKeys) {
    StoreFixture f;
    auto c = f.db.acquire("core");
    auto j = c->prepare("PRAGMA journal_mode");
    ASSERT_TRUE(j.step());
    EXPECT_EQ(j.getText(0), "wal");
    auto fk = c->prepare("PRAGMA foreign_keys");
    ASSERT_TRUE(fk.step());
    EXPECT_EQ(fk.getInt(0), 1);
}

TEST(Store, CoreMigrationsAreRecordedOnceAndSetTheApplicationId) {
    StoreFixture f;
    EXPECT_EQ(Migrations::apply(f.db, "core", coreMigrations()), 0);
    EXPECT_EQ(Migrations::appliedVersion(f.db, "core"), coreMigrations().back().version);
    EXPECT_EQ(count(f.db, "PRAGMA application_id"), kApplicationId);
}

TEST(Store, FailedMigrationRollsBackCompletelyAndNamesItself) {
    StoreFixture f;
    const std::vector<Migration> ms = {
        {1, "0001_ok.sql", "CREATE TABLE demo_a(x INTEGER);"},
        {2, "0002_bad.sql", "CREATE TABLE demo_b(x INTEGER); INSERT INTO demo_nope VALUES(1);"}};
    try {
        Migrations::apply(f.db, "demo", ms);
        FAIL() << "the broken migration was accepted";
    } catch (const MigrationError& e) {
        EXPECT_NE(std::string(e.what()).find("0002_bad.sql"), std::string::npos) << e.what();
    }
    EXPECT_EQ(Migrations::appliedVersion(f.db, "demo"), 1);
    EXPECT_EQ(count(f.db, "SELECT COUNT(*) FROM sqlite_master WHERE name='demo_b'"), 0);
}

TEST(Store, ChangedMigrationIsRefused) {
    StoreFixture f;
    Migrations::apply(f.db, "demo", {{1, "0001_a.sql", "CREATE TABLE demo_a(x INTEGER);"}});
    EXPECT_THROW(Migrations::apply(f.db, "demo", {{1, "0001_a.sql", "CREATE TABLE demo_a(y INTEGER);"}}),
                 MigrationError);
}

TEST(Store, DatabaseFromNewerVersionIsRefused) {
    StoreFixture f;
    Migrations::apply(f.db, "demo", {{1, "0001_a.sql", "CREATE TABLE demo_a(x);"}, {2, "0002_b.sql", "CREATE TABLE demo_b(x);"}});
    EXPECT_THROW(Migrations::apply(f.db, "demo", {{1, "0001_a.sql", "CREATE TABLE demo_a(x);"}}), MigrationError);
}

TEST(Store, PluginMigrationCannotCreateTablesOutsideItsPrefix) {
    StoreFixture f;
    EXPECT_THROW(Migrations::apply(f.db, "demo", {{1, "0001.sql", "CREATE TABLE other_x(a);"}}), MigrationError);
    EXPECT_THROW(Migrations::apply(f.db, "demo", {{1, "0001.sql", "CREATE TABLE demox(a);"}}), MigrationError);
}

TEST(Store, PluginMigrationMayIndexItsOwnTablesButNoOneElses) {
    StoreFixture f;
    Migrations::apply(f.db, "demo",
                      {{1, "0001.sql", "CREATE TABLE demo_t(a TEXT PRIMARY KEY, b); CREATE INDEX demo_t_b ON demo_t(b);"
                                       " CREATE UNIQUE INDEX demo_t_ab ON demo_t(a, b);"}});
    EXPECT_THROW(Migrations::apply(f.db, "demo", {{1, "0001.sql", "CREATE TABLE demo_t(a TEXT PRIMARY KEY, b); CREATE INDEX demo_t_b ON demo_t(b);"
                                                                  " CREATE UNIQUE INDEX demo_t_ab ON demo_t(a, b);"},
                                                   {2, "0002.sql", "CREATE INDEX demo_users ON kb_users(username);"}}),
                 MigrationError);
}

TEST(Store, PluginCannotReadOrWriteCoreOrOtherPluginsTables) {
    StoreFixture f;
    Migrations::apply(f.db, "alpha", {{1, "0001.sql", "CREATE TABLE alpha_t(a);"}});
    Migrations::apply(f.db, "beta", {{1, "0001.sql", "CREATE TABLE beta_t(a);"}});
    f.db.write("alpha", [](db::Connection& c) { c.exec("INSERT INTO alpha_t VALUES(1)"); });
    for (const char* sql : {"SELECT * FROM beta_t", "SELECT * FROM kb_audit", "DELETE FROM kb_outbox",
                            "UPDATE kb_meta SET value='x'", "PRAGMA foreign_keys=OFF", "ATTACH 'x.db' AS x",
                            "DROP TRIGGER kb_audit_no_update"}) {
        EXPECT_THROW(f.db.write("alpha", [&](db::Connection& c) { c.exec(sql); }), db::Error) << sql;
    }
    EXPECT_EQ(count(f.db, "SELECT COUNT(*) FROM alpha_t"), 1);
}

TEST(Store, WriteRollsBackWhenTheCallbackThrows) {
    StoreFixture f;
    Migrations::apply(f.db, "demo", {{1, "0001.sql", "CREATE TABLE demo_t(a);"}});
    EXPECT_THROW(f.db.write("demo", [](db::Connection& c) {
        c.exec("INSERT INTO demo_t VALUES(1)");
        throw std::runtime_error("boom");
    }), std::runtime_error);
    EXPECT_EQ(count(f.db, "SELECT COUNT(*) FROM demo_t"), 0);
}

TEST(Store, UniqueConstraintSurfacesAsConstraintError) {
    StoreFixture f;
    Migrations::apply(f.db, "demo", {{1, "0001.sql", "CREATE TABLE demo_t(a UNIQUE);"}});
    f.db.write("demo", [](db::Connection& c) { c.exec("INSERT INTO demo_t VALUES(1)"); });
    EXPECT_THROW(f.db.write("demo", [](db::Connection& c) { c.exec("INSERT INTO demo_t VALUES(1)"); }),
                 db::ConstraintError);
}

TEST(Store, AuditTableIsAppendOnly) {
    StoreFixture f;
    f.db.write("core", [](db::Connection& c) {
        c.exec("INSERT INTO kb_audit(seq, at, username, role, action, outcome, prev_hash, hash) "
               "VALUES(1,'t','u','r','a','ok','p','h')");
    });
    EXPECT_THROW(f.db.write("core", [](db::Connection& c) { c.exec("UPDATE kb_audit SET action='x'"); }), db::Error);
    EXPECT_THROW(f.db.write("core", [](db::Connection& c) { c.exec("DELETE FROM kb_audit"); }), db::Error);
}

TEST(Store, OnlineBackupWhileWritingGivesACompleteRestorableCopy) {
    StoreFixture f;
    Migrations::apply(f.db, "demo", {{1, "0001.sql", "CREATE TABLE demo_t(a);"}});
    std::atomic<bool> stop{false};
    std::atomic<int> written{0};
    std::thread writer([&] {
        int i = 0;
        while (!stop) {
            f.db.write("demo", [&](db::Connection& c) {
                auto st = c.prepare("INSERT INTO demo_t VALUES(?)");
                st.bind(1, ++i).exec();
            });
            ++written;
        }
    });
    // The backup starts once rows exist and runs while more are written.
    while (written < 20) std::this_thread::yield();
    backupTo(f.db, f.dir.file("backup.db"));
    stop = true;
    writer.join();
    EXPECT_NO_THROW(checkRestorable(f.dir.file("backup.db"), coreMigrations().back().version));
    Database copy({f.dir.file("backup.db"), true, 1000});
    EXPECT_GT(count(copy, "SELECT COUNT(*) FROM demo_t"), 0);
}

TEST(Store, RestoreRefusesFilesThatAreNotKlinikboxDatabases) {
    StoreFixture f;
    {
        std::ofstream(f.dir.file("text.db")) << "hello, this is not a database at all";
    }
    EXPECT_THROW(checkRestorable(f.dir.file("text.db"), 1), BackupError);
    { db::Connection other(f.dir.file("other.db")); other.exec("CREATE TABLE t(a)"); }
    EXPECT_THROW(checkRestorable(f.dir.file("other.db"), 1), BackupError);
    EXPECT_THROW(checkRestorable(f.dir.file("missing.db"), 1), BackupError);
}

TEST(Store, RestoreRefusesABackupFromANewerSchema) {
    StoreFixture f;
    backupTo(f.db, f.dir.file("b.db"));
    EXPECT_THROW(checkRestorable(f.dir.file("b.db"), 0), BackupError);
}

TEST(Store, RestoreReplacesTheDatabaseAndKeepsThePreviousOne) {
    kbtest::TempDir dir;
    const auto live = dir.file("live.db");
    {
        Database db({live, true, 1000});
        Migrations::apply(db, "core", coreMigrations());
        db.write("core", [](db::Connection& c) { c.exec("INSERT INTO kb_meta VALUES('marker','before')"); });
        backupTo(db, dir.file("b.db"));
        db.write("core", [](db::Connection& c) { c.exec("UPDATE kb_meta SET value='after' WHERE key='marker'"); });
    }
    restoreFrom(dir.file("b.db"), live, coreMigrations().back().version);
    Database db({live, true, 1000});
    std::string v;
    db.read("core", [&](db::Connection& c) {
        auto st = c.prepare("SELECT value FROM kb_meta WHERE key='marker'");
        ASSERT_TRUE(st.step());
        v = st.getText(0);
    });
    EXPECT_EQ(v, "before");
    EXPECT_TRUE(std::filesystem::exists(live + ".before-restore"));
}

// Bug: a backup (patient data that leaves the box) was created 0644, readable by everyone.
TEST(Store, BackupAndRestoredDatabaseAreReadableByTheOwnerOnly) {
    kbtest::TempDir dir;
    const auto live = dir.file("live.db");
    const mode_t old = ::umask(0022);
    {
        Database db({live, true, 1000});
        Migrations::apply(db, "core", coreMigrations());
        backupTo(db, dir.file("b.db"));
    }
    restoreFrom(dir.file("b.db"), live, coreMigrations().back().version);
    ::umask(old);
    const auto perms = [](const std::string& p) {
        return std::filesystem::status(p).permissions() & std::filesystem::perms::all;
    };
    EXPECT_EQ(perms(dir.file("b.db")), std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    EXPECT_EQ(perms(live), std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

// Bug: a restore run as root left a root-owned database; the box then failed with
// "attempt to write a readonly database". Root hands it to the data directory's owner.
TEST(Store, RestoreAsRootGivesTheDatabaseToTheDataDirectorysOwner) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to change ownership";
    kbtest::TempDir dir;
    const auto live = dir.file("live.db");
    {
        Database db({live, true, 1000});
        Migrations::apply(db, "core", coreMigrations());
        backupTo(db, dir.file("b.db"));
    }
    ASSERT_EQ(::chown(dir.path().c_str(), 65534, 65534), 0);
    restoreFrom(dir.file("b.db"), live, coreMigrations().back().version);
    struct stat st {};
    ASSERT_EQ(::stat(live.c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 65534u);
    EXPECT_EQ(st.st_gid, 65534u);
}
