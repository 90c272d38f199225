// One running box: storage, audit, event bus, outbox, plugins and the HTTPS server, wired
// together in the order they depend on each other, and stopped in reverse.
#pragma once

#include "audit/AuditAnchor.h"
#include "audit/AuditLog.h"
#include "events/Bus.h"
#include "http/Dispatcher.h"
#include "http/HttpServer.h"
#include "http/LiveCertificate.h"
#include "http/RouteTable.h"
#include "metrics/Metrics.h"
#include "outbox/OutboxService.h"
#include "plugin/PluginHost.h"
#include "pluginset/Expiry.h"
#include "server/BoxConfig.h"
#include "store/Database.h"
#include "store/Settings.h"

#include <klinikbox/Clock.h>

#include <functional>
#include <map>
#include <mutex>
#include <memory>
#include <string>

namespace klinikbox::server {

// What the box knows about the plugin set it runs (filled by the plugin-set check).
struct ActiveSet {
    std::string name;
    long long sequence = 0;
    std::string region, regionHsaId, expires, status = "unsigned-development";
    std::string refusal;  // why the configured set was refused (production), else empty
    bool isSigned = false;
    std::vector<std::string> signers;
    std::vector<std::string> warnings;
    std::string manifestSha256;
    // Every date that stops the set (its expiry, its signers' certificates, its region's
    // CRLs): /readyz, /metrics, the console banner and the daily log line warn ahead of each.
    std::vector<pluginset::Expiry> expiries;
};

// The clinic's identity as the box uses it: kb_settings (the first-run wizard) wins over
// klinikbox.yaml, which stays the default.
struct ClinicIdentity {
    std::string name, hsaId;
    std::string publicUrl;                // empty: the listen address (Box::publicUrl())
    std::vector<std::string> hostNames;   // besides server.tls.names, what the certificate names
};

// What Box::renewCertificate did.
struct CertificateRenewal {
    bool renewed = false;     // false: server.tls.cert_file is configured (or TLS is off)
    std::string fingerprint;  // SHA-256 of the certificate now served, "AB:CD:..."
    std::vector<std::string> names;
};

class Box {
public:
    Box(BoxConfig config, const Clock& clock);
    ~Box();

    // Creates the data directory, opens the database and applies the core migrations.
    void open();
    // Loads plugins, starts the outbox workers and the HTTPS listener.
    void start();
    // Drains HTTP, stops plugins and workers. Safe to call twice.
    void stop();

    [[nodiscard]] int port() const { return http_ ? http_->port() : 0; }
    [[nodiscard]] int producerPort() const { return producer_ ? producer_->port() : 0; }
    [[nodiscard]] std::string baseUrl() const;

    BoxConfig& config() { return config_; }
    const Clock& clock() const { return clock_; }
    store::Database& db() { return *db_; }
    http::RouteTable& routes() { return routes_; }
    http::Dispatcher& dispatcher() { return dispatcher_; }
    events::Bus& bus() { return *bus_; }
    outbox::OutboxService& outbox() { return *outbox_; }
    audit::AuditLog& audit() { return *audit_; }
    audit::AuditAnchor& auditAnchor() { return *anchor_; }
    plugin::PluginHost& plugins() { return *host_; }
    metrics::Metrics& metrics() { return metrics_; }
    ActiveSet& activeSet() { return activeSet_; }
    class Maintenance* maintenance() { return maintenance_.get(); }
    store::Settings& settings() { return *settings_; }

