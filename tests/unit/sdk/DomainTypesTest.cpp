#include <klinikbox/Clock.h>
#include <klinikbox/HsaId.h>
#include <klinikbox/Money.h>
#include <klinikbox/Problem.h>

#include "TimeZone.h"

#include <gtest/gtest.h>

using namespace klinikbox;

TEST(HsaId, AcceptsOrganisationNumberAndLocalPart) {
    EXPECT_TRUE(HsaId::parse("SE2321000016-7P5Z"));
    EXPECT_TRUE(HsaId::parse("SE162321000024-ABC123"));
    EXPECT_EQ(HsaId::parse("SE2321000016-7P5Z")->str(), "SE2321000016-7P5Z");
}

TEST(HsaId, RefusesMalformedIds) {
    for (const char* s : {"", "SE", "se2321000016-7P5Z", "SE232100001-7P5Z", "SE2321000016123-A", "SE2321000016-",
                          "SE2321000016_7P5Z", "SE2321000016-7P5Z!", "SE2321000016-ABCDEFGHIJKLMNOPQRS",
                          "DK2321000016-7P5Z"}) {
        EXPECT_FALSE(HsaId::parse(s)) << s;
    }
}

TEST(Money, ParsesKronorWithUpToTwoDecimals) {
    EXPECT_EQ(Money::parse("150")->ore(), 15000);
    EXPECT_EQ(Money::parse("150.5")->ore(), 15050);
    EXPECT_EQ(Money::parse("150,50")->ore(), 15050);
    EXPECT_EQ(Money::parse("0.05")->ore(), 5);
    EXPECT_EQ(Money::parse("999999999999.99")->ore(), 99999999999999);
}

TEST(Money, RefusesAnythingElse) {
    for (const char* s : {"", "-1", "+1", "1.234", "1.", ".5", "1e3", "1 000", "abc", "1,2,3", "9999999999999",
                          " 1", "1.5 "}) {
        EXPECT_FALSE(Money::parse(s)) << s;
    }
}

TEST(Money, FormatsForMachinesAndForSwedishReaders) {
    EXPECT_EQ(Money::fromOre(15050).toDecimalString(), "150.50");
    EXPECT_EQ(Money::fromOre(5).toDecimalString(), "0.05");
    EXPECT_EQ(Money::fromKronor(1200).toDecimalString(), "1200.00");
    EXPECT_EQ(Money::fromOre(120050).toDisplaySv(), "1 200,50 kr");
    EXPECT_EQ(Money::fromOre(-2500).toDisplaySv(), "-25,00 kr");
    EXPECT_EQ(Money::fromKronor(1234567).toDisplaySv(), "1 234 567,00 kr");
}

TEST(Money, ArithmeticStaysInOre) {
    EXPECT_EQ((Money::fromKronor(100) + Money::fromOre(50)).ore(), 10050);
    EXPECT_LT(Money::fromOre(1), Money::fromOre(2));
}

TEST(Problem, SerialisesAsRfc9457WithExtensions) {
    Problem p(422, "/problems/vetoed", "Refused", "a hook said no");
    p.with("hook", std::string("lua:triage.lua"));
    auto j = p.toJson("/api/v1/x");
    EXPECT_EQ(j->getValue<std::string>("type"), "/problems/vetoed");
    EXPECT_EQ(j->getValue<int>("status"), 422);
    EXPECT_EQ(j->getValue<std::string>("detail"), "a hook said no");
    EXPECT_EQ(j->getValue<std::string>("instance"), "/api/v1/x");
    EXPECT_EQ(j->getValue<std::string>("hook"), "lua:triage.lua");
}

TEST(Problem, ExtensionsCannotOverrideStandardMembers) {
    Problem p(400, "/problems/x", "X");
    p.with("status", 200);
    EXPECT_EQ(p.toJson()->getValue<int>("status"), 400);
}

