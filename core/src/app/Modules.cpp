#include "app/Modules.h"

#include "audit/AuditReview.h"
#include "auth/AuthModule.h"
#include "pluginset/Verifier.h"
#include "server/PluginSettings.h"

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

void installModules(server::Box& box) {
    auth::install(box);
    audit::installReview(box);
    server::installPluginSettings(box);
    box.setBundleSource(verifiedBundles);
}

}  // namespace klinikbox::app
