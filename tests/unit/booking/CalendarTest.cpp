#include "Calendar.h"
#include "ICal.h"
#include "Messages.h"
#include "Schedule.h"

#include <gtest/gtest.h>

#include "SwedishTimeZoneEnvironment.h"
#include "TimeZone.h"

#include <cstdio>
#include <cstdlib>
#include <ctime>

using namespace booking;
using namespace std::chrono;

namespace {
year_month_day ymd(int y, unsigned m, unsigned d) { return year_month_day{year{y}, month{m}, day{d}}; }
std::vector<std::string> names(int y) {
    std::vector<std::string> o;
    for (const auto& h : swedishHolidays(y)) o.push_back(isoDate(h.date) + " " + h.name);
    return o;
}
}  // namespace

TEST(BookingCalendar, TheHandWrittenTimestampMatchesTheCLibrarysEverywhere) {
    // Every 7,919 seconds (a prime: all minutes and seconds come round) across two years and
    // all change days, against the C library's localtime_r of the same instant, in Swedish
    // time and in zones with offsets behind UTC, of half hours and with other change days.
    for (const char* zone : {"Europe/Stockholm", "America/St_Johns", "Asia/Kolkata", "Australia/Lord_Howe", "UTC"}) {
        const kbtest::ScopedTimeZone tz(zone);
        const auto from = sys_seconds{sys_days{ymd(2026, 1, 1)}}, to = sys_seconds{sys_days{ymd(2028, 1, 1)}};
        int checked = 0;
        for (auto t = from; t < to; t += seconds{7919}) {
            const std::time_t tt = static_cast<std::time_t>(t.time_since_epoch().count());
            std::tm tm{};
            localtime_r(&tt, &tm);
            const long off = std::labs(tm.tm_gmtoff) / 60;
            char want[96];
            std::snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld", tm.tm_year + 1900, tm.tm_mon + 1,
                          tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_gmtoff < 0 ? '-' : '+', off / 60, off % 60);
            ASSERT_EQ(isoLocal(t), want) << zone;
            ASSERT_EQ(localDate(t), ymd(tm.tm_year + 1900, static_cast<unsigned>(tm.tm_mon + 1), static_cast<unsigned>(tm.tm_mday)))
                << zone << " " << want;
            ++checked;
        }
        EXPECT_GT(checked, 7900);
    }
}

TEST(BookingCalendar, EasterMatchesKnownDatesAcrossCenturies) {
    EXPECT_EQ(easterSunday(2024), ymd(2024, 3, 31));
    EXPECT_EQ(easterSunday(2025), ymd(2025, 4, 20));
    EXPECT_EQ(easterSunday(2026), ymd(2026, 4, 5));
    EXPECT_EQ(easterSunday(2027), ymd(2027, 3, 28));
    EXPECT_EQ(easterSunday(2038), ymd(2038, 4, 25));  // the latest possible date
    EXPECT_EQ(easterSunday(2285), ymd(2285, 3, 22));  // the earliest possible date
    EXPECT_EQ(easterSunday(2000), ymd(2000, 4, 23));
}

TEST(BookingCalendar, SwedishHolidaysOf2026AreComputed) {
    const std::vector<std::string> expected = {
        "2026-01-01 Nyårsdagen",         "2026-01-06 Trettondedag jul", "2026-04-03 Långfredagen",
        "2026-04-05 Påskdagen",          "2026-04-06 Annandag påsk",    "2026-05-01 Första maj",
        "2026-05-14 Kristi himmelsfärdsdag", "2026-05-24 Pingstdagen",  "2026-06-06 Sveriges nationaldag",
        "2026-06-19 Midsommarafton",     "2026-06-20 Midsommardagen",   "2026-10-31 Alla helgons dag",
        "2026-12-24 Julafton",           "2026-12-25 Juldagen",         "2026-12-26 Annandag jul",
        "2026-12-31 Nyårsafton"};
    EXPECT_EQ(names(2026), expected);
}

