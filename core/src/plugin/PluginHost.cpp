#include "plugin/PluginHost.h"

#include "http/RouteTable.h"
#include "store/Migrations.h"

#include <klinikbox/Clock.h>
#include <klinikbox/Personnummer.h>

#include <Poco/Logger.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>

namespace klinikbox::plugin {

namespace {

// Application log of one plugin; every line is masked.
class PluginLog final : public Log {
public:
    explicit PluginLog(const std::string& id) : logger_(Poco::Logger::get("plugin." + id)) {}
    void debug(std::string_view m) override { logger_.debug(maskPersonnummerInText(m)); }
    void info(std::string_view m) override { logger_.information(maskPersonnummerInText(m)); }
    void warning(std::string_view m) override { logger_.warning(maskPersonnummerInText(m)); }
    void error(std::string_view m) override { logger_.error(maskPersonnummerInText(m)); }

private:
    Poco::Logger& logger_;
};

// The event bus as a plugin sees it: only what its manifest declares.
class PluginEvents final : public EventBus {
public:
    PluginEvents(events::Bus& bus, const Manifest& m) : bus_(bus), m_(m) {}
    void hook(const std::string& event, HookSpec spec, SyncHook fn) override {
        if (!m_.hooks.count(event))
            throw std::invalid_argument("plugin " + m_.id + " does not declare a hook on " + event + " in plugin.yaml");
        spec.name = m_.id + ":" + (spec.name.empty() ? "hook" : spec.name);
        spec.readsLazyFields = false;  // a plugin's hook gets Event::lazy members in the payload
        bus_.hook(event, std::move(spec), std::move(fn));
    }
    void subscribe(const std::string& event, std::string name, AsyncHandler fn) override {
        if (!m_.subscribes.count(event))
            throw std::invalid_argument("plugin " + m_.id + " does not declare a subscription to " + event);
        bus_.subscribe(event, m_.id + ":" + name, std::move(fn));
    }
    void subscribeBatch(const std::vector<std::string>& events, std::string name, BatchHandler fn) override {
        for (const auto& event : events)
            if (!m_.subscribes.count(event))
                throw std::invalid_argument("plugin " + m_.id + " does not declare a subscription to " + event);
        bus_.subscribeBatch(events, m_.id + ":" + name, std::move(fn));
    }
    HookOutcome publishSync(Event& event) override {
        checkPublish(event.name);
        return bus_.publishSync(event);
    }
    void publish(Event event) override {
        checkPublish(event.name);
        bus_.publish(std::move(event));
    }

private:
    void checkPublish(const std::string& ev) const {
        if (!m_.publishes.count(ev))
            throw std::invalid_argument("plugin " + m_.id + " does not declare that it publishes " + ev);
    }
    events::Bus& bus_;
    const Manifest& m_;
};

class PluginStore final : public Store {
public:
    PluginStore(store::Database& db, std::string id) : db_(db), id_(std::move(id)) {}
    void write(const std::function<void(db::Connection&)>& fn) override { db_.write(id_, fn); }
    void read(const std::function<void(db::Connection&)>& fn) override { db_.read(id_, fn); }

private:
    store::Database& db_;
    std::string id_;
};

// For plugins that declare patient data: every request whose handler wrote no audit record
// of its own is recorded by the core, with the patient when the route names one, so a
// plugin cannot forget the PDL log.
http::PluginRouter::Wrapper auditEveryRequest(audit::AuditLog& log, const std::string& id) {
    return [&log, id](const std::string& method, const std::string& pattern, Handler h) -> Handler {
        return [&log, id, method, pattern, h = std::move(h)](Request& req) -> Response {
            auto record = [&](const std::string& outcome, int status) {
                if (req.auditRecords > 0) return;
                std::string patient;
                for (const char* k : {"patient", "pnr", "personnummer"})
                    if (auto it = req.pathParams.find(k); it != req.pathParams.end()) patient = it->second;
                // In the stored form (12 digits), as every other record names the patient: a
                // refused read of ".../900101-2385/..." was logged as typed, and the patient's
                // log extract and the review's patient filter missed it.
                if (!patient.empty()) {
                    const auto parsed = Personnummer::parse(patient, Clock::localDate(std::chrono::system_clock::now()));
                    if (const auto* p = std::get_if<Personnummer>(&parsed)) patient = p->twelveDigits();
                }
                const bool write = method != "GET";
                log.append(audit::AuditLog::actorOf(req),
                           AuditEntry{id + (write ? ".write" : ".read"), patient, "vård", outcome,
                                      method + " " + pattern + " " + std::to_string(status)});
            };
            try {
                Response r = h(req);
                record(r.status < 400 ? "ok" : r.status == 403 ? "denied" : "failed", r.status);
                return r;
            } catch (const Problem& p) {
                record(p.status() == 403 ? "denied" : "failed", p.status());
                throw;
            } catch (...) {
                record("failed", 500);
                throw;
            }
        };
    };
}

class Context final : public PluginContext {
public:
    Context(HostServices& s, const Manifest& m, Poco::JSON::Object::Ptr config,
            std::vector<RegisteredPage>& pages, std::vector<RegisteredGauge>& gauges, std::mutex& pagesMu)
        : s_(s), m_(m), router_(s.routes, m.id, m.patientData ? auditEveryRequest(s.audit, m.id) : nullptr, m.kind == Kind::Native), events_(s.bus, m), store_(s.db, m.id),
          outbox_(s.outbox, m.id), audit_(s.audit, m.id), log_(m.id), config_(std::move(config)),
          pages_(pages), gauges_(gauges), pagesMu_(pagesMu) {}
    const std::string& pluginId() const override { return m_.id; }
    Router& router() override { return router_; }
    EventBus& events() override { return events_; }
    Store& store() override { return store_; }
    Outbox& outbox() override { return outbox_; }
    Audit& audit() override { return audit_; }
    const Clock& clock() const override { return s_.clock; }
    Poco::JSON::Object::Ptr config() const override { return config_; }
    Log& log() override { return log_; }
    void addConsolePage(ConsolePage page) override {
        if (page.id.empty() || page.title.empty() || page.script.empty())
            throw std::invalid_argument("a console page needs id, title and script");
        std::lock_guard lock(pagesMu_);
        pages_.push_back(RegisteredPage{m_.id, std::move(page)});
    }
    void addGauge(const std::string& name, const std::string& help, std::function<double()> read) override {
        const bool ok = !name.empty() && name.size() <= 60 && name[0] >= 'a' && name[0] <= 'z' &&
                        std::all_of(name.begin(), name.end(), [](char c) {
                            return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
                        });
        if (!ok) throw std::invalid_argument("a gauge's name is lower-case letters, digits and '_': " + name);
        if (help.empty() || help.find('\n') != std::string::npos || !read)
            throw std::invalid_argument("gauge " + name + " needs a one-line help text and a read function");
        std::lock_guard lock(pagesMu_);
        for (const auto& g : gauges_)
            if (g.plugin == m_.id && g.name == name) throw std::invalid_argument("a second gauge named " + name);
        gauges_.push_back(RegisteredGauge{m_.id, name, help, std::move(read)});
    }

private:
    HostServices& s_;
    const Manifest& m_;
    http::PluginRouter router_;
    PluginEvents events_;
    PluginStore store_;
    outbox::PluginOutbox outbox_;
    audit::PluginAudit audit_;
    PluginLog log_;
    Poco::JSON::Object::Ptr config_;
    std::vector<RegisteredPage>& pages_;
    std::vector<RegisteredGauge>& gauges_;
    std::mutex& pagesMu_;
};

// Opens a shared library from bytes through a sealed memfd, so the code that runs is
// exactly the code that was verified; nothing is re-read from disk.
//
// The memfd stays open for the life of the process: glibc recognises an already loaded
// object by its path name, so if the descriptor were closed, the next plugin's memfd could
// get the same number, the same "/proc/self/fd/N" path, and dlopen would hand back the
// previous plugin's library. (Libraries are never unloaded either; see stopAll.)
void* dlopenFromBytes(const std::string& name, const std::string& bytes, std::string& error, int& fdOut) {
    const int fd = memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) {
        error = "memfd_create failed";
        return nullptr;
    }
    std::size_t off = 0;
    while (off < bytes.size()) {
        const auto n = ::write(fd, bytes.data() + off, bytes.size() - off);
        if (n <= 0) {
            ::close(fd);
            error = "cannot write the plugin library to memory";
            return nullptr;
        }
        off += static_cast<std::size_t>(n);
    }
    fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
    const std::string path = "/proc/self/fd/" + std::to_string(fd);
    void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char* e = dlerror();
        error = e ? e : "dlopen failed";
        ::close(fd);  // nothing was loaded under this path
        return nullptr;
    }
    fdOut = fd;
    return h;
}

