// AttemptLimiter: counts attempts per key (a network address, a registered kiosk device) in a
// fixed window and says when a key has used up its allowance, in bounded memory.
//
// Exactly: a key may make `limit` counted attempts in a window of `window` that starts with
// its first counted attempt; while it has `limit` counted attempts, `blocked` is true and the
// caller refuses the key (429) until the window ends. So with limit 20, attempts 1..20 are
// answered and the 21st is refused.
//
// Bounded and fair: at most `maxKeys` keys are tracked. When a new key arrives at a full
// table, the limiter drops, in this order, an expired entry, else the unblocked entry whose
// window is oldest, else the blocked entry whose block ends soonest. It never clears the table
// wholesale, so flooding from many addresses cannot unblock a blocked key while any unblocked
// entry is left to evict.
//
// Thread-safe. Time comes from the injected Clock.
#pragma once

#include <klinikbox/Clock.h>

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace klinikbox {

class AttemptLimiter {
public:
    struct Options {
        int limit = 20;                    // counted attempts per key and window
        std::chrono::seconds window{600};  // from the key's first counted attempt
        std::size_t maxKeys = 10000;       // keys tracked at once
    };

    AttemptLimiter(const Clock& clock, Options options);

    // True while `key` has `limit` counted attempts in its current window.
    [[nodiscard]] bool blocked(std::string_view key);
    // Counts one attempt of `key`; returns true when the key is blocked afterwards.
    bool count(std::string_view key);
    // Seconds until `key` may try again (0 when it is not blocked); for Retry-After.
    [[nodiscard]] long long retryAfter(std::string_view key);
    // Keys tracked now (for tests and metrics).
    [[nodiscard]] std::size_t size();
    [[nodiscard]] const Options& options() const { return options_; }

private:
    struct Entry {
        long long windowStart = 0;  // seconds since the epoch
        int count = 0;
    };
    using Index = std::set<std::pair<long long, std::string>>;  // (window start, key)

    [[nodiscard]] long long nowSeconds() const;
    [[nodiscard]] bool expired(const Entry& e, long long now) const { return now - e.windowStart >= options_.window.count(); }
    [[nodiscard]] bool isBlocked(const Entry& e) const { return e.count >= options_.limit; }
    Index& indexOf(const Entry& e) { return isBlocked(e) ? blockedIdx_ : openIdx_; }
    void erase(std::map<std::string, Entry, std::less<>>::iterator it);
    void evictOne(long long now);

    const Clock& clock_;
    Options options_;
    std::mutex mu_;
    std::map<std::string, Entry, std::less<>> entries_;
    Index openIdx_, blockedIdx_;
};

}  // namespace klinikbox
