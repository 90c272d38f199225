// The shipped example hook scripts (scripts/examples) and the hook payloads of issue 18 in
// a running box with the real booking and check-in plugins: each example does what its
// header says, a fee hook can remove the region's exemption, a routing hook chooses among
// the free slots, and handlers see the slot and how to reach the patient.
#include "BoxProcess.h"
#include "TempDir.h"

#include <gtest/gtest.h>

#include <functional>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

using namespace kbtest;
namespace fs = std::filesystem;

namespace {

const char* const kHooksUnit = "SE2321000016-U001";
const char* const kHooksDoctor = "SE2321000016-P001";
const char* const kOnCall = "SE2321000016-P002";
const char* const kNurseDoctor = "SE2321000016-P003";
// Wednesday 25 November 2026, 08:50 in Stockholm: the 09:00 slot is in the check-in window.
const char* const kClock = "2026-11-25T07:50:00Z";

std::string pluginSet(const TempDir& dir, std::initializer_list<const char*> ids) {
    return pluginSetOf(dir, std::vector<std::string>(ids.begin(), ids.end()));
}

std::string example(const std::string& name) {
    std::ifstream in(std::string(KB_SOURCE_DIR) + "/scripts/examples/" + name, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// A waiting-room kiosk registered on the box (a device cookie): patient -> the answer to
// their arrival.
std::function<HttpResult(const std::string&)> kioskArrivals(const BoxProcess& box) {
    const auto reg = box.authed("POST", "/api/v1/checkin/kiosks", R"({"name":"Väntrummet"})");
    EXPECT_EQ(reg.status, 201) << reg.body;
    const std::string cookie = reg.header("set-cookie").substr(0, reg.header("set-cookie").find(';'));
    return [&box, cookie](const std::string& patient) {
        return box.request("POST", "/api/v1/checkin/arrivals", R"({"patient":")" + patient + "\"}",
                           {{"Content-Type", "application/json"}, {"Cookie", cookie}});
    };
}

// A box on Wednesday morning with the scripts in `scripts` and `extra` YAML appended.
std::unique_ptr<BoxProcess> startBox(const TempDir& d, const std::string& extra, const std::string& set) {
    auto box = std::make_unique<BoxProcess>(extra, set);
    std::string cfg;
    {
        std::ifstream in(box->configFile());
        std::stringstream ss;
        ss << in.rdbuf();
        cfg = ss.str();
    }
    cfg.replace(cfg.find("box:\n"), 5, std::string("box:\n  clock_start: \"") + kClock + "\"\n");
    std::ofstream(box->configFile()) << cfg;
    (void)d;
    box->start();
    box->loginAs("anna", "admin");
    auto ok = [&](const std::string& path, const std::string& body) {
        const auto r = box->authed("POST", path, body);
        ASSERT_EQ(r.status, 201) << path << ": " << r.body;
    };
    ok("/api/v1/booking/units", std::string(R"({"hsa_id":")") + kHooksUnit + R"(","name":"Vårdcentralen Norr","address":"Storgatan 1"})");
    for (const char* p : {kHooksDoctor, kOnCall, kNurseDoctor})
        ok("/api/v1/booking/practitioners", std::string(R"({"hsa_id":")") + p + R"(","name":"Läkare )" + p +
                                                R"(","profession":"läkare","unit":")" + kHooksUnit + "\"}");
    ok("/api/v1/booking/visittypes", R"({"id":"lak30","name":"Läkarbesök","visit_form":"physical","minutes":30,"profession":"läkare"})");
    ok("/api/v1/booking/schedules", std::string(R"({"practitioner":")") + kHooksDoctor +
                                        R"(","visit_type":"lak30","weekdays":[1,2,3,4,5],"start":"08:00","end":"17:00","valid_from":"2026-01-01","valid_to":"2099-12-31"})");
    ok("/api/v1/booking/schedules", std::string(R"({"practitioner":")") + kNurseDoctor +
                                        R"(","visit_type":"lak30","weekdays":[1,2,3,4,5],"start":"08:00","end":"17:00","valid_from":"2026-01-01","valid_to":"2099-12-31"})");
    // The on-call doctor works afternoons only.
    ok("/api/v1/booking/schedules", std::string(R"({"practitioner":")") + kOnCall +
                                        R"(","visit_type":"lak30","weekdays":[1,2,3,4,5],"start":"13:00","end":"17:00","valid_from":"2026-01-01","valid_to":"2099-12-31"})");
    return box;
}

// The slot of `practitioner` at `time` on `date`.
long long slotOf(BoxProcess& box, const std::string& date, const std::string& practitioner, const std::string& time) {
    const auto r = box.authed("GET", std::string("/api/v1/booking/timeslots?unit=") + kHooksUnit + "&date=" + date + "&practitioner=" + practitioner);
    const auto slots = r.json()->getArray("timeslots");
    for (unsigned i = 0; i < slots->size(); ++i)
        if (slots->getObject(i)->getValue<std::string>("startTimeInclusive").substr(11, 5) == time)
            return slots->getObject(i)->getValue<long long>("slot_id");
    ADD_FAILURE() << "no slot at " << time << ": " << r.body;
    return 0;
}

