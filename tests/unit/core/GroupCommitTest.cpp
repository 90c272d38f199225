// Group commit (store/GroupCommit.h): concurrent writes share one transaction, each in its
// own savepoint. Each test that needs a batch queues its writes behind a first write that
// holds the writer until all of them wait (Database::queuedWrites), so they run as one batch.
#include "store/Database.h"

#include "events/QueuedTime.h"

#include "DbCount.h"
#include "TempDir.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace klinikbox;
using namespace klinikbox::store;

namespace {

void createTables(Database& db) {
    db.write("core", [](db::Connection& c) {
        c.exec(
            "CREATE TABLE core_rows(id INTEGER PRIMARY KEY, who TEXT NOT NULL UNIQUE);"
            "CREATE TABLE core_counter(n INTEGER NOT NULL);"
            "INSERT INTO core_counter VALUES(0);"
            "CREATE TABLE alpha_rows(who TEXT NOT NULL);"
            "CREATE TABLE beta_rows(who TEXT NOT NULL);"
            "CREATE TABLE core_parent(id INTEGER PRIMARY KEY);"
            "CREATE TABLE core_child(id INTEGER PRIMARY KEY, parent INTEGER NOT NULL"
            " REFERENCES core_parent(id) DEFERRABLE INITIALLY DEFERRED);");
    });
}

struct GroupCommitFixture {
    kbtest::TempDir dir;
    Database db{DatabaseOptions{dir.file("kb.db"), true, 5000}};
    GroupCommitFixture() { createTables(db); }
};

long long count(Database& db, const std::string& sql) { return kbtest::countRows(db, sql); }

void insertRow(db::Connection& c, const std::string& table, const std::string& who) {
    c.prepare("INSERT INTO " + table + "(who) VALUES(?)").bind(1, who).exec();
}

// Runs a write (the argument) inside whatever its caller sets up on its own thread.
using Around = std::function<void(const std::function<void()>&)>;

// One write of a batch: its owner, its callback, what its thread does around the write, and
// what it threw.
struct Job {
    Job(std::string o, std::function<void(db::Connection&)> f, Around a = nullptr)
        : owner(std::move(o)), fn(std::move(f)), around(std::move(a)) {}
    std::string owner;
    std::function<void(db::Connection&)> fn;
    Around around;
    std::exception_ptr error;
};

// Calls `write` inside `around` when there is one.
void callAround(const Around& around, const std::function<void()>& write) {
    if (around) around(write);
    else write();
}

// Runs `first` and then all `jobs` as one batch: `first` holds the writer until every job
// waits for it. Returns first's error (or null).
std::exception_ptr runBatch(Database& db, const std::string& firstOwner,
                            const std::function<void(db::Connection&)>& first, std::vector<Job>& jobs,
                            const Around& firstAround = nullptr) {
    std::mutex mu;
    std::condition_variable cv;
    bool inside = false, go = false;
    std::exception_ptr firstError;
    std::thread leader([&] {
        try {
            callAround(firstAround, [&] {
                db.write(firstOwner, [&](db::Connection& c) {
                    {
                        std::unique_lock lk(mu);
                        inside = true;
                        cv.notify_all();
                        cv.wait(lk, [&] { return go; });
                    }
                    first(c);
                });
            });
        } catch (...) {
            firstError = std::current_exception();
        }
    });
    {
        std::unique_lock lk(mu);
        cv.wait(lk, [&] { return inside; });
    }
    std::vector<std::thread> threads;
    for (auto& j : jobs)
        threads.emplace_back([&db, &j] {
            try {
                callAround(j.around, [&] { db.write(j.owner, j.fn); });
            } catch (...) {
                j.error = std::current_exception();
            }
        });
    while (db.queuedWrites() < jobs.size()) std::this_thread::yield();
    {
        std::lock_guard lk(mu);
        go = true;
    }
    cv.notify_all();
    leader.join();
    for (auto& t : threads) t.join();
    return firstError;
}

// The SQLite result code of the error a job threw (0 when it threw nothing or no db::Error).
int codeOf(const std::exception_ptr& e) {
    if (!e) return 0;
    try {
        std::rethrow_exception(e);
    } catch (const db::Error& err) {
        return err.code();
    } catch (...) {
        return -1;
    }
}

std::string messageOf(const std::exception_ptr& e) {
    if (!e) return "";
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& err) {
        return err.what();
    }
}

}  // namespace

