// A video visit end to end with the real booking plugin and the simulator's BankID: the
// booking creates the room, the patient identifies with the steered person, waits, is
// admitted and joins; a rebooking ends the old room's links and gives the new booking a room.
#include "BoxProcess.h"
#include "Eventually.h"
#include "SimProcess.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

using namespace kbtest;
namespace fs = std::filesystem;

namespace {

const char* const kVideoUnit = "SE2321000016-U001";

std::string set(const TempDir& dir) {
    const fs::path s = fs::path(dir.path()) / "set";
    for (const char* id : {"booking", "video"}) {
        const fs::path src = fs::path(KB_SOURCE_DIR) / "plugins" / id;
        fs::create_directories(s / id);
        for (const char* f : {"plugin.yaml", "schema.yaml"}) fs::copy_file(src / f, s / id / f);
        fs::copy(src / "migrations", s / id / "migrations", fs::copy_options::recursive);
        fs::copy(src / "web", s / id / "web", fs::copy_options::recursive);
        fs::copy_file(fs::path(KB_BUILD_DIR) / "plugins" / id / (std::string("lib") + id + ".so"), s / id / (std::string("lib") + id + ".so"));
    }
    return s.string();
}

HttpResult anon(const BoxProcess& box, const std::string& path, const std::string& json) {
    return box.request("POST", path, json, {{"Content-Type", "application/json"}});
}


}  // namespace