bool waitForOutput(BoxProcess& box, const std::string& text) {
    for (int i = 0; i < 400; ++i) {
        if (box.output().find(text) != std::string::npos) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return false;
}

}  // namespace

TEST(LuaHooksServer, RemindersExampleSetsTheHoursTheBookingPluginQueues) {
    TempDir d;
    fs::create_directories(d.file("scripts"));
    std::ofstream(d.file("scripts") + "/reminders.lua") << example("reminders.lua");
    auto box = startBox(d,
                        // after the generated "plugins:" block: its settings first, then lua
                        "  settings:\n    booking:\n      reminder_hours: [24, 2]\n      email:\n        smtp_host: 127.0.0.1\n        smtp_port: 9\n"
                        "lua:\n  scripts_dir: " + d.file("scripts") +
                            "\n  config:\n    reminders.lua:\n      reminder_hours:\n        physical: [72, 24]\n",
                        pluginSet(d, {"booking"}));
    // A visit next Wednesday: both of the script's reminders are ahead.
    const long long slot = slotOf(*box, "2026-12-02", kHooksDoctor, "10:00");
    const auto b = box->authed("POST", "/api/v1/booking/bookings",
                               R"({"slot_id":)" + std::to_string(slot) + R"(,"patient":"191212121212","email":"p@example.se"})");
    ASSERT_EQ(b.status, 201) << b.body;
    const auto all = box->authed("GET", "/api/v1/outbox?state=pending").json()->getArray("messages");
    std::vector<std::string> keys;
    for (unsigned i = 0; i < all->size(); ++i) {
        const std::string k = all->getObject(i)->getValue<std::string>("idempotency_key");
        if (k.find("-reminder-") != std::string::npos) keys.push_back(k.substr(k.find("-reminder-") + 10));
    }
    std::sort(keys.begin(), keys.end());
    EXPECT_EQ(keys, (std::vector<std::string>{"24-email", "72-email"})) << "the script's 72/24 hours, not the settings' 24/2";

    // The offline tools read the same settings from the box's file.
    std::ofstream(d.file("check.lua")) << "kb.test('settings', function() kb.assert_eq(kb.config('reminder_hours.physical'), {72, 24}) end)";
    fs::copy_file(d.file("check.lua"), d.file("reminders.lua"));
    std::string out;
    EXPECT_EQ(box->cli({"lua", "test", d.file("reminders.lua"), "--config", box->configFile()}, &out), 0) << out;
    EXPECT_EQ(box->cli({"lua", "test", d.file("reminders.lua"), "--config", ""}, &out), 1) << out;  // no settings
    EXPECT_EQ(box->cli({"lua", "test", "--help"}, &out), 0) << out;
}

TEST(LuaHooksServer, ARoutingHookChoosesAFreeSlotAndHandlersSeeSlotAndContact) {
    TempDir d;
    fs::create_directories(d.file("scripts"));
    // Route every booking to the on-call doctor's first free slot of the day.
    std::ofstream(d.file("scripts") + "/oncall.lua") << R"(
kb.on("booking.requested", function(e)
  for _, s in ipairs(e.payload.free_slots) do
    if s.practitioner == kb.config("on_call") then
      e.payload.slot_id = s.slot_id
      return
    end
  end
  kb.reject("Ingen jourtid i dag")
end)
kb.subscribe("booking.created", function(e)
  kb.log.info("created slot=" .. e.payload.slot_id .. " phone=" .. tostring(e.payload.phone) .. " email=" .. tostring(e.payload.email))
end)
kb.subscribe("booking.cancelled", function(e)
  kb.log.info("cancelled slot=" .. e.payload.slot_id)
end)
)";
    auto box = startBox(d, "lua:\n  scripts_dir: " + d.file("scripts") + "\n  config:\n    oncall.lua:\n      on_call: " + kOnCall + "\n",
                        pluginSet(d, {"booking"}));
    const long long morning = slotOf(*box, "2026-11-26", kHooksDoctor, "09:00");
    const long long afternoon = slotOf(*box, "2026-11-26", kOnCall, "13:00");
    const auto b = box->authed("POST", "/api/v1/booking/bookings",
                               R"({"slot_id":)" + std::to_string(morning) +
                                   R"(,"patient":"191212121212","phone":"070-123 45 67","email":"p@example.se"})");
    ASSERT_EQ(b.status, 201) << b.body;
    const long long id = b.json()->getValue<long long>("bookingId");
    const auto got = box->authed("GET", "/api/v1/booking/bookings/" + std::to_string(id));
    ASSERT_EQ(got.status, 200) << got.body;
    EXPECT_NE(got.body.find(kOnCall), std::string::npos) << got.body;
    EXPECT_TRUE(waitForOutput(*box, "created slot=" + std::to_string(afternoon) + " phone=070-123 45 67 email=p@example.se"))
        << box->output();
    const auto c = box->authed("POST", "/api/v1/booking/bookings/" + std::to_string(id) + "/cancel", "{}");
    EXPECT_LT(c.status, 300) << c.body;
    EXPECT_TRUE(waitForOutput(*box, "cancelled slot=" + std::to_string(afternoon))) << box->output();
}

