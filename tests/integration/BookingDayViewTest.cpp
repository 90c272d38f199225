// The booking plugin's day view (GET /api/v1/booking/calendar) in a running box: which slots
// it shows and in what order, the names it gives them, the practitioner filter, the
// withdrawn slots of a closed day (shown only while booked), and the zone its times are in.
#include "BoxProcess.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

using namespace kbtest;

namespace {

const char* const kUnit = "SE2321000016-U001";

// One row of the view as "HH:MM practitioner | name | room | status | patient".
using Row = std::string;

struct View {
    std::vector<Row> rows;
    std::vector<long long> slotIds;
};

View dayView(BoxProcess& box, const std::string& date, const std::string& practitioner = "") {
    auto r = box.authed("GET", std::string("/api/v1/booking/calendar?unit=") + kUnit + "&date=" + date +
                                   (practitioner.empty() ? "" : "&practitioner=" + practitioner));
    EXPECT_EQ(r.status, 200) << r.body;
    View out;
    if (r.status != 200) return out;
    const auto slots = r.json()->getArray("slots");
    for (unsigned i = 0; i < slots->size(); ++i) {
        const auto s = slots->getObject(i);
        EXPECT_EQ(s->getValue<std::string>("visit_type"), "mott30");
        EXPECT_EQ(s->getValue<std::string>("visit_type_name"), "Mottagningsbesök");
        EXPECT_EQ(s->getValue<std::string>("visit_form"), "physical");
        out.rows.push_back(s->getValue<std::string>("start").substr(11, 5) + " " + s->getValue<std::string>("practitioner") +
                           " | " + s->getValue<std::string>("practitioner_name") + " | " + s->getValue<std::string>("room") +
                           " | " + s->getValue<std::string>("status") + " | " + s->optValue<std::string>("patient", ""));
        out.slotIds.push_back(s->getValue<long long>("slot_id"));
    }
    return out;
}

// A box with the booking plugin, one unit (kUnit) and the 30-minute visit type mott30, for
// the tests of the slots' life cycle; it starts logged in as an admin. Each login adds a
// user, so each gets a name of its own.
class Clinic {
public:
    Clinic() : box_("", pluginSetOf(dir_, {"booking"})) {
        box_.start();
        as("admin");
        expect("POST", "/api/v1/booking/units", std::string(R"({"hsa_id":")") + kUnit + R"(","name":"Vårdcentralen Väst","address":"Västgatan 2"})");
        expect("POST", "/api/v1/booking/visittypes", R"({"id":"mott30","name":"Mottagningsbesök","visit_form":"physical","minutes":30,"profession":"läkare"})");
    }
    BoxProcess& box() { return box_; }
    void as(const std::string& role) { box_.loginAs(role + std::to_string(++logins_), role); }
    HttpResult expect(const std::string& method, const std::string& path, const std::string& body = {}, int status = 201) {
        auto r = box_.authed(method, path, body);
        EXPECT_EQ(r.status, status) << method << " " << path << ": " << r.body;
        return r;
    }
    void practitioner(const std::string& hsa, const std::string& name) {
        expect("POST", "/api/v1/booking/practitioners", R"({"hsa_id":")" + hsa + R"(","name":")" + name + R"(","profession":"läkare","unit":")" + kUnit + "\"}");
    }
    // A weekly schedule of every day; its id.
    long long schedule(const std::string& hsa, const std::string& visitType, const std::string& start, const std::string& end,
                       const std::string& from = "2026-01-01", const std::string& to = "2099-12-31", const std::string& weekdays = "[1,2,3,4,5,6,7]") {
        const auto r = expect("POST", "/api/v1/booking/schedules", R"({"practitioner":")" + hsa + R"(","visit_type":")" + visitType +
                                                                     R"(","weekdays":)" + weekdays + R"(,"start":")" + start + R"(","end":")" + end +
                                                                     R"(","valid_from":")" + from + R"(","valid_to":")" + to + "\"}");
        return r.status == 201 ? r.json()->getValue<long long>("id") : 0;
    }
    void endSchedule(long long id) { expect("DELETE", "/api/v1/booking/schedules/" + std::to_string(id), "", 200); }
    // The n-th day from today with free mott30 slots.
    std::string dayWithSlots(unsigned n) {
        const auto dates = expect("GET", std::string("/api/v1/booking/availabledates?unit=") + kUnit + "&visit_type=mott30", "", 200);
        const auto list = dates.status == 200 ? dates.json()->getArray("dates") : nullptr;
        EXPECT_TRUE(list && list->size() > n) << dates.body;
        return list && list->size() > n ? list->getElement<std::string>(n) : std::string();
    }
    // Books a slot (as the user logged in); the booking's id.
    long long book(long long slot, const std::string& patient) {
        const auto r = expect("POST", "/api/v1/booking/bookings", R"({"slot_id":)" + std::to_string(slot) + R"(,"patient":")" + patient + "\"}");
        return r.status == 201 ? r.json()->getValue<long long>("bookingId") : 0;
    }
    void cancel(long long booking) {
        expect("POST", "/api/v1/booking/bookings/" + std::to_string(booking) + "/cancel", R"({"by":"patient"})", 200);
    }
    void closeDay(const std::string& date, const std::string& unit = kUnit, int status = 201) {
        expect("POST", "/api/v1/booking/closeddays", R"({"unit":")" + unit + R"(","date":")" + date + "\"}", status);
    }