// The bytes of a sealed memfd: exactly what was written before it was sealed.
std::optional<std::string> readSealed(int fd) {
    struct stat st {};
    if (fd < 0 || fstat(fd, &st) != 0) return std::nullopt;
    std::string bytes(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t off = 0;
    while (off < bytes.size()) {
        const auto n = ::pread(fd, bytes.data() + off, bytes.size() - off, static_cast<off_t>(off));
        if (n <= 0) return std::nullopt;
        off += static_cast<std::size_t>(n);
    }
    return bytes;
}

}  // namespace

struct PluginHost::Loaded {
    Manifest manifest;
    // The verified files, less a native plugin's library once it is loaded: those bytes
    // (hundreds of KiB per plugin, 2.8 MiB of heap for the shipped set) stay only in the
    // library's sealed memfd, which a reload reads them back from.
    PluginBundle bundle;
    int libraryFd = -1;
    void* handle = nullptr;
    void (*destroy)(Plugin*) = nullptr;
    std::unique_ptr<Plugin, std::function<void(Plugin*)>> plugin;
    std::unique_ptr<Context> ctx;
    bool running = false;
};

PluginHost::PluginHost(HostServices services) : s_(services) {}

PluginHost::~PluginHost() { stopAll(); }

void PluginHost::loadAll(const std::vector<PluginBundle>& bundles) {
    std::set<std::string> seen;
    for (const auto& b : bundles) {
        if (!seen.insert(b.id).second) {
            std::lock_guard lock(mu_);
            statuses_.push_back(PluginStatus{b.id, b.id, b.version, "?", "failed", "a second plugin with the same id", false});
            continue;
        }
        loadOne(b);
    }
}