TEST(BookingCalendar, MovingHolidaysFallOnTheirWeekdaysEveryYear) {
    for (int y = 2000; y <= 2100; ++y) {
        for (const auto& h : swedishHolidays(y)) {
            if (h.name == "Midsommarafton") {
                EXPECT_EQ(isoWeekday(h.date), 5) << y;
                EXPECT_GE(static_cast<unsigned>(h.date.day()), 19u);
                EXPECT_LE(static_cast<unsigned>(h.date.day()), 25u);
                EXPECT_EQ(h.date.month(), June);
            }
            if (h.name == "Alla helgons dag") {
                EXPECT_EQ(isoWeekday(h.date), 6) << y;
                const auto d = sys_days{h.date};
                EXPECT_GE(d, sys_days{ymd(y, 10, 31)});
                EXPECT_LE(d, sys_days{ymd(y, 11, 6)});
            }
            if (h.name == "Långfredagen") {
                EXPECT_EQ(isoWeekday(h.date), 5) << y;
            }
            if (h.name == "Kristi himmelsfärdsdag") {
                EXPECT_EQ(isoWeekday(h.date), 4) << y;
            }
            if (h.name == "Pingstdagen") {
                EXPECT_EQ(isoWeekday(h.date), 7) << y;
            }
        }
        EXPECT_EQ(swedishHolidays(y).size(), 16u);
    }
    EXPECT_TRUE(holidayOn(ymd(2027, 3, 26)));  // Good Friday 2027
    EXPECT_FALSE(holidayOn(ymd(2027, 3, 25)));
}

TEST(BookingCalendar, StockholmTimeFollowsTheEuRuleOnBothChangeDays) {
    // 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC.
    EXPECT_EQ(localOffsetMinutes(sys_seconds{sys_days{ymd(2026, 3, 29)}} + minutes{59}), 60);
    EXPECT_EQ(localOffsetMinutes(sys_seconds{sys_days{ymd(2026, 3, 29)}} + hours{1}), 120);
    EXPECT_EQ(localOffsetMinutes(sys_seconds{sys_days{ymd(2026, 10, 25)}} + minutes{59}), 120);
    EXPECT_EQ(localOffsetMinutes(sys_seconds{sys_days{ymd(2026, 10, 25)}} + hours{1}), 60);
    // 02:30 does not exist on 29 March 2026; 03:00 local is 01:00 UTC.
    EXPECT_FALSE(localToUtc(ymd(2026, 3, 29), 150));
    EXPECT_EQ(isoLocal(*localToUtc(ymd(2026, 3, 29), 180)), "2026-03-29T03:00:00+02:00");
    EXPECT_EQ(isoLocal(*localToUtc(ymd(2026, 3, 29), 90)), "2026-03-29T01:30:00+01:00");
    // 02:30 happens twice on 25 October 2026: the first (summer time) is chosen.
    EXPECT_EQ(isoLocal(*localToUtc(ymd(2026, 10, 25), 150)), "2026-10-25T02:30:00+02:00");
    EXPECT_EQ(isoLocal(*localToUtc(ymd(2026, 10, 25), 9 * 60)), "2026-10-25T09:00:00+01:00");
    EXPECT_EQ(isoLocal(*localToUtc(ymd(2026, 7, 1), 9 * 60)), "2026-07-01T09:00:00+02:00");
    EXPECT_EQ(isoLocal(*localToUtc(ymd(2099, 12, 31), 24 * 60 - 1)), "2099-12-31T23:59:00+01:00");
    // Late evening UTC is already the next day in Stockholm.
    EXPECT_EQ(localDate(sys_seconds{sys_days{ymd(2026, 12, 31)}} + hours{23} + minutes{30}), ymd(2027, 1, 1));
}

TEST(BookingCalendar, LocalTimeIsTheBoxsZoneNotARuleOfItsOwn) {
    // St. John's: 3.5 hours behind UTC in winter, 2.5 in summer, changing on the North
    // American days (8 March and 1 November 2026, at 02:00 local time).
    const kbtest::ScopedTimeZone zone("America/St_Johns");
    EXPECT_EQ(isoLocal(*localToUtc(ymd(2026, 1, 15), 8 * 60)), "2026-01-15T08:00:00-03:30");
    EXPECT_EQ(isoLocal(*localToUtc(ymd(2026, 7, 1), 8 * 60)), "2026-07-01T08:00:00-02:30");
    EXPECT_EQ(localOffsetMinutes(*localToUtc(ymd(2026, 3, 29), 12 * 60)), -150);  // Sweden's change day: summer already
    EXPECT_FALSE(localToUtc(ymd(2026, 3, 8), 2 * 60 + 30));                       // the skipped hour
    EXPECT_EQ(isoLocal(*localToUtc(ymd(2026, 11, 1), 60 + 30)), "2026-11-01T01:30:00-02:30");  // the first of two
    EXPECT_EQ(isoLocal(*localToUtc(ymd(2026, 11, 1), 3 * 60)), "2026-11-01T03:00:00-03:30");
    // 23:00 local on 31 December is already 2027 in UTC, and still 2026 here.
    EXPECT_EQ(localDate(*localToUtc(ymd(2026, 12, 31), 23 * 60)), ymd(2026, 12, 31));
    // Kolkata: half an hour, no summer time.
    const kbtest::ScopedTimeZone india("Asia/Kolkata");
    EXPECT_EQ(isoLocal(*localToUtc(ymd(2026, 7, 1), 9 * 60)), "2026-07-01T09:00:00+05:30");
}