private:
    TempDir dir_;
    BoxProcess box_;
    int logins_ = 0;
};

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
    // Each start time's rows by practitioner name (Anna, Maja, Örjan), not by HSA-id.
    const auto anna = "SE2321000016-P003 | Anna Alm |  | ", maja = "SE2321000016-P002 | Maja Mitt | Rum 3 | ",
               orjan = "SE2321000016-P001 | Örjan Öst |  | ";
    const auto row = [](const std::string& at, const std::string& who, const std::string& status, const std::string& patient = "") {
        return at + " " + who + status + " | " + patient;
    };
    auto view = dayView(box, date);
    EXPECT_EQ(view.rows, (std::vector<Row>{row("08:00", anna, "free"), row("08:00", maja, "free"), row("08:00", orjan, "free"),
                                           row("08:30", anna, "free"), row("08:30", maja, "free"), row("08:30", orjan, "free")}));
    ASSERT_EQ(view.slotIds.size(), 6u);

    // Örjan at 08:00 and Maja at 08:30 are booked.
    for (const auto& [slot, patient] : std::vector<std::pair<long long, std::string>>{{view.slotIds[2], "191212121212"},
                                                                                     {view.slotIds[4], "199001012385"}}) {
        const auto r = box.authed("POST", "/api/v1/booking/bookings", R"({"slot_id":)" + std::to_string(slot) + R"(,"patient":")" + patient + "\"}");
        ASSERT_EQ(r.status, 201) << r.body;
    }
    EXPECT_EQ(dayView(box, date).rows,
              (std::vector<Row>{row("08:00", anna, "free"), row("08:00", maja, "free"), row("08:00", orjan, "booked", "191212121212"),
                                row("08:30", anna, "free"), row("08:30", maja, "booked", "199001012385"), row("08:30", orjan, "free")}));

    // One practitioner's slots only.
    EXPECT_EQ(dayView(box, date, "SE2321000016-P002").rows,
              (std::vector<Row>{row("08:00", maja, "free"), row("08:30", maja, "booked", "199001012385")}));

    // A closed day withdraws the free slots; the booked ones stay in the view.
    box.loginAs("ola", "admin");
    ok("/api/v1/booking/closeddays", std::string(R"({"unit":")") + kUnit + R"(","date":")" + date + R"(","reason":"Utbildning"})");
    box.loginAs("nils", "staff");
    EXPECT_EQ(dayView(box, date).rows,
              (std::vector<Row>{row("08:00", orjan, "booked", "191212121212"), row("08:30", maja, "booked", "199001012385")}));
}