void PluginHost::loadOne(const PluginBundle& b) {
    auto l = std::make_unique<Loaded>();
    l->bundle = b;
    PluginStatus st;
    st.id = b.id;
    st.name = b.id;
    st.version = b.version;
    st.state = "failed";
    auto& log = Poco::Logger::get("plugins");
    try {
        auto mf = b.files.find("plugin.yaml");
        if (mf == b.files.end()) throw std::runtime_error("plugin.yaml is missing");
        l->manifest = parseManifest(mf->second, b.id + "/plugin.yaml");
        const Manifest& m = l->manifest;
        st.name = m.name;
        st.version = m.version;
        st.kind = m.kind == Kind::Native ? "native" : "lua";
        st.patientData = m.patientData;
        if (m.id != b.id) throw std::runtime_error("plugin.yaml says id " + m.id + " but the directory is " + b.id);
        if (m.api != kSdkApiVersion)
            throw std::runtime_error("written for SDK API " + std::to_string(m.api) + ", this box provides API " +
                                     std::to_string(kSdkApiVersion));

        // Settings, validated against the plugin's schema.
        Poco::JSON::Object::Ptr cfg = new Poco::JSON::Object;
        if (settingsProvider_)
            if (auto given = settingsProvider_(m.id)) cfg = given;
        if (validator_) cfg = validator_(m, b, cfg);

        // Migrations from the verified bytes.
        if (!m.migrations.empty()) {
            std::vector<std::pair<std::string, std::string>> files;
            const std::string prefix = m.migrations + "/";
            for (const auto& [path, bytes] : b.files)
                if (path.rfind(prefix, 0) == 0 && path.find('/', prefix.size()) == std::string::npos)
                    files.emplace_back(path.substr(prefix.size()), bytes);
            store::Migrations::apply(s_.db, m.id, store::Migrations::fromFiles(files));
        }

        if (m.kind == Kind::Native) {
            auto ef = b.files.find(m.entry);
            if (ef == b.files.end()) throw std::runtime_error("entry " + m.entry + " is not among the plugin's files");
            std::string err;
            l->handle = dlopenFromBytes(m.id, ef->second, err, l->libraryFd);
            if (!l->handle) throw std::runtime_error("cannot load " + m.entry + ": " + err);
            l->bundle.files.erase(m.entry);
            auto apiFn = reinterpret_cast<int (*)()>(dlsym(l->handle, "kb_plugin_api_version"));
            auto create = reinterpret_cast<Plugin* (*)()>(dlsym(l->handle, "kb_plugin_create"));
            l->destroy = reinterpret_cast<void (*)(Plugin*)>(dlsym(l->handle, "kb_plugin_destroy"));
            if (!apiFn) throw std::runtime_error(m.entry + " does not export kb_plugin_api_version (use KB_PLUGIN)");
            if (!create) throw std::runtime_error(m.entry + " does not export kb_plugin_create (use KB_PLUGIN)");
            if (!l->destroy) throw std::runtime_error(m.entry + " does not export kb_plugin_destroy (use KB_PLUGIN)");
            if (apiFn() != kSdkApiVersion)
                throw std::runtime_error(m.entry + " was built against SDK API " + std::to_string(apiFn()) +
                                         ", this box provides API " + std::to_string(kSdkApiVersion));
            auto destroy = l->destroy;
            l->plugin = std::unique_ptr<Plugin, std::function<void(Plugin*)>>(create(), [destroy](Plugin* p) { destroy(p); });
            if (!l->plugin) throw std::runtime_error("kb_plugin_create returned nothing");
        } else {
            if (!luaFactory_) throw std::runtime_error("this box has no Lua runtime for kind: lua");
            auto p = luaFactory_(m, b);
            l->plugin = std::unique_ptr<Plugin, std::function<void(Plugin*)>>(p.release(), [](Plugin* q) { delete q; });
        }
        l->ctx = std::make_unique<Context>(s_, l->manifest, cfg, pages_, gauges_, mu_);
        l->plugin->start(*l->ctx);
        l->running = true;
        st.state = "running";
        log.information("plugin " + m.id + " " + m.version + " started");
    } catch (const std::exception& e) {
        st.reason = e.what();
        log.error("plugin " + b.id + " failed: " + st.reason);
        cleanup(b.id);
        if (l->plugin) {
            try {
                l->plugin->stop();
            } catch (...) {
            }
        }
    }
    std::lock_guard lock(mu_);
    auto old = std::find_if(statuses_.begin(), statuses_.end(), [&](const PluginStatus& x) { return x.id == st.id; });
    if (old != statuses_.end() && old->state == "stopped") {
        *old = st;  // a reload replaces the stopped entry
    } else {
        statuses_.push_back(st);
    }
    plugins_.push_back(std::move(l));
}

