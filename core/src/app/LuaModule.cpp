// The clinic's Lua in a running box: hook scripts from lua.scripts_dir (hot reload, kb.config
// from lua.config, kb.send over lua.channels), `kind: lua` plugins, the scripts' metrics, and
// the console's script API (list, read, save with a compile check and an audit record, dry
// run).
#include <klinikbox/Schema.h>
#include "app/Modules.h"

#include "lua/Cli.h"
#include "lua/HookHost.h"
#include "lua/LuaPlugin.h"
#include "lua/ScriptVersion.h"
#include "outbox/HttpPostDeliverer.h"
#include "outbox/OutboxService.h"
#include "plugin/Manifest.h"
#include "plugin/PluginHost.h"
#include "http/RouteTable.h"

#include <klinikbox/JsonInput.h>
#include <klinikbox/Problem.h>

#include <Poco/JSON/Array.h>
#include <Poco/Logger.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <fstream>
#include <regex>
#include <sstream>

namespace klinikbox::app {

namespace fs = std::filesystem;

namespace {

const std::regex kScriptName("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\\.lua$");
constexpr std::size_t kMaxScriptBytes = 512u << 10;

std::string readText(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) return {};
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

long long ms(std::chrono::system_clock::time_point t) {
    if (t.time_since_epoch().count() == 0) return 0;
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

Poco::JSON::Object::Ptr errorJson(const lua::LuaError& e) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("kind", lua::toString(e.kind()));
    o->set("script", e.script());
    o->set("line", e.line());
    o->set("message", e.message());
    o->set("text", std::string(e.what()));
    return o;
}

Poco::JSON::Object::Ptr statusJson(const lua::ScriptStatus& s) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("file", s.file);
    o->set("loaded", s.loaded);
    o->set("refused", s.refused);
    o->set("version", s.version);
    o->set("hash", s.hash);
    o->set("loaded_at", ms(s.loadedAt));
    o->set("error", s.error);
    o->set("error_kind", s.errorKind);
    o->set("error_at", ms(s.errorAt));
    Poco::JSON::Array::Ptr events = new Poco::JSON::Array;
    for (const auto& e : s.events) events->add(e);
    o->set("events", events);
    Poco::JSON::Object::Ptr c = new Poco::JSON::Object;
    c->set("calls", s.calls);
    c->set("vetoes", s.vetoes);
    c->set("errors", s.errors);
    c->set("timeouts", s.timeouts);
    c->set("memory_errors", s.memoryErrors);
    c->set("sandbox_errors", s.sandboxErrors);
    c->set("load_failures", s.loadFailures);
    o->set("counters", c);
    o->set("states", static_cast<long long>(s.states));
    return o;
}

lua::Limits limitsOf(const server::BoxConfig& cfg) {
    lua::Limits limits;
    limits.memoryBytes = static_cast<std::size_t>(cfg.luaMemoryLimit);
    limits.instructions = cfg.luaInstructionLimit;
    limits.time = std::chrono::milliseconds(cfg.luaTimeLimitMs);
    return limits;
}

std::string scriptFileParam(const Request& req) {
    const auto it = req.pathParams.find("file");
    const std::string f = it == req.pathParams.end() ? "" : it->second;
    if (!std::regex_match(f, kScriptName))
        throw Problem(400, "/problems/invalid-script-name", "Ogiltigt skriptnamn",
                      "a script name is 1-64 letters, digits, '_', '-' or '.', ending in .lua");
    return f;
}

// The timers of Lua plugins in the core table kb_lua_jobs.
class CoreJobStore final : public lua::JobStore {
public:
    explicit CoreJobStore(store::Database& db) : db_(db) {}
    std::optional<long long> next(const std::string& plugin, const std::string& job) override {
        std::optional<long long> n;
        db_.read("core", [&](db::Connection& c) {
            auto st = c.prepare("SELECT next_at FROM kb_lua_jobs WHERE plugin=? AND job=?");
            st.bind(1, plugin).bind(2, job);
            if (st.step()) n = st.getInt(0);
        });
        return n;
    }
    void record(const std::string& plugin, const std::string& job, long long next, long long ranAt,
                const std::string& error) override {
        db_.write("core", [&](db::Connection& c) {
            auto st = c.prepare(
                "INSERT INTO kb_lua_jobs(plugin, job, next_at, last_run_at, last_error, runs, failures) VALUES(?,?,?,?,?,?,?)"
                " ON CONFLICT(plugin, job) DO UPDATE SET next_at=excluded.next_at,"
                " last_run_at=COALESCE(excluded.last_run_at, last_run_at), last_error=excluded.last_error,"
                " runs=runs+excluded.runs, failures=failures+excluded.failures");
            st.bind(1, plugin).bind(2, job).bind(3, next);
            if (ranAt > 0) st.bind(4, ranAt);
            else st.bindNull(4);
            if (error.empty()) st.bindNull(5);
            else st.bind(5, error);
            st.bind(6, ranAt > 0 ? 1 : 0).bind(7, error.empty() ? 0 : 1).exec();
        });
    }

private:
    store::Database& db_;
};

// The channels Lua plugins declare, the gateway each is bound to (kb_lua_channel_bindings)
// and the sends the box refused, per script.
struct LuaChannels {
    struct Declared {
        std::string plugin, channel, kind, purpose;
    };
    std::mutex mu;
    std::map<std::string, Declared> declared;       // by channel
    std::map<std::string, std::string> bindings;    // channel -> gateway (a lua.channels name)
    std::map<std::string, long long> refusedSends;  // by script
    std::map<std::string, std::string> lastRefusal;  // by script
};

}  // namespace

