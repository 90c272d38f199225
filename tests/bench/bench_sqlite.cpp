// The raw SQLite baseline for scripts/bench.sh: single-row INSERT transactions into a WAL
// database with the box's pragmas (synchronous FULL), from N threads, as fast as possible.
// Prints "inserts_per_second <n>".
#include <klinikbox/Db.h>

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: bench_sqlite DBFILE SECONDS [THREADS]\n");
        return 2;
    }
    const std::string path = argv[1];
    const int seconds = std::atoi(argv[2]);
    const int threads = argc > 3 ? std::atoi(argv[3]) : 2;
    {
        klinikbox::db::Connection c(path);
        c.exec("PRAGMA journal_mode=WAL; CREATE TABLE IF NOT EXISTS b(id INTEGER PRIMARY KEY, name TEXT, at TEXT)");
    }
    std::atomic<long> done{0}, busy{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) {
        ts.emplace_back([&] {
            klinikbox::db::Connection c(path);
            sqlite3_busy_timeout(c.raw(), 5000);
            c.exec("PRAGMA synchronous=FULL");
            while (!stop) {
                try {
                    c.exec("BEGIN IMMEDIATE");
                    auto st = c.prepare("INSERT INTO b(name, at) VALUES(?, datetime('now'))");
                    st.bind(1, "baseline").exec();
                    c.exec("COMMIT");
                    ++done;
                } catch (const klinikbox::db::Error& e) {
                    // SQLITE_BUSY past the timeout on a loaded machine: count it and go on.
                    if ((e.code() & 0xff) != SQLITE_BUSY) throw;
                    ++busy;
                    if (c.inTransaction()) c.exec("ROLLBACK");
                }
            }
        });
    }
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
    stop = true;
    for (auto& t : ts) t.join();
    std::printf("inserts_per_second %.0f busy_retries %ld\n", static_cast<double>(done) / seconds, busy.load());
    return 0;
}
