#include <klinikbox/Db.h>

#include <sqlite3.h>

#include <string>

namespace klinikbox::db {

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
    if (db_) sqlite3_close_v2(db_);
}

void Connection::throwError(int rc, std::string_view context) const {
    std::string msg = std::string(context) + ": " + sqlite3_errmsg(db_);
    if ((rc & 0xff) == SQLITE_CONSTRAINT) throw ConstraintError(rc, msg);
    if ((rc & 0xff) == SQLITE_AUTH) throw AccessDenied(rc, msg);
    throw Error(rc, msg);
}

void Connection::exec(std::string_view sql) {
    std::string s(sql);
    char* err = nullptr;
    const int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        std::string msg = err ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        if ((rc & 0xff) == SQLITE_CONSTRAINT) throw ConstraintError(rc, msg);
        if ((rc & 0xff) == SQLITE_AUTH) throw AccessDenied(rc, msg);
        throw Error(rc, msg);
    }
}

std::int64_t Connection::lastInsertId() const { return sqlite3_last_insert_rowid(db_); }
int Connection::changes() const { return sqlite3_changes(db_); }
bool Connection::inTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

Statement::Statement(Connection& conn, std::string_view sql) : conn_(&conn) {
    const int rc = sqlite3_prepare_v2(conn.raw(), sql.data(), static_cast<int>(sql.size()),
                                      &stmt_, nullptr);
    if (rc != SQLITE_OK) conn.throwError(rc, "cannot prepare statement");
}

Statement::~Statement() {
    if (stmt_) sqlite3_finalize(stmt_);
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
std::optional<std::string> Statement::getOptionalText(int col) const {
    if (isNull(col)) return std::nullopt;
    return getText(col);
}
std::optional<std::int64_t> Statement::getOptionalInt(int col) const {
    if (isNull(col)) return std::nullopt;
    return getInt(col);
}

}  // namespace klinikbox::db