void installLua(server::Box& box) {
    box.addModule([](server::Box& b) {
        const auto& cfg = b.config();
        const lua::Limits limits = limitsOf(cfg);
        auto& log = Poco::Logger::get("lua");

        // Hook scripts' services: the box's clock, its log, kb.config and kb.send.
        auto services = std::make_shared<lua::ScriptServices>();
        services->clock = &b.clock();
        services->log = [](const std::string& level, const std::string& script, const std::string& m) {
            auto& l = Poco::Logger::get("lua");
            const std::string text = script + ": " + m;
            if (level == "error") l.error(text);
            else if (level == "warn") l.warning(text);
            else l.information(text);
        };
        auto scriptConfig = cfg.luaScriptConfig;
        services->config = [scriptConfig](const std::string& script) -> Poco::JSON::Object::Ptr {
            const auto it = scriptConfig.find(script);
            return it == scriptConfig.end() ? Poco::JSON::Object::Ptr() : it->second;
        };
        auto* db = &b.db();
        auto* outbox = &b.outbox();
        services->send = [db, outbox](const std::string&, const OutboundMessage& m) {
            long long id = 0;
            db->write("lua", [&](db::Connection& c) { id = outbox->enqueue("lua", c, m); });
            return id;
        };
        std::map<std::string, Deliverer> gateways;
        for (const auto& ch : cfg.luaChannels) {
            const std::string channel = "lua." + ch.name;
            for (const auto& s : ch.scripts) services->allowedChannels[s].insert(channel);
            gateways[ch.name] = outbox::httpPostDeliverer({ch.url, ch.bearerToken, ch.timeoutMs});
            outbox->registerChannel(channel, gateways[ch.name]);
        }
        services->checkChannels = true;
        // A refused kb.send becomes a dead letter (visible in Utkorg, retried by the admin
        // once the channel exists), counted per script for the Skript page and /metrics.
        auto channels = std::make_shared<LuaChannels>();
        auto deadLetter = [db, outbox, channels](const std::string& script, const OutboundMessage& m, const std::string& why) {
            long long id = 0;
            const std::string owner = script.find('/') == std::string::npos ? "lua" : script.substr(0, script.find('/'));
            db->write(owner == "lua" ? "lua" : "core", [&](db::Connection& c) { id = outbox->enqueueDead(owner, c, m, why); });
            {
                std::lock_guard lock(channels->mu);
                ++channels->refusedSends[script];
                channels->lastRefusal[script] = why;
            }
            Poco::Logger::get("lua").error(script + ": kb.send " + why + "; message " + std::to_string(id) + " is a dead letter");
            return id;
        };
        services->deadLetter = deadLetter;
        b.db().read("core", [&](db::Connection& c) {
            auto st = c.prepare("SELECT channel, gateway FROM kb_lua_channel_bindings");
            while (st.step()) channels->bindings[st.getText(0)] = st.getText(1);
        });

        lua::ScriptRegistry::Options ro;
        ro.limits = limits;
        ro.maxScriptBytes = kMaxScriptBytes;
        lua::LuaHookHost::Options ho;
        auto* bus = &b.bus();
        ho.unhook = [bus](const std::string& prefix) { bus->removeByPrefix(prefix); };
        auto host = std::make_shared<lua::HookHost>(b.bus(), services, ro, ho);
        const std::string dir = cfg.luaScriptsDir;
        if (!dir.empty()) {
            std::error_code ec;
            fs::create_directories(dir, ec);
            host->loadDirectory(dir);
            for (const auto& s : host->scripts())
                if (s.refused) log.error("script refused: " + s.error);
            host->watch(dir);
        }
        b.metrics().addCollector([host, channels](std::string& out) {
            out += lua::prometheusMetrics(host->scripts());
            std::lock_guard lock(channels->mu);
            out += "# HELP kb_lua_refused_sends_total kb.send calls the box refused (the message is a dead letter)\n"
                   "# TYPE kb_lua_refused_sends_total counter\n";
            for (const auto& [script, n] : channels->refusedSends)
                out += "kb_lua_refused_sends_total{script=\"" + script + "\"} " + std::to_string(n) + "\n";
            out += "# HELP kb_lua_channel_bound 1 when a Lua plugin's declared channel is bound to a gateway\n"
                   "# TYPE kb_lua_channel_bound gauge\n";
            for (const auto& [ch, d] : channels->declared)
                out += "kb_lua_channel_bound{channel=\"" + ch + "\"} " + (channels->bindings.count(ch) ? "1" : "0") + "\n";
        });

        // `kind: lua` plugins: the entry script in the sandbox, on the plugin's own context;
        // its declared channels go out through the gateway the admin bound them to.
        auto jobStore = std::make_shared<CoreJobStore>(b.db());
        b.plugins().setLuaFactory([limits, channels, gateways, deadLetter, jobStore](const plugin::Manifest& m,
                                                                                      const plugin::PluginBundle& bundle) {
            lua::LuaPluginSource src;
            src.id = m.id;
            src.entry = m.entry;
            src.files = bundle.files;
            src.limits = limits;
            src.jobs = jobStore;
            src.deadLetter = deadLetter;
            {
                std::lock_guard lock(channels->mu);
                for (const auto& d : m.channels) {
                    const std::string channel = m.id + "." + d.name;
                    src.channels.insert(channel);
                    channels->declared[channel] = LuaChannels::Declared{m.id, channel, d.kind, d.purpose};
                }
            }
            src.deliverer = [channels, gateways](const std::string& channel) -> Deliverer {
                return [channels, gateways, channel](const QueuedMessage& msg) {
                    std::string gateway;
                    {
                        std::lock_guard lock(channels->mu);
                        if (auto it = channels->bindings.find(channel); it != channels->bindings.end()) gateway = it->second;
                    }
                    if (gateway.empty())
                        return DeliveryResult::retry("the channel " + channel +
                                                     " is not bound to a gateway yet (console: Skript, Kanaler)");
                    auto g = gateways.find(gateway);
                    if (g == gateways.end())
                        return DeliveryResult::retry("the gateway " + gateway + " bound to " + channel +
                                                     " is not in lua.channels any more");
                    return g->second(msg);
                };
            };
            return std::make_unique<lua::LuaPlugin>(std::move(src));
        });

        using namespace klinikbox::schema;
        const std::vector<ParamSpec> fileParam = {{"file", pattern("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\\.lua$", 68, "triage.lua"), true, ""}};
        const auto itAdmin = Access::only({Role::It, Role::Admin});
        const auto itOnly = Access::only({Role::It});
        http::RouteOptions bigBody;
        bigBody.maxBodyBytes = static_cast<long long>(kMaxScriptBytes) * 2 + 65536;  // JSON-escaped source and a payload
        b.routes().addCore("GET", "/api/v1/lua/scripts", itAdmin, [host, channels, &b](Request&) {
            Poco::JSON::Array::Ptr arr = new Poco::JSON::Array;
            Poco::JSON::Array::Ptr refused = new Poco::JSON::Array;
            {
                std::lock_guard lock(channels->mu);
                for (const auto& s : host->scripts()) {
                    auto o = statusJson(s);
                    auto it = channels->refusedSends.find(s.file);
                    o->set("refused_sends", it == channels->refusedSends.end() ? 0LL : it->second);
                    arr->add(o);
                }
                for (const auto& [script, n] : channels->refusedSends) {
                    Poco::JSON::Object::Ptr r = new Poco::JSON::Object;
                    r->set("script", script);
                    r->set("count", n);
                    r->set("last", channels->lastRefusal[script]);
                    refused->add(r);
                }
            }
            Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
            o->set("scripts_dir", b.config().luaScriptsDir);
            o->set("editable", !b.config().luaScriptsDir.empty());
            Poco::JSON::Object::Ptr lim = new Poco::JSON::Object;
            lim->set("memory_bytes", b.config().luaMemoryLimit);
            lim->set("instructions", b.config().luaInstructionLimit);
            lim->set("time_ms", b.config().luaTimeLimitMs);
            o->set("limits", lim);
            Poco::JSON::Array::Ptr chans = new Poco::JSON::Array;
            for (const auto& c : b.config().luaChannels) {
                Poco::JSON::Object::Ptr co = new Poco::JSON::Object;
                co->set("channel", "lua." + c.name);
                Poco::JSON::Array::Ptr sc = new Poco::JSON::Array;
                for (const auto& s : c.scripts) sc->add(s);
                co->set("scripts", sc);
                chans->add(co);
            }
            o->set("channels", chans);
            o->set("refused_sends", refused);
            o->set("scripts", arr);
            return Response::json(o);
        }, RouteSpec{.summary = "The clinic's hook scripts by file name, their events, counters and last errors", .tag = "lua", .status = 200});

        b.routes().addCore("GET", "/api/v1/lua/scripts/{file}", itAdmin, [host, &b](Request& req) {
            const std::string file = scriptFileParam(req);
            const fs::path p = fs::path(b.config().luaScriptsDir) / file;
            std::error_code ec;
            if (b.config().luaScriptsDir.empty() || !fs::is_regular_file(p, ec))
                throw Problem(404, "/problems/not-found", "Skriptet finns inte", file + " is not in the scripts directory");
            const std::string source = readText(p);
            Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
            o->set("file", file);
            o->set("source", source);
            o->set("hash", lua::ScriptVersion::sha256(source));
            for (const auto& s : host->scripts())
                if (s.file == file) o->set("status", statusJson(s));
            return Response::json(o);
        }, RouteSpec{.summary = "A hook script's source, its hash (for a save) and its state", .tag = "lua", .status = 200, .path = fileParam});

        // Save: compile check first (a refused script never reaches the disk), then an atomic
        // write, an audit record with both hashes, and the reload.
        b.routes().addCore("PUT", "/api/v1/lua/scripts/{file}", itOnly, [host, services, limits, &b](Request& req) {
            const std::string file = scriptFileParam(req);
            if (b.config().luaScriptsDir.empty())
                throw Problem(409, "/problems/no-scripts-dir", "Ingen skriptkatalog",
                              "lua.scripts_dir is not set in the box's configuration");
            JsonInput in(req.json(), {"source", "base_hash"});
            const std::string source = in.str("source", kMaxScriptBytes);
            const std::string base = in.optStr("base_hash", 64).value_or("");
            const fs::path p = fs::path(b.config().luaScriptsDir) / file;
            std::error_code ec;
            const bool exists = fs::is_regular_file(p, ec);
            const std::string current = exists ? lua::ScriptVersion::sha256(readText(p)) : "";
            if (current != base)
                throw Problem(409, "/problems/script-changed", "Skriptet har ändrats",
                              exists ? "the script changed since it was opened (hash " + current.substr(0, 12) +
                                           "); reload it and apply your change again"
                                     : "the script was removed since it was opened");
            const std::string next = lua::ScriptVersion::sha256(source);
            try {
                (void)lua::ScriptVersion::load(file, source, 0, limits, services, 1, std::make_shared<lua::ScriptStats>(),
                                               b.clock().now());
            } catch (const lua::LuaError& e) {
                b.audit().append(audit::AuditLog::actorOf(req),
                                 AuditEntry{"lua.script.save", "", "administration", "failed",
                                            file + ": refused (" + std::string(lua::toString(e.kind())) + ", line " +
                                                std::to_string(e.line()) + ")"});
                Problem pr(422, "/problems/script-refused", "Skriptet kunde inte laddas", e.what());
                pr.with("kind", std::string(lua::toString(e.kind()))).with("line", e.line());
                throw pr;
            }
            const fs::path tmp = p.string() + ".tmp-save";
            {
                std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
                out << source;
                out.flush();
                if (!out) throw std::runtime_error("cannot write " + tmp.string());
            }
            fs::rename(tmp, p);
            b.audit().append(audit::AuditLog::actorOf(req),
                             AuditEntry{"lua.script.save", "", "administration", "ok",
                                        file + ": " + (current.empty() ? "new" : current.substr(0, 16)) + " -> " +
                                            next.substr(0, 16) + ", " + std::to_string(source.size()) + " bytes"});
            Poco::Logger::get("lua").notice(file + " saved by " + req.principal->username);
            host->load(file, source);
            Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
            o->set("file", file);
            o->set("hash", next);
            for (const auto& s : host->scripts())
                if (s.file == file) o->set("status", statusJson(s));
            return Response::json(o);
        }, RouteSpec{.summary = "Save a hook script: compile-checked, audit-logged, loaded at once", .tag = "lua", .body = object({req("source", text(kMaxScriptBytes)), opt("base_hash", text(64, 0))}), .status = 200, .path = fileParam, .problems = {409, 422}}, bigBody);

        // The channels Lua plugins declare and the gateways they can be bound to.
        b.routes().addCore("GET", "/api/v1/lua/channels", itAdmin, [channels, &b](Request&) {
            Poco::JSON::Array::Ptr list = new Poco::JSON::Array;
            {
                std::lock_guard lock(channels->mu);
                for (const auto& [ch, d] : channels->declared) {
                    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
                    o->set("channel", ch);
                    o->set("plugin", d.plugin);
                    o->set("kind", d.kind);
                    o->set("purpose", d.purpose);
                    auto it = channels->bindings.find(ch);
                    if (it != channels->bindings.end()) o->set("gateway", it->second);
                    else o->set("gateway", Poco::Dynamic::Var());
                    list->add(o);
                }
            }
            Poco::JSON::Array::Ptr gws = new Poco::JSON::Array;
            for (const auto& c : b.config().luaChannels) gws->add(c.name);
            Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
            o->set("channels", list);
            o->set("gateways", gws);
            return Response::json(o);
        }, RouteSpec{.summary = "Outbound channels Lua plugins declare, and the gateway (lua.channels) each is bound to", .tag = "lua", .status = 200});

        // Binds (or, with gateway null, unbinds) a declared channel at once, no restart:
        // the channel's deliverer looks the binding up at each delivery.
        b.routes().addCore("PUT", "/api/v1/lua/channels/{channel}", Access::only({Role::Admin}), [channels, &b](Request& req) {
            const std::string channel = req.pathParams.at("channel");
            JsonInput in(req.json(), {"gateway"});
            std::optional<std::string> gateway;
            if (in.has("gateway") && !in.object()->get("gateway").isEmpty()) gateway = in.str("gateway", 31);
            {
                std::lock_guard lock(channels->mu);
                if (!channels->declared.count(channel))
                    throw Problem(404, "/problems/unknown-channel", "Okänd kanal", channel + " is not declared by a running Lua plugin");
            }
            if (gateway) {
                bool known = false;
                for (const auto& c : b.config().luaChannels) known = known || c.name == *gateway;
                if (!known) throw JsonInput::invalid("gateway", "not a gateway of lua.channels in klinikbox.yaml");
            }
            const long long now = std::chrono::duration_cast<std::chrono::seconds>(b.clock().now().time_since_epoch()).count();
            b.db().write("core", [&](db::Connection& c) {
                if (gateway)
                    c.prepare("INSERT INTO kb_lua_channel_bindings(channel, gateway, bound_at, bound_by) VALUES(?,?,?,?)"
                              " ON CONFLICT(channel) DO UPDATE SET gateway=excluded.gateway, bound_at=excluded.bound_at,"
                              " bound_by=excluded.bound_by")
                        .bind(1, channel).bind(2, *gateway).bind(3, now).bind(4, req.principal->username).exec();
                else c.prepare("DELETE FROM kb_lua_channel_bindings WHERE channel=?").bind(1, channel).exec();
            });
            {
                std::lock_guard lock(channels->mu);
                if (gateway) channels->bindings[channel] = *gateway;
                else channels->bindings.erase(channel);
            }
            b.audit().append(audit::AuditLog::actorOf(req),
                             AuditEntry{"lua.channel.bind", "", "administration", "ok",
                                        channel + " -> " + (gateway ? *gateway : std::string("(unbound)"))});
            Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
            o->set("channel", channel);
            if (gateway) o->set("gateway", *gateway);
            else o->set("gateway", Poco::Dynamic::Var());
            return Response::json(o);
        }, RouteSpec{.summary = "Bind a Lua plugin's declared channel to a gateway (takes effect at once)", .tag = "lua", .body = object({opt("gateway", described(nullable(text(31)), "a gateway of lua.channels in klinikbox.yaml; null or absent unbinds"))}), .status = 200, .path = {{"channel", text(64), true, "a channel a running Lua plugin declares"}}, .problems = {404}});

        b.routes().addCore("POST", "/api/v1/lua/dryrun", itAdmin, [limits, &b](Request& req) {
            JsonInput in(req.json(), {"file", "source", "event", "payload"});
            const std::string file = in.optStr("file", 64).value_or("dryrun.lua");
            const std::string source = in.str("source", kMaxScriptBytes);
            const std::string event = in.str("event", 100);
            Poco::JSON::Object::Ptr payload;
            if (in.has("payload")) {
                const auto v = in.object()->get("payload");
                if (v.type() != typeid(Poco::JSON::Object::Ptr)) throw JsonInput::invalid("payload", "expected a JSON object");
                payload = v.extract<Poco::JSON::Object::Ptr>();
            }
            // The script's own settings (lua.config.<file>), as when it runs in the box.
            Poco::JSON::Object::Ptr settings;
            if (const auto it = b.config().luaScriptConfig.find(file); it != b.config().luaScriptConfig.end()) settings = it->second;
            const auto r = lua::dryRun(file, source, event, payload, b.clock(), limits, settings);
            Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
            o->set("hooked", r.hooked);
            o->set("accepted", r.accepted);
            o->set("vetoed", r.vetoed);
            if (r.vetoed) o->set("reason", r.reason);
            if (r.payload) o->set("payload", r.payload);
            Poco::JSON::Array::Ptr ch = new Poco::JSON::Array;
            for (const auto& c : r.changes) ch->add(c);
            o->set("changes", ch);
            Poco::JSON::Array::Ptr lg = new Poco::JSON::Array;
            for (const auto& l : r.log) lg->add(l);
            o->set("log", lg);
            if (r.error) o->set("error", errorJson(*r.error));
            return Response::json(o);
        }, RouteSpec{.summary = "Dry run: what a script's hooks would do to a sample payload (nothing is sent or stored)", .tag = "lua", .body = object({opt("file", text(64, 0)), req("source", text(kMaxScriptBytes)), req("event", text(100)), opt("payload", anyObject())}), .status = 200}, bigBody);
    });
}

}  // namespace klinikbox::app
