// The journal's log review asks for a period of days; the days are the box's (Swedish time),
// the days the review shows each access in, including the days summer time begins and ends.
#include "LogReview.h"

#include "TimeZone.h"

#include <klinikbox/Problem.h>

#include <gtest/gtest.h>

using namespace klinikbox;
using namespace klinikbox::journal;

namespace {
Period reviewPeriod(const std::string& from, const std::string& to) {
    Request r;
    r.query.emplace("from", from);
    r.query.emplace("to", to);
    return periodParam(r);
}
}  // namespace

TEST(JournalReviewPeriod, ThePeriodRunsFromMidnightToMidnightSwedishTime) {
    kbtest::ScopedTimeZone zone("Europe/Stockholm");
    auto p = reviewPeriod("2026-12-07", "2026-12-07");
    EXPECT_EQ(p.from, 1796598000);           // 2026-12-06T23:00:00Z
    EXPECT_EQ(p.until, 1796598000 + 86400);  // 2026-12-07T23:00:00Z
    p = reviewPeriod("2026-07-02", "2026-07-03");
    EXPECT_EQ(p.from, 1782943200);  // 2026-07-01T22:00:00Z
    EXPECT_EQ(p.until - p.from, 2 * 86400);
    p = reviewPeriod("2026-03-29", "2026-03-29");
    EXPECT_EQ(p.until - p.from, 23 * 3600);
    p = reviewPeriod("2026-10-25", "2026-10-25");
    EXPECT_EQ(p.until - p.from, 25 * 3600);
}

TEST(JournalReviewPeriod, ADayThatDoesNotExistOrAPeriodBackwardsIsRefused) {
    kbtest::ScopedTimeZone zone("Europe/Stockholm");
    for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
             {"2026-02-30", "2026-03-01"}, {"2026-+2-01", "2026-03-01"}, {"2026-03-02", "2026-03-01"}, {"2020-01-01", "2026-01-01"}}) {
        try {
            (void)reviewPeriod(from, to);
            ADD_FAILURE() << from << " " << to;
        } catch (const Problem& e) {
            EXPECT_EQ(e.status(), 400) << from << " " << to;
        }
    }
}
