#include "app/Modules.h"

#include "audit/AuditReview.h"
#include "auth/AuthModule.h"
#include "lua/HookHost.h"
#include "pluginset/Verifier.h"
#include "server/PluginSettings.h"

#include <Poco/JSON/Array.h>
#include <Poco/Logger.h>

namespace klinikbox::app {

namespace {

// The plugin-set check in front of the loader: production runs only a set verified against
// the trusted regions (and raises the rollback mark); development reads an unsigned
// directory with the same rules against links and escapes.
std::vector<plugin::PluginBundle> verifiedBundles(server::Box& b) {
    auto& log = Poco::Logger::get("pluginset");
    const auto& cfg = b.config();
    auto& active = b.activeSet();
    pluginset::VerifiedSet set;
    try {
        if (cfg.production()) {
            if (cfg.trustDir.empty()) throw pluginset::VerifyError(pluginset::Reason::UntrustedSigner, "plugins.trust_dir is not configured");
            const auto trust = pluginset::TrustStore::load(cfg.trustDir);
            pluginset::VerifyOptions o;
            o.now = b.clock().now();
            o.graceDays = cfg.graceDays;
            auto conn = b.db().acquire("core");
            pluginset::DbHighWaterStore hw(*conn);
            set = pluginset::verifySigned(cfg.pluginSet, trust, o, &hw);
        } else {
            log.warning("development mode: loading unsigned plugins from " + cfg.pluginSet);
            set = pluginset::loadUnsignedDevelopment(cfg.pluginSet);
        }
    } catch (const pluginset::VerifyError& e) {
        active.status = "refused";
        active.refusal = std::string(pluginset::toString(e.reason())) + ": " + e.what();
        log.error("the plugin set " + cfg.pluginSet + " is refused (" + active.refusal + "); no plugins run");
        return {};
    } catch (const std::exception& e) {
        active.status = "refused";
        active.refusal = e.what();
        log.error("the plugin set " + cfg.pluginSet + " cannot be used: " + active.refusal);
        return {};
    }
    active.name = set.name;
    active.sequence = set.sequence;
    active.region = set.regionName;
    active.regionHsaId = set.regionHsaId;
    active.expires = set.expires;
    active.status = set.status;
    active.isSigned = set.isSigned;
    active.warnings = set.warnings;
    for (const auto& s : set.signers) active.signers.push_back(s.subject);
    for (const auto& w : set.warnings) log.warning(w);
    std::vector<plugin::PluginBundle> out;
    for (auto& p : set.plugins) out.push_back(plugin::PluginBundle{p.id, p.version, std::move(p.files)});
    return out;
}

}  // namespace

// The clinic's hook scripts (lua.scripts_dir): each in its own sandbox, hooked onto the bus.
void installLuaHooks(server::Box& box) {
    box.addModule([](server::Box& b) {
        const auto& cfg = b.config();
        lua::Limits limits;
        limits.memoryBytes = static_cast<std::size_t>(cfg.luaMemoryLimit);
        limits.instructions = cfg.luaInstructionLimit;
        limits.time = std::chrono::milliseconds(cfg.luaTimeLimitMs);
        auto host = std::make_shared<lua::HookHost>(b.bus(), b.clock(), limits, [](const std::string& level, const std::string& m) {
            auto& log = Poco::Logger::get("lua");
            if (level == "error") log.error(m);
            else if (level == "warn") log.warning(m);
            else log.information(m);
        });
        if (!cfg.luaScriptsDir.empty()) {
            host->loadDirectory(cfg.luaScriptsDir);
            for (const auto& s : host->scripts())
                if (!s.loaded) Poco::Logger::get("lua").error("script refused: " + s.error);
        }
        http::Route r;
        r.owner = "core";
        r.method = "GET";
        r.pattern = "/api/v1/lua/scripts";
        r.access = Access::only({Role::It, Role::Admin});
        r.doc.summary = "The clinic's hook scripts, their events and last errors";
        r.doc.tag = "lua";
        r.handler = [host, &b](Request&) {
            Poco::JSON::Array::Ptr arr = new Poco::JSON::Array;
            for (const auto& s : host->scripts()) {
                Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
                o->set("file", s.file);
                o->set("loaded", s.loaded);
                o->set("error", s.error);
                Poco::JSON::Array::Ptr events = new Poco::JSON::Array;
                for (const auto& e : s.events) events->add(e);
                o->set("events", events);
                arr->add(o);
            }
            Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
            o->set("scripts_dir", b.config().luaScriptsDir);
            o->set("scripts", arr);
            return Response::json(o);
        };
        b.routes().add(std::move(r));
    });
}

void installModules(server::Box& box) {
    auth::install(box);
    audit::installReview(box);
    server::installPluginSettings(box);
    installLuaHooks(box);
    box.setBundleSource(verifiedBundles);
}

}  // namespace klinikbox::app