// box.timezone is the zone of every time the booking plugin writes: a schedule's "08:00" is
// 08:00 there, with that zone's offset, and the console (which shows times in the box's zone)
// shows 08:00. Until 2026-12-08 the plugin carried Sweden's rule of its own: on a box set to
// another zone its slots were 08:00 Swedish time and the console showed them hours off.
TEST(BookingDayView, SlotsAreInTheBoxsTimeZoneWhateverItIs) {
    TempDir d;
    BoxProcess box("", pluginSetOf(d, {"booking"}));
    {
        std::ifstream in(box.configFile());
        std::stringstream text;
        text << in.rdbuf();
        std::string yaml = text.str();
        ASSERT_EQ(yaml.rfind("box:\n", 0), 0u) << yaml;
        // St. John's: 3.5 hours behind UTC, 2.5 in summer; not a whole-hour offset anywhere.
        yaml.insert(5, "  timezone: America/St_Johns\n");
        std::ofstream(box.configFile()) << yaml;
    }
    box.start();
    box.loginAs("anna", "admin");
    auto ok = [&](const std::string& path, const std::string& body) {
        const auto r = box.authed("POST", path, body);
        EXPECT_EQ(r.status, 201) << path << ": " << r.body;
    };
    ok("/api/v1/booking/units", std::string(R"({"hsa_id":")") + kUnit + R"(","name":"Vårdcentralen Väst","address":"Västgatan 2"})");
    ok("/api/v1/booking/visittypes", R"({"id":"mott30","name":"Mottagningsbesök","visit_form":"physical","minutes":30,"profession":"läkare"})");
    ok("/api/v1/booking/practitioners", R"({"hsa_id":"SE2321000016-P001","name":"Örjan Öst","profession":"läkare","unit":")" + std::string(kUnit) + "\"}");
    ok("/api/v1/booking/schedules", R"({"practitioner":"SE2321000016-P001","visit_type":"mott30","weekdays":[1,2,3,4,5,6,7],"start":"08:00","end":"09:00","valid_from":"2026-01-01","valid_to":"2099-12-31"})");
    auto dates = box.authed("GET", std::string("/api/v1/booking/availabledates?unit=") + kUnit + "&visit_type=mott30");
    ASSERT_EQ(dates.status, 200) << dates.body;
    ASSERT_GT(dates.json()->getArray("dates")->size(), 3u) << dates.body;
    const auto date = dates.json()->getArray("dates")->getElement<std::string>(3);

    box.loginAs("sara", "staff");
    auto slots = box.authed("GET", std::string("/api/v1/booking/timeslots?unit=") + kUnit + "&date=" + date + "&visit_type=mott30");
    ASSERT_EQ(slots.status, 200) << slots.body;
    const auto list = slots.json()->getArray("timeslots");
    ASSERT_EQ(list->size(), 2u) << slots.body;
    const auto first = list->getObject(0)->getValue<std::string>("startTimeInclusive");
    ASSERT_EQ(first.size(), 25u) << first;
    EXPECT_EQ(first.substr(0, 19), date + "T08:00:00") << first;
    const std::string offset = first.substr(19);
    EXPECT_TRUE(offset == "-03:30" || offset == "-02:30") << first;
    EXPECT_EQ(list->getObject(1)->getValue<std::string>("startTimeInclusive"), date + "T08:30:00" + offset);
    // The same instants in the day view, which the console shows in the box's zone.
    const auto view = dayView(box, date);
    EXPECT_EQ(view.rows, (std::vector<Row>{"08:00 SE2321000016-P001 | Örjan Öst |  | free | ",
                                           "08:30 SE2321000016-P001 | Örjan Öst |  | free | "}));
}