TEST(VideoBooking, ABookedVideoVisitIsMetAndARebookingMovesIt) {
    SimProcess sim;
    sim.start();
    TempDir d;
    std::ostringstream cfg;
    cfg << "  settings:\n    booking:\n      sms:\n        gateway_url: " << sim.http() << "/sms/messages\n        token: t0ken\n    video:\n      public_url: https://klinik.example.se\n      jitsi:\n        server_url: https://meet.example.se\n"
        << "        app_secret: demo-jitsi-secret-0123456789-abcdef\n      idp:\n        base_url: " << sim.https() << "\n        client_cert: "
        << sim.clientCert() << "\n        client_key: " << sim.clientKey() << "\n        ca: " << sim.ca() << "\n";
    BoxProcess box(cfg.str(), set(d));
    {
        std::ifstream in(box.configFile());
        std::stringstream ss;
        ss << in.rdbuf();
        std::string c = ss.str();
        c.replace(c.find("box:\n"), 5, "box:\n  clock_start: \"2026-11-25T07:50:00Z\"\n");
        std::ofstream(box.configFile()) << c;
    }
    box.start();
    box.loginAs("anna", "admin");
    ASSERT_EQ(box.authed("POST", "/api/v1/booking/units", std::string(R"({"hsa_id":")") + kVideoUnit + R"(","name":"Vårdcentralen Norr"})").status, 201);
    ASSERT_EQ(box.authed("POST", "/api/v1/booking/practitioners",
                         std::string(R"({"hsa_id":"SE2321000016-P001","name":"Eva Ek","profession":"läkare","unit":")") + kVideoUnit + "\"}")
                  .status,
              201);
    ASSERT_EQ(box.authed("POST", "/api/v1/booking/visittypes", R"({"id":"video20","name":"Videobesök","visit_form":"video","minutes":20,"profession":"läkare"})").status, 201);
    ASSERT_EQ(box.authed("POST", "/api/v1/booking/schedules",
                         R"({"practitioner":"SE2321000016-P001","visit_type":"video20","weekdays":[1,2,3,4,5],"start":"08:00","end":"17:00","valid_from":"2026-01-01","valid_to":"2099-12-31"})")
                  .status,
              201);
    box.loginAs("sam", "staff");
    const auto slots = box.authed("GET", std::string("/api/v1/booking/timeslots?unit=") + kVideoUnit + "&date=2026-11-25").json()->getArray("timeslots");
    long long nine = 0, ten = 0;
    for (unsigned i = 0; i < slots->size(); ++i) {
        const auto t = slots->getObject(i)->getValue<std::string>("startTimeInclusive").substr(11, 5);
        if (t == "09:00") nine = slots->getObject(i)->getValue<long long>("slot_id");
        if (t == "10:00") ten = slots->getObject(i)->getValue<long long>("slot_id");
    }
    ASSERT_TRUE(nine && ten);
    const auto booked = box.authed("POST", "/api/v1/booking/bookings", R"({"slot_id":)" + std::to_string(nine) + R"(,"patient":"199001012385","phone":"0701234567"})");
    ASSERT_EQ(booked.status, 201) << booked.body;
    const std::string id = std::to_string(booked.json()->getValue<long long>("bookingId"));

    // booking.created gave the visit a room and links.
    HttpResult links;
    ASSERT_TRUE(eventually([&] { return (links = box.authed("GET", "/api/v1/video/bookings/" + id + "/links")).status == 200; }))
        << links.body << box.output();
    const std::string url = links.json()->getValue<std::string>("patient_join_url");
    ASSERT_EQ(url.rfind("https://klinik.example.se/", 0), 0u) << url;
    const std::string token = url.substr(url.find("#t=") + 3);
    // The patient gets the link by SMS through the booking plugin (time and link only).
    ASSERT_TRUE(eventually([&] {
        const auto items = sim.steer("GET", "/sim/api/received?service=sms").json()->getArray("items");
        for (unsigned i = 0; i < items->size(); ++i)
            if (items->getObject(i)->getValue<std::string>("request").find(token) != std::string::npos) return true;
        return false;
    })) << sim.steer("GET", "/sim/api/received?service=sms").body;

    // Someone else's BankID is refused; the patient's own is accepted.
    ASSERT_EQ(sim.steer("POST", "/sim/api/bankid/next", R"({"personalNumber":"198507099805","name":"Fel Person"})").status, 204);
    auto wrong = anon(box, "/api/v1/video/patient/identify", R"({"token":")" + token + "\"}");
    ASSERT_EQ(wrong.status, 200) << wrong.body;
    const std::string ws = wrong.json()->getValue<std::string>("session");
    HttpResult st;
    ASSERT_TRUE(eventually([&] {
        st = anon(box, "/api/v1/video/patient/status", R"({"token":")" + token + R"(","session":")" + ws + "\"}");
        return st.status != 200 || st.json()->getValue<std::string>("state") != "identifying";
    }));
    EXPECT_FALSE(st.status == 200 && st.json()->getValue<std::string>("state") == "waiting")
        << "another person must not reach the lobby: " << st.body;

    ASSERT_EQ(sim.steer("POST", "/sim/api/bankid/next", R"({"personalNumber":"199001012385","name":"Anna Andersson"})").status, 204);
    auto started = anon(box, "/api/v1/video/patient/identify", R"({"token":")" + token + "\"}");
    ASSERT_EQ(started.status, 200) << started.body;
    const std::string session = started.json()->getValue<std::string>("session");
    ASSERT_TRUE(eventually([&] {
        st = anon(box, "/api/v1/video/patient/status", R"({"token":")" + token + R"(","session":")" + session + "\"}");
        return st.status == 200 && st.json()->getValue<std::string>("state") == "waiting";
    })) << st.body;
    ASSERT_EQ(box.authed("POST", "/api/v1/video/bookings/" + id + "/admit", "{}").status, 200);
    st = anon(box, "/api/v1/video/patient/status", R"({"token":")" + token + R"(","session":")" + session + "\"}");
    ASSERT_EQ(st.json()->getValue<std::string>("state"), "admitted") << st.body;
    EXPECT_EQ(st.json()->getValue<std::string>("join_url").rfind("https://meet.example.se/", 0), 0u);

    // Rebooking to 10:00 (a new booking) ends this room; the new booking gets its own. It is
    // within the change limit, so staff give a reason.
    box.loginAs("adam", "admin");
    const auto moved = box.authed("POST", "/api/v1/booking/bookings/" + id + "/rebook", R"({"slot_id":)" + std::to_string(ten) + ",\"reason\":\"the patient called\"}");
    ASSERT_EQ(moved.status, 201) << moved.body;
    const std::string newId = std::to_string(moved.json()->getValue<long long>("bookingId"));
    box.loginAs("sara", "staff");  // the video routes are clinical staff's
    HttpResult old;
    ASSERT_TRUE(eventually([&] {
        old = box.authed("GET", "/api/v1/video/bookings/" + id + "/links");
        return old.status == 200 && old.json()->optValue<std::string>("state", "") == "revoked";
    })) << old.status << " " << old.body << box.output().substr(box.output().size() > 3000 ? box.output().size() - 3000 : 0);
    EXPECT_NE(anon(box, "/api/v1/video/patient/status", R"({"token":")" + token + R"(","session":")" + session + "\"}").status, 200);
    ASSERT_TRUE(eventually([&] { return box.authed("GET", "/api/v1/video/bookings/" + newId + "/links").status == 200; }));
}
