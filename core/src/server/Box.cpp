#include <klinikbox/Schema.h>
#include "server/Box.h"

#include "http/OpenApi.h"
#include "http/Tls.h"
#include "server/Maintenance.h"
#include "server/Monitoring.h"
#include "store/CoreMigrations.h"
#include "store/Migrations.h"

#include <klinikbox/Version.h>

#include <Poco/JSON/Array.h>
#include <Poco/Logger.h>

#include <algorithm>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace klinikbox::server {

namespace fs = std::filesystem;

namespace {

std::string findWebRoot() {
    if (const char* e = std::getenv("KLINIKBOX_WEB_ROOT"); e && *e) return e;
    std::error_code ec;
    const auto exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        // Installed (/usr/lib/klinikbox/bin -> /usr/share/klinikbox), or a build tree.
        for (const auto& cand : {exe.parent_path() / "../../../share/klinikbox/web-admin",
                                 exe.parent_path() / "../share/klinikbox/web-admin", exe.parent_path() / "../../web-admin"}) {
            if (fs::exists(cand / "index.html")) return fs::weakly_canonical(cand).string();
        }
    }
    return std::string(KB_SOURCE_DIR) + "/web-admin";
}

std::string contentTypeFor(const std::string& ext) {
    static const std::map<std::string, std::string> types = {
        {".html", "text/html; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"}, {".json", "application/json"},
        {".svg", "image/svg+xml"}, {".png", "image/png"}, {".ico", "image/x-icon"},
        {".woff2", "font/woff2"}, {".txt", "text/plain; charset=utf-8"}};
    auto it = types.find(ext);
    return it == types.end() ? std::string{} : it->second;
}

}  // namespace

Box::Box(BoxConfig config, const Clock& clock) : config_(std::move(config)), clock_(clock) {
    webRoot_ = findWebRoot();
}

Box::~Box() { stop(); }

std::string Box::baseUrl() const {
    std::string host = config_.server.listen;
    if (host == "0.0.0.0" || host == "::") host = "127.0.0.1";
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    return std::string(config_.server.tls ? "https" : "http") + "://" + host + ":" + std::to_string(port());
}

void Box::open() {
    fs::create_directories(config_.dataDir);
    fs::permissions(config_.dataDir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec,
                    fs::perm_options::replace);
    store::DatabaseOptions o;
    o.path = config_.databasePath;
    o.synchronousFull = config_.synchronousFull;
    o.busyTimeoutMs = config_.busyTimeoutMs;
    o.cacheKib = config_.dbCacheKib;
    o.idleConnections = config_.dbIdleConnections;
    o.statementCache = config_.dbStatementCache;
    db_ = std::make_unique<store::Database>(o);
    store::Migrations::apply(*db_, "core", store::coreMigrations());
    settings_ = std::make_unique<store::Settings>(*db_, clock_);
    saveSettings({}, "");  // reads what the first-run wizard saved
    const auto key = audit::AuditLog::loadOrCreateKeyFor(*db_, (fs::path(config_.dataDir) / "audit.key").string());
    audit_ = std::make_unique<audit::AuditLog>(*db_, clock_, key);
    anchor_ = std::make_unique<audit::AuditAnchor>(*db_, key, (fs::path(config_.dataDir) / "audit.head").string());
    audit_->setAnchor(anchor_.get());
    bus_ = std::make_unique<events::Bus>();
    outbox_ = std::make_unique<outbox::OutboxService>(*db_, clock_, config_.outbox);
    host_ = std::make_unique<plugin::PluginHost>(
        plugin::HostServices{*db_, routes_, *bus_, *outbox_, *audit_, clock_});
}

std::vector<std::string> Box::certificateNames() const { return certificateNames(clinic().hostNames); }

std::vector<std::string> Box::certificateNames(const std::vector<std::string>& hostNames) const {
    std::vector<std::string> names = {"localhost", "127.0.0.1", "::1"};
    auto more = config_.tlsNames;
    for (const auto& n : hostNames) more.push_back(n);
    for (const auto& n : more)
        if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
    return names;
}

ClinicIdentity Box::clinic() const {
    std::lock_guard lock(clinicMu_);
    return clinic_;
}

std::string Box::publicUrl() const {
    auto url = clinic().publicUrl;
    return url.empty() ? baseUrl() : url;
}