TEST(GroupCommit, ALoneWriteIsABatchOfItsOwn) {
    GroupCommitFixture f;
    const auto before = f.db.writeStats();
    f.db.write("core", [](db::Connection& c) { insertRow(c, "core_rows", "alone"); });
    const auto after = f.db.writeStats();
    EXPECT_EQ(after.batches - before.batches, 1u);
    EXPECT_EQ(after.requests - before.requests, 1u);
    EXPECT_EQ(count(f.db, "SELECT count(*) FROM core_rows WHERE who='alone'"), 1);
}

TEST(GroupCommit, AFailingWriteInABatchRollsBackOnlyItselfAndTheOthersCommit) {
    GroupCommitFixture f;
    std::vector<Job> jobs;
    for (int i = 1; i <= 5; ++i) {
        const std::string who = "r" + std::to_string(i);
        jobs.emplace_back(Job{"core", [who, i](db::Connection& c) {
                            insertRow(c, "core_rows", who);
                            if (i == 3) throw std::runtime_error("r3 refuses");
                            // A UNIQUE violation after a first insert: the statement fails,
                            // the whole request must go.
                            if (i == 4) insertRow(c, "core_rows", "first");
                        }});
    }
    const auto before = f.db.writeStats();
    auto firstError = runBatch(f.db, "core", [](db::Connection& c) { insertRow(c, "core_rows", "first"); }, jobs);
    const auto after = f.db.writeStats();

    EXPECT_FALSE(firstError);
    EXPECT_EQ(after.batches - before.batches, 1u) << "all six writes ran as one batch";
    EXPECT_EQ(after.requests - before.requests, 6u);
    EXPECT_FALSE(jobs[0].error);
    EXPECT_FALSE(jobs[1].error);
    EXPECT_EQ(messageOf(jobs[2].error), "r3 refuses");
    ASSERT_TRUE(jobs[3].error);
    EXPECT_THROW(std::rethrow_exception(jobs[3].error), db::ConstraintError);
    EXPECT_FALSE(jobs[4].error);
    EXPECT_EQ(count(f.db, "SELECT count(*) FROM core_rows"), 4);
    EXPECT_EQ(count(f.db, "SELECT count(*) FROM core_rows WHERE who IN ('first','r1','r2','r5')"), 4);
}

TEST(GroupCommit, AFailedCommitFailsEveryWriteOfTheBatchAndNothingOfItRemains) {
    GroupCommitFixture f;
    std::vector<Job> jobs;
    jobs.emplace_back(Job{"core", [](db::Connection& c) { insertRow(c, "core_rows", "a"); }});
    // A deferred foreign key is checked only by COMMIT: the batch's COMMIT fails.
    jobs.emplace_back(Job{"core", [](db::Connection& c) { c.exec("INSERT INTO core_child VALUES(1, 42)"); }});
    jobs.emplace_back(Job{"core", [](db::Connection& c) { insertRow(c, "core_rows", "b"); }});
    const auto before = f.db.writeStats();
    auto firstError = runBatch(f.db, "core", [](db::Connection& c) { insertRow(c, "core_rows", "first"); }, jobs);
    const auto after = f.db.writeStats();

    EXPECT_EQ(after.batches - before.batches, 1u);
    EXPECT_EQ(codeOf(firstError) & 0xff, SQLITE_CONSTRAINT) << messageOf(firstError);
    for (const auto& j : jobs) EXPECT_EQ(codeOf(j.error) & 0xff, SQLITE_CONSTRAINT) << messageOf(j.error);
    EXPECT_EQ(count(f.db, "SELECT count(*) FROM core_rows"), 0);
    EXPECT_EQ(count(f.db, "SELECT count(*) FROM core_child"), 0);
    EXPECT_FALSE(f.db.storageFailing()) << "a constraint is not a storage failure";

    // The writer is usable again.
    f.db.write("core", [](db::Connection& c) { insertRow(c, "core_rows", "after"); });
    EXPECT_EQ(count(f.db, "SELECT count(*) FROM core_rows"), 1);
}