    // The clinic's name, HSA-id, public URL and host names, safe to call from any thread.
    [[nodiscard]] ClinicIdentity clinic() const;
    // The URL every link starts with: the saved or configured public URL, else baseUrl().
    [[nodiscard]] std::string publicUrl() const;
    // Saves settings (store/Settings.h keys) and applies them at once.
    void saveSettings(const std::map<std::string, std::string>& values, const std::string& by);
    // A new self-signed certificate for the default names, server.tls.names and `hostNames`,
    // served from the next handshake on without a restart (http/LiveCertificate.h). Only
    // describes the current one when server.tls.cert_file is configured: that certificate is
    // the clinic's to replace.
    CertificateRenewal renewCertificate(const std::vector<std::string>& hostNames);
    // The certificate served now (renewed is false).
    [[nodiscard]] CertificateRenewal currentCertificate() const;
    // True when the box serves its own generated certificate (no server.tls.cert_file).
    [[nodiscard]] bool certificateGenerated() const { return !tlsCertFile_.empty() && !tlsConfigured_; }

    // Modules (auth, console, plugin sets, Lua) add themselves here before start():
    // each gets the box and registers its routes, collectors and services.
    using Module = std::function<void(Box&)>;
    void addModule(Module m) { modules_.push_back(std::move(m)); }
    // Adds a part to /readyz (e.g. the region subscription's state).
    void addReadyzPart(std::function<void(Poco::JSON::Object&)> f) { readyzParts_.push_back(std::move(f)); }
    // Called once the listener runs (the port is known).
    void onStarted(std::function<void()> f) { starters_.push_back(std::move(f)); }
    // Called at stop(), in reverse order of registration.
    void onStop(std::function<void()> f) { stoppers_.push_back(std::move(f)); }
    // Supplies the plugin bundles to load (the plugin-set check). Without one, no plugins.
    using BundleSource = std::function<std::vector<plugin::PluginBundle>(Box&)>;
    void setBundleSource(BundleSource s) { bundleSource_ = std::move(s); }

    // Stops every plugin and loads the bundle source's set again (a new active set).
    void reloadPlugins();

    // The console's static files (web-admin/).
    [[nodiscard]] const std::string& webRoot() const { return webRoot_; }

private:
    void registerCoreRoutes();
    // localhost, loopback and server.tls.names: what the first-run certificate names.
    [[nodiscard]] std::vector<std::string> certificateNames() const;
    [[nodiscard]] std::vector<std::string> certificateNames(const std::vector<std::string>& hostNames) const;
    std::optional<Response> serveStatic(const Request& req);

    BoxConfig config_;
    const Clock& clock_;
    std::unique_ptr<store::Database> db_;
    std::unique_ptr<store::Settings> settings_;
    mutable std::mutex clinicMu_;  // guards clinic_ (the wizard changes it while requests read it)
    ClinicIdentity clinic_;
    std::shared_ptr<http::LiveCertificate> liveCertificate_;  // the generated certificate, replaceable
    mutable std::mutex certificateMu_;  // one certificate renewal at a time
    std::unique_ptr<audit::AuditLog> audit_;
    std::unique_ptr<audit::AuditAnchor> anchor_;  // the chain's anchor outside the database
    std::unique_ptr<events::Bus> bus_;
    std::unique_ptr<outbox::OutboxService> outbox_;
    std::unique_ptr<plugin::PluginHost> host_;
    http::RouteTable routes_;
    http::Dispatcher dispatcher_{routes_};
    metrics::Metrics metrics_;
    std::unique_ptr<http::HttpServer> http_;
    std::unique_ptr<http::HttpServer> producer_;  // the RIV-TA producer listener, when configured
    std::unique_ptr<class Maintenance> maintenance_;
    ActiveSet activeSet_;
    std::vector<Module> modules_;
    std::vector<std::function<void()>> stoppers_;
    std::vector<std::function<void()>> starters_;
    std::vector<std::function<void(Poco::JSON::Object&)>> readyzParts_;
    BundleSource bundleSource_;
    std::string webRoot_;
    std::mutex reloadMu_;  // one plugin-set change at a time (admin, maintenance)
    bool started_ = false;
    std::string tlsCertFile_;     // the main listener's certificate (empty: TLS off)
    bool tlsConfigured_ = false;  // server.tls.cert_file was set (the clinic's own or a CA's)
    bool stopped_ = false;
};

}  // namespace klinikbox::server
