#include <klinikbox/Db.h>

#include <sqlite3.h>

#include <string>
#include <unordered_map>

namespace klinikbox::db {

// Prepared statements of one connection kept for reuse, each under the scope it was prepared in.
struct Connection::StatementCache {
    std::size_t capacity = 0;
    StatementScope scopeOf = nullptr;
    const void* user = nullptr;
    struct Idle {
        sqlite3_stmt* stmt;
        std::uint64_t lastUse;
    };
    std::unordered_map<std::string, Idle> idle;             // by scope + SQL text
    std::unordered_map<sqlite3_stmt*, std::string> inUse;  // handed out: their keys
    std::uint64_t clock = 0;
};

namespace {
// Only whitespace and semicolons after the first statement: the text is one statement.
bool onlyOneStatement(std::string_view tail) {
    return tail.find_first_not_of("; \n\t\r") == std::string_view::npos;
}

// The exception class for an SQLite error code.
[[noreturn]] void throwAs(int rc, const std::string& msg) {
    if ((rc & 0xff) == SQLITE_CONSTRAINT) throw ConstraintError(rc, msg);
    if ((rc & 0xff) == SQLITE_AUTH) throw AccessDenied(rc, msg);
    throw Error(rc, msg);
}
}  // namespace

Connection::Connection(const std::string& path, bool readOnly) {
    const int flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                      SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
        sqlite3_close_v2(db_);
        db_ = nullptr;
        throw Error(rc, "cannot open database " + path + ": " + msg);
    }
    sqlite3_extended_result_codes(db_, 1);
}

Connection::~Connection() {
    if (cache_)
        for (auto& [key, idle] : cache_->idle) sqlite3_finalize(idle.stmt);
    if (db_) sqlite3_close_v2(db_);
}

void Connection::enableStatementCache(std::size_t capacity, StatementScope scopeOf, const void* user) {
    if (cache_) {
        for (auto& [key, idle] : cache_->idle) sqlite3_finalize(idle.stmt);
        cache_->idle.clear();
    }
    if (capacity == 0 || !scopeOf) {
        if (cache_) cache_->capacity = 0;  // statements still handed out are finalized when given back
        return;
    }
    if (!cache_) cache_ = std::make_unique<StatementCache>();
    cache_->capacity = capacity;
    cache_->scopeOf = scopeOf;
    cache_->user = user;
}

std::size_t Connection::cachedStatements() const { return cache_ ? cache_->idle.size() : 0; }

sqlite3_stmt* Connection::takeStatement(std::string_view sql, bool singleOnly, int& rc) {
    sqlite3_stmt* st = nullptr;
    const char* tail = nullptr;
    rc = SQLITE_OK;
    if (!cache_ || cache_->capacity == 0) {
        rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &st, &tail);
        if (rc == SQLITE_OK && singleOnly && !onlyOneStatement(tail ? tail : "")) {
            sqlite3_finalize(st);
            return nullptr;
        }
        return st;
    }
    auto& c = *cache_;
    std::string key;
    key.reserve(sql.size() + 32);
    c.scopeOf(c.user, key);
    key.push_back('\x1f');
    key.append(sql);
    if (auto it = c.idle.find(key); it != c.idle.end()) {
        st = it->second.stmt;
        auto node = c.idle.extract(it);
        c.inUse.emplace(st, std::move(node.key()));
        return st;
    }
    rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &st, &tail);
    if (rc != SQLITE_OK || !st) return st;
    // Only single statements are kept: a text with several runs its first one only.
    if (!onlyOneStatement(tail ? tail : "")) {
        if (singleOnly) {
            sqlite3_finalize(st);
            return nullptr;
        }
        return st;
    }
    c.inUse.emplace(st, std::move(key));
    return st;
}

void Connection::giveBack(sqlite3_stmt* stmt) noexcept {
    if (!cache_) {
        sqlite3_finalize(stmt);
        return;
    }
    auto& c = *cache_;
    const auto it = c.inUse.find(stmt);
    if (it == c.inUse.end() || c.capacity == 0) {
        if (it != c.inUse.end()) c.inUse.erase(it);
        sqlite3_finalize(stmt);
        return;
    }
    auto node = c.inUse.extract(it);
    // Reset: an idle statement must hold no read transaction and no bound values.
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (c.idle.count(node.mapped())) {  // another copy was handed out meanwhile; one is kept
        sqlite3_finalize(stmt);
        return;
    }
    if (c.idle.size() >= c.capacity) {
        auto oldest = c.idle.begin();
        for (auto i = c.idle.begin(); i != c.idle.end(); ++i)
            if (i->second.lastUse < oldest->second.lastUse) oldest = i;
        sqlite3_finalize(oldest->second.stmt);
        c.idle.erase(oldest);
    }
    c.idle.emplace(std::move(node.mapped()), StatementCache::Idle{stmt, ++c.clock});
}

