#include "auth/DenialLimiter.h"

#include <gtest/gtest.h>

using namespace klinikbox;
using namespace std::chrono_literals;

TEST(DenialLimiter, RecordsUpToTheLimitThenSummarisesTheRestInTheNextWindow) {
    FixedClock clock(std::chrono::system_clock::time_point(std::chrono::hours(24 * 20000)));
    auth::DenialLimiter lim(clock, {3, 60s, 100});
    int recorded = 0;
    for (int i = 0; i < 10; ++i) recorded += lim.onDenial("10.0.0.5", "") .record ? 1 : 0;
    EXPECT_EQ(recorded, 3);
    // Another source is not affected by the first one's flood.
    EXPECT_TRUE(lim.onDenial("10.0.0.6", "").record);
    EXPECT_TRUE(lim.onDenial("10.0.0.5", "sam").record) << "a logged-in user is its own source";
    clock.advance(59s);
    EXPECT_FALSE(lim.onDenial("10.0.0.5", "").record);
    clock.advance(1s);
    const auto d = lim.onDenial("10.0.0.5", "");
    EXPECT_TRUE(d.record);
    EXPECT_EQ(d.suppressedBefore, 8);
    EXPECT_EQ(lim.onDenial("10.0.0.5", "").suppressedBefore, 0);
}

TEST(DenialLimiter, ManySourcesShareOneBucketBeyondTheCap) {
    FixedClock clock(std::chrono::system_clock::time_point(std::chrono::hours(24 * 20000)));
    auth::DenialLimiter lim(clock, {2, 60s, 4});
    int recorded = 0;
    for (int i = 0; i < 100; ++i) recorded += lim.onDenial(std::string("10.1.0.").append(std::to_string(i)), "").record ? 1 : 0;
    EXPECT_EQ(recorded, 4 + 2) << "four sources of their own, then one shared bucket";
    clock.advance(61s);
    // Stale buckets are dropped, so new sources get their own again.
    EXPECT_TRUE(lim.onDenial("10.2.0.1", "").record);
    EXPECT_TRUE(lim.onDenial("10.2.0.1", "").record);
}