// Ending a schedule withdraws its free future slots; a schedule that replaces it (the same
// hours from tomorrow, or another visit length) must offer its own slots at those times. The
// withdrawn rows kept the (practitioner, start) they held, so until 2026-12-08 the new
// schedule's slots at the same starts were dropped: the practitioner had no free time at all.
TEST(BookingDayView, AScheduleThatReplacesAnEndedOneOffersItsSlots) {
    Clinic c;
    c.expect("POST", "/api/v1/booking/visittypes", R"({"id":"mott20","name":"Kort besök","visit_form":"physical","minutes":20,"profession":"läkare"})");
    c.practitioner("SE2321000016-P001", "Örjan Öst");
    const auto first = c.schedule("SE2321000016-P001", "mott30", "08:00", "09:00");
    const auto date = c.dayWithSlots(3);
    const auto times = [&](const std::string& visitType) {
        c.as("staff");
        const auto r = c.expect("GET", std::string("/api/v1/booking/timeslots?unit=") + kUnit + "&date=" + date + "&visit_type=" + visitType, "", 200);
        std::vector<std::string> out;
        if (r.status == 200) {
            const auto list = r.json()->getArray("timeslots");
            for (unsigned i = 0; i < list->size(); ++i) out.push_back(list->getObject(i)->getValue<std::string>("startTimeInclusive").substr(11, 5));
        }
        c.as("admin");
        return out;
    };
    ASSERT_EQ(times("mott30"), (std::vector<std::string>{"08:00", "08:30"}));
    // One slot is booked before the schedule ends: it stays, and is not offered again.
    c.as("staff");
    const auto view = dayView(c.box(), date);
    ASSERT_EQ(view.slotIds.size(), 2u);
    const auto booking = c.book(view.slotIds[1], "191212121212");
    c.as("admin");

    c.endSchedule(first);
    EXPECT_EQ(times("mott30"), std::vector<std::string>{});
    // The same hours again from tomorrow: the free slot comes back, the booked one stays booked.
    const auto second = c.schedule("SE2321000016-P001", "mott30", "08:00", "09:00", date);
    EXPECT_EQ(times("mott30"), (std::vector<std::string>{"08:00"}));
    // Shorter visits instead: 08:00 is free; 08:20 and 08:40 would overlap the booked
    // 08:30-09:00, so they are not made while that booking stands.
    c.endSchedule(second);
    c.schedule("SE2321000016-P001", "mott20", "08:00", "09:00", date);
    EXPECT_EQ(times("mott20"), (std::vector<std::string>{"08:00"}));
    // The patient cancels: the 30-minute slot of the ended schedule is withdrawn, not offered
    // again, and the new schedule's 20-minute slots take its time.
    c.as("staff");
    c.cancel(booking);
    EXPECT_EQ(times("mott30"), std::vector<std::string>{});
    EXPECT_EQ(times("mott20"), (std::vector<std::string>{"08:00", "08:20", "08:40"}));
}

// A booking kept on a day the unit closed, when cancelled, leaves no bookable slot behind.
TEST(BookingDayView, ASlotFreedOnAClosedDayIsNotOfferedAgain) {
    Clinic c;
    c.practitioner("SE2321000016-P001", "Örjan Öst");
    c.schedule("SE2321000016-P001", "mott30", "08:00", "09:00");
    const auto date = c.dayWithSlots(3);
    c.as("staff");
    const auto view = dayView(c.box(), date);
    ASSERT_EQ(view.slotIds.size(), 2u);
    const auto booking = c.book(view.slotIds[0], "191212121212");
    c.as("admin");
    c.closeDay(date);
    c.as("staff");
    c.cancel(booking);
    EXPECT_EQ(dayView(c.box(), date).rows, std::vector<Row>{});
    const auto again = c.box().authed("POST", "/api/v1/booking/bookings", R"({"slot_id":)" + std::to_string(view.slotIds[0]) + R"(,"patient":"199001012385"})");
    EXPECT_EQ(again.status, 404) << again.body;
}