TEST(ClockDates, ADateIsTenCharactersOfADayThatExists) {
    using namespace std::chrono;
    EXPECT_EQ(Clock::parseDate("2026-12-07"), (year_month_day{year{2026}, month{12}, day{7}}));
    EXPECT_EQ(Clock::parseDate("2028-02-29"), (year_month_day{year{2028}, month{2}, day{29}}));
    for (const char* bad : {"2026-02-29", "2026-02-30", "2026-13-01", "2026-00-10", "2026-12-00", "2026-2-01", "+026-02-01",
                            "2026-1-011", "2026/12/07", "2026-12-07 ", " 2026-12-07", "2026-12-0x", ""})
        EXPECT_FALSE(Clock::parseDate(bad)) << bad;
}

TEST(ClockDates, ALocalDayStartsAtMidnightInTheBoxsZoneWhateverItsOffset) {
    kbtest::ScopedTimeZone zone("Europe/Stockholm");
    using namespace std::chrono;
    auto secs = [](year_month_day d) { return duration_cast<seconds>(Clock::localMidnight(d).time_since_epoch()).count(); };
    EXPECT_EQ(secs(year_month_day{year{2026}, month{12}, day{7}}), 1796598000);  // 2026-12-06T23:00:00Z
    EXPECT_EQ(secs(year_month_day{year{2026}, month{7}, day{2}}), 1782943200);   // 2026-07-01T22:00:00Z
    // The last Sunday of March has 23 hours, the last of October 25.
    EXPECT_EQ(secs(year_month_day{year{2026}, month{3}, day{30}}) - secs(year_month_day{year{2026}, month{3}, day{29}}), 23 * 3600);
    EXPECT_EQ(secs(year_month_day{year{2026}, month{10}, day{26}}) - secs(year_month_day{year{2026}, month{10}, day{25}}), 25 * 3600);
    // A time_point of nanoseconds ends in 2262: a day past the range is refused, not wrapped
    // round to 1677 (a review "to 9999-12-31" found nothing).
    EXPECT_GT(secs(year_month_day{year{2200}, month{1}, day{1}}), secs(year_month_day{year{2199}, month{12}, day{31}}));
    EXPECT_TRUE(Clock::inRange(year_month_day{year{1900}, month{1}, day{1}}));
    EXPECT_FALSE(Clock::inRange(year_month_day{year{2200}, month{1}, day{1}}));
    EXPECT_FALSE(Clock::inRange(year_month_day{year{1899}, month{12}, day{31}}));
    EXPECT_THROW((void)Clock::localMidnight(year_month_day{year{9999}, month{12}, day{31}}), std::invalid_argument);
    EXPECT_THROW((void)Clock::localMidnight(year_month_day{year{1000}, month{1}, day{1}}), std::invalid_argument);
}

TEST(ClockDates, AnInstantIsReadWithItsOffsetAndWrittenInTheBoxsZone) {
    kbtest::ScopedTimeZone zone("Europe/Stockholm");
    using namespace std::chrono;
    auto secs = [](const char* s) -> long long {
        const auto t = Clock::parseInstant(s);
        return t ? duration_cast<seconds>(t->time_since_epoch()).count() : -1;
    };
    EXPECT_EQ(secs("1970-01-01T00:00:00Z"), 0);
    EXPECT_EQ(secs("2026-11-25T09:00:00+01:00"), secs("2026-11-25T08:00:00Z"));
    EXPECT_EQ(secs("2026-07-01T09:00+02:00"), secs("2026-07-01T07:00:00Z"));
    EXPECT_EQ(secs("2026-07-01T09:00:00.250-01:30"), secs("2026-07-01T10:30:00Z"));
    for (const char* bad : {"", "2026-11-25", "2026-11-25 09:00:00+01:00", "2026-02-30T09:00:00Z", "2026-11-25T24:00:00Z",
                            "2026-11-25T09:00:00", "2026-11-25T09:00:00+1:00", "2026-11-25T09:00:60Z", "2026-11-25T09:00:00.Z",
                            "2026-11-25T09:00:00Zjunk", "2026-11-25T9:00:00Z"})
        EXPECT_FALSE(Clock::parseInstant(bad)) << bad;
    EXPECT_EQ(Clock::localIso(*Clock::parseInstant("2026-11-25T08:00:00Z")), "2026-11-25T09:00:00+01:00");
    EXPECT_EQ(Clock::localIso(*Clock::parseInstant("2026-07-01T22:30:00Z")), "2026-07-02T00:30:00+02:00");
}
