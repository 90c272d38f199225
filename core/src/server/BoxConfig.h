// The box's configuration (klinikbox.yaml), validated against config/schema.yaml (embedded
// in the binary) with defaults filled in. Relative paths are resolved against the
// directory of the configuration file.
#pragma once

#include <cstdint>

#include "http/HttpServer.h"
#include "outbox/OutboxService.h"
#include "server/MemorySettings.h"
#include "server/Monitoring.h"

#include <Poco/JSON/Object.h>

#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace klinikbox::server {

struct BoxConfig {
    std::string sourceFile;
    std::string mode = "development";  // or "production"
    // Development only: the clock starts at this instant and runs on (box.clock_start).
    std::optional<std::chrono::system_clock::time_point> clockStart;
    std::string name = "Klinikbox";
    std::string careUnitHsaId;  // box.hsa_id: the care unit's (vårdenhet's) HSA-id, or empty
    std::string dataDir;
    std::string timezone = "Europe/Stockholm";

    http::ServerOptions server;
    // The RIV-TA producer listener (mutual TLS); nullopt when off.
    std::optional<http::ServerOptions> producer;
    std::string publicUrl;
    // server.tls.names: extra names of the first-run certificate.
    std::vector<std::string> tlsNames;
    // server.monitoring: who may read /metrics and /readyz details.
    MonitoringAccess monitoring;

    std::string databasePath;
    bool synchronousFull = true;
    int busyTimeoutMs = 5000;
    int dbCacheKib = 128;         // database.cache_kib
    int dbIdleConnections = 4;    // database.idle_connections
    int dbStatementCache = 32;    // database.statement_cache
    MemorySettings memory;        // memory.*

    std::string logLevel = "information";
    std::string logFile;

    std::string pluginSet;
    std::string trustDir;
    // Regions installed by the first-run wizard: data_dir/trust, read together with trustDir.
    [[nodiscard]] std::string localTrustDir() const { return dataDir + "/trust"; }
    int graceDays = 14;
    std::uint64_t maxSetBytes = 64ull << 20;  // plugins.max_set_mib
    // region.subscription: the region's publication this box polls (empty url: none).
    struct {
        std::string url;
        int pollMinutes = 60;
        std::string activate = "region";  // region | stage | auto
    } subscription;
    std::map<std::string, Poco::JSON::Object::Ptr> pluginSettings;

    outbox::OutboxOptions outbox;

    std::string luaScriptsDir;
    long long luaMemoryLimit = 16 << 20;
    long long luaInstructionLimit = 10'000'000;
    int luaTimeLimitMs = 200;
    // kb.config of each hook script, by file name.
    std::map<std::string, Poco::JSON::Object::Ptr> luaScriptConfig;
    // Outbound channels for hook scripts (lua.<name>), delivered as JSON POSTs.
    struct LuaChannel {
        std::string name, url, bearerToken;
        std::vector<std::string> scripts;
        int timeoutMs = 10000;
    };
    std::vector<LuaChannel> luaChannels;

    int sessionIdleMinutes = 30;
    int sessionAbsoluteHours = 10;
    int loginMaxFailures = 5;
    int loginLockoutMinutes = 15;
    // scrypt's cost as log2 N (security.password_hash_log2n): each password hash and check
    // holds 2^N KiB. Production refuses less than kMinProductionPasswordLog2N.
    int passwordHashLog2N = 16;
    static constexpr int kMinProductionPasswordLog2N = 16;

    [[nodiscard]] bool production() const { return mode == "production"; }
};

// Every problem found in a configuration file, each "file:line:column: path: message".
class ConfigInvalid : public std::runtime_error {
public:
    explicit ConfigInvalid(std::vector<std::string> errors);
    std::vector<std::string> errors;
};

// Loads, validates and resolves a configuration file. Throws ConfigInvalid.
BoxConfig loadBoxConfig(const std::string& path);
// The same for text (tests); `baseDir` resolves relative paths.
BoxConfig parseBoxConfig(const std::string& yamlText, const std::string& fileName, const std::string& baseDir);

// Why a box.timezone value cannot be used (not an IANA name, or no zone file for it on this
// machine), or nullopt when it can.
std::optional<std::string> timezoneProblem(const std::string& zone);

// The schema text compiled into the binary.
const std::string& embeddedSchema();

}  // namespace klinikbox::server