void Box::saveSettings(const std::map<std::string, std::string>& values, const std::string& by) {
    if (!values.empty()) settings_->set(values, by);
    const auto saved = settings_->all();
    auto pick = [&saved](const char* key, const std::string& fallback) {
        const auto it = saved.find(key);
        return it == saved.end() || it->second.empty() ? fallback : it->second;
    };
    ClinicIdentity c;
    c.name = pick(store::setting::kClinicName, config_.name);
    c.hsaId = pick(store::setting::kCareUnitHsaId, config_.careUnitHsaId);
    c.publicUrl = pick(store::setting::kPublicUrl, config_.publicUrl);
    std::stringstream hosts(pick(store::setting::kHostNames, ""));
    for (std::string h; std::getline(hosts, h, ',');)
        if (!h.empty()) c.hostNames.push_back(h);
    std::lock_guard lock(clinicMu_);
    clinic_ = std::move(c);
}

CertificateRenewal Box::currentCertificate() const {
    std::lock_guard lock(certificateMu_);
    CertificateRenewal r;
    if (!tlsCertFile_.empty()) {
        const auto info = http::describeCertificate(tlsCertFile_);
        r.fingerprint = info.fingerprintSha256;
        r.names = info.names;
    }
    return r;
}

CertificateRenewal Box::renewCertificate(const std::vector<std::string>& hostNames) {
    if (!certificateGenerated() || !liveCertificate_) return currentCertificate();
    std::lock_guard lock(certificateMu_);
    CertificateRenewal r;
    const auto files = http::generateServerCertificate(config_.dataDir, certificateNames(hostNames));
    liveCertificate_->load(files.keyFile, files.certFile);
    r.renewed = true;
    r.fingerprint = http::certificateFingerprint(files.certFile);
    r.names = http::describeCertificate(files.certFile).names;
    Poco::Logger::get("box").notice("generated a new self-signed TLS certificate, served from now on; SHA-256 fingerprint: " +
                                    r.fingerprint);
    return r;
}

void Box::start() {
    if (!db_) open();
    auto& log = Poco::Logger::get("box");
    registerCoreRoutes();
    dispatcher_.setStaticHandler([this](const Request& r) { return serveStatic(r); });
    for (auto& m : modules_) m(*this);

    // Before plugins write anything: a database that does not hold the anchored record (wiped,
    // swapped, an older backup) is reported loudly and in /readyz; the anchor stays as evidence.
    anchor_->start();
    if (bundleSource_) host_->loadAll(bundleSource_(*this));
    outbox_->start();
    maintenance_ = std::make_unique<Maintenance>(*this, MaintenanceOptions{});
    maintenance_->start();

    auto opts = config_.server;
    if (opts.tls) {
        auto files = http::ensureServerCertificate(config_.dataDir, opts.keyFile, opts.certFile, certificateNames());
        opts.keyFile = files.keyFile;
        opts.certFile = files.certFile;
        tlsCertFile_ = files.certFile;
        tlsConfigured_ = !config_.server.certFile.empty();
        if (!tlsConfigured_) {
            // The box's own certificate: the first-run wizard may replace it while it runs.
            liveCertificate_ = std::make_shared<http::LiveCertificate>();
            liveCertificate_->load(files.keyFile, files.certFile);
            opts.liveCertificate = liveCertificate_;
        }
        if (files.generated) log.information("generated a self-signed TLS certificate: " + files.certFile);
        log.information("TLS certificate SHA-256 fingerprint: " + http::certificateFingerprint(files.certFile));
    } else {
        log.warning("TLS is off (server.tls.enabled: false): use this only on loopback for development");
    }
    http_ = std::make_unique<http::HttpServer>(opts, dispatcher_, metrics_);
    http_->start();
    if (config_.producer) {
        auto p = *config_.producer;
        if (p.certFile.empty()) {
            auto files = http::ensureServerCertificate(config_.dataDir, opts.tls ? opts.keyFile : "",
                                                       opts.tls ? opts.certFile : "", certificateNames());
            p.certFile = files.certFile;
            p.keyFile = files.keyFile;
            p.liveCertificate = opts.liveCertificate;
        }
        producer_ = std::make_unique<http::HttpServer>(p, dispatcher_, metrics_);
        producer_->start();
        log.information("RIV-TA producer listener (mutual TLS) on https://" + p.listen + ":" +
                        std::to_string(producer_->port()));
    }
    started_ = true;
    for (auto& f : starters_) f();
    log.information("klinikbox " + std::string(kBoxVersion) + " serving on " + baseUrl() + " in " + config_.mode +
                    " mode");
}

