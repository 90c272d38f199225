// The bounded attempt limiter (kiosk, phone, invitation and VIP throttles) and the denial
// summary that keeps anonymous floods out of the audit log.
#include <klinikbox/AttemptLimiter.h>
#include <klinikbox/DenialSummary.h>

#include <gtest/gtest.h>

#include <string>

using namespace klinikbox;
using namespace std::chrono;

namespace {

FixedClock clockAt(int s) { return FixedClock(system_clock::time_point(seconds(1'800'000'000 + s))); }

}  // namespace

TEST(AttemptLimiter, AnswersExactlyLimitAttemptsAndRefusesTheNext) {
    auto clock = clockAt(0);
    AttemptLimiter l(clock, {10, seconds(600), 100});
    for (int i = 1; i <= 9; ++i) {
        EXPECT_FALSE(l.blocked("a")) << i;
        EXPECT_FALSE(l.count("a")) << i;
    }
    EXPECT_FALSE(l.blocked("a"));
    EXPECT_TRUE(l.count("a")) << "the 10th counted attempt uses up the allowance";
    EXPECT_TRUE(l.blocked("a")) << "so the 11th is refused";
    EXPECT_FALSE(l.blocked("b")) << "another key is not affected";
}

TEST(AttemptLimiter, ABlockEndsWithItsWindowAndRetryAfterSaysWhen) {
    auto clock = clockAt(0);
    AttemptLimiter l(clock, {2, seconds(600), 100});
    l.count("a");
    clock.advance(seconds(100));
    l.count("a");
    EXPECT_TRUE(l.blocked("a"));
    EXPECT_EQ(l.retryAfter("a"), 500) << "the window runs from the first counted attempt";
    clock.advance(seconds(499));
    EXPECT_TRUE(l.blocked("a"));
    clock.advance(seconds(1));
    EXPECT_FALSE(l.blocked("a"));
    EXPECT_EQ(l.retryAfter("a"), 0);
    EXPECT_FALSE(l.count("a")) << "a new window starts with one attempt";
}

TEST(AttemptLimiter, AttemptsOfABlockedKeyDoNotExtendItsBlock) {
    auto clock = clockAt(0);
    AttemptLimiter l(clock, {1, seconds(60), 100});
    EXPECT_TRUE(l.count("a"));
    clock.advance(seconds(59));
    EXPECT_TRUE(l.count("a"));
    clock.advance(seconds(1));
    EXPECT_FALSE(l.blocked("a"));
}

TEST(AttemptLimiter, FloodingFromManyKeysNeverUnblocksABlockedKey) {
    auto clock = clockAt(0);
    AttemptLimiter l(clock, {3, seconds(600), 50});
    for (int i = 0; i < 3; ++i) l.count("clinic-wifi");
    ASSERT_TRUE(l.blocked("clinic-wifi"));
    for (int i = 0; i < 10'000; ++i) l.count("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256));
    EXPECT_LE(l.size(), 50u) << "bounded";
    EXPECT_TRUE(l.blocked("clinic-wifi")) << "the table was not cleared wholesale";
}

TEST(AttemptLimiter, AFullTableEvictsExpiredEntriesFirstThenTheOldestUnblocked) {
    auto clock = clockAt(0);
    AttemptLimiter l(clock, {2, seconds(600), 3});
    l.count("old");  // window 0
    clock.advance(seconds(10));
    l.count("mid");
    l.count("mid");  // blocked
    clock.advance(seconds(10));
    l.count("new");  // window 20
    l.count("x");    // full: evicts "old", the oldest unblocked
    EXPECT_EQ(l.size(), 3u);
    EXPECT_TRUE(l.blocked("mid"));
    EXPECT_TRUE(l.count("new")) << "kept: its second attempt blocks it";
    EXPECT_TRUE(l.blocked("new"));
    // Now every entry but x is blocked; a new key evicts x (unblocked) rather than a blocked one.
    l.count("y");
    EXPECT_TRUE(l.blocked("mid"));
    EXPECT_TRUE(l.blocked("new"));
    // After the windows end, expired entries are dropped first.
    clock.advance(seconds(600));
    l.count("z");
    EXPECT_FALSE(l.blocked("mid"));
}

TEST(AttemptLimiter, WhenEveryEntryIsBlockedTheBlockThatEndsSoonestMakesRoom) {
    auto clock = clockAt(0);
    AttemptLimiter l(clock, {1, seconds(600), 2});
    l.count("first");
    clock.advance(seconds(5));
    l.count("second");
    clock.advance(seconds(5));
    l.count("third");
    EXPECT_FALSE(l.blocked("first")) << "evicted: its block was the nearest to its end";
    EXPECT_TRUE(l.blocked("second"));
    EXPECT_TRUE(l.blocked("third"));
}

TEST(AttemptLimiter, RefusesNonsenseOptions) {
    auto clock = clockAt(0);
    EXPECT_THROW(AttemptLimiter(clock, {0, seconds(60), 10}), std::invalid_argument);
    EXPECT_THROW(AttemptLimiter(clock, {1, seconds(0), 10}), std::invalid_argument);
    EXPECT_THROW(AttemptLimiter(clock, {1, seconds(60), 0}), std::invalid_argument);
}

TEST(DenialSummary, TwoThousandDenialsWriteAFewRecordsAndOneSummary) {
    auto clock = clockAt(0);
    DenialSummary s(clock, {5, seconds(600), 100});
    int records = 0;
    for (int i = 0; i < 2000; ++i) {
        const auto d = s.onDenial("10.0.0.7");
        records += d.record;
        EXPECT_EQ(d.suppressedBefore, 0);
    }
    EXPECT_EQ(records, 5);
    clock.advance(seconds(600));
    const auto d = s.onDenial("10.0.0.7");
    EXPECT_TRUE(d.record);
    EXPECT_EQ(d.suppressedBefore, 1995) << "nothing goes unrecorded";
    EXPECT_EQ(d.key, "10.0.0.7");
}

TEST(DenialSummary, ManySourcesShareOneBucketWhenTheTableIsFull) {
    auto clock = clockAt(0);
    DenialSummary s(clock, {1, seconds(600), 10});
    int records = 0;
    for (int i = 0; i < 1000; ++i) records += s.onDenial("a" + std::to_string(i)).record;
    EXPECT_LE(s.size(), 11u);
    EXPECT_EQ(records, 11) << "ten sources of their own and one record for the shared bucket";
    clock.advance(seconds(600));
    const auto d = s.onDenial("b");
    EXPECT_EQ(d.key, "b") << "pruned after the window: entries with nothing to report make room";
}
