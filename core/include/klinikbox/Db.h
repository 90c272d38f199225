// A thin RAII layer over SQLite's C API: the one way the core and plugins run SQL.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

struct sqlite3;
struct sqlite3_stmt;

namespace klinikbox::db {

// Any SQLite failure. `code` is the extended SQLite result code.
class Error : public std::runtime_error {
public:
    Error(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
    [[nodiscard]] int code() const { return code_; }

private:
    int code_;
};
// A UNIQUE, CHECK, FOREIGN KEY or NOT NULL constraint refused the change.
class ConstraintError : public Error {
public:
    using Error::Error;
};
// The authorizer refused the statement: a plugin touched a table it does not own.
class AccessDenied : public Error {
public:
    using Error::Error;
};

class Connection;

// One prepared statement. Parameters are 1-based as in SQLite; columns 0-based. On a
// connection with a statement cache it is taken from the cache and given back, reset, when
// it is destroyed.
class Statement {
public:
    Statement(Connection& conn, std::string_view sql);
    ~Statement();
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    Statement(Statement&& o) noexcept;
    Statement& operator=(Statement&&) = delete;

    Statement& bindInt(int index, std::int64_t value);
    // Any integer type (int, long, long long, ...), bound as a 64-bit integer.
    template <class T>
        requires(std::is_integral_v<T> && !std::is_same_v<T, bool>)
    Statement& bind(int index, T value) {
        return bindInt(index, static_cast<std::int64_t>(value));
    }
    Statement& bind(int index, double value);
    Statement& bind(int index, std::string_view text);
    Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
    Statement& bind(int index, const std::string& text) { return bind(index, std::string_view(text)); }
    Statement& bindBlob(int index, std::string_view bytes);
    Statement& bindNull(int index);
    template <class T>
    Statement& bind(int index, const std::optional<T>& v) {
        return v ? bind(index, *v) : bindNull(index);
    }

    // Advances; true while a row is available. Throws Error / ConstraintError.
    [[nodiscard]] bool step();
    // Runs a statement that returns no rows.
    void exec();
    void reset();

    [[nodiscard]] int columnCount() const;
    [[nodiscard]] std::string columnName(int col) const;
    [[nodiscard]] bool isNull(int col) const;
    [[nodiscard]] std::int64_t getInt(int col) const;
    [[nodiscard]] double getDouble(int col) const;
    [[nodiscard]] std::string getText(int col) const;
    // The column's text without a copy: valid until the next step(), reset() or the end of
    // the statement. For long lists written straight into a response.
    [[nodiscard]] std::string_view getTextView(int col) const;
    [[nodiscard]] std::optional<std::string> getOptionalText(int col) const;
    [[nodiscard]] std::optional<std::int64_t> getOptionalInt(int col) const;
    // SQLite's storage class of the column in the current row (SQLITE_INTEGER, ...).
    [[nodiscard]] int columnType(int col) const;

private:
    Connection* conn_;
    sqlite3_stmt* stmt_ = nullptr;
};

// One SQLite connection. Not thread-safe: one thread at a time.
class Connection {
public:
    Connection(const std::string& path, bool readOnly = false);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Writes the scope a statement is prepared in: everything the connection's authorizer
    // decides by (owner, privileges). `user` is what enableStatementCache was given.
    using StatementScope = void (*)(const void* user, std::string& out);
    // Keeps up to `capacity` prepared statements (the least recently used go first) and
    // reuses one only for the same SQL text in the same scope: SQLite asks the authorizer
    // when it prepares a statement, not when it runs one, so a statement prepared with more
    // rights must never serve a caller with fewer (docs/architecture.md, "Prepared statements").
    // Single statements given to exec() are cached too. 0 turns the cache off (the default).
    void enableStatementCache(std::size_t capacity, StatementScope scopeOf, const void* user);
    // Statements kept for reuse right now (tests, diagnostics).
    [[nodiscard]] std::size_t cachedStatements() const;

    void exec(std::string_view sql);  // one or more statements, no results
    [[nodiscard]] Statement prepare(std::string_view sql) { return Statement(*this, sql); }
    [[nodiscard]] std::int64_t lastInsertId() const;
    [[nodiscard]] int changes() const;
    [[nodiscard]] bool inTransaction() const;
    [[nodiscard]] sqlite3* raw() const { return db_; }
    [[noreturn]] void throwError(int rc, std::string_view context) const;

private:
    friend class Statement;
    struct StatementCache;
    // A statement for `sql`: a cached one of the current scope, or a new one (nullptr when
    // `singleOnly` and the text holds more than one statement, or none); rc is SQLite's
    // answer to preparing it.
    sqlite3_stmt* takeStatement(std::string_view sql, bool singleOnly, int& rc);
    void giveBack(sqlite3_stmt* stmt) noexcept;

    sqlite3* db_ = nullptr;  // first: raw() is inline in plugins
    std::unique_ptr<StatementCache> cache_;
};

}  // namespace klinikbox::db
