// Bounds how many access denials (401/403) one source can write to the audit log. Every
// denial is still answered; after `perWindow` records per (address, user) in a window, the
// rest are counted and written as one summary record when that source is next denied in a
// later window, so a scanner cannot flood the log (or the disk) while nothing goes unrecorded.
//
// The bookkeeping is the SDK's DenialSummary (the same mechanism the plugins use for their
// anonymous routes); this class keys it by (address, user).
#pragma once

#include <klinikbox/Clock.h>
#include <klinikbox/DenialSummary.h>

#include <chrono>
#include <cstddef>
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

    DenialLimiter(const Clock& clock, Options options)
        : summary_(clock, DenialSummary::Options{options.perWindow, options.window, options.maxSources}) {}
    explicit DenialLimiter(const Clock& clock) : DenialLimiter(clock, Options{}) {}

    Decision onDenial(const std::string& address, const std::string& user);

private:
    DenialSummary summary_;
};

}  // namespace klinikbox::auth
