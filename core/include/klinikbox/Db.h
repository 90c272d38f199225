// A thin RAII layer over SQLite's C API: the one way the core and plugins run SQL.
#pragma once

#include <cstdint>
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

// One prepared statement. Parameters are 1-based as in SQLite; columns 0-based.
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

    void exec(std::string_view sql);  // one or more statements, no results
    [[nodiscard]] Statement prepare(std::string_view sql) { return Statement(*this, sql); }
    [[nodiscard]] std::int64_t lastInsertId() const;
    [[nodiscard]] int changes() const;
    [[nodiscard]] bool inTransaction() const;
    [[nodiscard]] sqlite3* raw() const { return db_; }
    [[noreturn]] void throwError(int rc, std::string_view context) const;

private:
    sqlite3* db_ = nullptr;
};

}  // namespace klinikbox::db
