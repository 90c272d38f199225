// Loads plugins from verified bytes, gives each its PluginContext, starts and stops them,
// and keeps the state of each (running, or failed with the reason) for /readyz.
#pragma once

#include <klinikbox/Plugin.h>

#include "audit/AuditLog.h"
#include "events/Bus.h"
#include "http/RouteTable.h"
#include "outbox/OutboxService.h"
#include "plugin/Manifest.h"
#include "store/Database.h"

#include <Poco/JSON/Object.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace klinikbox::plugin {

// One plugin's files as verified by the plugin-set check: path relative to the plugin's
// directory -> exact bytes. The loader never opens a plugin file by path.
struct PluginBundle {
    std::string id;
    std::string version;
    std::map<std::string, std::string> files;
};

struct PluginStatus {
    std::string id, name, version, kind;
    std::string state;   // "running", "failed", "stopped"
    std::string reason;  // why it failed
    bool patientData = false;
};

struct RegisteredPage {
    std::string plugin;
    ConsolePage page;
};

// A gauge a plugin added to /metrics (PluginContext::addGauge).
struct RegisteredGauge {
    std::string plugin, name, help;
    std::function<double()> read;
};

struct HostServices {
    store::Database& db;
    http::RouteTable& routes;
    events::Bus& bus;
    outbox::OutboxService& outbox;
    audit::AuditLog& audit;
    const Clock& clock;
};

// Builds a Plugin for a `kind: lua` manifest (provided by the Lua runtime).
using LuaPluginFactory =
    std::function<std::unique_ptr<Plugin>(const Manifest&, const PluginBundle&)>;
// Validates a plugin's settings against its schema.yaml and fills defaults; throws
// std::invalid_argument with the reasons.
using ConfigValidator = std::function<Poco::JSON::Object::Ptr(
    const Manifest&, const PluginBundle&, const Poco::JSON::Object::Ptr& settings)>;

class PluginHost {
public:
    explicit PluginHost(HostServices services);
    ~PluginHost();

    void setLuaFactory(LuaPluginFactory f) { luaFactory_ = std::move(f); }
    void setConfigValidator(ConfigValidator v) { validator_ = std::move(v); }
    // The settings of a plugin (console-saved ones, else those in klinikbox.yaml).
    using SettingsProvider = std::function<Poco::JSON::Object::Ptr(const std::string& pluginId)>;
    void setSettingsProvider(SettingsProvider p) { settingsProvider_ = std::move(p); }

    // Stops one plugin and starts it again from the same verified bytes (new settings).
    // Returns its new status.
    PluginStatus reload(const std::string& id);
    // The plugin's schema.yaml text, if it has one; nullopt for an unknown plugin.
    [[nodiscard]] std::optional<std::string> schemaText(const std::string& id) const;
    [[nodiscard]] bool has(const std::string& id) const;

    // Loads and starts every bundle. A plugin that fails is marked failed with the reason;
    // the others start regardless.
    void loadAll(const std::vector<PluginBundle>& bundles);
    void stopAll();
    // Stops every plugin and forgets their states (before loading another set).
    void reset();

    [[nodiscard]] std::vector<PluginStatus> status() const;
    [[nodiscard]] std::vector<RegisteredPage> pages() const;
    // Appends the running plugins' gauges to a /metrics text (Prometheus exposition format).
    void renderGauges(std::string& out) const;
    // A file of a plugin's web/ directory (console page scripts), from the verified bytes.
    [[nodiscard]] std::optional<std::string> webFile(const std::string& plugin, const std::string& path) const;

private:
    struct Loaded;
    void loadOne(const PluginBundle& b);
    void stopOne(Loaded& l);
    void cleanup(const std::string& id);

    HostServices s_;
    LuaPluginFactory luaFactory_;
    ConfigValidator validator_;
    SettingsProvider settingsProvider_;
    mutable std::mutex mu_;
    std::vector<std::unique_ptr<Loaded>> plugins_;
    // Stopped plugins are kept until the host goes away: a request that was already inside
    // one of their handlers when they were replaced finishes on a live object.
    std::vector<std::unique_ptr<Loaded>> retired_;
    std::vector<PluginStatus> statuses_;
    std::vector<RegisteredPage> pages_;
    std::vector<RegisteredGauge> gauges_;
};

}  // namespace klinikbox::plugin
