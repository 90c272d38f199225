// Prepared statements kept per connection (db::Connection::enableStatementCache): reused only
// in the scope they were prepared in, handed back reset, bounded, and never a way around the
// authorizer.
#include "store/Database.h"

#include "TempDir.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

using namespace klinikbox;
using namespace klinikbox::store;

namespace {

struct Fixture {
    kbtest::TempDir dir;
    Database db{DatabaseOptions{dir.file("kb.db"), true, 5000}};
    Fixture() {
        db.write("core", [](db::Connection& c) {
            c.exec("CREATE TABLE kb_secret(x INTEGER)");
            c.exec("CREATE TABLE demo_rows(id INTEGER PRIMARY KEY, v TEXT UNIQUE)");
            c.exec("INSERT INTO kb_secret VALUES(42)");
        });
    }
};

// A database whose connections keep `capacity` statements.
struct WithCapacity {
    kbtest::TempDir dir;
    Database db;
    explicit WithCapacity(int capacity) : db{options(dir, capacity)} {}
    static DatabaseOptions options(kbtest::TempDir& d, int capacity) {
        DatabaseOptions o{d.file("kb.db"), true, 5000};
        o.statementCache = capacity;
        return o;
    }
};

// Every statement object the connection has, cached or handed out.
int statementObjects(db::Connection& c) {
    int n = 0;
    for (sqlite3_stmt* s = sqlite3_next_stmt(c.raw(), nullptr); s; s = sqlite3_next_stmt(c.raw(), s)) ++n;
    return n;
}

}  // namespace

TEST(StatementCache, TheSameTextInTheSameScopeReusesOneStatement) {
    Fixture f;
    auto c = f.db.acquire("demo");
    const int before = statementObjects(*c);
    for (int i = 0; i < 5; ++i) {
        auto st = c->prepare("SELECT COUNT(*) FROM demo_rows WHERE id > ?");
        st.bind(1, i);
        ASSERT_TRUE(st.step());
    }
    EXPECT_EQ(statementObjects(*c), before + 1);
    EXPECT_GE(c->cachedStatements(), 1u);
}

TEST(StatementCache, TwoAtOnceAreTwoStatementsAndOneIsKept) {
    Fixture f;
    auto c = f.db.acquire("demo");
    const int before = statementObjects(*c);
    {
        auto a = c->prepare("SELECT 1");
        auto b = c->prepare("SELECT 1");
        ASSERT_TRUE(a.step());
        ASSERT_TRUE(b.step());
        EXPECT_EQ(statementObjects(*c), before + 2);
    }
    EXPECT_EQ(statementObjects(*c), before + 1);
}

TEST(StatementCache, AStatementPreparedWithCoreRightsNeverServesThePlugin) {
    Fixture f;
    auto c = f.db.acquire("demo");
    Database::asCore(*c, [&] {
        auto st = c->prepare("SELECT x FROM kb_secret");
        ASSERT_TRUE(st.step());
        EXPECT_EQ(st.getInt(0), 42);
    });
    // The same text without core rights is prepared again, and the authorizer refuses it.
    EXPECT_THROW((void)c->prepare("SELECT x FROM kb_secret"), db::AccessDenied);
    EXPECT_THROW(c->exec("DELETE FROM kb_secret"), db::AccessDenied);
    Database::asCore(*c, [&] { c->exec("DELETE FROM kb_secret WHERE x = 0"); });
    EXPECT_THROW(c->exec("DELETE FROM kb_secret WHERE x = 0"), db::AccessDenied);
}

TEST(StatementCache, TheSharedWriterKeepsEachOwnersStatementsApart) {
    Fixture f;
    f.db.write("core", [](db::Connection& c) { c.exec("INSERT INTO kb_secret VALUES(7)"); });
    EXPECT_THROW(f.db.write("demo", [](db::Connection& c) { c.exec("INSERT INTO kb_secret VALUES(7)"); }),
                 db::AccessDenied);
    f.db.write("core", [](db::Connection& c) { (void)c.prepare("UPDATE kb_secret SET x = x"); });
    EXPECT_THROW(f.db.write("demo", [](db::Connection& c) { c.prepare("UPDATE kb_secret SET x = x").exec(); }),
                 db::AccessDenied);
    long long n = 0;
    f.db.read("core", [&](db::Connection& c) {
        auto st = c.prepare("SELECT COUNT(*) FROM kb_secret");
        ASSERT_TRUE(st.step());
        n = st.getInt(0);
    });
    EXPECT_EQ(n, 2);
}

