// `klinikbox lua test PLUGIN_DIR`: a Lua plugin's kb.test cases (in its tests/*.lua files and
// its entry) run against a throwaway box of their own per case: an in-memory SQLite
// database with the plugin's migrations applied under the same own-tables-only rule as in
// the box, its settings' defaults from schema.yaml, its manifest's events and channels
// enforced, and a fixed clock that kb.set_now moves and kb.run_due follows.
#include "app/LuaPluginTest.h"

#include "config/Schema.h"
#include "lua/Schedule.h"
#include "lua/ScriptInstance.h"
#include "plugin/Manifest.h"

#include <klinikbox/PluginContext.h>

#include <Poco/JSON/Stringifier.h>

#include <sqlite3.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace klinikbox::app {

namespace fs = std::filesystem;

namespace {

// 2026-01-15 12:00:00 UTC, as for hook scripts (lua/Cli.cpp).
constexpr long long kTestEpoch = 1768478400;

int ownTablesOnly(void* user, int action, const char* a1, const char*, const char*, const char*) {
    const std::string& id = *static_cast<std::string*>(user);
    auto own = [&](const char* t) {
        const std::string s = t ? t : "";
        // SQLite's bookkeeping tables, as the box's authorizer allows them (store/Database.cpp):
        // CREATE, DROP and ALTER TABLE ... RENAME read and write them.
        return s.rfind(id + "_", 0) == 0 || s == "sqlite_master" || s == "sqlite_schema" || s == "sqlite_sequence" ||
               s == "sqlite_temp_master";
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

struct TestStore final : Store {
    std::string id;
    db::Connection conn{":memory:"};
    explicit TestStore(std::string pluginId) : id(std::move(pluginId)) { guard(); }
    void guard() { sqlite3_set_authorizer(conn.raw(), ownTablesOnly, &id); }
    void run(const char* begin, const std::function<void(db::Connection&)>& fn) {
        conn.exec(begin);
        try {
            fn(conn);
        } catch (...) {
            conn.exec("ROLLBACK");
            throw;
        }
        conn.exec("COMMIT");
    }
    void write(const std::function<void(db::Connection&)>& fn) override { run("BEGIN IMMEDIATE", fn); }
    void read(const std::function<void(db::Connection&)>& fn) override { run("BEGIN", fn); }
};

struct TestEvents final : EventBus {
    const plugin::Manifest& m;
    explicit TestEvents(const plugin::Manifest& manifest) : m(manifest) {}
    void hook(const std::string& event, HookSpec, SyncHook) override {
        if (!m.hooks.count(event)) throw std::invalid_argument("plugin.yaml does not declare a hook on " + event);
    }
    void subscribe(const std::string& event, std::string, AsyncHandler) override {
        if (!m.subscribes.count(event)) throw std::invalid_argument("plugin.yaml does not declare a subscription to " + event);
    }
    HookOutcome publishSync(Event& e) override {
        publish(e);
        return {};
    }
    void publish(Event e) override {
        if (!m.publishes.count(e.name)) throw std::invalid_argument("plugin.yaml does not declare that it publishes " + e.name);
    }
};

struct TestOutbox final : Outbox {
    std::string id;
    long long next = 0;
    long long enqueue(db::Connection& tx, const OutboundMessage& m) override {
        if (m.channel.rfind(id + ".", 0) != 0) throw std::invalid_argument("a plugin's channels are named " + id + ".<name>");
        if (!tx.inTransaction()) throw std::logic_error("Outbox::enqueue outside a transaction");
        return ++next;
    }
    void registerChannel(const std::string&, Deliverer) override {}
};

struct TestAudit final : Audit {
    std::vector<std::string>& lines;
    explicit TestAudit(std::vector<std::string>& l) : lines(l) {}
    void record(const Request& by, const AuditEntry& e) override {
        lines.push_back("[audit] " + (by.principal ? by.principal->username : std::string("?")) + " " + e.action + " " + e.purpose);
        ++by.auditRecords;
    }
    void record(const Request& by, const AuditEntry& e, db::Connection&) override { record(by, e); }
    void recordSystem(const AuditEntry& e) override { lines.push_back("[audit] system " + e.action + " " + e.purpose); }
};

struct TestLog final : Log {
    std::vector<std::string>& lines;
    explicit TestLog(std::vector<std::string>& l) : lines(l) {}
    void debug(std::string_view m) override { lines.push_back("[debug] " + std::string(m)); }
    void info(std::string_view m) override { lines.push_back("[info] " + std::string(m)); }
    void warning(std::string_view m) override { lines.push_back("[warn] " + std::string(m)); }
    void error(std::string_view m) override { lines.push_back("[error] " + std::string(m)); }
};

struct TestRouter final : Router {
    void add(std::string, std::string, Access, Handler, RouteDoc) override {}
};

// The throwaway box of one test case.
struct TestBox final : PluginContext {
    const plugin::Manifest& m;
    FixedClock& clk;
    Poco::JSON::Object::Ptr settings;
    std::vector<std::string> lines;
    TestRouter routerImpl;
    TestEvents eventsImpl;
    TestStore storeImpl;
    TestOutbox outboxImpl;
    TestAudit auditImpl{lines};
    TestLog logImpl{lines};
    TestBox(const plugin::Manifest& manifest, FixedClock& clock, Poco::JSON::Object::Ptr s)
        : m(manifest), clk(clock), settings(std::move(s)), eventsImpl(manifest), storeImpl(manifest.id) {
        outboxImpl.id = manifest.id;
    }
    const std::string& pluginId() const override { return m.id; }
    Router& router() override { return routerImpl; }
    EventBus& events() override { return eventsImpl; }
    Store& store() override { return storeImpl; }
    Outbox& outbox() override { return outboxImpl; }
    Audit& audit() override { return auditImpl; }
    const Clock& clock() const override { return clk; }
    Poco::JSON::Object::Ptr config() const override { return settings; }
    Log& log() override { return logImpl; }
    void addConsolePage(ConsolePage) override {}
};

bool readFile(const fs::path& p, std::string& out) {
    std::ifstream in(p, std::ios::binary);
    if (!in) return false;
    std::ostringstream s;
    s << in.rdbuf();
    out = s.str();
    return true;
}

std::string where(const lua::LuaError& e) { return std::string(lua::toString(e.kind())) + ": " + e.what(); }

}  // namespace

bool isLuaPluginDir(const std::string& path) {
    std::error_code ec;
    return fs::is_directory(path, ec) && fs::is_regular_file(fs::path(path) / "plugin.yaml", ec);
}

int runLuaPluginTest(const std::string& dir, std::ostream& out) {
    // The plugin's files, as the plugin set would carry them (no symlinks).
    std::map<std::string, std::string> files;
    std::vector<std::string> testFiles;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_symlink() || !it->is_regular_file()) continue;
        const std::string rel = fs::relative(it->path(), dir).generic_string();
        std::string bytes;
        if (!readFile(it->path(), bytes)) {
            out << "cannot read " << it->path().string() << "\n";
            return 2;
        }
        if (rel.rfind("tests/", 0) == 0 && rel.size() > 10 && rel.compare(rel.size() - 4, 4, ".lua") == 0) testFiles.push_back(rel);
        files[rel] = std::move(bytes);
    }
    std::sort(testFiles.begin(), testFiles.end());
    plugin::Manifest m;
    try {
        if (!files.count("plugin.yaml")) throw plugin::ManifestError(dir + ": no plugin.yaml");
        m = plugin::parseManifest(files["plugin.yaml"], dir + "/plugin.yaml");
        if (m.kind != plugin::Kind::Lua) throw plugin::ManifestError(dir + "/plugin.yaml: not a Lua plugin (kind: lua)");
        if (!files.count(m.entry)) throw plugin::ManifestError(dir + ": the entry " + m.entry + " is missing");
    } catch (const std::exception& e) {
        out << "FAIL  " << e.what() << "\n";
        return 1;
    }
    // Settings: the schema's defaults, validated as the box would.
    Poco::JSON::Object::Ptr settings = new Poco::JSON::Object;
    std::shared_ptr<const config::Schema> schema;
    if (!m.configSchema.empty() && files.count(m.configSchema)) {
        try {
            schema = std::make_shared<const config::Schema>(config::Schema::fromYaml(YAML::Load(files[m.configSchema]), m.id + "/" + m.configSchema));
            auto r = schema->validateJson("{}", "plugins.settings." + m.id);
            if (!r.errors.empty()) throw std::invalid_argument(r.errors.front().message);
            settings = config::toJsonObject(*schema, r.document);
        } catch (const std::exception& e) {
            out << "FAIL  " << m.id << ": its settings' defaults are not valid: " << e.what() << "\n";
            return 1;
        }
    }
    std::vector<std::string> migrations;
    if (!m.migrations.empty())
        for (const auto& [path, bytes] : files)
            if (path.rfind(m.migrations + "/", 0) == 0 && path.size() > 4 && path.compare(path.size() - 4, 4, ".sql") == 0)
                migrations.push_back(path);