TEST(GroupCommit, ManyThreadsWritingAtOnceAreAllCommittedAndCounted) {
    constexpr int kThreads = 8, kWrites = 40;
    GroupCommitFixture f;
    const auto before = f.db.writeStats();
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&f, t] {
            for (int i = 0; i < kWrites; ++i)
                f.db.write("core", [&](db::Connection& c) {
                    insertRow(c, "core_rows", std::to_string(t) + "/" + std::to_string(i));
                    c.exec("UPDATE core_counter SET n = n + 1");
                });
        });
    for (auto& t : threads) t.join();
    const auto after = f.db.writeStats();
    EXPECT_EQ(after.requests - before.requests, static_cast<std::uint64_t>(kThreads * kWrites));
    EXPECT_LE(after.batches - before.batches, after.requests - before.requests);
    EXPECT_LE(after.largestBatch, GroupCommit::kMaxBatch);
    // What a new connection to the file sees.
    Database reopened{DatabaseOptions{f.dir.file("kb.db"), true, 5000}};
    EXPECT_EQ(count(reopened, "SELECT count(*) FROM core_rows"), kThreads * kWrites);
    EXPECT_EQ(count(reopened, "SELECT n FROM core_counter"), kThreads * kWrites);
}

TEST(GroupCommit, EachWriteOfABatchIsConfinedToItsOwnersTables) {
    GroupCommitFixture f;
    std::vector<Job> jobs;
    jobs.emplace_back(Job{"alpha", [](db::Connection& c) { insertRow(c, "beta_rows", "alpha in beta"); }});
    jobs.emplace_back(Job{"beta", [](db::Connection& c) { insertRow(c, "beta_rows", "beta"); }});
    jobs.emplace_back(Job{"alpha", [](db::Connection& c) { (void)c.prepare("SELECT count(*) FROM core_rows").step(); }});
    jobs.emplace_back(Job{"core", [](db::Connection& c) { insertRow(c, "core_rows", "core"); }});
    jobs.emplace_back(Job{"beta", [](db::Connection& c) { insertRow(c, "alpha_rows", "beta in alpha"); }});
    jobs.emplace_back(Job{"alpha", [](db::Connection& c) { insertRow(c, "alpha_rows", "alpha"); }});
    const auto before = f.db.writeStats();
    auto firstError = runBatch(f.db, "beta", [](db::Connection& c) { insertRow(c, "core_rows", "beta in core"); }, jobs);
    const auto after = f.db.writeStats();

    EXPECT_EQ(after.batches - before.batches, 1u);
    ASSERT_TRUE(firstError);
    EXPECT_THROW(std::rethrow_exception(firstError), db::AccessDenied);
    for (int i : {0, 2, 4}) {
        ASSERT_TRUE(jobs[i].error) << i;
        EXPECT_THROW(std::rethrow_exception(jobs[i].error), db::AccessDenied) << i;
    }
    for (int i : {1, 3, 5}) EXPECT_FALSE(jobs[i].error) << i << ": " << messageOf(jobs[i].error);
    EXPECT_EQ(count(f.db, "SELECT count(*) FROM beta_rows"), 1);
    EXPECT_EQ(count(f.db, "SELECT count(*) FROM alpha_rows"), 1);
    EXPECT_EQ(count(f.db, "SELECT count(*) FROM core_rows"), 1);
    EXPECT_EQ(count(f.db, "SELECT count(*) FROM beta_rows WHERE who='beta'"), 1);
    EXPECT_EQ(count(f.db, "SELECT count(*) FROM alpha_rows WHERE who='alpha'"), 1);
}

// The leader runs the queued writes' callbacks on its own thread; each still runs with its
// caller's core privilege (Database::asCore), not the leader's.
TEST(GroupCommit, AQueuedWriteRunsWithItsCallersCorePrivilegeAndNotTheLeaders) {
    GroupCommitFixture f;
    auto reader = f.db.acquire("alpha");
    const Around asCore = [&](const std::function<void()>& write) { Database::asCore(*reader, write); };
    std::vector<Job> jobs;
    jobs.emplace_back(Job{"alpha", [](db::Connection& c) { insertRow(c, "core_rows", "alpha as core"); }, asCore});
    jobs.emplace_back(Job{"alpha", [](db::Connection& c) { insertRow(c, "core_rows", "alpha on its own"); }});
    const auto before = f.db.writeStats();
    auto firstError = runBatch(f.db, "alpha", [](db::Connection& c) { insertRow(c, "core_rows", "leader as core"); }, jobs, asCore);
    const auto after = f.db.writeStats();

    EXPECT_EQ(after.batches - before.batches, 1u) << "the three writes ran as one batch";
    EXPECT_FALSE(firstError) << messageOf(firstError);
    EXPECT_FALSE(jobs[0].error) << messageOf(jobs[0].error);
    ASSERT_TRUE(jobs[1].error) << "the leader's core privilege must not pass to a write queued without it";
    EXPECT_THROW(std::rethrow_exception(jobs[1].error), db::AccessDenied);
    EXPECT_EQ(count(f.db, "SELECT count(*) FROM core_rows WHERE who IN ('alpha as core','leader as core')"), 2);
    EXPECT_EQ(count(f.db, "SELECT count(*) FROM core_rows WHERE who = 'alpha on its own'"), 0);
    EXPECT_EQ(Database::coreDepth(), 0);
}

