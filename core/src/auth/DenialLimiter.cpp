#include "auth/DenialLimiter.h"

namespace klinikbox::auth {

DenialLimiter::Decision DenialLimiter::onDenial(const std::string& address, const std::string& user) {
    const auto now = clock_.now();
    std::lock_guard lock(mu_);
    // Forget sources whose window ended and that have nothing left to report.
    if (buckets_.size() >= options_.maxSources) {
        for (auto it = buckets_.begin(); it != buckets_.end();) {
            if (now - it->second.windowStart >= options_.window && it->second.suppressed == 0)
                it = buckets_.erase(it);
            else
                ++it;
        }
    }
    std::string key;
    key.reserve(address.size() + user.size() + 1);
    key.append(address).append(1, '|').append(user);
    const bool full = !buckets_.count(key) && buckets_.size() >= options_.maxSources;
    Bucket& b = buckets_[full ? std::string(1, '*') : key];
    Decision d;
    if (b.recorded == 0 && b.suppressed == 0 && b.windowStart.time_since_epoch().count() == 0) b.windowStart = now;
    if (now - b.windowStart >= options_.window) {
        d.suppressedBefore = b.suppressed;
        b = Bucket{now, 0, 0};
    }
    if (b.recorded < options_.perWindow) {
        ++b.recorded;
        d.record = true;
    } else {
        ++b.suppressed;
    }
    return d;
}

}  // namespace klinikbox::auth
