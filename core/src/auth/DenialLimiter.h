// Bounds how many access denials (401/403) one source can write to the audit log. Every
// denial is still answered; after `perWindow` records per (address, user) in a window, the
// rest are counted and written as one summary record when that source is next denied in a
// later window, so a scanner cannot flood the log (or the disk) while nothing goes unrecorded.
#pragma once

#include <klinikbox/Clock.h>

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>

namespace klinikbox::auth {

class DenialLimiter {
public:
    struct Options {
        int perWindow = 20;
        std::chrono::seconds window{60};
        std::size_t maxSources = 10000;  // beyond this, all new sources share one bucket
    };
    struct Decision {
        bool record = false;          // write this denial's own record
        long long suppressedBefore = 0;  // write a summary of this many earlier unrecorded denials
    };

    DenialLimiter(const Clock& clock, Options options) : clock_(clock), options_(options) {}
    explicit DenialLimiter(const Clock& clock) : DenialLimiter(clock, Options{}) {}

    Decision onDenial(const std::string& address, const std::string& user);

private:
    struct Bucket {
        std::chrono::system_clock::time_point windowStart{};
        int recorded = 0;
        long long suppressed = 0;
    };
    const Clock& clock_;
    Options options_;
    std::mutex mu_;
    std::map<std::string, Bucket> buckets_;
};

}  // namespace klinikbox::auth
