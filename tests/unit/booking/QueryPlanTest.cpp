// The plans SQLite chooses for the booking plugin's hot queries, on the plugin's own schema
// (its migrations, applied in order to an empty database). No statistics are collected on a
// box (no ANALYZE), so these are the plans a clinic's box runs.
#include "BookingRow.h"
#include "DayView.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::vector<std::string> planOf(klinikbox::db::Connection& c, const std::string& sql) {
    auto st = c.prepare("EXPLAIN QUERY PLAN " + sql);
    std::vector<std::string> steps;
    while (st.step()) steps.push_back(st.getText(3));
    return steps;
}

void migrate(klinikbox::db::Connection& c) {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(std::string(KB_SOURCE_DIR) + "/plugins/booking/migrations"))
        if (e.path().extension() == ".sql") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    ASSERT_FALSE(files.empty());
    for (const auto& f : files) {
        std::ifstream in(f);
        std::stringstream sql;
        sql << in.rdbuf();
        c.exec(sql.str());
    }
}

std::string joined(const std::vector<std::string>& steps) {
    std::string out;
    for (const auto& s : steps) out += s + "\n";
    return out;
}

}  // namespace

// The check-in's look-up of a patient's bookings today starts from the patient's bookings,
// not from the unit's slots of the day (each of which was matched against every booking of
// the patient: 1,500 index searches per kiosk check-in on the benchmark's day).
TEST(BookingQueryPlan, ThePatientsBookingsAtAUnitStartFromThePatientNotFromTheDaysSlots) {
    klinikbox::db::Connection c(":memory:");
    migrate(c);
    const auto steps = planOf(c, std::string(booking::kBookingSelect) + booking::kPatientBookingsAtUnitBetween);
    ASSERT_FALSE(steps.empty());
    EXPECT_NE(steps.front().find("booking_bookings_by_patient"), std::string::npos) << joined(steps);
    for (const auto& s : steps) EXPECT_EQ(s.find("booking_slots_by_unit_time"), std::string::npos) << joined(steps);
}

// The day view reads a unit's slots from the index alone (no look-up of each slot's row) in
// start order (no sort), and finds each slot's live booking by the one-per-slot index.
TEST(BookingQueryPlan, TheDayViewReadsTheSlotsFromACoveringIndexInStartOrder) {
    klinikbox::db::Connection c(":memory:");
    migrate(c);
    const auto steps = planOf(c, booking::kDayViewSlots);
    ASSERT_EQ(steps.size(), 2u) << joined(steps);
    EXPECT_NE(steps[0].find("COVERING INDEX booking_slots_by_unit_time"), std::string::npos) << joined(steps);
    EXPECT_NE(steps[1].find("booking_one_live_booking_per_slot"), std::string::npos) << joined(steps);
    for (const auto& s : steps) EXPECT_EQ(s.find("TEMP B-TREE"), std::string::npos) << joined(steps);
}