// Closing a day closes the unit's local day: 25 hours on the day summer time ends (its last
// hour's slots were left bookable when a day was "24 hours from midnight"), 23 on the day it
// begins (the next day's first hour was closed with it). A unit the box does not know is a
// 404, not "that day is already closed".
TEST(BookingDayView, AClosedDayIsTheWholeLocalDayOnTheChangeDays) {
    using namespace std::chrono;
    Clinic c;
    c.practitioner("SE2321000016-P001", "Örjan Öst");
    c.schedule("SE2321000016-P001", "mott30", "00:00", "24:00");
    const auto text = [](sys_days day) {
        const year_month_day ymd{day};
        char b[16];
        std::snprintf(b, sizeof b, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
        return std::string(b);
    };
    // The next last Sundays of October and March at least two days ahead that are no public
    // holiday (the last Sunday of March is Easter Sunday in some years); the box runs in
    // Swedish time, its default zone.
    const auto ahead = floor<days>(system_clock::now()) + days{2};
    const auto next = [&](unsigned m) {
        for (int y = static_cast<int>(year_month_day{ahead}.year());; ++y) {
            const sys_days sunday{year_month_weekday_last{year{y}, month{m}, weekday_last{Sunday}}};
            const auto holidays = c.expect("GET", "/api/v1/booking/holidays?year=" + std::to_string(y), "", 200);
            if (sunday >= ahead && holidays.body.find(text(sunday)) == std::string::npos) return sunday;
        }
    };
    const auto autumn = next(10), spring = next(3);
    c.as("staff");
    ASSERT_EQ(dayView(c.box(), text(autumn)).rows.size(), 48u) << "25 hours; the repeated hour offered once (its first occurrence)";
    ASSERT_EQ(dayView(c.box(), text(spring)).rows.size(), 46u) << "23 hours";
    ASSERT_EQ(dayView(c.box(), text(spring + days{1})).rows.size(), 48u);
    c.as("admin");
    c.closeDay(text(autumn));
    c.closeDay(text(spring));
    c.closeDay(text(autumn), "SE2321000016-Z999", 404);
    c.as("staff");
    EXPECT_EQ(dayView(c.box(), text(autumn)).rows, std::vector<Row>{}) << "the 25th hour is closed too";
    EXPECT_EQ(dayView(c.box(), text(spring)).rows, std::vector<Row>{});
    EXPECT_EQ(dayView(c.box(), text(spring + days{1})).rows.size(), 48u) << "the next day keeps its first hour";

    // Ending a schedule that ended before keeps its end: it used to become today, bringing
    // back every day since.
    c.as("admin");
    c.practitioner("SE2321000016-P002", "Maja Mitt");
    const auto id = c.schedule("SE2321000016-P002", "mott30", "08:00", "12:00", "2026-01-01", "2026-01-31", "[1,2,3,4,5]");
    c.endSchedule(id);
    const auto setup = c.expect("GET", "/api/v1/booking/setup", "", 200);
    const auto schedules = setup.json()->getArray("schedules");
    bool seen = false;
    for (unsigned i = 0; i < schedules->size(); ++i)
        if (schedules->getObject(i)->getValue<long long>("id") == id) {
            seen = true;
            EXPECT_EQ(schedules->getObject(i)->getValue<std::string>("valid_to"), "2026-01-31");
        }
    EXPECT_TRUE(seen) << setup.body;
}

// close_on_eves switched on (the settings page restarts the plugin) closes the eves whose
// slots were made while it was off: until 2026-12-08 julafton stayed bookable, as slots once
// made were never looked at again. A booking kept there leaves no bookable slot when cancelled.
TEST(BookingDayView, ClosingTheEvesWithdrawsTheSlotsMadeWhileTheyWereOpen) {
    using namespace std::chrono;
    Clinic c;
    c.expect("PUT", "/api/v1/plugins/booking/settings", R"({"values":{"close_on_eves":false}})", 200);
    c.practitioner("SE2321000016-P001", "Örjan Öst");
    c.schedule("SE2321000016-P001", "mott30", "08:00", "09:00");
    // The next julafton at least two days ahead.
    const auto ahead = year_month_day{floor<days>(system_clock::now()) + days{2}};
    year_month_day eve{ahead.year(), December, day{24}};
    if (sys_days{eve} < sys_days{ahead}) eve = year_month_day{ahead.year() + years{1}, December, day{24}};
    char text[16];
    std::snprintf(text, sizeof text, "%04d-12-24", static_cast<int>(eve.year()));
    c.as("staff");
    const auto open = dayView(c.box(), text);
    ASSERT_EQ(open.rows.size(), 2u) << "julafton is open while close_on_eves is false";
    const auto booking = c.book(open.slotIds[0], "191212121212");
    c.as("admin");
    c.expect("PUT", "/api/v1/plugins/booking/settings", R"({"values":{"close_on_eves":true}})", 200);
    c.as("staff");
    const auto closed = dayView(c.box(), text);
    ASSERT_EQ(closed.rows.size(), 1u) << "the free slot is withdrawn, the booking stays";
    EXPECT_NE(closed.rows[0].find("booked"), std::string::npos) << closed.rows[0];
    c.cancel(booking);
    EXPECT_EQ(dayView(c.box(), text).rows, std::vector<Row>{});
}

// A closed day opened again offers its schedules' slots, except those of a schedule ended
// meanwhile; and a schedule ended today makes none of today's later slots again when the
// day is made anew after a restart (the slots withdrawn when a day closes or a schedule ends
// keep their place, and a schedule that runs there takes it back).
TEST(BookingDayView, AClosedDayOpensAgainWithoutTheSlotsOfSchedulesEndedMeanwhile) {
    using namespace std::chrono;
    Clinic c;
    c.practitioner("SE2321000016-P001", "Läkare P001");
    c.practitioner("SE2321000016-P002", "Läkare P002");
    c.schedule("SE2321000016-P001", "mott30", "00:00", "24:00");
    const auto ended = c.schedule("SE2321000016-P002", "mott30", "00:00", "24:00");
    const auto date = c.dayWithSlots(3);
    char todayText[16];
    const year_month_day utcToday{floor<days>(system_clock::now())};
    std::snprintf(todayText, sizeof todayText, "%04d-%02u-%02u", static_cast<int>(utcToday.year()), static_cast<unsigned>(utcToday.month()), static_cast<unsigned>(utcToday.day()));
    const auto count = [&](const std::string& day, const char* who) {
        c.as("staff");
        std::size_t n = 0;
        for (const auto& row : dayView(c.box(), day).rows) n += row.find(who) != std::string::npos && row.find("| free |") != std::string::npos;
        c.as("admin");
        return n;
    };
    ASSERT_EQ(count(date, "P002"), 48u);
    c.closeDay(date);
    EXPECT_EQ(count(date, "P001") + count(date, "P002"), 0u);
    // P002's schedule ends while the day is closed; the day opens again.
    const std::size_t p002Today = count(todayText, "P002");
    c.endSchedule(ended);
    const std::size_t p002TodayEnded = count(todayText, "P002");
    EXPECT_LE(p002TodayEnded, p002Today);
    const auto opened = c.expect("DELETE", std::string("/api/v1/booking/closeddays/") + kUnit + "/" + date, "", 200);
    EXPECT_EQ(opened.json()->getValue<long long>("free_slots"), 48) << opened.body;
    EXPECT_EQ(count(date, "P001"), 48u);
    EXPECT_EQ(count(date, "P002"), 0u);
    c.expect("DELETE", std::string("/api/v1/booking/closeddays/") + kUnit + "/" + date, "", 404);
    // After a restart every day is made again: nothing of the ended schedule comes back.
    c.box().stop();
    c.box().start();
    c.as("admin");
    EXPECT_EQ(count(date, "P001"), 48u);
    EXPECT_EQ(count(date, "P002"), 0u);
    EXPECT_EQ(count(todayText, "P002"), p002TodayEnded) << "today's slots after the end stay withdrawn";
}