TEST(BookingCalendar, ALocalDayIs23Or25HoursOnTheChangeDaysAndMayStartAfterMidnight) {
    const auto hoursOf = [](year_month_day d) {
        return duration_cast<hours>(dayStart(year_month_day{sys_days{d} + days{1}}) - dayStart(d)).count();
    };
    EXPECT_EQ(hoursOf(ymd(2026, 3, 29)), 23);
    EXPECT_EQ(hoursOf(ymd(2026, 10, 25)), 25);
    EXPECT_EQ(hoursOf(ymd(2026, 12, 8)), 24);
    EXPECT_EQ(isoLocal(dayStart(ymd(2026, 10, 25))), "2026-10-25T00:00:00+02:00");
    // Havana moves its clocks at midnight: 14 March 2027 starts at 01:00.
    const kbtest::ScopedTimeZone havana("America/Havana");
    EXPECT_FALSE(localToUtc(ymd(2027, 3, 14), 0));
    EXPECT_EQ(isoLocal(dayStart(ymd(2027, 3, 14))), "2027-03-14T01:00:00-04:00");
    EXPECT_EQ(hoursOf(ymd(2027, 3, 13)), 24);
    EXPECT_EQ(hoursOf(ymd(2027, 3, 14)), 23);
    EXPECT_EQ(localDate(dayStart(ymd(2027, 3, 14))), ymd(2027, 3, 14));
}

TEST(BookingCalendar, DatesAndClockTimesAreParsedStrictly) {
    EXPECT_EQ(parseDate("2026-02-28"), ymd(2026, 2, 28));
    EXPECT_FALSE(parseDate("2026-02-29"));
    EXPECT_TRUE(parseDate("2028-02-29"));
    for (const char* bad : {"2026-2-28", "2026-13-01", "26-02-28", "2026-02-28x", "", "abcd-ef-gh", "2026-02-2 "})
        EXPECT_FALSE(parseDate(bad)) << bad;
    EXPECT_EQ(parseClock("08:30"), 510);
    EXPECT_EQ(parseClock("24:00"), 1440);
    for (const char* bad : {"8:30", "24:01", "12:60", "12-30", "", "aa:bb"}) EXPECT_FALSE(parseClock(bad)) << bad;
}

TEST(BookingSchedule, SlotsSkipBreaksHolidaysEvesAndClosedDays) {
    ScheduleRule r;
    r.id = 1;
    r.practitioner = "SE2321000016-P001";
    r.unit = "SE2321000016-U001";
    r.visitType = "lak20";
    r.slotMinutes = 20;
    r.weekdays = {1, 2, 3, 4, 5};
    r.start = 8 * 60;
    r.end = 12 * 60;
    r.breaks = {{10 * 60, 10 * 60 + 30}};
    r.validFrom = ymd(2026, 6, 15);
    r.validTo = ymd(2026, 6, 30);
    ASSERT_TRUE(checkRule(r).empty());
    ClosedDays closed;
    closed.unitDates.insert("SE2321000016-U001|2026-06-17");
    const auto slots = generateSlots({r}, ymd(2026, 6, 15), ymd(2026, 6, 19), closed);
    // Mon 15, Tue 16, Thu 18 open (Wed 17 closed by the unit, Fri 19 midsommarafton).
    // Per day: 08:00..10:00 six slots, 10:30..11:50 four slots (the break moves the grid).
    ASSERT_EQ(slots.size(), 30u);
    EXPECT_EQ(isoLocal(slots[0].start), "2026-06-15T08:00:00+02:00");
    EXPECT_EQ(isoLocal(slots[5].start), "2026-06-15T09:40:00+02:00");
    EXPECT_EQ(isoLocal(slots[6].start), "2026-06-15T10:30:00+02:00");
    EXPECT_EQ(isoLocal(slots[9].end), "2026-06-15T11:50:00+02:00");
    EXPECT_EQ(isoLocal(slots[20].start), "2026-06-18T08:00:00+02:00");
    closed.closeOnEves = false;
    EXPECT_EQ(generateSlots({r}, ymd(2026, 6, 19), ymd(2026, 6, 19), closed).size(), 10u) << "open on the eve if configured";
    EXPECT_TRUE(generateSlots({r}, ymd(2026, 6, 20), ymd(2026, 6, 21), closed).empty()) << "weekend";
}