// A synchronous hook's budget leaves out the time its thread queued for the writer
// (QueuedTime), not the time its own callback ran, even when the leader's thread ran it; the
// leader counts the queued writes' callbacks it ran as queued time of its own.
TEST(GroupCommit, AQueuedWritesOwnCallbackIsNotCountedAsQueuedButTheLeaderCountsItAsLoad) {
    using Clock = events::QueuedTime::Clock;
    GroupCommitFixture f;
    Clock::duration callback{}, wall{}, queued{}, leaderQueued{};
    const Around measured = [&](const std::function<void()>& write) {
        const auto q0 = events::QueuedTime::total();
        const auto t0 = Clock::now();
        write();
        wall = Clock::now() - t0;
        queued = events::QueuedTime::total() - q0;
    };
    std::vector<Job> jobs;
    jobs.emplace_back(Job{"core",
                          [&](db::Connection& c) {
                              // Work of its own, long enough to tell apart from the wait around it.
                              const auto t0 = Clock::now();
                              insertRow(c, "core_rows", "busy");
                              while (Clock::now() - t0 < std::chrono::milliseconds(30)) {
                              }
                              callback = Clock::now() - t0;
                          },
                          measured});
    const Around leader = [&](const std::function<void()>& write) {
        const auto q0 = events::QueuedTime::total();
        write();
        leaderQueued = events::QueuedTime::total() - q0;
    };
    auto firstError = runBatch(f.db, "core", [](db::Connection& c) { insertRow(c, "core_rows", "first"); }, jobs, leader);

    EXPECT_FALSE(firstError);
    ASSERT_FALSE(jobs[0].error) << messageOf(jobs[0].error);
    EXPECT_GE(callback, std::chrono::milliseconds(30));
    EXPECT_GT(queued.count(), 0) << "it waited for the leader";
    EXPECT_LE(queued + callback, wall) << "its own callback was counted as queued time";
    EXPECT_GE(leaderQueued, callback) << "the leader ran the queued callback as load";
}

TEST(GroupCommit, AWriteInsideAWriteOnTheSameThreadFailsAtOnce) {
    GroupCommitFixture f;
    int code = 0;
    EXPECT_THROW(f.db.write("core",
                            [&](db::Connection& c) {
                                insertRow(c, "core_rows", "outer");
                                try {
                                    f.db.write("core", [](db::Connection& inner) { insertRow(inner, "core_rows", "inner"); });
                                } catch (const db::Error& e) {
                                    code = e.code();
                                    throw;
                                }
                            }),
                 db::Error);
    EXPECT_EQ(code, SQLITE_MISUSE);
    EXPECT_EQ(count(f.db, "SELECT count(*) FROM core_rows"), 0);
    // The writer is free again.
    f.db.write("core", [](db::Connection& c) { insertRow(c, "core_rows", "next"); });
    EXPECT_EQ(count(f.db, "SELECT count(*) FROM core_rows"), 1);
}