void Box::stop() {
    if (stopped_) return;
    stopped_ = true;
    if (http_) http_->stop();
    if (producer_) producer_->stop();
    for (auto it = stoppers_.rbegin(); it != stoppers_.rend(); ++it) {
        try {
            (*it)();
        } catch (const std::exception& e) {
            Poco::Logger::get("box").error(std::string("stop: ") + e.what());
        }
    }
    if (maintenance_) maintenance_->stop();
    if (host_) host_->stopAll();
    if (outbox_) outbox_->stop();
    if (bus_) bus_->stop();
    if (anchor_) anchor_->stop();
}

void Box::reloadPlugins() {
    std::lock_guard lock(reloadMu_);
    host_->reset();
    activeSet_ = ActiveSet{};
    if (bundleSource_) host_->loadAll(bundleSource_(*this));
}

std::optional<Response> Box::serveStatic(const Request& req) {
    std::string path = req.path;
    // Plugin console scripts come from the plugin's verified bytes: /plugins/<id>/<file>.
    if (path.rfind("/plugins/", 0) == 0) {
        const auto rest = path.substr(9);
        const auto slash = rest.find('/');
        if (slash == std::string::npos || rest.find("..") != std::string::npos) return std::nullopt;
        auto bytes = host_->webFile(rest.substr(0, slash), rest.substr(slash + 1));
        if (!bytes) return std::nullopt;
        const auto ext = fs::path(rest).extension().string();
        const auto ct = contentTypeFor(ext);
        if (ct.empty()) return std::nullopt;
        return Response::text(*bytes, ct);
    }
    if (path == "/" || path.empty()) path = "/index.html";
    if (path == "/kiosk" || path == "/kiosk/") path = "/kiosk.html";
    if (path.find("..") != std::string::npos || path.find('\0') != std::string::npos) return std::nullopt;
    const fs::path root = fs::weakly_canonical(webRoot_);
    const fs::path file = fs::weakly_canonical(root / path.substr(1));
    // The resolved file must stay inside the web root (no symlink escapes).
    const auto rel = file.lexically_relative(root).string();
    if (rel.empty() || rel.rfind("..", 0) == 0) return std::nullopt;
    const auto ct = contentTypeFor(file.extension().string());
    if (ct.empty() || !fs::is_regular_file(file)) return std::nullopt;
    std::ifstream in(file, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    Response r = Response::text(ss.str(), ct);
    r.headers.emplace_back("Cache-Control", "no-cache");
    return r;
}

void Box::registerCoreRoutes() {
    using Poco::JSON::Array;
    using Poco::JSON::Object;
    using namespace klinikbox::schema;
    auto add = [this](std::string method, std::string pattern, Access access, Handler h, RouteSpec spec,
                      std::string tag = "core") {
        spec.tag = std::move(tag);
        routes_.addCore(std::move(method), std::move(pattern), std::move(access), std::move(h), std::move(spec));
    };

    add("GET", "/healthz", Access::anyone(), [](Request&) {
        Object::Ptr o = new Object;
        o->set("status", "ok");
        return Response::json(o);
    }, RouteSpec{.summary = "Liveness: the process answers", .status = 200});

    add("GET", "/readyz", Access::anyone(), [this](Request& req) {
        Object::Ptr o = new Object;
        bool dbOk = true;
        try {
            db_->read("core", [](db::Connection& c) {
                auto st = c.prepare("SELECT 1");
                (void)st.step();
            });
        } catch (const std::exception&) {
            dbOk = false;
        }
        // A read still works on a full disk; the last write tells whether the box can save.
        const bool storageFailing = db_->storageFailing();
        if (storageFailing) dbOk = false;
        // server.monitoring: anonymous remote callers learn only whether the box can serve.
        if (!monitoringAllowed(config_.monitoring, req) && !dispatcher_.whoIs(req)) {
            o->set("status", dbOk ? "ok" : "unavailable");
            return Response::json(o, dbOk ? 200 : 503);
        }
        Array::Ptr plugins = new Array;
        bool allRunning = true;
        for (const auto& s : host_->status()) {
            Object::Ptr p = new Object;
            p->set("id", s.id);
            p->set("version", s.version);
            p->set("kind", s.kind);
            p->set("state", s.state);
            if (!s.reason.empty()) p->set("reason", s.reason);
            plugins->add(p);
            if (s.state != "running") allRunning = false;
        }
        const bool lowDisk = maintenance_ && maintenance_->lowDisk();
        o->set("status", !dbOk ? "unavailable" : allRunning && activeSet_.refusal.empty() && !lowDisk ? "ready" : "degraded");
        if (maintenance_) o->set("disk_free_bytes", maintenance_->freeBytes());
        if (lowDisk) o->set("disk_warning", "low disk space in the data directory");
        o->set("database", storageFailing ? "cannot write (disk full or storage error)" : dbOk ? "ok" : "unavailable");
        o->set("mode", config_.mode);
        if (!config_.production()) o->set("warning", "development mode: unsigned plugins may run");
        Object::Ptr set = new Object;
        set->set("name", activeSet_.name);
        set->set("sequence", activeSet_.sequence);
        set->set("signed", activeSet_.isSigned);
        set->set("status", activeSet_.status);
        set->set("expires", activeSet_.expires);
        set->set("region", activeSet_.region);
        Poco::JSON::Array::Ptr signers = new Poco::JSON::Array;
        for (const auto& sg : activeSet_.signers) signers->add(sg);
        set->set("signers", signers);
        if (!activeSet_.refusal.empty()) set->set("refusal", activeSet_.refusal);
        // Dates ahead that stop the set: the box stays ready, and says so.
        const auto now = clock_.now();
        Array::Ptr expiries = new Array;
        Array::Ptr warnings = new Array;
        for (const auto& w : activeSet_.warnings) warnings->add(w);
        for (const auto& e : activeSet_.expiries) {
            Object::Ptr x = new Object;
            x->set("kind", e.kind);
            x->set("name", e.name);
            x->set("at", e.at);
            x->set("days_left", pluginset::daysLeft(e, now));
            const bool due = pluginset::isDue(e, now);
            x->set("warning", due);
            expiries->add(x);
            if (due && e.kind != "set") warnings->add(pluginset::warningFor(e, now, activeSet_.region));
        }
        set->set("expiries", expiries);
        set->set("warnings", warnings);
        o->set("plugin_set", set);
        o->set("plugins", plugins);
        if (anchor_->mismatched()) {
            // The details go to the log and `klinikbox audit verify`, not to anonymous callers.
            o->set("audit", "the audit log does not match its anchor outside the database (see the log)");
            if (o->getValue<std::string>("status") == "ready") o->set("status", "degraded");
        }
        for (const auto& part : readyzParts_) part(*o);
        return Response::json(o, dbOk ? 200 : 503);
    }, RouteSpec{.summary = "Readiness: database, mode, plugin set and each plugin's state", .status = 200, .problems = {503}});

    metrics_.addCollector([this](std::string& out) {
        const auto c = outbox_->counts();
        out += "# HELP kb_outbox_messages Outbox messages by state.\n# TYPE kb_outbox_messages gauge\n";
        out += "kb_outbox_messages{state=\"pending\"} " + std::to_string(c.pending) + "\n";
        out += "kb_outbox_messages{state=\"delivering\"} " + std::to_string(c.delivering) + "\n";
        out += "kb_outbox_messages{state=\"delivered\"} " + std::to_string(c.delivered) + "\n";
        out += "kb_outbox_messages{state=\"dead\"} " + std::to_string(c.dead) + "\n";
        out += "# HELP kb_plugin_up 1 when the plugin is running.\n# TYPE kb_plugin_up gauge\n";
        for (const auto& s : host_->status())
            out += "kb_plugin_up{plugin=\"" + metrics::labelValue(s.id) + "\",state=\"" + s.state + "\"} " +
                   (s.state == "running" ? "1" : "0") + "\n";
        if (maintenance_)
            out += "# HELP kb_disk_free_bytes Free space in the data directory.\n# TYPE kb_disk_free_bytes gauge\n"
                   "kb_disk_free_bytes " + std::to_string(maintenance_->freeBytes()) + "\n";
        {
            const auto now = clock_.now();
            out += "# HELP kb_pluginset_days_left Whole days until a date that stops the running "
                   "plugin set: its expiry (kind=set), a signer certificate's notAfter (signer), "
                   "a CRL's nextUpdate (crl).\n# TYPE kb_pluginset_days_left gauge\n";
            for (const auto& e : activeSet_.expiries)
                out += "kb_pluginset_days_left{kind=\"" + e.kind + "\",name=\"" + metrics::labelValue(e.name) +
                       "\"} " + std::to_string(pluginset::daysLeft(e, now)) + "\n";
            out += "# HELP kb_pluginset_info The plugin set this box runs.\n# TYPE kb_pluginset_info gauge\n";
            out += "kb_pluginset_info{region=\"" + metrics::labelValue(activeSet_.region) + "\",region_hsa_id=\"" +
                   metrics::labelValue(activeSet_.regionHsaId) + "\",name=\"" + metrics::labelValue(activeSet_.name) +
                   "\",sequence=\"" + std::to_string(activeSet_.sequence) + "\",manifest_sha256=\"" +
                   activeSet_.manifestSha256 + "\",status=\"" + metrics::labelValue(activeSet_.status) +
                   "\",signed=\"" + (activeSet_.isSigned ? "true" : "false") + "\"} 1\n";
        }
        out += "# HELP kb_events_queued Events waiting for their asynchronous handlers.\n# TYPE kb_events_queued gauge\n"
               "kb_events_queued " + std::to_string(bus_->queued()) + "\n";
        out += "# HELP kb_events_queued_max The most events waiting at once since the box started.\n"
               "# TYPE kb_events_queued_max gauge\nkb_events_queued_max " + std::to_string(bus_->queuedHighWater()) + "\n";
        out += "# HELP kb_hook_failures_total Sync hooks and handlers that failed.\n# TYPE kb_hook_failures_total counter\n";
        for (const auto& h : bus_->stats())
            out += "kb_hook_failures_total{event=\"" + metrics::labelValue(h.event) + "\",hook=\"" +
                   metrics::labelValue(h.hook) + "\"} " + std::to_string(h.failures) + "\n";
        host_->renderGauges(out);  // the plugins' own gauges (PluginContext::addGauge)
    });
    metrics_.addCollector([this](std::string& out) {
        http::HttpServer::renderConnectionMetrics({{"public", http_.get()}, {"producer", producer_.get()}}, out);
    });
    add("GET", "/metrics", Access::anyone(), [this](Request& req) {
        // server.monitoring: per-route counts, signers and disk are for the operator's scraper.
        if (!monitoringAllowed(config_.monitoring, req))
            throw Problem(404, "/problems/not-found", "Not found", "no resource at " + req.path);
        return Response::text(metrics_.render(), "text/plain; version=0.0.4; charset=utf-8");
    }, RouteSpec{.summary = "Prometheus metrics", .responseType = "text/plain", .status = 200});

    add("GET", "/api/v1/openapi.json", Access::anyone(), [this](Request&) {
        return Response::json(http::buildOpenApi(routes_, kBoxVersion));
    }, RouteSpec{.summary = "This OpenAPI document", .status = 200});

    // The certificate staff's browsers see: its SHA-256 fingerprint to compare with the
    // browser's, the names it covers, its expiry, and whether the box generated it.
    add("GET", "/api/v1/system/tls", Access::only({Role::Admin, Role::It}), [this](Request&) {
        Object::Ptr o = new Object;
        o->set("enabled", !tlsCertFile_.empty());
        if (tlsCertFile_.empty()) return Response::json(o);
        const auto info = http::describeCertificate(tlsCertFile_);
        o->set("fingerprint_sha256", info.fingerprintSha256);
        o->set("subject", info.subject);
        o->set("issuer", info.issuer);
        Array::Ptr names = new Array;
        for (const auto& n : info.names) names->add(n);
        o->set("names", names);
        o->set("not_after", info.notAfter);
        o->set("self_signed", info.selfSigned);
        o->set("source", tlsConfigured_ ? "configured" : "generated");
        return Response::json(o);
    }, RouteSpec{.summary = "The HTTPS certificate: SHA-256 fingerprint, names, expiry, source", .status = 200}, "system");

    const Access outboxReaders = Access::only({Role::Admin, Role::It});
    add("GET", "/api/v1/outbox", outboxReaders, [this](Request& req) {
        const std::string state = req.queryParam("state").value_or("");
        if (!state.empty() && state != "pending" && state != "delivering" && state != "delivered" && state != "dead")
            throw Problem::badRequest("/problems/invalid-parameter", "state must be pending, delivering, delivered or dead");
        const int limit = static_cast<int>(req.intQuery("limit", 100, 1, 1000));
        Object::Ptr o = new Object;
        const auto c = outbox_->counts();
        Object::Ptr counts = new Object;
        counts->set("pending", c.pending);
        counts->set("delivering", c.delivering);
        counts->set("delivered", c.delivered);
        counts->set("dead", c.dead);
        o->set("counts", counts);
        o->set("messages", outbox_->list(state, limit));
        return Response::json(o);
    }, RouteSpec{.summary = "Outbox messages and counts", .status = 200, .query = {{"state", oneOf({"pending", "delivering", "delivered", "dead"}), false, ""}, {"limit", integer(1, 1000), false, ""}}}, "outbox");

    add("POST", "/api/v1/outbox/{id}/retry", outboxReaders, [this](Request& req) {
        req.noBody();
        const auto id = req.intParam("id");
        if (!outbox_->retry(id)) throw Problem::notFound("no pending or dead message " + std::to_string(id));
        audit_->append(audit::AuditLog::actorOf(req), AuditEntry{"outbox.retry", "", "administration", "ok",
                                                                 "message " + std::to_string(id)});
        Object::Ptr o = new Object;
        o->set("id", id);
        o->set("state", "pending");
        return Response::json(o);
    }, RouteSpec{.summary = "Send a pending or dead message again now", .status = 200, .path = std::vector<ParamSpec>{{"id", integer(1, 9'000'000'000'000'000'000LL), true, ""}}}, "outbox");
    add("DELETE", "/api/v1/outbox/{id}", Access::only({Role::Admin}), [this](Request& req) {
        const auto id = req.intParam("id");
        if (!outbox_->discard(id)) throw Problem::notFound("no pending or dead message " + std::to_string(id));
        audit_->append(audit::AuditLog::actorOf(req), AuditEntry{"outbox.discard", "", "administration", "ok",
                                                                 "message " + std::to_string(id)});
        return Response::noContent();
    }, RouteSpec{.summary = "Discard a pending or dead message", .status = 204, .path = std::vector<ParamSpec>{{"id", integer(1, 9'000'000'000'000'000'000LL), true, ""}}}, "outbox");

    add("GET", "/api/v1/plugins", Access::only({Role::Admin, Role::It}), [this](Request&) {
        Array::Ptr arr = new Array;
        for (const auto& s : host_->status()) {
            Object::Ptr p = new Object;
            p->set("id", s.id);
            p->set("name", s.name);
            p->set("version", s.version);
            p->set("kind", s.kind);
            p->set("state", s.state);
            p->set("reason", s.reason);
            p->set("patient_data", s.patientData);
            arr->add(p);
        }
        Object::Ptr o = new Object;
        o->set("plugins", arr);
        return Response::json(o);
    }, RouteSpec{.summary = "Plugins and their state", .status = 200}, "plugins");

    add("GET", "/api/v1/console/pages", Access::loggedIn(), [this](Request& req) {
        Array::Ptr arr = new Array;
        for (const auto& p : host_->pages()) {
            const auto& roles = p.page.access.roles;
            if (!roles.empty() && !roles.count(req.principal->role)) continue;
            Object::Ptr o = new Object;
            o->set("plugin", p.plugin);
            o->set("id", p.page.id);
            o->set("title", p.page.title);
            o->set("script", "/plugins/" + p.plugin + "/" + p.page.script);
            arr->add(o);
        }
        Object::Ptr o = new Object;
        o->set("pages", arr);
        return Response::json(o);
    }, RouteSpec{.summary = "Console pages that plugins add, for the caller's role", .status = 200}, "console");
}

}  // namespace klinikbox::server
