// Fake PluginContext parts for plugin unit tests (Lua plugins, native plugins' domain code):
// a router that keeps the routes, an event bus that records, a Store on a real SQLite file
// whose authorizer keeps the plugin in its own tables (as the core's does), a recording
// outbox and log, and a context over them. Each suite brings the audit fake it asserts on.
#pragma once

#include <klinikbox/Db.h>
#include <klinikbox/PluginContext.h>

#include <sqlite3.h>

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace kbtest {

using namespace klinikbox;

struct FakeRouter : Router {
    std::string id;
    struct Entry {
        std::string method, pattern;
        Access access;
        Handler handler;
        RouteDoc doc;
    };
    std::vector<Entry> routes;
    void add(std::string method, std::string pattern, Access access, Handler handler, RouteDoc doc) override {
        if (pattern.rfind("/api/v1/" + id + "/", 0) != 0) throw std::invalid_argument("route outside /api/v1/" + id + "/: " + pattern);
        routes.push_back(Entry{std::move(method), std::move(pattern), std::move(access), std::move(handler), std::move(doc)});
    }
    Response call(const std::string& method, const std::string& path, Request req = {}) {
        for (auto& r : routes)
            if (r.method == method && r.pattern == path) {
                req.method = method;
                req.path = path;
                return r.handler(req);
            }
        throw std::runtime_error("no route " + method + " " + path);
    }
};

struct FakeEvents : EventBus {
    std::set<std::string> mayPublish, mayHook, maySubscribe;
    std::map<std::string, SyncHook> hooks;
    std::map<std::string, AsyncHandler> handlers;
    std::vector<HookSpec> specs;
    std::vector<Event> published;
    void hook(const std::string& event, HookSpec spec, SyncHook fn) override {
        if (!mayHook.count(event)) throw std::invalid_argument("the plugin does not declare a hook on " + event);
        specs.push_back(spec);
        hooks[event] = std::move(fn);
    }
    void subscribe(const std::string& event, std::string, AsyncHandler fn) override {
        if (!maySubscribe.count(event)) throw std::invalid_argument("the plugin does not declare a subscription to " + event);
        handlers[event] = std::move(fn);
    }
    // A batch subscription: in batchHandlers (a test hands it several events at once), and
    // in handlers as the interface's default delivers it, one event per call.
    std::map<std::string, BatchHandler> batchHandlers;
    void subscribeBatch(const std::vector<std::string>& events, std::string name, BatchHandler fn) override {
        for (const auto& e : events)
            if (!maySubscribe.count(e)) throw std::invalid_argument("the plugin does not declare a subscription to " + e);
        for (const auto& e : events) batchHandlers[e] = fn;
        EventBus::subscribeBatch(events, std::move(name), std::move(fn));
    }
    HookOutcome publishSync(Event&) override { return {}; }
    void publish(Event e) override {
        if (!mayPublish.count(e.name)) throw std::invalid_argument("the plugin does not declare that it publishes " + e.name);
        published.push_back(std::move(e));
    }
};

// Allows the plugin's own tables (<id>_...) and SQLite's bookkeeping only.
inline int ownTablesOnly(void* user, int action, const char* a1, const char*, const char*, const char*) {
    const std::string& id = *static_cast<std::string*>(user);
    auto own = [&](const char* t) {
        const std::string s = t ? t : "";
        return s.rfind(id + "_", 0) == 0 || s == "sqlite_master" || s == "sqlite_schema" || s == "sqlite_sequence";
    };
    switch (action) {
        case SQLITE_READ:
        case SQLITE_INSERT:
        case SQLITE_UPDATE:
        case SQLITE_DELETE:
        case SQLITE_CREATE_TABLE:
        case SQLITE_DROP_TABLE: return own(a1) ? SQLITE_OK : SQLITE_DENY;
        case SQLITE_PRAGMA:
        case SQLITE_ATTACH: return SQLITE_DENY;
        default: return SQLITE_OK;
    }
}

struct FakeStore : Store {
    std::string id;
    db::Connection conn;
    int writes = 0, rollbacks = 0;
    FakeStore(const std::string& path, std::string pluginId) : id(std::move(pluginId)), conn(path) {}
    void guard() { sqlite3_set_authorizer(conn.raw(), ownTablesOnly, &id); }
    void unguarded(const std::string& sql) {
        sqlite3_set_authorizer(conn.raw(), nullptr, nullptr);
        conn.exec(sql);
        guard();
    }
    void run(const char* begin, const std::function<void(db::Connection&)>& fn) {
        sqlite3_set_authorizer(conn.raw(), nullptr, nullptr);
        conn.exec(begin);
        guard();
        try {
            fn(conn);
        } catch (...) {
            ++rollbacks;
            sqlite3_set_authorizer(conn.raw(), nullptr, nullptr);
            conn.exec("ROLLBACK");
            guard();
            throw;
        }
        sqlite3_set_authorizer(conn.raw(), nullptr, nullptr);
        conn.exec("COMMIT");
        guard();
    }
    void write(const std::function<void(db::Connection&)>& fn) override {
        ++writes;
        run("BEGIN IMMEDIATE", fn);
    }
    void read(const std::function<void(db::Connection&)>& fn) override { run("BEGIN", fn); }
};

struct FakeOutbox : Outbox {
    std::string id;
    std::vector<OutboundMessage> queued;
    long long enqueue(db::Connection& tx, const OutboundMessage& m) override {
        if (m.channel.rfind(id + ".", 0) != 0) throw std::invalid_argument("plugin " + id + " may only use outbox channels named " + id + ".<name>");
        if (!tx.inTransaction()) throw std::logic_error("enqueue outside a transaction");
        queued.push_back(m);
        return static_cast<long long>(queued.size());
    }
    void registerChannel(const std::string&, Deliverer) override {}
};

struct FakeLog : Log {
    std::vector<std::string> lines;
    void debug(std::string_view m) override { lines.push_back("debug " + std::string(m)); }
    void info(std::string_view m) override { lines.push_back("info " + std::string(m)); }
    void warning(std::string_view m) override { lines.push_back("warning " + std::string(m)); }
    void error(std::string_view m) override { lines.push_back("error " + std::string(m)); }
};

template <class AuditT>
struct BasicFakeContext : PluginContext {
    std::string id;
    FakeRouter routerImpl;
    FakeEvents eventsImpl;
    FakeStore storeImpl;
    FakeOutbox outboxImpl;
    AuditT auditImpl;
    FakeLog logImpl;
    const Clock& clockRef;
    Poco::JSON::Object::Ptr settings = new Poco::JSON::Object;
    std::vector<ConsolePage> pages;

    BasicFakeContext(std::string pluginId, const std::string& dbPath, const Clock& clock)
        : id(pluginId), storeImpl(dbPath, pluginId), clockRef(clock) {
        routerImpl.id = id;
        outboxImpl.id = id;
        storeImpl.guard();
    }
    const std::string& pluginId() const override { return id; }
    Router& router() override { return routerImpl; }
    EventBus& events() override { return eventsImpl; }
    Store& store() override { return storeImpl; }
    Outbox& outbox() override { return outboxImpl; }
    Audit& audit() override { return auditImpl; }
    const Clock& clock() const override { return clockRef; }
    Poco::JSON::Object::Ptr config() const override { return settings; }
    Log& log() override { return logImpl; }
    void addConsolePage(ConsolePage page) override { pages.push_back(std::move(page)); }
};

}  // namespace kbtest
