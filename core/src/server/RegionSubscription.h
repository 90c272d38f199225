// The box's subscription to its region's publication (config region.subscription): polls the
// region's mirror on a schedule, with a doubling backoff after failures, through
// pluginset::pollMirror, which verifies the signed index and every file before anything is
// stored. New CRLs are installed into the region's trust entry; a new set is verified
// again as an upload is, stored, and either left for an admin to activate (stage) or
// activated (auto), by the region's policy or the box's setting. Failures never touch the
// running set: they show in /readyz, /metrics and the log.
#pragma once

#include "server/Box.h"

#include <condition_variable>
#include <mutex>
#include <thread>

namespace klinikbox::server {

struct SubscriptionStatus {
    std::string url;
    long long indexVersion = 0;
    std::string indexExpires;
    std::string lastSuccess, lastError;  // instants / text
    int failures = 0;                    // polls failed in a row
    long long stagedSetId = 0;           // the last new set stored for an admin to activate
};

class RegionSubscription {
public:
    explicit RegionSubscription(Box& box);
    ~RegionSubscription();
    void start();
    void stop();
    // One poll now (tests, the console's "poll now"). Never throws.
    void pollOnce();
    [[nodiscard]] SubscriptionStatus status() const;

private:
    Box& box_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    bool stopping_ = false;
    SubscriptionStatus status_;
    std::thread thread_;
};

// Adds the subscription (when region.subscription.url is set) with its /readyz, /metrics
// and API parts. Called by installPluginSets.
void installRegionSubscription(Box& box);

}  // namespace klinikbox::server