void PluginHost::stopOne(Loaded& l) {
    if (!l.running) return;
    try {
        l.plugin->stop();
    } catch (const std::exception& e) {
        Poco::Logger::get("plugins").error("plugin " + l.manifest.id + " failed to stop: " + e.what());
    }
    cleanup(l.manifest.id);
    l.running = false;
}

PluginStatus PluginHost::reload(const std::string& id) {
    std::unique_ptr<Loaded> l;
    {
        std::lock_guard lock(mu_);
        auto it = std::find_if(plugins_.begin(), plugins_.end(), [&](const auto& p) { return p->bundle.id == id; });
        if (it == plugins_.end()) throw std::invalid_argument("no plugin " + id);
        l = std::move(*it);
        plugins_.erase(it);
        for (auto& s : statuses_)
            if (s.id == id) s.state = "stopped";
    }
    stopOne(*l);
    PluginBundle bundle = l->bundle;
    const std::string entry = l->manifest.entry;
    std::optional<std::string> library;
    const bool readBack = l->handle && !bundle.files.count(entry);
    if (readBack) library = readSealed(l->libraryFd);
    {
        std::lock_guard lock(mu_);
        retired_.push_back(std::move(l));
    }
    if (readBack && !library) throw std::runtime_error("cannot read plugin " + id + "'s library back from memory");
    if (library) bundle.files[entry] = std::move(*library);
    loadOne(bundle);
    std::lock_guard lock(mu_);
    for (const auto& s : statuses_)
        if (s.id == id) return s;
    return {};
}