TEST(GroupCommit, AWriteThatEndsOrBeginsTheTransactionItselfFailsAloneEvenWithCoreRights) {
    GroupCommitFixture f;
    std::vector<Job> jobs;
    const auto endsItself = [](const std::string& who, const std::string& sql) {
        return [who, sql](db::Connection& c) {
            insertRow(c, "core_rows", who);
            Database::asCore(c, [&] { c.exec(sql); });
        };
    };
    jobs.emplace_back(Job{"core", [](db::Connection& c) { insertRow(c, "core_rows", "keep1"); }});
    jobs.emplace_back(Job{"core", endsItself("commit", "COMMIT")});
    jobs.emplace_back(Job{"core", endsItself("rollback", "ROLLBACK")});
    jobs.emplace_back(Job{"core", endsItself("begin", "BEGIN")});
    jobs.emplace_back(Job{"core", endsItself("release", std::string("RELEASE ") + GroupCommit::kSavepoint)});
    jobs.emplace_back(Job{"core", endsItself("rollback to", std::string("ROLLBACK TO ") + GroupCommit::kSavepoint)});
    jobs.emplace_back(Job{"alpha", [](db::Connection& c) {
                        insertRow(c, "alpha_rows", "alpha commit");
                        c.exec("COMMIT");
                    }});
    // A callback's own savepoint is fine, even one it leaves open.
    jobs.emplace_back(Job{"core", [](db::Connection& c) {
                        c.exec("SAVEPOINT mine");
                        insertRow(c, "core_rows", "keep2");
                    }});
    jobs.emplace_back(Job{"core", [](db::Connection& c) { insertRow(c, "core_rows", "keep3"); }});
    const auto before = f.db.writeStats();
    auto firstError = runBatch(f.db, "core", [](db::Connection& c) { insertRow(c, "core_rows", "keep0"); }, jobs);
    const auto after = f.db.writeStats();

    EXPECT_EQ(after.batches - before.batches, 1u);
    EXPECT_FALSE(firstError);
    for (std::size_t i = 1; i <= 6; ++i) {
        ASSERT_TRUE(jobs[i].error) << i;
        EXPECT_THROW(std::rethrow_exception(jobs[i].error), db::AccessDenied) << i;
    }
    for (std::size_t i : {0u, 7u, 8u}) EXPECT_FALSE(jobs[i].error) << i << ": " << messageOf(jobs[i].error);
    EXPECT_EQ(count(f.db, "SELECT count(*) FROM core_rows"), 4);
    EXPECT_EQ(count(f.db, "SELECT count(*) FROM core_rows WHERE who LIKE 'keep%'"), 4);
    EXPECT_EQ(count(f.db, "SELECT count(*) FROM alpha_rows"), 0);
}

namespace {

// An SQLite VFS over the default one whose writes to a WAL file fail with SQLITE_IOERR_WRITE
// while `failWal` is set: a storage failure at the moment a batch commits.
struct FaultyVfs {
    static inline sqlite3_vfs* real = nullptr;
    static inline sqlite3_vfs vfs{};
    static inline sqlite3_io_methods methods{};
    static inline std::atomic<bool> failWal{false};
    static inline std::atomic<int> failedWrites{0};

    struct File {
        sqlite3_file base;
        bool wal;
        sqlite3_file* inner() { return reinterpret_cast<sqlite3_file*>(this + 1); }
    };
    static sqlite3_file* in(sqlite3_file* f) { return reinterpret_cast<File*>(f)->inner(); }

    static int open(sqlite3_vfs*, const char* name, sqlite3_file* f, int flags, int* outFlags) {
        auto* file = reinterpret_cast<File*>(f);
        file->base.pMethods = nullptr;
        file->wal = (flags & SQLITE_OPEN_WAL) != 0;
        const int rc = real->xOpen(real, name, file->inner(), flags, outFlags);
        if (rc == SQLITE_OK && file->inner()->pMethods) {
            methods.iVersion = file->inner()->pMethods->iVersion;
            file->base.pMethods = &methods;
        }
        return rc;
    }
    static int close(sqlite3_file* f) { return in(f)->pMethods->xClose(in(f)); }
    static int read(sqlite3_file* f, void* b, int n, sqlite3_int64 o) { return in(f)->pMethods->xRead(in(f), b, n, o); }
    static int write(sqlite3_file* f, const void* b, int n, sqlite3_int64 o) {
        if (reinterpret_cast<File*>(f)->wal && failWal) {
            ++failedWrites;
            return SQLITE_IOERR_WRITE;
        }
        return in(f)->pMethods->xWrite(in(f), b, n, o);
    }
    static int truncate(sqlite3_file* f, sqlite3_int64 s) { return in(f)->pMethods->xTruncate(in(f), s); }
    static int sync(sqlite3_file* f, int fl) { return in(f)->pMethods->xSync(in(f), fl); }
    static int fileSize(sqlite3_file* f, sqlite3_int64* s) { return in(f)->pMethods->xFileSize(in(f), s); }
    static int lock(sqlite3_file* f, int l) { return in(f)->pMethods->xLock(in(f), l); }
    static int unlock(sqlite3_file* f, int l) { return in(f)->pMethods->xUnlock(in(f), l); }
    static int reserved(sqlite3_file* f, int* r) { return in(f)->pMethods->xCheckReservedLock(in(f), r); }
    static int control(sqlite3_file* f, int op, void* a) { return in(f)->pMethods->xFileControl(in(f), op, a); }
    static int sectorSize(sqlite3_file* f) { return in(f)->pMethods->xSectorSize(in(f)); }
    static int device(sqlite3_file* f) { return in(f)->pMethods->xDeviceCharacteristics(in(f)); }
    static int shmMap(sqlite3_file* f, int p, int s, int e, void volatile** m) { return in(f)->pMethods->xShmMap(in(f), p, s, e, m); }
    static int shmLock(sqlite3_file* f, int o, int n, int fl) { return in(f)->pMethods->xShmLock(in(f), o, n, fl); }
    static void shmBarrier(sqlite3_file* f) { in(f)->pMethods->xShmBarrier(in(f)); }
    static int shmUnmap(sqlite3_file* f, int d) { return in(f)->pMethods->xShmUnmap(in(f), d); }
    static int fetch(sqlite3_file* f, sqlite3_int64 o, int n, void** p) { return in(f)->pMethods->xFetch(in(f), o, n, p); }
    static int unfetch(sqlite3_file* f, sqlite3_int64 o, void* p) { return in(f)->pMethods->xUnfetch(in(f), o, p); }

