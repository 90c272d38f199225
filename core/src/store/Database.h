// The box's one SQLite database: connection pools per owner ("core" or a plugin id),
// pragmas, transactions and the authorizer that keeps each plugin inside its own tables.
#pragma once

#include "store/GroupCommit.h"
#include "store/OwnerGuard.h"

#include <klinikbox/Db.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace klinikbox::store {

struct DatabaseOptions {
    std::string path;
    bool synchronousFull = true;  // FULL survives power loss; NORMAL only process crashes
    int busyTimeoutMs = 5000;
    // Page cache per connection (PRAGMA cache_size = -cacheKib); database.cache_kib.
    int cacheKib = 128;
    // Idle connections kept per owner; more are closed when returned. database.idle_connections.
    int idleConnections = 4;
    // Prepared statements kept per connection for reuse; database.statement_cache (0: none).
    int statementCache = 32;
};

class Database;

// A connection borrowed from the pool; returned on destruction.
class PooledConnection {
public:
    PooledConnection(Database& db, std::string owner, std::unique_ptr<db::Connection> conn,
                     std::unique_ptr<OwnerGuard> guard);
    ~PooledConnection();
    PooledConnection(const PooledConnection&) = delete;
    PooledConnection& operator=(const PooledConnection&) = delete;
    db::Connection& operator*() { return *conn_; }
    db::Connection* operator->() { return conn_.get(); }

private:
    Database& db_;
    std::string owner_;
    std::unique_ptr<db::Connection> conn_;
    std::unique_ptr<OwnerGuard> guard_;
};

class Database {
public:
    explicit Database(DatabaseOptions options);
    ~Database();

    [[nodiscard]] const DatabaseOptions& options() const { return options_; }

    // Borrows a connection for `owner`. Plugin connections are confined to tables named
    // "<owner>_..." by an SQLite authorizer.
    [[nodiscard]] PooledConnection acquire(const std::string& owner);

    // Runs fn in a write transaction confined to `owner`'s tables and returns once it is
    // durable. Concurrent writes share one transaction and one fsync (group commit, see
    // store/GroupCommit.h): fn runs inside its own savepoint, so when fn throws only its
    // changes are rolled back and its exception is rethrown; when the batch's COMMIT fails
    // every write of the batch throws that error and nothing of the batch remains. fn may run
    // on another thread (the batch's leader) while the calling thread waits for it; it runs
    // with the caller's core privilege depth. A write inside fn throws db::Error at once;
    // fn may not BEGIN, COMMIT or ROLLBACK (the authorizer refuses it).
    void write(const std::string& owner, const std::function<void(db::Connection&)>& fn);
    // A read transaction (one snapshot).
    void read(const std::string& owner, const std::function<void(db::Connection&)>& fn);

    // Runs fn with core privileges on a connection that belongs to a plugin (used by the
    // outbox and audit when a plugin writes them inside its own transaction).
    static void asCore(db::Connection& conn, const std::function<void()>& fn);
    // The running thread's asCore depth, and a scope that runs with another thread's depth:
    // the writer runs each write's callback with its caller's depth, whichever thread runs it.
    [[nodiscard]] static int coreDepth();
    class CoreDepthAs {
    public:
        explicit CoreDepthAs(int depth);
        ~CoreDepthAs();
        CoreDepthAs(const CoreDepthAs&) = delete;
        CoreDepthAs& operator=(const CoreDepthAs&) = delete;

    private:
        int saved_;
    };

    // True after a write failed because the disk is full (SQLITE_FULL) or the storage reported
    // an I/O error, until a write commits with kRoomBytes free in the database's directory.
    // /readyz reports it.
    [[nodiscard]] bool storageFailing() const { return storageFailing_.load(); }
    // SQLITE_FULL or SQLITE_IOERR (any extended code): the storage, not the request, failed.
    [[nodiscard]] static bool isStorageError(int sqliteCode);

    // Batches and requests the writer has run (tests, diagnostics).
    [[nodiscard]] GroupCommitStats writeStats() const { return writer_.stats(); }
    // Writes waiting for a batch right now (tests that need several writes queued).
    [[nodiscard]] std::size_t queuedWrites() const { return writer_.queued(); }

private:
    static constexpr unsigned long long kRoomBytes = 8ull << 20;
    [[nodiscard]] bool hasRoom() const;
    std::atomic<bool> storageFailing_{false};
    friend class PooledConnection;
    void release(const std::string& owner, std::unique_ptr<db::Connection> conn,
                 std::unique_ptr<OwnerGuard> guard);
    std::unique_ptr<db::Connection> open(OwnerGuard* guard);

    DatabaseOptions options_;
    // The process's single writer: its writes queue there instead of in SQLite's busy
    // handler (which sleeps and gives long tail latencies) and are committed in batches.
    GroupCommit writer_{[this](OwnerGuard* guard) { return open(guard); }};
    std::mutex mu_;
    struct Idle {
        std::unique_ptr<db::Connection> conn;
        std::unique_ptr<OwnerGuard> guard;
    };
    std::map<std::string, std::vector<Idle>> idle_;
};

}  // namespace klinikbox::store
