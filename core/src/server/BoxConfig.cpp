#include "server/BoxConfig.h"

#include <klinikbox/HsaId.h>

#include "config/Schema.h"

#include <Poco/JSON/Parser.h>

#include <yaml-cpp/yaml.h>

#include <ctime>
#include <filesystem>
#include <set>
#include <fstream>
#include <sstream>

namespace klinikbox::server {

namespace fs = std::filesystem;

namespace {

std::string joinErrors(const std::vector<std::string>& e) {
    std::string s = "the configuration is invalid:";
    for (const auto& x : e) s += "\n  " + x;
    return s;
}

std::string resolve(const std::string& baseDir, const std::string& p) {
    if (p.empty()) return p;
    const fs::path path(p);
    return path.is_absolute() ? p : (fs::path(baseDir) / path).lexically_normal().string();
}

// YAML (already validated and defaulted) -> JSON, for plugin settings.
Poco::Dynamic::Var toVar(const YAML::Node& n) {
    if (n.IsMap()) {
        Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
        for (const auto& kv : n) o->set(kv.first.Scalar(), toVar(kv.second));
        return o;
    }
    if (n.IsSequence()) {
        Poco::JSON::Array::Ptr a = new Poco::JSON::Array;
        for (const auto& e : n) a->add(toVar(e));
        return a;
    }
    if (n.IsNull()) return Poco::Dynamic::Var();
    const std::string& s = n.Scalar();
    if (n.Tag() != "!") {  // plain scalar: infer bool / integer / number like YAML does
        bool b;
        long long i;
        double d;
        if (YAML::convert<bool>::decode(n, b)) return b;
        if (YAML::convert<long long>::decode(n, i)) return i;
        if (YAML::convert<double>::decode(n, d)) return d;
    }
    return s;
}

}  // namespace

std::optional<std::string> timezoneProblem(const std::string& zone) {
    // glibc reads a TZ it cannot find as UTC without a word, so a misspelt zone or a machine
    // without tzdata would move every "today", every booking's day and every time on screen by
    // an hour or two. The zone must be an IANA name of a zone file this machine has.
    const std::string quoted = "'" + zone + "'";
    if (zone.empty() || zone.size() > 64 || zone.front() == '/' || zone.find("..") != std::string::npos ||
        zone.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-") != std::string::npos)
        return quoted + " is not an IANA time zone name (e.g. Europe/Stockholm)";
    const char* dir = std::getenv("TZDIR");
    const std::filesystem::path file = std::filesystem::path(dir && *dir ? dir : "/usr/share/zoneinfo") / zone;
    std::ifstream in(file, std::ios::binary);
    char magic[4] = {};
    if (!in.read(magic, 4) || std::string_view(magic, 4) != "TZif")
        return quoted + " is not a time zone this machine knows (no zone file " + file.string() +
               "; check the spelling, e.g. Europe/Stockholm, and that the tzdata package is installed)";
    return std::nullopt;
}

ConfigInvalid::ConfigInvalid(std::vector<std::string> errs) : std::runtime_error(joinErrors(errs)), errors(std::move(errs)) {}

BoxConfig parseBoxConfig(const std::string& yamlText, const std::string& fileName, const std::string& baseDir) {
    YAML::Node doc;
    try {
        doc = YAML::Load(yamlText);
    } catch (const YAML::Exception& e) {
        throw ConfigInvalid({fileName + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                             ": not valid YAML: " + e.msg});
    }
    if (doc.IsNull()) doc = YAML::Node(YAML::NodeType::Map);
    static const config::Schema schema = config::Schema::fromYaml(YAML::Load(embeddedSchema()), "config/schema.yaml");
    auto result = schema.validate(doc, fileName);
    if (!result.errors.empty()) {
        std::vector<std::string> msgs;
        for (const auto& e : result.errors) msgs.push_back(e.toString());
        throw ConfigInvalid(msgs);
    }
    const YAML::Node& c = result.document;

    BoxConfig b;
    b.sourceFile = fileName;
    b.mode = c["box"]["mode"].as<std::string>();
    b.name = c["box"]["name"].as<std::string>();
    b.careUnitHsaId = c["box"]["hsa_id"].as<std::string>();
    if (!b.careUnitHsaId.empty() && !HsaId::parse(b.careUnitHsaId))
        throw ConfigInvalid({fileName + ": box.hsa_id: '" + b.careUnitHsaId + "' is not an HSA-id (SE, organisation number, '-', characters)"});
    b.dataDir = resolve(baseDir, c["box"]["data_dir"].as<std::string>());
    b.timezone = c["box"]["timezone"].as<std::string>();
    if (auto why = timezoneProblem(b.timezone)) throw ConfigInvalid({fileName + ": box.timezone: " + *why});
    if (const auto cs = c["box"]["clock_start"].as<std::string>(); !cs.empty()) {
        if (b.mode == "production")
            throw ConfigInvalid({fileName + ": box.clock_start is for development and tests only; remove it in production"});
        std::tm tm{};
        if (!strptime(cs.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm))
            throw ConfigInvalid({fileName + ": box.clock_start: expected YYYY-MM-DDTHH:MM:SSZ, got '" + cs + "'"});
        b.clockStart = std::chrono::system_clock::from_time_t(timegm(&tm));
    }

    const auto s = c["server"];
    b.server.listen = s["listen"].as<std::string>();
    b.server.port = s["port"].as<int>();
    b.server.tls = s["tls"]["enabled"].as<bool>();
    b.server.certFile = resolve(baseDir, s["tls"]["cert_file"].as<std::string>());
    b.server.keyFile = resolve(baseDir, s["tls"]["key_file"].as<std::string>());
    b.server.maxBodyBytes = s["max_body_bytes"].as<long long>();
    b.server.threads = s["threads"].as<int>();
    b.server.maxQueued = s["max_queued"].as<int>();
    b.server.drainSeconds = s["drain_seconds"].as<int>();
    b.server.accessLog = c["logging"]["access_log"].as<bool>();
    for (const auto& n : s["tls"]["names"]) b.tlsNames.push_back(n.as<std::string>());
    {
        const auto sc = s["slow_clients"];
        b.server.maxWorkersPerAddress = sc["max_workers_per_address"].as<int>();
        b.server.reserveWorkers = sc["reserve_workers"].as<int>();
        b.server.headerTimeoutMs = sc["header_timeout_ms"].as<int>();
        b.server.bodyTimeoutMs = sc["body_timeout_ms"].as<int>();
        b.server.keepAliveMs = sc["keep_alive_ms"].as<int>();
        b.server.graceMs = sc["grace_ms"].as<int>();
        if (b.server.reserveWorkers >= b.server.threads)
            throw ConfigInvalid({fileName + ": server.slow_clients.reserve_workers must be less than server.threads"});
        const auto m = s["monitoring"];
        b.monitoring.access = m["access"].as<std::string>();
        b.monitoring.scrapeToken = m["scrape_token"].as<std::string>();
        if (b.monitoring.access == "token" && b.monitoring.scrapeToken.size() < 32)
            throw ConfigInvalid({fileName + ": server.monitoring.scrape_token: access token needs a token of at least 32 characters"});
    }
    if (const auto pr = c["producer"]; pr["enabled"].as<bool>()) {
        http::ServerOptions o = b.server;
        o.listen = pr["listen"].as<std::string>();
        o.port = pr["port"].as<int>();
        o.tls = true;
        o.producer = true;
        if (const auto cert = pr["cert_file"].as<std::string>(); !cert.empty()) {
            o.certFile = resolve(baseDir, cert);
            o.keyFile = resolve(baseDir, pr["key_file"].as<std::string>());
        }
        o.clientCaFile = resolve(baseDir, pr["client_ca_file"].as<std::string>());
        if (o.clientCaFile.empty())
            throw ConfigInvalid({fileName + ": producer.client_ca_file: the producer listener needs the CA bundle of its clients"});
        o.maxBodyBytes = pr["max_body_bytes"].as<long long>();
        b.producer = o;
    }
    b.publicUrl = s["public_url"].as<std::string>();

    const auto d = c["database"];
    const auto dbPath = d["path"].as<std::string>();
    b.databasePath = dbPath.empty() ? (fs::path(b.dataDir) / "klinikbox.db").string() : resolve(baseDir, dbPath);
    b.synchronousFull = d["synchronous"].as<std::string>() == "full";
    b.busyTimeoutMs = d["busy_timeout_ms"].as<int>();
    b.dbCacheKib = d["cache_kib"].as<int>();
    b.dbIdleConnections = d["idle_connections"].as<int>();
    b.dbStatementCache = d["statement_cache"].as<int>();
    b.memory.mallocArenas = c["memory"]["malloc_arenas"].as<int>();
    b.memory.trimThresholdKib = c["memory"]["trim_threshold_kib"].as<int>();
    b.memory.mmapThresholdKib = c["memory"]["mmap_threshold_kib"].as<int>();
    b.memory.passwordHashesAtOnce = c["memory"]["password_hashes_at_once"].as<int>();

    b.logLevel = c["logging"]["level"].as<std::string>();
    b.logFile = resolve(baseDir, c["logging"]["file"].as<std::string>());

    const auto p = c["plugins"];
    b.pluginSet = resolve(baseDir, p["set"].as<std::string>());
    b.trustDir = resolve(baseDir, p["trust_dir"].as<std::string>());
    b.graceDays = p["grace_days"].as<int>();
    b.maxSetBytes = static_cast<std::uint64_t>(p["max_set_mib"].as<int>()) << 20;
    if (const auto r = c["region"]; r && r["subscription"]) {
        const auto sub = r["subscription"];
        b.subscription.url = sub["url"].as<std::string>("");
        b.subscription.pollMinutes = sub["poll_minutes"].as<int>(60);
        b.subscription.activate = sub["activate"].as<std::string>("region");
        if (!b.subscription.url.empty() && b.subscription.url.rfind("https://", 0) != 0 &&
            b.subscription.url.rfind("http://", 0) != 0)
            throw ConfigInvalid({fileName + ": region.subscription.url must be an http(s) URL"});
    }
    if (p["settings"] && p["settings"].IsMap()) {
        for (const auto& kv : p["settings"]) {
            auto v = toVar(kv.second);
            if (v.type() != typeid(Poco::JSON::Object::Ptr)) {
                const auto m = kv.second.Mark();
                throw ConfigInvalid({fileName + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1) +
                                     ": plugins.settings." + kv.first.Scalar() + ": expected a mapping of settings"});
            }
            b.pluginSettings[kv.first.Scalar()] = v.extract<Poco::JSON::Object::Ptr>();
        }
    }

    const auto o = c["outbox"];
    b.outbox.workers = o["workers"].as<int>();
    b.outbox.maxAttempts = o["max_attempts"].as<int>();
    b.outbox.baseDelayMs = o["base_delay_ms"].as<long long>();
    b.outbox.maxDelayMs = o["max_delay_ms"].as<long long>();
    b.outbox.pollIntervalMs = o["poll_interval_ms"].as<long long>();

    const auto l = c["lua"];
    b.luaScriptsDir = resolve(baseDir, l["scripts_dir"].as<std::string>());
    b.luaMemoryLimit = l["memory_limit_bytes"].as<long long>();
    b.luaInstructionLimit = l["instruction_limit"].as<long long>();
    b.luaTimeLimitMs = l["time_limit_ms"].as<int>();
    if (l["config"] && l["config"].IsMap()) {
        for (const auto& kv : l["config"]) {
            auto v = toVar(kv.second);
            if (v.type() != typeid(Poco::JSON::Object::Ptr)) {
                const auto m = kv.second.Mark();
                throw ConfigInvalid({fileName + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1) +
                                     ": lua.config." + kv.first.Scalar() + ": expected a mapping of settings"});
            }
            b.luaScriptConfig[kv.first.Scalar()] = v.extract<Poco::JSON::Object::Ptr>();
        }
    }
    if (l["channels"] && l["channels"].IsSequence()) {
        std::set<std::string> names;
        for (const auto& ch : l["channels"]) {
            BoxConfig::LuaChannel lc;
            lc.name = ch["name"].as<std::string>();
            lc.url = ch["url"].as<std::string>();
            lc.bearerToken = ch["bearer_token"].as<std::string>();
            lc.timeoutMs = ch["timeout_ms"].as<int>();
            for (const auto& sc : ch["scripts"]) lc.scripts.push_back(sc.as<std::string>());
            const auto m = ch.Mark();
            const std::string where = fileName + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1) +
                                      ": lua.channels." + lc.name + ": ";
            if (!names.insert(lc.name).second) throw ConfigInvalid({where + "the channel name is used twice"});
            const bool https = lc.url.rfind("https://", 0) == 0;
            const bool loopback = lc.url.rfind("http://127.0.0.1", 0) == 0 || lc.url.rfind("http://localhost", 0) == 0 ||
                                  lc.url.rfind("http://[::1]", 0) == 0;
            if (!https && !loopback)
                throw ConfigInvalid({where + "url must be https:// (plain http only on loopback), got '" + lc.url + "'"});
            b.luaChannels.push_back(std::move(lc));
        }
    }

    const auto sec = c["security"];
    b.sessionIdleMinutes = sec["session_idle_minutes"].as<int>();
    b.sessionAbsoluteHours = sec["session_absolute_hours"].as<int>();
    b.loginMaxFailures = sec["login_max_failures"].as<int>();
    b.loginLockoutMinutes = sec["login_lockout_minutes"].as<int>();
    b.passwordHashLog2N = sec["password_hash_log2n"].as<int>();
    if (b.production() && b.passwordHashLog2N < BoxConfig::kMinProductionPasswordLog2N) {
        throw ConfigInvalid({fileName + ": security.password_hash_log2n below " +
                             std::to_string(BoxConfig::kMinProductionPasswordLog2N) +
                             " is for development and tests only; remove it in production"});
    }

    if (b.production() && !b.server.tls) {
        throw ConfigInvalid({fileName + ": server.tls.enabled: production mode requires TLS"});
    }
    return b;
}

BoxConfig loadBoxConfig(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw ConfigInvalid({path + ": cannot read the configuration file"});
    std::stringstream ss;
    ss << in.rdbuf();
    const auto base = fs::absolute(fs::path(path)).parent_path().string();
    return parseBoxConfig(ss.str(), path, base);
}

}  // namespace klinikbox::server
