#include "Ledger.h"

#include <gtest/gtest.h>

using namespace efrikort;
using namespace std::chrono;

namespace {
Date d(int y, unsigned m, unsigned dd) { return Date{year{y}, month{m}, day{dd}}; }
const std::vector<Ceiling> kCeilings = {{d(2023, 1, 1), 130000}, {d(2024, 1, 1), 140000}, {d(2025, 1, 1), 145000}};
}  // namespace

TEST(EfrikortLedger, TheCeilingIsTheOneValidOnTheDate) {
    EXPECT_EQ(ceilingOn(kCeilings, d(2023, 12, 31)), 130000);
    EXPECT_EQ(ceilingOn(kCeilings, d(2024, 1, 1)), 140000);
    EXPECT_EQ(ceilingOn(kCeilings, d(2026, 6, 1)), 145000);
    EXPECT_FALSE(ceilingOn(kCeilings, d(2022, 12, 31)));
}

TEST(EfrikortLedger, TheWorkedExampleOf1177FreeUntilTheDayBeforeTheFirstVisitNextYear) {
    // First visit 25 April, the ceiling reached 10 October: free until 24 April next year.
    std::vector<Fee> fees = {{d(2025, 4, 25), 30000}, {d(2025, 6, 1), 40000}, {d(2025, 8, 15), 50000}, {d(2025, 10, 10), 25000}};
    auto w = windowOn(fees, d(2025, 12, 1), kCeilings);
    ASSERT_TRUE(w.start);
    EXPECT_EQ(isoDate(*w.start), "2025-04-25");
    EXPECT_EQ(isoDate(w.end), "2026-04-24");
    EXPECT_TRUE(w.frikort);
    EXPECT_EQ(isoDate(*w.frikortFrom), "2025-10-10");
    EXPECT_EQ(w.leftOre, 0);
    // The window crosses the year end: on 24 April 2026 still free, on 25 April a new window.
    EXPECT_TRUE(windowOn(fees, d(2026, 4, 24), kCeilings).frikort);
    fees.push_back({d(2026, 4, 25), 20000});
    w = windowOn(fees, d(2026, 4, 25), kCeilings);
    EXPECT_FALSE(w.frikort);
    EXPECT_EQ(isoDate(*w.start), "2026-04-25");
    EXPECT_EQ(w.paidOre, 20000);
    EXPECT_EQ(w.leftOre, 125000);
}

TEST(EfrikortLedger, AWindowThatDoesNotReachTheCeilingRollsOverTwelveMonths) {
    const std::vector<Fee> fees = {{d(2024, 11, 1), 40000}, {d(2025, 3, 1), 40000}, {d(2025, 10, 1), 40000}};
    // On 2025-10-31 all three count (the first window runs to 2025-10-31).
    auto w = windowOn(fees, d(2025, 10, 31), kCeilings);
    EXPECT_EQ(w.paidOre, 120000);
    EXPECT_EQ(w.leftOre, 25000);
    // On 2025-11-01 the fee of 2024-11-01 drops out.
    w = windowOn(fees, d(2025, 11, 1), kCeilings);
    EXPECT_EQ(isoDate(*w.start), "2025-03-01");
    EXPECT_EQ(w.paidOre, 80000);
    EXPECT_EQ(w.leftOre, 65000);
}

TEST(EfrikortLedger, AFrikortReachedInARolledWindowEndsWithThatWindow) {
    // The first window (2024-01-10..2025-01-09) does not reach the ceiling and rolls to the
    // fee of 2024-06-01, whose window (to 2025-05-31) reaches 1 450 kr, the ceiling in force on
    // the visit day (issue 16.3), on 2025-02-01.
    const std::vector<Fee> fees = {{d(2024, 1, 10), 50000}, {d(2024, 6, 1), 50000}, {d(2025, 2, 1), 95000}};
    auto w = windowOn(fees, d(2025, 4, 1), kCeilings);
    EXPECT_TRUE(w.frikort);
    EXPECT_EQ(isoDate(*w.start), "2024-06-01");
    // After that frikort window has ended, no fee since starts a new one: the whole ceiling is
    // left (the fee of 2025-02-01 belonged to the frikort window and must not be counted again).
    w = windowOn(fees, d(2025, 8, 1), kCeilings);
    EXPECT_FALSE(w.start.has_value());
    EXPECT_FALSE(w.frikort);
    EXPECT_EQ(w.paidOre, 0);
    EXPECT_EQ(w.leftOre, 145000);
}

