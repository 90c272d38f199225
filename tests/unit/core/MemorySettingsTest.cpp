// The settings that bound the box's memory (issue 15, target 3): SQLite's page cache per
// connection, the idle connections kept per owner, and the allocator's arenas and trim
// threshold; from the configuration file to the connection.
#include "auth/Passwords.h"
#include "server/BoxConfig.h"
#include "server/MemorySettings.h"
#include "store/CoreMigrations.h"
#include "store/Database.h"
#include "store/Migrations.h"

#include "TempDir.h"

#include <gtest/gtest.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <cstdlib>

#include <string>
#include <thread>
#include <vector>

using namespace klinikbox;
using namespace klinikbox::store;

namespace {

long long cacheSize(db::Connection& c) {
    long long v = 0;
    Database::asCore(c, [&] {
        auto st = c.prepare("PRAGMA cache_size");
        if (st.step()) v = st.getInt(0);
    });
    return v;
}

DatabaseOptions options(const std::string& path, int cacheKib, int idle) {
    DatabaseOptions o;
    o.path = path;
    o.cacheKib = cacheKib;
    o.idleConnections = idle;
    return o;
}

}  // namespace

TEST(MemorySettings, EveryConnectionGetsTheConfiguredPageCacheInKib) {
    kbtest::TempDir dir;
    Database db(options(dir.file("kb.db"), 256, 4));
    Migrations::apply(db, "core", coreMigrations());
    {
        auto core = db.acquire("core");
        EXPECT_EQ(cacheSize(*core), -256) << "a negative cache_size is KiB";
        // A plugin's connection too, although the plugin itself may not run PRAGMAs.
        auto plugin = db.acquire("booking");
        EXPECT_EQ(cacheSize(*plugin), -256);
    }
    Database other(options(dir.file("kb2.db"), 2048, 4));
    auto c = other.acquire("core");
    EXPECT_EQ(cacheSize(*c), -2048);
}

TEST(MemorySettings, OnlyTheConfiguredNumberOfIdleConnectionsIsKeptPerOwner) {
    kbtest::TempDir dir;
    Database db(options(dir.file("kb.db"), 512, 2));
    Migrations::apply(db, "core", coreMigrations());
    // Three connections at once; each is marked (its cache size, a per-connection setting)
    // before it goes back to the pool.
    auto mark = [](PooledConnection& p) { Database::asCore(*p, [&] { p->exec("PRAGMA cache_size=-77"); }); };
    {
        auto a = db.acquire("core");
        auto b = db.acquire("core");
        auto c = db.acquire("core");
        mark(a);
        mark(b);
        mark(c);
    }
    auto a = db.acquire("core");
    auto b = db.acquire("core");
    auto c = db.acquire("core");
    const int reused = (cacheSize(*a) == -77) + (cacheSize(*b) == -77) + (cacheSize(*c) == -77);
    EXPECT_EQ(reused, 2) << "two were kept idle, the third was closed and a new one opened";
    // Owners have pools of their own.
    auto plugin = db.acquire("booking");
    EXPECT_EQ(cacheSize(*plugin), -512);
}

TEST(MemorySettings, TheConfigurationFileSetsThemWithDefaults) {
    const auto d = server::parseBoxConfig("box:\n  data_dir: /tmp/x\n", "k.yaml", "/tmp");
    EXPECT_EQ(d.dbCacheKib, 128);
    EXPECT_EQ(d.dbIdleConnections, 4);
    EXPECT_EQ(d.memory.mallocArenas, 2);
    EXPECT_EQ(d.memory.trimThresholdKib, 1024);
    EXPECT_EQ(d.memory.mmapThresholdKib, 1024);
    const auto b = server::parseBoxConfig(
        "box:\n  data_dir: /tmp/x\ndatabase:\n  cache_kib: 256\n  idle_connections: 1\n"
        "memory:\n  malloc_arenas: 0\n  trim_threshold_kib: 256\n  mmap_threshold_kib: 0\n  password_hashes_at_once: 3\n",
        "k.yaml", "/tmp");
    EXPECT_EQ(b.dbCacheKib, 256);
    EXPECT_EQ(b.dbIdleConnections, 1);
    EXPECT_EQ(b.memory.mallocArenas, 0);
    EXPECT_EQ(b.memory.trimThresholdKib, 256);
    EXPECT_EQ(b.memory.mmapThresholdKib, 0);
    EXPECT_EQ(b.memory.passwordHashesAtOnce, 3);
    EXPECT_EQ(d.memory.passwordHashesAtOnce, 2);
}

