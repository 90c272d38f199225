// kb.db.*: a Lua plugin's SQL on its own tables (one statement per call, transactions).
#include "lua/KbInternal.h"

#include <klinikbox/Db.h>
#include <klinikbox/PluginContext.h>
#include <stdexcept>
#include <sqlite3.h>

namespace klinikbox::lua::kbapi {

static void checkParams(lua_State* L, int from, int to) {
    for (int i = from; i <= to; ++i) {
        const int t = lua_type(L, i);
        if (t != LUA_TNIL && t != LUA_TBOOLEAN && t != LUA_TNUMBER && t != LUA_TSTRING)
            luaL_argerror(L, i, "nil, boolean, number or string expected");
    }
}

// C++ side (inside cxx): reads checked parameters with non-raising API calls.
static void bindParams(lua_State* L, db::Statement& st, int from, int to) {
    for (int i = from; i <= to; ++i) {
        const int at = i - from + 1;
        switch (lua_type(L, i)) {
            case LUA_TNIL: st.bindNull(at); break;
            case LUA_TBOOLEAN: st.bindInt(at, lua_toboolean(L, i) ? 1 : 0); break;
            case LUA_TNUMBER:
                if (lua_isinteger(L, i)) st.bindInt(at, lua_tointeger(L, i));
                else st.bind(at, static_cast<double>(lua_tonumber(L, i)));
                break;
            default: {
                std::size_t n = 0;
                const char* s = lua_tolstring(L, i, &n);  // a string: no conversion, cannot raise
                st.bind(at, std::string_view(s, n));
            }
        }
    }
}

// One statement per call: SQLite would silently ignore the rest.
static void checkSingleStatement(db::Connection& conn, std::string_view sql) {
    sqlite3_stmt* s = nullptr;
    const char* tail = nullptr;
    const int rc = sqlite3_prepare_v2(conn.raw(), sql.data(), static_cast<int>(sql.size()), &s, &tail);
    if (s) sqlite3_finalize(s);
    if (rc != SQLITE_OK) conn.throwError(rc, "cannot prepare statement");
    const char* end = sql.data() + sql.size();
    while (tail && tail < end && (*tail == ' ' || *tail == '\n' || *tail == '\t' || *tail == '\r' || *tail == ';')) ++tail;
    if (tail && tail < end) throw std::invalid_argument("one SQL statement per call");
}

// Runs `f` (C++ side); a refusal of the authorizer gets a hint of what is allowed.
template <class F>
static void withTableHint(const ScriptContext& c, F&& f) {
    try {
        f();
    } catch (const db::AccessDenied& e) {
        throw std::runtime_error(std::string(e.what()) + " (a plugin may only use its own tables, named " +
                                 (c.plugin ? c.plugin->pluginId() : std::string("<plugin-id>")) + "_...)");
    }
}

// kb.db.query(sql, params...) -> {row, ...} (each row: column name -> value)
int kbDbQuery(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    requirePlugin(L, c, "kb.db.query");
    std::size_t sl = 0;
    const char* sql = luaL_checklstring(L, 1, &sl);
    const int top = lua_gettop(L);
    checkParams(L, 2, top);
    const std::size_t rowLimit = guardOf(L)->limits.maxQueryRows;
    const std::size_t nodeLimit = maxNodes(L);
    if (!cxx(c, [&] {
            c.tree.clear();
            auto run = [&](db::Connection& conn) {
                checkSingleStatement(conn, std::string_view(sql, sl));
                auto st = conn.prepare(std::string_view(sql, sl));
                bindParams(L, st, 2, top);
                c.tree.emplace_back();
                c.tree[0].type = ValueNode::Type::Array;
                std::size_t rows = 0;
                while (st.step()) {
                    if (rows == rowLimit)
                        throw std::length_error("the query returned more than " + std::to_string(rowLimit) + " rows; add a LIMIT");
                    const int cols = st.columnCount();
                    if (c.tree.size() + static_cast<std::size_t>(cols) + 1 > nodeLimit)
                        throw std::length_error("the query result is too large");
                    ValueNode row;
                    row.type = ValueNode::Type::Object;
                    row.children = static_cast<std::size_t>(cols);
                    c.tree.push_back(std::move(row));
                    for (int i = 0; i < cols; ++i) {
                        ValueNode v;
                        v.key = st.columnName(i);
                        switch (st.columnType(i)) {
                            case SQLITE_INTEGER:
                                v.type = ValueNode::Type::Int;
                                v.integer = st.getInt(i);
                                break;
                            case SQLITE_FLOAT:
                                v.type = ValueNode::Type::Float;
                                v.number = st.getDouble(i);
                                break;
                            case SQLITE_NULL: v.type = ValueNode::Type::Null; break;
                            default:
                                v.type = ValueNode::Type::String;
                                v.text = st.getText(i);
                        }
                        c.tree.push_back(std::move(v));
                    }
                    ++rows;
                }
                c.tree[0].children = rows;
            };
            withTableHint(c, [&] {
                if (c.tx) run(*c.tx);
                else c.plugin->store().read(run);
            });
        }))
        fail(L, "kb.db.query", c);
    pushTreeOf(L, c);
    return 1;
}

// kb.db.exec(sql, params...) -> changes, last_insert_id
int kbDbExec(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    requirePlugin(L, c, "kb.db.exec");
    std::size_t sl = 0;
    const char* sql = luaL_checklstring(L, 1, &sl);
    const int top = lua_gettop(L);
    checkParams(L, 2, top);
    long long changes = 0, lastId = 0;
    if (!cxx(c, [&] {
            auto run = [&](db::Connection& conn) {
                checkSingleStatement(conn, std::string_view(sql, sl));
                auto st = conn.prepare(std::string_view(sql, sl));
                bindParams(L, st, 2, top);
                st.exec();
                changes = conn.changes();
                lastId = conn.lastInsertId();
            };
            withTableHint(c, [&] {
                if (c.tx) run(*c.tx);
                else c.plugin->store().write(run);
            });
        }))
        fail(L, "kb.db.exec", c);
    lua_pushinteger(L, changes);
    lua_pushinteger(L, lastId);
    return 2;
}

struct TransactionAborted {};

// kb.db.transaction(fn) -> fn's results; one write transaction, rolled back if fn fails
int kbDbTransaction(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    requirePlugin(L, c, "kb.db.transaction");
    luaL_checktype(L, 1, LUA_TFUNCTION);
    if (c.tx) return luaL_error(L, "kb.db.transaction: already inside a transaction");
    lua_settop(L, 1);
    int status = LUA_OK;
    // The function runs under lua_pcall inside the C++ transaction, so its errors never
    // unwind the Store's frames; they come back as a status and roll the transaction back.
    const bool ok = cxx(c, [&] {
        c.plugin->store().write([&](db::Connection& conn) {
            c.tx = &conn;
            lua_pushvalue(L, 1);
            status = pcallKeepingLocation(L, 0, LUA_MULTRET);
            c.tx = nullptr;
            if (status != LUA_OK) throw TransactionAborted{};
        });
    });
    c.tx = nullptr;
    if (status != LUA_OK) return lua_error(L);
    if (!ok) fail(L, "kb.db.transaction", c);
    return lua_gettop(L) - 1;
}

}  // namespace klinikbox::lua::kbapi