TEST(EfrikortLedger, AWindowStartingOnTheLeapDayEndsOn28February) {
    // The leap day comes round on 1 March in a common year: the window runs through 28 February.
    const auto w = windowOn({{d(2028, 2, 29), 10000}}, d(2028, 3, 1), kCeilings);
    EXPECT_EQ(isoDate(w.end), "2029-02-28");
    EXPECT_EQ(isoDate(windowOn({{d(2028, 2, 28), 10000}}, d(2028, 3, 1), kCeilings).end), "2029-02-27");
    EXPECT_EQ(isoDate(windowOn({{d(2028, 3, 1), 10000}}, d(2028, 3, 1), kCeilings).end), "2029-02-28");
    // A frikort from that window is still valid on 28 February and over on 1 March.
    const std::vector<Fee> fees = {{d(2028, 2, 29), 145000}};
    EXPECT_TRUE(windowOn(fees, d(2029, 2, 28), kCeilings).frikort);
    EXPECT_FALSE(windowOn(fees, d(2029, 3, 1), kCeilings).frikort);
}

namespace {
// 1 450 kr in 2025; the year's turn raises it to 1 500 kr or lowers it to 1 350 kr.
const std::vector<Ceiling> kRaised = {{d(2025, 1, 1), 145000}, {d(2026, 1, 1), 150000}};
const std::vector<Ceiling> kLowered = {{d(2025, 1, 1), 145000}, {d(2026, 1, 1), 135000}};
const std::vector<Fee> kPaid1400In2025 = {{d(2025, 4, 25), 70000}, {d(2025, 11, 20), 70000}};
}  // namespace

TEST(EfrikortLedger, ARaisedCeilingMustBeReachedByAPatientNotYetFree) {
    // 1 400 kr paid under 1 450 kr: after the raise, 100 kr is left, not 50 kr.
    EXPECT_EQ(windowOn(kPaid1400In2025, d(2025, 12, 31), kRaised).leftOre, 5000);
    auto w = windowOn(kPaid1400In2025, d(2026, 1, 10), kRaised);
    EXPECT_FALSE(w.frikort);
    EXPECT_EQ(w.leftOre, 10000);
    EXPECT_EQ(chargeFor(20000, true, CardStatus::BelowLimit, w.leftOre), 10000);
    // 50 kr paid on 10 January reaches the old ceiling but not the one in force: no frikort,
    // 50 kr still left (the defect: a frikort shown with 50 kr left, then 0 charged).
    auto fees = kPaid1400In2025;
    fees.push_back({d(2026, 1, 10), 5000});
    w = windowOn(fees, d(2026, 1, 10), kRaised);
    EXPECT_FALSE(w.frikort);
    EXPECT_EQ(w.leftOre, 5000);
    fees.push_back({d(2026, 2, 1), 5000});
    w = windowOn(fees, d(2026, 2, 1), kRaised);
    EXPECT_TRUE(w.frikort);
    EXPECT_EQ(isoDate(*w.frikortFrom), "2026-02-01");
    EXPECT_EQ(isoDate(w.end), "2026-04-24") << "the window still runs from the first visit";
    EXPECT_EQ(w.leftOre, 0);
}

TEST(EfrikortLedger, AFrikortReachedBeforeARaiseKeepsItsEndDate) {
    const std::vector<Fee> fees = {{d(2025, 4, 25), 70000}, {d(2025, 11, 20), 75000}};
    for (const auto& today : {d(2026, 1, 1), d(2026, 4, 24)}) {
        const auto w = windowOn(fees, today, kRaised);
        EXPECT_TRUE(w.frikort) << isoDate(today);
        EXPECT_EQ(isoDate(*w.frikortFrom), "2025-11-20");
        EXPECT_EQ(isoDate(w.end), "2026-04-24");
        EXPECT_EQ(w.leftOre, 0);
    }
    EXPECT_FALSE(windowOn(fees, d(2026, 4, 25), kRaised).frikort);
}