std::optional<std::string> PluginHost::schemaText(const std::string& id) const {
    std::lock_guard lock(mu_);
    for (const auto& l : plugins_) {
        if (l->bundle.id != id) continue;
        if (l->manifest.configSchema.empty()) return std::string{};
        auto it = l->bundle.files.find(l->manifest.configSchema);
        return it == l->bundle.files.end() ? std::string{} : it->second;
    }
    return std::nullopt;
}

bool PluginHost::has(const std::string& id) const {
    std::lock_guard lock(mu_);
    return std::any_of(plugins_.begin(), plugins_.end(), [&](const auto& p) { return p->bundle.id == id; });
}

void PluginHost::cleanup(const std::string& id) {
    s_.routes.removeOwner(id);
    s_.bus.removeByPrefix(id + ":");
    s_.outbox.unregisterByPrefix(id + ".");
    std::lock_guard lock(mu_);
    pages_.erase(std::remove_if(pages_.begin(), pages_.end(), [&](const RegisteredPage& p) { return p.plugin == id; }),
                 pages_.end());
    gauges_.erase(std::remove_if(gauges_.begin(), gauges_.end(), [&](const RegisteredGauge& g) { return g.plugin == id; }),
                  gauges_.end());
}

void PluginHost::stopAll() {
    std::vector<std::unique_ptr<Loaded>> ps;
    {
        std::lock_guard lock(mu_);
        ps.swap(plugins_);
    }
    // Stop in reverse start order.
    for (auto it = ps.rbegin(); it != ps.rend(); ++it) stopOne(**it);
    std::lock_guard lock(mu_);
    // The libraries stay mapped and the objects alive (see retired_).
    for (auto& l : ps) retired_.push_back(std::move(l));
    for (auto& s : statuses_)
        if (s.state == "running") s.state = "stopped";
}

void PluginHost::reset() {
    stopAll();
    std::lock_guard lock(mu_);
    statuses_.clear();
    pages_.clear();
    gauges_.clear();
}

void PluginHost::renderGauges(std::string& out) const {
    std::vector<RegisteredGauge> gauges;
    {
        std::lock_guard lock(mu_);
        gauges = gauges_;
    }
    // Read outside the lock: a gauge reads the plugin's tables. Stopped plugins' objects stay
    // alive (retired_), so a gauge removed meanwhile still reads safely.
    for (const auto& g : gauges) {
        double v = 0;
        try {
            v = g.read();
        } catch (const std::exception& e) {
            Poco::Logger::get("plugins").warning("gauge " + g.plugin + "/" + g.name + " failed: " + e.what());
            continue;
        }
        std::string id = g.plugin;
        for (char& c : id)
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) c = '_';
        const std::string metric = "kb_" + id + "_" + g.name;
        std::ostringstream value;
        value << v;
        out += "# HELP " + metric + " " + g.help + "\n# TYPE " + metric + " gauge\n" + metric + " " + value.str() + "\n";
    }
}

std::vector<PluginStatus> PluginHost::status() const {
    std::lock_guard lock(mu_);
    return statuses_;
}

std::vector<RegisteredPage> PluginHost::pages() const {
    std::lock_guard lock(mu_);
    return pages_;
}

std::optional<std::string> PluginHost::webFile(const std::string& plugin, const std::string& path) const {
    std::lock_guard lock(mu_);
    for (const auto& l : plugins_) {
        if (l->manifest.id != plugin || l->manifest.web.empty() || !l->running) continue;
        auto it = l->bundle.files.find(l->manifest.web + "/" + path);
        if (it != l->bundle.files.end()) return it->second;
    }
    return std::nullopt;
}

}  // namespace klinikbox::plugin
