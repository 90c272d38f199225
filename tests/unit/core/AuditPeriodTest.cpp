// The days of a log review's period and of a patient's log extract are the box's days
// (Swedish time), the days the console shows each record in: an access at 00:30 on
// 7 December belongs to the 7th, though the log stores it as 23:30 UTC on the 6th.
#include "audit/AuditLog.h"
#include "audit/AuditReview.h"
#include "store/CoreMigrations.h"
#include "store/Migrations.h"

#include "TempDir.h"
#include "TimeZone.h"

#include <Poco/JSON/Object.h>

#include <gtest/gtest.h>

#include <ctime>

using namespace klinikbox;

namespace {

std::chrono::system_clock::time_point utcAt(const char* iso) {
    std::tm tm{};
    strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm);
    return std::chrono::system_clock::from_time_t(timegm(&tm));
}

struct PeriodFixture {
    kbtest::ScopedTimeZone zone{"Europe/Stockholm"};
    kbtest::TempDir dir;
    store::Database db{store::DatabaseOptions{dir.file("kb.db"), true, 5000}};
    FixedClock clock{utcAt("2026-12-06T12:00:00")};
    std::string key = audit::AuditLog::loadOrCreateKey(dir.file("audit.key"));
    audit::AuditLog log{db, clock, key};
    audit::Actor sara;
    PeriodFixture() {
        store::Migrations::apply(db, "core", store::coreMigrations());
        sara.username = "sara";
        sara.role = "staff";
        sara.careUnit = "SE2321000016-B001";
        // Swedish time in the comments.
        at("2026-12-06T22:59:59", "booking.read");    // 6 Dec 23:59:59
        at("2026-12-06T23:30:00", "booking.read");    // 7 Dec 00:30
        at("2026-12-07T22:30:00", "booking.create");  // 7 Dec 23:30
        at("2026-12-07T23:00:00", "booking.read");    // 8 Dec 00:00
        at("2026-07-01T22:30:00", "booking.read");    // 2 Jul 00:30 (summer time, +02:00)
        at("2026-03-28T23:30:00", "booking.read");    // 29 Mar 00:30, the day of 23 hours
        at("2026-03-29T21:30:00", "booking.read");    // 29 Mar 23:30
    }
    void at(const char* iso, const char* action) {
        clock.set(utcAt(iso));
        log.append(sara, AuditEntry{action, "191212121212", "vård", "ok", iso});
    }
    audit::ReviewFilter period(const std::string& from, const std::string& to) {
        audit::ReviewFilter f;
        f.patient = "191212121212";
        f.from = from;
        f.to = to;
        return f;
    }
    std::vector<std::string> details(const audit::ReviewFilter& f) {
        std::vector<std::string> out;
        const auto rows = audit::reviewRecords(db, f, 100);
        for (std::size_t i = 0; i < rows->size(); ++i) out.push_back(rows->getObject(static_cast<unsigned>(i))->getValue<std::string>("details"));
        return out;
    }
};

}  // namespace

TEST(AuditPeriod, AReviewOfADayHoldsTheRecordsOfThatSwedishDay) {
    PeriodFixture f;
    using V = std::vector<std::string>;
    EXPECT_EQ(f.details(f.period("2026-12-07", "2026-12-07")), (V{"2026-12-07T22:30:00", "2026-12-06T23:30:00"}));
    EXPECT_EQ(f.details(f.period("2026-12-08", "")), (V{"2026-12-07T23:00:00"}));
    EXPECT_EQ(f.details(f.period("2026-12-06", "2026-12-06")), (V{"2026-12-06T22:59:59"}));
    EXPECT_EQ(f.details(f.period("2026-07-02", "2026-07-02")), (V{"2026-07-01T22:30:00"}));
    EXPECT_EQ(f.details(f.period("2026-03-29", "2026-03-29")), (V{"2026-03-29T21:30:00", "2026-03-28T23:30:00"}));
    EXPECT_EQ(f.details(f.period("", "2026-03-28")).size(), 0u);
    // The CSV export uses the same period.
    const auto csv = audit::exportCsv(f.db, f.period("2026-12-07", "2026-12-07"));
    EXPECT_NE(csv.find("2026-12-06T23:30:00"), std::string::npos) << csv;
    EXPECT_EQ(csv.find("2026-12-07T23:00:00"), std::string::npos) << csv;
    // Its time column is Swedish time with the offset, as the console shows it.
    EXPECT_NE(csv.find("\r\n2,2026-12-07T00:30:00.000+01:00,sara,"), std::string::npos) << csv;
    EXPECT_NE(audit::exportCsv(f.db, f.period("2026-07-02", "2026-07-02")).find(",2026-07-02T00:30:00.000+02:00,"), std::string::npos);
}

TEST(AuditPeriod, ThePatientsLogExtractCountsEachAccessUnderItsSwedishDayWithinThePeriodAsked) {
    PeriodFixture f;
    auto days = [](const Poco::JSON::Array::Ptr& e) {
        std::map<std::string, long long> out;
        for (std::size_t i = 0; i < e->size(); ++i) {
            const auto o = e->getObject(static_cast<unsigned>(i));
            out[o->getValue<std::string>("day")] += o->getValue<long long>("count");
        }
        return out;
    };
    using M = std::map<std::string, long long>;
    EXPECT_EQ(days(audit::patientExtract(f.db, "191212121212")),
              (M{{"2026-03-29", 2}, {"2026-07-02", 1}, {"2026-12-06", 1}, {"2026-12-07", 2}, {"2026-12-08", 1}}));
    EXPECT_EQ(days(audit::patientExtract(f.db, "191212121212", "2026-12-07", "2026-12-31")), (M{{"2026-12-07", 2}, {"2026-12-08", 1}}));
    EXPECT_EQ(days(audit::patientExtract(f.db, "191212121212", "", "2026-07-02")), (M{{"2026-03-29", 2}, {"2026-07-02", 1}}));
}