TEST(EfrikortLedger, ALoweredCeilingAlreadyPaidFreesThePatientFromTheDayItApplies) {
    EXPECT_FALSE(windowOn(kPaid1400In2025, d(2025, 12, 31), kLowered).frikort);
    auto w = windowOn(kPaid1400In2025, d(2026, 1, 5), kLowered);
    EXPECT_TRUE(w.frikort);
    EXPECT_EQ(isoDate(*w.frikortFrom), "2026-01-01");
    EXPECT_EQ(isoDate(w.end), "2026-04-24");
    EXPECT_EQ(w.leftOre, 0);
    EXPECT_EQ(chargeFor(20000, true, CardStatus::Final, w.leftOre), 0);
    // A later fee (charged before the card was known) changes neither the frikort nor its end.
    auto fees = kPaid1400In2025;
    fees.push_back({d(2026, 2, 1), 20000});
    w = windowOn(fees, d(2026, 2, 1), kLowered);
    EXPECT_TRUE(w.frikort);
    EXPECT_EQ(isoDate(*w.frikortFrom), "2026-01-01");
}

TEST(EfrikortLedger, ALoweredCeilingNotYetPaidLeavesTheDifferenceToTheNewCeiling) {
    const std::vector<Fee> fees = {{d(2025, 4, 25), 130000}};
    auto w = windowOn(fees, d(2026, 1, 5), kLowered);
    EXPECT_FALSE(w.frikort);
    EXPECT_EQ(w.leftOre, 5000);
    EXPECT_EQ(chargeFor(20000, true, CardStatus::BelowLimit, w.leftOre), 5000);
    auto more = fees;
    more.push_back({d(2026, 1, 5), 5000});
    w = windowOn(more, d(2026, 1, 5), kLowered);
    EXPECT_TRUE(w.frikort);
    EXPECT_EQ(isoDate(*w.frikortFrom), "2026-01-05");
    // A frikort reached before the lowering keeps its end too.
    const std::vector<Fee> before = {{d(2025, 4, 25), 145000}};
    w = windowOn(before, d(2026, 3, 1), kLowered);
    EXPECT_TRUE(w.frikort);
    EXPECT_EQ(isoDate(*w.frikortFrom), "2025-04-25");
    EXPECT_EQ(isoDate(w.end), "2026-04-24");
}

TEST(EfrikortLedger, TheLastFeeIsCutSoTheTotalLandsOnTheCeiling) {
    EXPECT_EQ(chargeFor(30000, true, CardStatus::BelowLimit, 12000), 12000);
    EXPECT_EQ(chargeFor(30000, true, CardStatus::BelowLimit, 50000), 30000);
    EXPECT_EQ(chargeFor(30000, true, CardStatus::Final, 50000), 0);
    EXPECT_EQ(chargeFor(30000, true, CardStatus::Preliminary, std::nullopt), 0);
    EXPECT_EQ(chargeFor(30000, false, CardStatus::Final, 0), 30000) << "a fee that does not count is charged in full";
    EXPECT_EQ(chargeFor(30000, true, CardStatus::Unknown, std::nullopt), 30000);
    EXPECT_EQ(chargeFor(30000, true, CardStatus::BelowLimit, 0), 0) << "left 0 means nothing more to pay in this window";
    EXPECT_EQ(chargeFor(30000, true, CardStatus::Expired, 0), 30000)
        << "an expired frikort's amountToLimit (0) belongs to a window that is over: the new visit pays";
    const auto w = windowOn({{d(2025, 1, 10), 130000}, {d(2025, 2, 10), 15000}}, d(2025, 2, 10), kCeilings);
    EXPECT_TRUE(w.frikort);
    EXPECT_EQ(w.paidOre, 145000);
}

TEST(EfrikortLedger, SoapAmountsKeepOre) {
    EXPECT_EQ(soapAmount(145000), "1450.00");
    EXPECT_EQ(soapAmount(5), "0.05");
    EXPECT_EQ(parseSoapAmount("1450.00"), 145000);
    EXPECT_EQ(parseSoapAmount("0.1"), 10);
    EXPECT_EQ(parseSoapAmount("250"), 25000);
    for (const char* bad : {"", "abc", "-1", "1,50", "1e99"}) EXPECT_FALSE(parseSoapAmount(bad)) << bad;
}