TEST(MemorySettings, OutOfRangeValuesAreRefusedWithTheirName) {
    for (const std::string bad : {"database:\n  cache_kib: 32\n", "database:\n  idle_connections: 0\n",
                                  "memory:\n  malloc_arenas: 65\n", "memory:\n  trim_threshold_kib: -1\n", "memory:\n  mmap_threshold_kib: 32769\n",
                                  "memory:\n  arenas: 2\n"}) {
        try {
            (void)server::parseBoxConfig("box:\n  data_dir: /tmp/x\n" + bad, "k.yaml", "/tmp");
            ADD_FAILURE() << "accepted: " << bad;
        } catch (const server::ConfigInvalid& e) {
            ASSERT_EQ(e.errors.size(), 1u) << bad;
            const auto key = bad.substr(0, bad.find(':'));
            EXPECT_NE(e.errors.front().find(key), std::string::npos) << e.errors.front();
        }
    }
}

TEST(MemorySettings, TheCLibraryAcceptsTheDefaultsAndTheExtremes) {
#if defined(__SANITIZE_ADDRESS__)
    // AddressSanitizer replaces malloc, and its mallopt accepts nothing; a box built with it
    // logs that its memory settings were refused and runs on.
    GTEST_SKIP() << "mallopt is AddressSanitizer's here, not the C library's";
#endif
    EXPECT_TRUE(server::applyMemorySettings(server::MemorySettings{}));
    EXPECT_TRUE(server::applyMemorySettings(server::MemorySettings{.mallocArenas = 1, .trimThresholdKib = 64, .mmapThresholdKib = 32768, .passwordHashesAtOnce = 1}));
    // Leave the process as a box would run it.
    EXPECT_TRUE(server::applyMemorySettings(server::MemorySettings{}));
}

// A block under the mmap threshold comes from the heap; one over it is mapped on its own.
TEST(MemorySettings, BlocksUnderTheMmapThresholdComeFromTheHeap) {
#if defined(__SANITIZE_ADDRESS__) || !defined(__GLIBC__)
    GTEST_SKIP() << "glibc's allocator only";
#else
    // The threshold decides only when the heap has no free block large enough, so the heap's
    // free top is given back first.
    const auto mapped = [](std::size_t bytes) {
        malloc_trim(0);
        const auto before = mallinfo2().hblks;
        void* volatile p = std::malloc(bytes);
        const auto during = mallinfo2().hblks;
        std::free(p);
        return during > before;
    };
    ASSERT_TRUE(server::applyMemorySettings(server::MemorySettings{}));
    EXPECT_FALSE(mapped(512 * 1024)) << "a day view's text (about 400 KiB) should not be mapped";
    EXPECT_TRUE(mapped(2 * 1024 * 1024));
    server::MemorySettings small;
    small.mmapThresholdKib = 128;
    ASSERT_TRUE(server::applyMemorySettings(small));
    EXPECT_TRUE(mapped(512 * 1024));
    ASSERT_TRUE(server::applyMemorySettings(server::MemorySettings{}));
#endif
}

TEST(MemorySettings, PasswordHashesRunNoMoreThanTheConfiguredNumberAtOnce) {
    // Each derivation holds 128·r·N bytes: with many logins at once they would add up.
    const auth::ScryptParams small{13, 8, 1};  // 8 MiB each, so the test stays quick
    const auto stored = auth::hashPassword("rätt lösenord 123", small);
    for (const int limit : {1, 3}) {
        auth::setPasswordHashesAtOnce(limit);
        std::vector<std::thread> logins;
        std::vector<int> ok(6, 0);
        for (int i = 0; i < 6; ++i)
            logins.emplace_back([&, i] { ok[i] = auth::verifyPassword("rätt lösenord 123", stored) ? 1 : 0; });
        for (auto& t : logins) t.join();
        for (int i = 0; i < 6; ++i) EXPECT_EQ(ok[i], 1) << "every login is answered, in turn";
        EXPECT_GE(auth::passwordHashesPeak(), 1);
        EXPECT_LE(auth::passwordHashesPeak(), limit);
    }
    auth::setPasswordHashesAtOnce(server::MemorySettings{}.passwordHashesAtOnce);
}
