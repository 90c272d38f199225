// DenialSummary: bounds how many audit records repeated anonymous denials of one source write.
// Every denial is still answered and counted; per source, the first `perWindow` denials of a
// window are recorded one by one and the rest are counted and reported as one summary record
// with the source's next denial in a later window — so 2,000 bogus look-ups write a handful of
// rows, and nothing goes unrecorded. The core's DenialLimiter (access denials per address and user) is built on it.
//
// Bounded: at most `maxKeys` sources are tracked; a source that arrives at a full table (after
// entries with nothing left to report have been pruned) shares one bucket, "*", with the rest.
// Thread-safe. Time comes from the injected Clock.
#pragma once

#include <klinikbox/Clock.h>

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace klinikbox {

class DenialSummary {
public:
    struct Options {
        int perWindow = 5;
        std::chrono::seconds window{600};
        std::size_t maxKeys = 10000;
    };
    struct Decision {
        bool record = false;             // write this denial's own record
        long long suppressedBefore = 0;  // write a summary of this many earlier unrecorded denials
        std::string key;                 // the source the decision is about ("*" for the shared bucket)
    };

    DenialSummary(const Clock& clock, Options options) : clock_(clock), options_(options) {}

    [[nodiscard]] Decision onDenial(std::string_view source);
    [[nodiscard]] std::size_t size();

private:
    struct Bucket {
        long long windowStart = 0;
        int recorded = 0;
        long long suppressed = 0;
    };
    void prune(long long now);

    const Clock& clock_;
    Options options_;
    std::mutex mu_;
    std::map<std::string, Bucket, std::less<>> buckets_;
    long long lastPrune_ = 0;
};

}  // namespace klinikbox