    // Makes this VFS the default for connections opened from now on.
    FaultyVfs() {
        real = sqlite3_vfs_find(nullptr);
        vfs = *real;
        vfs.zName = "kbtest-faulty";
        vfs.szOsFile = static_cast<int>(sizeof(File)) + real->szOsFile;
        vfs.xOpen = open;
        methods = sqlite3_io_methods{3,        close,    read,   write,      truncate,   sync,
                                     fileSize, lock,     unlock, reserved,   control,    sectorSize,
                                     device,   shmMap,   shmLock, shmBarrier, shmUnmap,  fetch,
                                     unfetch};
        sqlite3_vfs_register(&vfs, 1);
    }
    ~FaultyVfs() {
        sqlite3_vfs_unregister(&vfs);
        sqlite3_vfs_register(real, 1);
    }
};

}  // namespace

TEST(GroupCommit, AnIoErrorAtCommitFailsTheWholeBatchAsAStorageFailureAndTheWriterRecovers) {
    kbtest::TempDir dir;
    {
        FaultyVfs faulty;
        Database db{DatabaseOptions{dir.file("kb.db"), true, 5000}};
        createTables(db);
        std::vector<Job> jobs;
        for (int i = 1; i <= 3; ++i) {
            const std::string who = "r" + std::to_string(i);
            jobs.emplace_back(Job{"core", [who, i](db::Connection& c) {
                                insertRow(c, "core_rows", who);
                                // The last write of the batch breaks the disk: the COMMIT's WAL
                                // write fails.
                                if (i == 3) FaultyVfs::failWal = true;
                            }});
        }
        const auto before = db.writeStats();
        auto firstError = runBatch(db, "core", [](db::Connection& c) { insertRow(c, "core_rows", "first"); }, jobs);
        FaultyVfs::failWal = false;
        const auto after = db.writeStats();

        EXPECT_GT(FaultyVfs::failedWrites.load(), 0);
        EXPECT_EQ(after.batches - before.batches, 1u);
        EXPECT_EQ(codeOf(firstError) & 0xff, SQLITE_IOERR) << messageOf(firstError);
        for (const auto& j : jobs) EXPECT_EQ(codeOf(j.error) & 0xff, SQLITE_IOERR) << messageOf(j.error);
        EXPECT_TRUE(db.storageFailing());
        EXPECT_EQ(count(db, "SELECT count(*) FROM core_rows"), 0);

        db.write("core", [](db::Connection& c) { insertRow(c, "core_rows", "after"); });
        EXPECT_EQ(count(db, "SELECT count(*) FROM core_rows"), 1);
        EXPECT_FALSE(db.storageFailing()) << "a commit with room on the disk clears it";
    }
    // Every connection is closed: a new one recovers the WAL, and nothing of the failed batch
    // reappears.
    Database reopened{DatabaseOptions{dir.file("kb.db"), true, 5000}};
    EXPECT_EQ(count(reopened, "SELECT count(*) FROM core_rows"), 1);
    EXPECT_EQ(count(reopened, "SELECT count(*) FROM core_rows WHERE who='after'"), 1);
}