TEST(BookingSchedule, SlotsOnDstChangeDaysAreAtTheirLocalTimes) {
    ScheduleRule r;
    r.id = 2;
    r.practitioner = "SE2321000016-P002";
    r.unit = "SE2321000016-U001";
    r.visitType = "jour";
    r.slotMinutes = 60;
    r.weekdays = {7};
    r.start = 0;
    r.end = 6 * 60;
    r.validFrom = ymd(2026, 1, 1);
    r.validTo = ymd(2026, 12, 31);
    const auto spring = generateSlots({r}, ymd(2026, 3, 29), ymd(2026, 3, 29), {});
    ASSERT_EQ(spring.size(), 5u) << "02:00 does not exist";
    EXPECT_EQ(isoLocal(spring[1].start), "2026-03-29T01:00:00+01:00");
    EXPECT_EQ(isoLocal(spring[2].start), "2026-03-29T03:00:00+02:00");
    EXPECT_EQ(spring[2].start - spring[1].start, hours{1});
    const auto autumn = generateSlots({r}, ymd(2026, 10, 25), ymd(2026, 10, 25), {});
    ASSERT_EQ(autumn.size(), 6u);
    EXPECT_EQ(isoLocal(autumn[3].start), "2026-10-25T03:00:00+01:00");
    EXPECT_EQ(autumn[3].start - autumn[2].start, hours{2}) << "02:00 summer time, then 03:00 winter time";
}

TEST(BookingSchedule, BadRulesAreExplained) {
    ScheduleRule r;
    r.weekdays = {0, 8};
    r.start = 600;
    r.end = 500;
    r.slotMinutes = 2;
    r.breaks = {{100, 50}};
    r.validFrom = ymd(2026, 2, 1);
    r.validTo = ymd(2026, 1, 1);
    EXPECT_EQ(checkRule(r).size(), 6u);
}

TEST(BookingICal, LinesAreFoldedAt75OctetsWithoutSplittingCharactersAndTextIsEscaped) {
    EXPECT_EQ(escapeText("a;b,c\\d\ne"), "a\\;b\\,c\\\\d\\ne");
    const std::string longLine = "SUMMARY:" + std::string(70, 'x') + "åäö" + std::string(80, 'y');
    const auto folded = foldLine(longLine);
    std::size_t start = 0;
    std::string unfolded;
    while (start < folded.size()) {
        const auto end = folded.find("\r\n", start);
        ASSERT_NE(end, std::string::npos);
        const auto line = folded.substr(start, end - start);
        EXPECT_LE(line.size(), 75u);
        unfolded += start == 0 ? line : line.substr(1);
        start = end + 2;
    }
    EXPECT_EQ(unfolded, longLine);
    const auto cal = renderCalendar("Bokningar Eva", {{"booking-1@klinikbox", sys_seconds{sys_days{ymd(2026, 11, 25)}} + hours{8},
                                                       sys_seconds{sys_days{ymd(2026, 11, 25)}} + hours{8} + minutes{20},
                                                       sys_seconds{sys_days{ymd(2026, 11, 20)}}, "Bokad tid: Läkarbesök",
                                                       "Rum 3, Vårdcentralen", false}});
    EXPECT_NE(cal.find("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"), std::string::npos);
    EXPECT_NE(cal.find("DTSTART:20261125T080000Z\r\n"), std::string::npos);
    EXPECT_NE(cal.find("LOCATION:Rum 3\\, Vårdcentralen\r\n"), std::string::npos);
    EXPECT_EQ(cal.substr(cal.size() - 15), "END:VCALENDAR\r\n");
}

TEST(BookingMessages, PhonesAreNormalisedAndTimesSpeltOutInSwedish) {
    EXPECT_EQ(normalisePhone("070-123 45 67"), "+46701234567");
    EXPECT_EQ(normalisePhone("+46 70 123 45 67"), "+46701234567");
    EXPECT_EQ(normalisePhone("0046701234567"), "+46701234567");
    for (const char* bad : {"", "12", "070-12a4567", "+0701234567", "+4670123456789012"})
        EXPECT_FALSE(normalisePhone(bad)) << bad;
    EXPECT_TRUE(plausibleEmail("anna@example.se"));
    for (const char* bad : {"anna", "@x.se", "a@b", "a@@b.se", "a b@c.se", "a@.se", "a@b."}) EXPECT_FALSE(plausibleEmail(bad)) << bad;
    EXPECT_EQ(swedishWhen(*localToUtc(ymd(2026, 11, 25), 9 * 60)), "onsdag 25 november kl. 09.00");
    EXPECT_EQ(swedishWhen(*localToUtc(ymd(2026, 7, 6), 14 * 60 + 5)), "måndag 6 juli kl. 14.05");
}
