// The booking plugin's day view (GET /api/v1/booking/calendar) in a running box: which slots
// it shows and in what order, the names it gives them, the practitioner filter, and the
// withdrawn slots of a closed day (shown only while booked).
#include "BoxProcess.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

using namespace kbtest;

namespace {

const char* const kUnit = "SE2321000016-U001";

struct Slot {
    std::string start, practitioner, name, room, status, patient;
};

std::vector<Slot> dayView(BoxProcess& box, const std::string& date, const std::string& practitioner = "") {
    auto r = box.authed("GET", std::string("/api/v1/booking/calendar?unit=") + kUnit + "&date=" + date +
                                   (practitioner.empty() ? "" : "&practitioner=" + practitioner));
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<Slot> out;
    if (r.status != 200) return out;
    const auto slots = r.json()->getArray("slots");
    for (unsigned i = 0; i < slots->size(); ++i) {
        const auto s = slots->getObject(i);
        EXPECT_EQ(s->getValue<std::string>("visit_type"), "mott30");
        EXPECT_EQ(s->getValue<std::string>("visit_type_name"), "Mottagningsbesök");
        EXPECT_EQ(s->getValue<std::string>("visit_form"), "physical");
        out.push_back({s->getValue<std::string>("start").substr(11, 5), s->getValue<std::string>("practitioner"),
                       s->getValue<std::string>("practitioner_name"), s->getValue<std::string>("room"),
                       s->getValue<std::string>("status"), s->optValue<std::string>("patient", "")});
    }
    return out;
}

}  // namespace

TEST(BookingDayView, SlotsOfOneTimeAreOrderedByPractitionerNameWithRoomsAndBookingsAndClosedDaysShowOnlyBookings) {
    TempDir d;
    BoxProcess box("", pluginSetOf(d, {"booking"}));
    box.start();
    box.loginAs("anna", "admin");
    auto ok = [&](const std::string& path, const std::string& body) {
        const auto r = box.authed("POST", path, body);
        EXPECT_EQ(r.status, 201) << path << ": " << r.body;
        return r.status == 201 ? r.json() : Poco::JSON::Object::Ptr(new Poco::JSON::Object);
    };
    ok("/api/v1/booking/units", std::string(R"({"hsa_id":")") + kUnit + R"(","name":"Vårdcentralen Väst","address":"Västgatan 2"})");
    ok("/api/v1/booking/visittypes", R"({"id":"mott30","name":"Mottagningsbesök","visit_form":"physical","minutes":30,"profession":"läkare"})");
    const auto room = ok("/api/v1/booking/rooms", std::string(R"({"unit":")") + kUnit + R"(","name":"Rum 3"})")->getValue<long long>("id");
    // HSA-ids in the opposite order of the names (bytewise, as the view always sorted: Ö last).
    const std::map<std::string, std::string> names = {
        {"SE2321000016-P001", "Örjan Öst"}, {"SE2321000016-P002", "Maja Mitt"}, {"SE2321000016-P003", "Anna Alm"}};
    for (const auto& [hsa, name] : names) {
        ok("/api/v1/booking/practitioners", R"({"hsa_id":")" + hsa + R"(","name":")" + name + R"(","profession":"läkare","unit":")" + kUnit + "\"}");
        ok("/api/v1/booking/schedules", R"({"practitioner":")" + hsa + R"(","visit_type":"mott30",)" +
                                            (hsa == "SE2321000016-P002" ? R"("room_id":)" + std::to_string(room) + "," : std::string()) +
                                            R"("weekdays":[1,2,3,4,5,6,7],"start":"08:00","end":"09:00","valid_from":"2026-01-01","valid_to":"2099-12-31"})");
    }
    auto dates = box.authed("GET", std::string("/api/v1/booking/availabledates?unit=") + kUnit + "&visit_type=mott30");
    ASSERT_EQ(dates.status, 200) << dates.body;
    ASSERT_GT(dates.json()->getArray("dates")->size(), 3u) << dates.body;
    const auto date = dates.json()->getArray("dates")->getElement<std::string>(3);

    box.loginAs("sara", "staff");
    auto view = dayView(box, date);
    ASSERT_EQ(view.size(), 6u);
    const std::vector<std::string> order = {"SE2321000016-P003", "SE2321000016-P002", "SE2321000016-P001"};
    for (unsigned i = 0; i < 6; ++i) {
        EXPECT_EQ(view[i].start, i < 3 ? "08:00" : "08:30") << i;
        EXPECT_EQ(view[i].practitioner, order[i % 3]) << i;
        EXPECT_EQ(view[i].name, names.at(order[i % 3])) << i;
        EXPECT_EQ(view[i].room, order[i % 3] == "SE2321000016-P002" ? "Rum 3" : "") << i;
        EXPECT_EQ(view[i].status, "free") << i;
    }

    // Book Örjan at 08:00 and Maja at 08:30 (slot ids from the view of each practitioner).
    auto slotOf = [&](const std::string& hsa, const std::string& at) {
        auto r = box.authed("GET", std::string("/api/v1/booking/calendar?unit=") + kUnit + "&date=" + date + "&practitioner=" + hsa);
        const auto slots = r.json()->getArray("slots");
        for (unsigned i = 0; i < slots->size(); ++i)
            if (slots->getObject(i)->getValue<std::string>("start").substr(11, 5) == at)
                return slots->getObject(i)->getValue<long long>("slot_id");
        ADD_FAILURE() << "no slot at " << at << " for " << hsa;
        return 0LL;
    };
    for (const auto& [hsa, at, patient] : std::vector<std::tuple<std::string, std::string, std::string>>{
             {"SE2321000016-P001", "08:00", "191212121212"}, {"SE2321000016-P002", "08:30", "199001012385"}}) {
        const auto r = box.authed("POST", "/api/v1/booking/bookings",
                                  R"({"slot_id":)" + std::to_string(slotOf(hsa, at)) + R"(,"patient":")" + patient + "\"}");
        ASSERT_EQ(r.status, 201) << r.body;
    }
    view = dayView(box, date);
    ASSERT_EQ(view.size(), 6u);
    EXPECT_EQ(view[2].status, "booked");
    EXPECT_EQ(view[2].patient, "191212121212");
    EXPECT_EQ(view[4].status, "booked");
    EXPECT_EQ(view[4].patient, "199001012385");
    EXPECT_EQ(view[4].room, "Rum 3");
    for (unsigned i : {0u, 1u, 3u, 5u}) EXPECT_EQ(view[i].status, "free") << i;

    // One practitioner's slots only.
    const auto maja = dayView(box, date, "SE2321000016-P002");
    ASSERT_EQ(maja.size(), 2u);
    EXPECT_EQ(maja[0].status, "free");
    EXPECT_EQ(maja[1].status, "booked");
    for (const auto& s : maja) EXPECT_EQ(s.practitioner, "SE2321000016-P002");

    // A closed day withdraws the free slots; the booked ones stay in the view.
    box.loginAs("ola", "admin");
    ok("/api/v1/booking/closeddays", std::string(R"({"unit":")") + kUnit + R"(","date":")" + date + R"(","reason":"Utbildning"})");
    box.loginAs("nils", "staff");
    view = dayView(box, date);
    ASSERT_EQ(view.size(), 2u);
    EXPECT_EQ(view[0].practitioner, "SE2321000016-P001");
    EXPECT_EQ(view[0].start, "08:00");
    EXPECT_EQ(view[1].practitioner, "SE2321000016-P002");
    EXPECT_EQ(view[1].start, "08:30");
}
