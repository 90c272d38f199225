#include "store/Database.h"


#include <sqlite3.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <filesystem>

#include <cstring>
#include <string_view>

namespace klinikbox::store {

namespace {

// > 0 while core code (transactions, outbox, audit) runs on this thread.
thread_local int tlCoreDepth = 0;

bool ownsTable(const OwnerGuard& g, const char* table) {
    if (!table) return true;
    std::string_view t(table);
    // SQLite's own bookkeeping tables are touched by CREATE/DROP and AUTOINCREMENT.
    if (t == "sqlite_master" || t == "sqlite_schema" || t == "sqlite_sequence" ||
        t == "sqlite_temp_master")
        return true;
    return t.size() > g.owner.size() + 1 && t.compare(0, g.owner.size(), g.owner) == 0 &&
           t[g.owner.size()] == '_';
}

// Keeps a plugin's SQL inside its own tables. See sqlite3_set_authorizer.
int authorizer(void* user, int action, const char* a1, const char* a2, const char* /*dbName*/,
               const char* /*trigger*/) {
    auto* g = static_cast<OwnerGuard*>(user);
    // Inside a group-commit batch the transaction and the request's savepoint belong to the
    // writer, not to the callback, even when it runs with core rights.
    if (g->inRequest) {
        if (action == SQLITE_TRANSACTION) return SQLITE_DENY;
        if (action == SQLITE_SAVEPOINT && a2 && sqlite3_stricmp(a2, GroupCommit::kSavepoint) == 0)
            return SQLITE_DENY;
    }
    if (g->core || tlCoreDepth > 0) return SQLITE_OK;
    switch (action) {
        case SQLITE_SELECT:
        case SQLITE_RECURSIVE:
        case SQLITE_FUNCTION:
            return SQLITE_OK;
        case SQLITE_READ:
        case SQLITE_INSERT:
        case SQLITE_UPDATE:
        case SQLITE_DELETE:
        case SQLITE_CREATE_TABLE:
        case SQLITE_DROP_TABLE:
        case SQLITE_CREATE_VIEW:
        case SQLITE_DROP_VIEW:
        case SQLITE_ANALYZE:
            return ownsTable(*g, a1) ? SQLITE_OK : SQLITE_DENY;
        case SQLITE_CREATE_INDEX:
        case SQLITE_DROP_INDEX:
            // UNIQUE and PRIMARY KEY constraints create indexes SQLite names itself.
            return (ownsTable(*g, a1) || std::string_view(a1 ? a1 : "").rfind("sqlite_autoindex_", 0) == 0) &&
                           ownsTable(*g, a2)
                       ? SQLITE_OK
                       : SQLITE_DENY;
        case SQLITE_REINDEX:
            // CREATE INDEX asks for this on the new index (a1 is the index name).
            return ownsTable(*g, a1) ? SQLITE_OK : SQLITE_DENY;
        case SQLITE_CREATE_TRIGGER:
        case SQLITE_DROP_TRIGGER:
            return ownsTable(*g, a1) && ownsTable(*g, a2) ? SQLITE_OK : SQLITE_DENY;
        case SQLITE_ALTER_TABLE:
            return ownsTable(*g, a2) ? SQLITE_OK : SQLITE_DENY;
        default:
            // PRAGMA, ATTACH, DETACH, transactions, savepoints, temp objects, virtual
            // tables: the core manages these, a plugin never needs them.
            return SQLITE_DENY;
    }
}

// The scope of a prepared statement: everything authorizer() decides by. A statement is
// reused only in the scope it was prepared in (db::Connection::enableStatementCache), so
// this must change whenever authorizer() would answer differently.
void statementScope(const void* user, std::string& out) {
    const auto* g = static_cast<const OwnerGuard*>(user);
    out += g->owner;
    out += (g->core || tlCoreDepth > 0) ? "\x1f" "core" : "\x1f" "own";
    if (g->inRequest) out += "\x1f" "request";
}

}  // namespace

PooledConnection::PooledConnection(Database& db, std::string owner,
                                   std::unique_ptr<db::Connection> conn,
                                   std::unique_ptr<OwnerGuard> guard)
    : db_(db), owner_(std::move(owner)), conn_(std::move(conn)), guard_(std::move(guard)) {}

PooledConnection::~PooledConnection() {
    if (conn_) db_.release(owner_, std::move(conn_), std::move(guard_));
}

Database::Database(DatabaseOptions options) : options_(std::move(options)) {
    // Switch to WAL once; it is persistent in the file.
    OwnerGuard g{"core", true};
    auto c = open(&g);
    // A new database returns freed pages with PRAGMA incremental_vacuum (maintenance);
    // auto_vacuum can only be chosen before the first table exists.
    bool fresh = false;
    {
        auto pages = c->prepare("PRAGMA page_count");
        fresh = pages.step() && pages.getInt(0) == 0;
    }  // the statement must be finished before the journal mode can change
    if (fresh) c->exec("PRAGMA auto_vacuum=INCREMENTAL");
    c->exec("PRAGMA journal_mode=WAL");
}

Database::~Database() = default;

std::unique_ptr<db::Connection> Database::open(OwnerGuard* guard) {
    auto c = std::make_unique<db::Connection>(options_.path);
    sqlite3_busy_timeout(c->raw(), options_.busyTimeoutMs);
    c->exec("PRAGMA foreign_keys=ON");
    c->exec(options_.synchronousFull ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    c->exec("PRAGMA cache_size=-" + std::to_string(std::max(options_.cacheKib, 1)));
    sqlite3_set_authorizer(c->raw(), authorizer, guard);
    c->enableStatementCache(static_cast<std::size_t>(std::max(options_.statementCache, 0)), statementScope, guard);
    return c;
}

PooledConnection Database::acquire(const std::string& owner) {
    {
        std::lock_guard lock(mu_);
        auto& v = idle_[owner];
        if (!v.empty()) {
            Idle i = std::move(v.back());
            v.pop_back();
            return PooledConnection(*this, owner, std::move(i.conn), std::move(i.guard));
        }
    }
    auto guard = std::make_unique<OwnerGuard>(OwnerGuard{owner, owner == "core"});
    auto conn = open(guard.get());
    return PooledConnection(*this, owner, std::move(conn), std::move(guard));
}

void Database::release(const std::string& owner, std::unique_ptr<db::Connection> conn,
                       std::unique_ptr<OwnerGuard> guard) {
    if (conn->inTransaction()) {
        // Never hand out a connection with an open transaction.
        asCore(*conn, [&] { conn->exec("ROLLBACK"); });
    }
    std::lock_guard lock(mu_);
    auto& v = idle_[owner];
    if (v.size() < static_cast<std::size_t>(std::max(options_.idleConnections, 1))) v.push_back(Idle{std::move(conn), std::move(guard)});
}

void Database::asCore(db::Connection& /*conn*/, const std::function<void()>& fn) {
    // Connections are used by one thread at a time, so core privilege is a property of the
    // running thread: the authorizer lets everything through while this scope is open.
    struct Scope {
        Scope() { ++tlCoreDepth; }
        ~Scope() { --tlCoreDepth; }
    } scope;
    fn();
}

int Database::coreDepth() { return tlCoreDepth; }

Database::CoreDepthAs::CoreDepthAs(int depth) : saved_(tlCoreDepth) { tlCoreDepth = depth; }

Database::CoreDepthAs::~CoreDepthAs() { tlCoreDepth = saved_; }

void Database::write(const std::string& owner, const std::function<void(db::Connection&)>& fn) {
    try {
        writer_.write(owner, fn);
    } catch (const db::Error& e) {
        if (isStorageError(e.code())) storageFailing_ = true;
        throw;
    }
    // A small write may still fit into space SQLite had already allocated, so one success does
    // not mean the disk has room again: clear only when the directory has free space.
    if (storageFailing_ && hasRoom()) storageFailing_ = false;
}

bool Database::hasRoom() const {
    auto dir = std::filesystem::path(options_.path).parent_path();
    if (dir.empty()) dir = ".";
    struct statvfs st {};
    if (::statvfs(dir.c_str(), &st) != 0) return false;
    return static_cast<unsigned long long>(st.f_bavail) * st.f_frsize >= kRoomBytes;
}

bool Database::isStorageError(int sqliteCode) {
    return (sqliteCode & 0xff) == SQLITE_FULL || (sqliteCode & 0xff) == SQLITE_IOERR;
}

void Database::read(const std::string& owner, const std::function<void(db::Connection&)>& fn) {
    auto c = acquire(owner);
    asCore(*c, [&] { c->exec("BEGIN"); });
    try {
        fn(*c);
        asCore(*c, [&] { c->exec("COMMIT"); });
    } catch (...) {
        if (c->inTransaction()) asCore(*c, [&] { c->exec("ROLLBACK"); });
        throw;
    }
}

}  // namespace klinikbox::store
