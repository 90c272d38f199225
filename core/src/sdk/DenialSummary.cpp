#include <klinikbox/DenialSummary.h>

#include <algorithm>

namespace klinikbox {

// Drops sources whose window has ended and that have nothing left to report; at most once a
// tenth of a window, so a full table is not scanned on every denial.
void DenialSummary::prune(long long now) {
    if (now - lastPrune_ < std::max<long long>(1, options_.window.count() / 10)) return;
    lastPrune_ = now;
    for (auto it = buckets_.begin(); it != buckets_.end();) {
        if (now - it->second.windowStart >= options_.window.count() && it->second.suppressed == 0) it = buckets_.erase(it);
        else ++it;
    }
}

DenialSummary::Decision DenialSummary::onDenial(std::string_view source) {
    std::lock_guard lock(mu_);
    const long long now = std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();
    auto it = buckets_.find(source);
    if (it == buckets_.end()) {
        if (buckets_.size() >= options_.maxKeys) prune(now);
        const std::string key = buckets_.size() >= options_.maxKeys ? std::string("*") : std::string(source);
        it = buckets_.find(key);
        if (it == buckets_.end()) it = buckets_.emplace(key, Bucket{now, 0, 0}).first;
    }
    Bucket& b = it->second;
    Decision d;
    d.key = it->first;
    if (now - b.windowStart >= options_.window.count()) {
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

std::size_t DenialSummary::size() {
    std::lock_guard lock(mu_);
    return buckets_.size();
}

}  // namespace klinikbox