TEST(StatementCache, AStatementComesBackResetWithoutItsValues) {
    Fixture f;
    f.db.write("demo", [](db::Connection& c) {
        for (int i = 0; i < 3; ++i) c.prepare("INSERT INTO demo_rows(v) VALUES(?)").bind(1, "v" + std::to_string(i)).exec();
    });
    auto c = f.db.acquire("demo");
    {
        auto st = c->prepare("SELECT v FROM demo_rows WHERE v >= ? ORDER BY v");
        st.bind(1, "v1");
        ASSERT_TRUE(st.step());  // left in the middle of its rows
    }
    for (sqlite3_stmt* s = sqlite3_next_stmt(c->raw(), nullptr); s; s = sqlite3_next_stmt(c->raw(), s))
        EXPECT_FALSE(sqlite3_stmt_busy(s)) << sqlite3_sql(s);
    EXPECT_FALSE(c->inTransaction());
    auto again = c->prepare("SELECT v FROM demo_rows WHERE v >= ? ORDER BY v");
    EXPECT_FALSE(again.step()) << "the earlier value stayed bound";  // NULL matches nothing
}

TEST(StatementCache, ItHoldsNoMoreThanItsCapacity) {
    WithCapacity f(4);
    auto c = f.db.acquire("core");
    for (int i = 0; i < 20; ++i) {
        auto st = c->prepare("SELECT " + std::to_string(i));
        ASSERT_TRUE(st.step());
        EXPECT_EQ(st.getInt(0), i);
    }
    EXPECT_EQ(c->cachedStatements(), 4u);
    EXPECT_LE(statementObjects(*c), 4);
}

TEST(StatementCache, ZeroTurnsItOff) {
    WithCapacity f(0);
    auto c = f.db.acquire("core");
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(c->prepare("SELECT 1").step());
    EXPECT_EQ(c->cachedStatements(), 0u);
    EXPECT_EQ(statementObjects(*c), 0);
}

TEST(StatementCache, ExecRunsEveryStatementOfAScriptAndReportsErrorsAsBefore) {
    Fixture f;
    f.db.write("demo", [](db::Connection& c) {
        c.exec("CREATE TABLE demo_a(x); CREATE TABLE demo_b(y);\n INSERT INTO demo_b VALUES(1);");
        c.exec("INSERT INTO demo_rows(v) VALUES('same')");
        try {
            c.exec("INSERT INTO demo_rows(v) VALUES('same')");
            FAIL() << "the duplicate was accepted";
        } catch (const db::ConstraintError& e) {
            EXPECT_NE(std::string(e.what()).find("UNIQUE"), std::string::npos) << e.what();
        }
        // The cached statement that failed runs again.
        c.exec("DELETE FROM demo_rows WHERE v = 'same'");
        c.exec("INSERT INTO demo_rows(v) VALUES('same')");
        c.exec("   ");
    });
    long long n = 0;
    f.db.read("demo", [&](db::Connection& c) {
        auto st = c.prepare("SELECT (SELECT COUNT(*) FROM demo_a), (SELECT COUNT(*) FROM demo_b), (SELECT COUNT(*) FROM demo_rows)");
        ASSERT_TRUE(st.step());
        n = st.getInt(0) * 100 + st.getInt(1) * 10 + st.getInt(2);
    });
    EXPECT_EQ(n, 11);
}

TEST(StatementCache, ACachedStatementFollowsASchemaChange) {
    Fixture f;
    auto c = f.db.acquire("demo");
    {
        auto st = c->prepare("SELECT * FROM demo_rows");
        EXPECT_EQ(st.columnCount(), 2);
    }
    f.db.write("demo", [](db::Connection& w) { w.exec("ALTER TABLE demo_rows ADD COLUMN extra TEXT"); });
    f.db.write("demo", [](db::Connection& w) { w.exec("INSERT INTO demo_rows(v) VALUES('x')"); });
    auto st = c->prepare("SELECT * FROM demo_rows");
    ASSERT_TRUE(st.step());
    EXPECT_EQ(st.columnCount(), 3);
}
