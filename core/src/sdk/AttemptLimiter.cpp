#include <klinikbox/AttemptLimiter.h>

#include <algorithm>
#include <stdexcept>

namespace klinikbox {

AttemptLimiter::AttemptLimiter(const Clock& clock, Options options) : clock_(clock), options_(options) {
    if (options_.limit < 1 || options_.window.count() < 1 || options_.maxKeys < 1)
        throw std::invalid_argument("AttemptLimiter needs limit, window and maxKeys of at least 1");
}

long long AttemptLimiter::nowSeconds() const {
    return std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();
}

void AttemptLimiter::erase(std::map<std::string, Entry, std::less<>>::iterator it) {
    indexOf(it->second).erase({it->second.windowStart, it->first});
    entries_.erase(it);
}

// Makes room for one new key: an expired entry first (the oldest window of either index is
// the first to expire), then the oldest unblocked entry, then the blocked entry whose block
// ends soonest.
void AttemptLimiter::evictOne(long long now) {
    const Index::iterator open = openIdx_.begin();
    const Index::iterator blocked = blockedIdx_.begin();
    auto dropKey = [&](const std::string& key) { erase(entries_.find(key)); };
    if (open != openIdx_.end() && now - open->first >= options_.window.count()) return dropKey(std::string(open->second));
    if (blocked != blockedIdx_.end() && now - blocked->first >= options_.window.count())
        return dropKey(std::string(blocked->second));
    if (open != openIdx_.end()) return dropKey(std::string(open->second));
    if (blocked != blockedIdx_.end()) return dropKey(std::string(blocked->second));
}

bool AttemptLimiter::blocked(std::string_view key) {
    std::lock_guard lock(mu_);
    const auto it = entries_.find(key);
    if (it == entries_.end()) return false;
    if (expired(it->second, nowSeconds())) {
        erase(it);
        return false;
    }
    return isBlocked(it->second);
}

bool AttemptLimiter::count(std::string_view key) {
    std::lock_guard lock(mu_);
    const long long now = nowSeconds();
    auto it = entries_.find(key);
    if (it != entries_.end() && expired(it->second, now)) {
        erase(it);
        it = entries_.end();
    }
    if (it == entries_.end()) {
        while (entries_.size() >= options_.maxKeys) evictOne(now);
        it = entries_.emplace(std::string(key), Entry{now, 0}).first;
        openIdx_.insert({now, it->first});
    }
    Entry& e = it->second;
    if (isBlocked(e)) return true;  // a blocked key's further attempts change nothing
    indexOf(e).erase({e.windowStart, it->first});
    ++e.count;
    indexOf(e).insert({e.windowStart, it->first});
    return isBlocked(e);
}

long long AttemptLimiter::retryAfter(std::string_view key) {
    std::lock_guard lock(mu_);
    const auto it = entries_.find(key);
    if (it == entries_.end() || !isBlocked(it->second)) return 0;
    return std::max<long long>(0, it->second.windowStart + options_.window.count() - nowSeconds());
}

std::size_t AttemptLimiter::size() {
    std::lock_guard lock(mu_);
    return entries_.size();
}

}  // namespace klinikbox