    FixedClock clock{std::chrono::system_clock::time_point(std::chrono::seconds(kTestEpoch))};
    auto services = std::make_shared<lua::ScriptServices>();
    services->clock = &clock;
    services->testClock = &clock;
    if (schema)
        services->checkTestConfig = [schema, id = m.id](const Poco::JSON::Object::Ptr& given) {
            std::ostringstream text;
            Poco::JSON::Stringifier::stringify(given, text);
            auto r = schema->validateJson(text.str(), "plugins.settings." + id);
            if (!r.errors.empty()) throw std::invalid_argument(r.errors.front().path + ": " + r.errors.front().message);
            return config::toJsonObject(*schema, r.document);
        };
    lua::PluginExtras extras;
    extras.files = &files;
    extras.testing = true;
    for (const auto& c : m.channels) extras.channels.insert(m.id + "." + c.name);
    const std::string name = m.id + "/" + m.entry;

    // One case in one fresh box; returns the failure text, empty when it passed.
    std::size_t count = 0;
    std::vector<lua::TestRegistration> cases;
    auto runCase = [&](std::optional<std::size_t> index, std::vector<std::string>& lines) -> std::string {
        clock.set(std::chrono::system_clock::time_point(std::chrono::seconds(kTestEpoch)));
        TestBox box(m, clock, settings);
        try {
            for (const auto& mig : migrations) box.storeImpl.write([&](db::Connection& c) { c.exec(files[mig]); });
        } catch (const std::exception& e) {
            lines = box.lines;
            return "the migration failed: " + std::string(e.what());
        }
        try {
            lua::ScriptInstance inst(name, files[m.entry], lua::ScriptMode::Plugin, lua::Limits{}, services, &box, &extras);
            for (const auto& t : testFiles) inst.loadMore(m.id + "/" + t, files[t]);
            for (const auto& h : inst.hooks()) {
                if (h.async) box.eventsImpl.subscribe(h.event, "lua", nullptr);
                else box.eventsImpl.hook(h.event, h.spec, nullptr);
            }
            const long long now = kTestEpoch;
            for (const auto& j : inst.jobs()) inst.context().jobNext.push_back(lua::nextDue(j, now));
            if (!index) {
                cases = inst.tests();
                count = cases.size();
                return {};
            }
            auto err = inst.runTest(*index);
            lines = box.lines;
            if (err) return where(*err);
        } catch (const lua::LuaError& e) {
            lines = box.lines;
            return "does not load: " + where(e);
        } catch (const std::exception& e) {
            lines = box.lines;
            return "is refused: " + std::string(e.what());
        }
        return {};
    };
    std::vector<std::string> lines;
    if (auto why = runCase(std::nullopt, lines); !why.empty()) {
        out << "FAIL  " << m.id << " " << why << "\n";
        for (const auto& l : lines) out << "        " << l << "\n";
        return 1;
    }
    if (count == 0) {
        out << m.id << ": no kb.test cases (put them in tests/*.lua)\n";
        return 1;
    }
    out << m.id << ": " << count << (count == 1 ? " test\n" : " tests\n");
    int passed = 0, failed = 0;
    for (std::size_t i = 0; i < count; ++i) {
        lines.clear();
        const std::string why = runCase(i, lines);
        const std::string label = cases[i].name + " (line " + std::to_string(cases[i].line) + ")";
        if (why.empty()) {
            ++passed;
            out << "  PASS  " << label << "\n";
        } else {
            ++failed;
            out << "  FAIL  " << label << "\n        " << why << "\n";
            for (const auto& l : lines) out << "        " << l << "\n";
        }
    }
    out << passed << " passed, " << failed << " failed\n";
    return failed == 0 ? 0 : 1;
}

}  // namespace klinikbox::app