void Connection::throwError(int rc, std::string_view context) const {
    throwAs(rc, std::string(context) + ": " + sqlite3_errmsg(db_));
}

void Connection::exec(std::string_view sql) {
    if (cache_ && cache_->capacity > 0) {
        int rc = SQLITE_OK;
        sqlite3_stmt* st = takeStatement(sql, true, rc);
        if (rc == SQLITE_OK && st) {
            while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            }
            const std::string msg = rc == SQLITE_DONE ? std::string() : sqlite3_errmsg(db_);
            giveBack(st);
            if (rc == SQLITE_DONE) return;
            throwAs(rc, msg);
        }
        if (rc != SQLITE_OK) throwAs(rc, sqlite3_errmsg(db_));
        if (!st && onlyOneStatement(sql)) return;  // nothing but whitespace
        // several statements: SQLite runs them one after the other
    }
    std::string s(sql);
    char* err = nullptr;
    const int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        const std::string msg = err ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        throwAs(rc, msg);
    }
}

std::int64_t Connection::lastInsertId() const { return sqlite3_last_insert_rowid(db_); }
int Connection::changes() const { return sqlite3_changes(db_); }
bool Connection::inTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

Statement::Statement(Connection& conn, std::string_view sql) : conn_(&conn) {
    int rc = SQLITE_OK;
    stmt_ = conn.takeStatement(sql, false, rc);
    if (rc != SQLITE_OK) conn.throwError(rc, "cannot prepare statement");
}

Statement::~Statement() {
    if (stmt_) conn_->giveBack(stmt_);
}

Statement::Statement(Statement&& o) noexcept : conn_(o.conn_), stmt_(o.stmt_) { o.stmt_ = nullptr; }

#define KB_CHECK_BIND(expr)                                       \
    do {                                                          \
        const int rc_ = (expr);                                   \
        if (rc_ != SQLITE_OK) conn_->throwError(rc_, "cannot bind"); \
    } while (0)

Statement& Statement::bindInt(int index, std::int64_t value) {
    KB_CHECK_BIND(sqlite3_bind_int64(stmt_, index, value));
    return *this;
}
Statement& Statement::bind(int index, double value) {
    KB_CHECK_BIND(sqlite3_bind_double(stmt_, index, value));
    return *this;
}
Statement& Statement::bind(int index, std::string_view text) {
    KB_CHECK_BIND(sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT,
                                      SQLITE_UTF8));
    return *this;
}
Statement& Statement::bindBlob(int index, std::string_view bytes) {
    KB_CHECK_BIND(sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT));
    return *this;
}
Statement& Statement::bindNull(int index) {
    KB_CHECK_BIND(sqlite3_bind_null(stmt_, index));
    return *this;
}
#undef KB_CHECK_BIND

bool Statement::step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    // Reset so the statement can be reused, then report the step's error.
    sqlite3_reset(stmt_);
    conn_->throwError(rc, "statement failed");
}

void Statement::exec() {
    while (step()) {
    }
}

void Statement::reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

int Statement::columnCount() const { return sqlite3_column_count(stmt_); }
std::string Statement::columnName(int col) const {
    const char* n = sqlite3_column_name(stmt_, col);
    return n ? n : "";
}
bool Statement::isNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
int Statement::columnType(int col) const { return sqlite3_column_type(stmt_, col); }
std::int64_t Statement::getInt(int col) const { return sqlite3_column_int64(stmt_, col); }
double Statement::getDouble(int col) const { return sqlite3_column_double(stmt_, col); }
std::string Statement::getText(int col) const {
    const auto* p = sqlite3_column_blob(stmt_, col);
    const int n = sqlite3_column_bytes(stmt_, col);
    return p ? std::string(static_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string{};
}
std::string_view Statement::getTextView(int col) const {
    const auto* p = sqlite3_column_blob(stmt_, col);
    const int n = sqlite3_column_bytes(stmt_, col);
    return p ? std::string_view(static_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string_view{};
}
std::optional<std::string> Statement::getOptionalText(int col) const {
    if (isNull(col)) return std::nullopt;
    return getText(col);
}
std::optional<std::int64_t> Statement::getOptionalInt(int col) const {
    if (isNull(col)) return std::nullopt;
    return getInt(col);
}

}  // namespace klinikbox::db