TEST(LuaHooksServer, FeeExampleChargesTheRegionsFeeAndAHookCanRemoveTheExemption) {
    TempDir d;
    fs::create_directories(d.file("scripts"));
    std::ofstream(d.file("scripts") + "/fee_override.lua") << example("fee_override.lua");
    // A stricter rule after it: patients under 18 pay (the exemption removed, nothing else).
    std::ofstream(d.file("scripts") + "/z_strict.lua") << R"(
kb.on("checkin.fee", function(e)
  if e.payload.age < 18 then e.payload.fee_exemption = nil end
end)
)";
    auto box = startBox(d,
                        std::string("  settings:\n    checkin:\n      care_unit: ") + kHooksUnit +
                            "\n      clinic_name: Vårdcentralen Norr\n      fees:\n        free_from_age: 85\n        youth_free_below_age: 20\n"
                            "        default_fee_ore: 20000\n        tariffs:\n          - {name: Läkarbesök, profession: läkare, fee_ore: 30000}\n"
                            "lua:\n  scripts_dir: " + d.file("scripts") + "\n",
                        pluginSet(d, {"booking", "checkin"}));
    auto book = [&](const std::string& patient, const char* practitioner) {
        const auto r = box->authed("POST", "/api/v1/booking/bookings",
                                   R"({"slot_id":)" + std::to_string(slotOf(*box, "2026-11-25", practitioner, "09:00")) + R"(,"patient":")" +
                                       patient + "\"}");
        ASSERT_EQ(r.status, 201) << r.body;
    };
    book("198001010019", kHooksDoctor);
    book("201103152383", kNurseDoctor);  // 15 years old
    // The waiting room's kiosk (a registered device) answers with what the patient pays.
    const auto arrive = kioskArrivals(*box);
    const auto adult = arrive("198001010019");
    ASSERT_EQ(adult.status, 201) << adult.body;
    EXPECT_EQ(adult.json()->getValue<long long>("charge_ore"), 20000) << "the example's regional fee for a physical visit";
    const auto teen = arrive("201103152383");
    ASSERT_EQ(teen.status, 201) << teen.body;
    EXPECT_EQ(teen.json()->getValue<long long>("charge_ore"), 30000) << "exemption removed: the tariff's fee " << teen.body;
}

// Check-in reads the bookings a checkin.lookup hook answers with as instants: a booking system
// that writes UTC ("…T08:00:00Z") checks the patient in for 09:00 Swedish time on the right
// day, and a start that is no time is a 503 ("ask at the reception"), never a 500.
TEST(LuaHooksServer, CheckInReadsTheLookupsStartsAsInstantsWhateverTheirOffset) {
    TempDir d;
    fs::create_directories(d.file("scripts"));
    std::ofstream(d.file("scripts") + "/utc_lookup.lua") << R"(
kb.on("checkin.lookup", { phase = "finalize" }, function(e)
  for _, b in ipairs(e.payload.bookings or {}) do
    if e.payload.patient == "201103152383" then
      b.start = "kl. nio"
    else
      b.start = os.date("!%Y-%m-%dT%H:%M:%SZ", kb.time.parse(b.start))
    end
  end
end)
)";
    auto box = startBox(d,
                        std::string("  settings:\n    checkin:\n      care_unit: ") + kHooksUnit +
                            "\n      clinic_name: Vårdcentralen Norr\n"
                            "lua:\n  scripts_dir: " + d.file("scripts") + "\n",
                        pluginSet(d, {"booking", "checkin"}));
    for (const auto& [patient, practitioner] : {std::pair{"198001010019", kHooksDoctor}, std::pair{"201103152383", kNurseDoctor}}) {
        const auto r = box->authed("POST", "/api/v1/booking/bookings",
                                   R"({"slot_id":)" + std::to_string(slotOf(*box, "2026-11-25", practitioner, "09:00")) +
                                       R"(,"patient":")" + patient + "\"}");
        ASSERT_EQ(r.status, 201) << r.body;
    }
    const auto arrive = kioskArrivals(*box);
    const auto utc = arrive("198001010019");
    ASSERT_EQ(utc.status, 201) << utc.body;
    EXPECT_EQ(utc.json()->getValue<std::string>("time"), "09:00") << "Swedish time, not the UTC hour: " << utc.body;
    const auto report = box->authed("GET", "/api/v1/checkin/day?date=2026-11-25");
    ASSERT_EQ(report.status, 200) << report.body;
    EXPECT_NE(report.body.find("\"time\":\"09:00\""), std::string::npos) << report.body;
    const auto garbled = arrive("201103152383");
    EXPECT_EQ(garbled.status, 503) << garbled.body;
    EXPECT_NE(garbled.body.find("/problems/checkin-lookup-failed"), std::string::npos) << garbled.body;
    EXPECT_NE(box->output().find("start is not an ISO 8601 time"), std::string::npos);
}
