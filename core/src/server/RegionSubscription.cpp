#include "server/RegionSubscription.h"

#include "pluginset/Mirror.h"
#include "pluginset/TrustStore.h"
#include "server/PluginSets.h"

#include <Poco/JSON/Object.h>
#include <Poco/Logger.h>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace klinikbox::server {

namespace fs = std::filesystem;

RegionSubscription::RegionSubscription(Box& box) : box_(box) { status_.url = box.config().subscription.url; }

RegionSubscription::~RegionSubscription() { stop(); }

SubscriptionStatus RegionSubscription::status() const {
    std::lock_guard l(mu_);
    return status_;
}

void RegionSubscription::pollOnce() {
    auto& log = Poco::Logger::get("region");
    const auto& cfg = box_.config();
    const auto now = box_.clock().now();
    try {
        const auto trust = pluginset::TrustStore::load(cfg.trustDir, cfg.localTrustDir());
        const auto stateDir = (fs::path(cfg.dataDir) / "region-mirror").string();
        const auto r = pluginset::pollMirror(cfg.subscription.url, trust, stateDir, now);
        const pluginset::Region* region = nullptr;
        for (const auto& rg : trust.regions())
            if (rg.hsaId == r.index.regionHsaId) region = &rg;
        if (!region) throw std::runtime_error("the index names region " + r.index.regionHsaId + ", which this box does not trust");
        // CRLs: into the region's trust entry, where every verification reads them.
        bool crlChanged = false;
        for (const auto& c : r.crls) {
            std::ifstream in(c, std::ios::binary);
            const std::string bytes{std::istreambuf_iterator<char>(in), {}};
            const auto dest = fs::path(region->path) / ("crl-mirror-" + fs::path(c).filename().string());
            std::ifstream old(dest, std::ios::binary);
            if (old && std::string(std::istreambuf_iterator<char>(old), {}) == bytes) continue;
            {
                std::ofstream out(dest.string() + ".tmp", std::ios::binary | std::ios::trunc);
                out << bytes;
            }
            fs::rename(dest.string() + ".tmp", dest);
            crlChanged = true;
            log.information("installed the region's CRL " + fs::path(c).filename().string() + " from " + cfg.subscription.url);
        }
        // Trust-anchor rollover: roots announced in an index signed under the current root.
        if (!r.roots.empty()) {
            const int added = pluginset::installAnnouncedRoots(cfg.trustDir, *region, r.roots);
            if (added) log.warning("installed " + std::to_string(added) + " new root(s) of " + region->name +
                                   " announced under its current root (trust-anchor rollover)");
        }
        for (const auto& w : r.warnings) log.warning(w);
        long long staged = 0;
        const std::string policy = cfg.subscription.activate == "region" ? r.index.activate : cfg.subscription.activate;
        for (const auto& s : r.newSets) {
            std::ifstream in(s, std::ios::binary);
            const std::string bytes{std::istreambuf_iterator<char>(in), {}};
            audit::Actor system;
            system.username = "system";
            system.role = "system";
            try {
                const long long id = storeVerifiedSet(box_, bytes, system);
                if (!id) continue;
                if (policy == "auto") {
                    log.information("activating the region's new set " + fs::path(s).filename().string() +
                                    " (activate: auto)");
                    activateStoredSet(box_, id);
                } else {
                    staged = id;
                    log.warning("the region published a new set " + fs::path(s).filename().string() +
                                "; it is stored for an administrator to activate");
                }
            } catch (const pluginset::VerifyError& e) {
                log.warning("the region's set " + fs::path(s).filename().string() + " is not stored: " +
                            pluginset::toString(e.reason()) + ": " + e.what());
            }
        }
        // A new CRL can move the dates the running set depends on.
        if (crlChanged && box_.activeSet().isSigned) {
            pluginset::VerifiedSet probe;
            probe.isSigned = true;
            probe.name = box_.activeSet().name;
            probe.expires = box_.activeSet().expires;
            probe.regionHsaId = box_.activeSet().regionHsaId;
            auto fresh = pluginset::expiriesOf(probe, pluginset::TrustStore::load(cfg.trustDir, cfg.localTrustDir()));
            std::vector<pluginset::Expiry> keep;
            for (const auto& e : box_.activeSet().expiries)
                if (e.kind == "signer") keep.push_back(e);
            for (auto& e : fresh)
                if (e.kind != "signer") keep.push_back(e);
            box_.activeSet().expiries = keep;
        }
        std::lock_guard l(mu_);
        status_.indexVersion = r.index.version;
        status_.indexExpires = r.index.expires;
        status_.lastSuccess = pluginset::formatInstant(now);
        status_.lastError.clear();
        status_.failures = 0;
        if (staged) status_.stagedSetId = staged;
    } catch (const std::exception& e) {
        std::lock_guard l(mu_);
        ++status_.failures;
        status_.lastError = e.what();
        log.warning("the region's publication at " + cfg.subscription.url + " could not be used (" + e.what() +
                    "); the running plugin set is unchanged; next try in " +
                    std::to_string(pluginset::backoff(std::chrono::minutes(cfg.subscription.pollMinutes), status_.failures)
                                       .count()) +
                    " minutes");
    }
}

void RegionSubscription::start() {
    thread_ = std::thread([this] {
        std::unique_lock lock(mu_);
        while (!stopping_) {
            lock.unlock();
            pollOnce();
            lock.lock();
            const auto wait = pluginset::backoff(std::chrono::minutes(box_.config().subscription.pollMinutes), status_.failures);
            cv_.wait_for(lock, wait, [&] { return stopping_; });
        }
    });
}

void RegionSubscription::stop() {
    {
        std::lock_guard l(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void installRegionSubscription(Box& box) {
    if (box.config().subscription.url.empty()) return;
    auto sub = std::make_shared<RegionSubscription>(box);
    box.onStarted([sub] { sub->start(); });
    box.onStop([sub] { sub->stop(); });
    box.metrics().addCollector([sub](std::string& out) {
        const auto s = sub->status();
        out += "# HELP kb_region_index_version Version of the region's signed index last accepted.\n"
               "# TYPE kb_region_index_version gauge\nkb_region_index_version " + std::to_string(s.indexVersion) + "\n";
        out += "# HELP kb_region_poll_failures Polls of the region's publication failed in a row.\n"
               "# TYPE kb_region_poll_failures gauge\nkb_region_poll_failures " + std::to_string(s.failures) + "\n";
    });
    box.addReadyzPart([sub](Poco::JSON::Object& o) {
        const auto s = sub->status();
        Poco::JSON::Object::Ptr j = new Poco::JSON::Object;
        j->set("url", s.url);
        j->set("index_version", s.indexVersion);
        j->set("index_expires", s.indexExpires);
        j->set("last_success", s.lastSuccess);
        j->set("failures", s.failures);
        if (!s.lastError.empty()) j->set("warning", "the region's publication could not be used: " + s.lastError);
        if (s.stagedSetId) j->set("staged_set_id", s.stagedSetId);
        o.set("region_subscription", j);
    });
}

}  // namespace klinikbox::server
