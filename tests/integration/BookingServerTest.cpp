// The booking plugin in a running box, over HTTPS: setup, concurrent bookings of one slot,
// the booking life cycle with hooks, audit and messages, reminders kept across a restart,
// invitations, VIP codes and the iCalendar feed.
// Over 600 lines: each test starts a box and its setup (units, practitioners, schedule) is
// shared by the flows here; split by flow before it grows further.
#include "BoxProcess.h"
#include "HttpSink.h"

#include <klinikbox/Db.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

using namespace kbtest;
namespace fs = std::filesystem;

namespace {

const char* const kBookingUnit = "SE2321000016-U001";
const char* const kBookingDoctor = "SE2321000016-P001";
const char* const kNurse = "SE2321000016-P002";

std::string bookingSet(const TempDir& dir) { return pluginSetOf(dir, {"booking"}); }

// A unit with a doctor (physical, 30 min, every day 00:00-24:00) and a nurse (video).
void setUp(BoxProcess& box) {
    auto ok = [&](const std::string& path, const std::string& body) {
        const auto r = box.authed("POST", path, body);
        ASSERT_EQ(r.status, 201) << path << ": " << r.body << (r.status == 404 ? "\nthe box said:\n" + box.output() : "");
    };
    ok("/api/v1/booking/units", std::string(R"({"hsa_id":")") + kBookingUnit + R"(","name":"Vårdcentralen Norr","address":"Storgatan 1, Umeå"})");
    ok("/api/v1/booking/practitioners", std::string(R"({"hsa_id":")") + kBookingDoctor + R"(","name":"Eva Läkare","profession":"läkare","unit":")" + kBookingUnit + "\"}");
    ok("/api/v1/booking/practitioners", std::string(R"({"hsa_id":")") + kNurse + R"(","name":"Sam Sköterska","profession":"sjuksköterska","unit":")" + kBookingUnit + "\"}");
    ok("/api/v1/booking/visittypes", R"({"id":"lak30","name":"Läkarbesök","visit_form":"physical","minutes":30,"profession":"läkare","vip_bookable":true})");
    ok("/api/v1/booking/visittypes", R"({"id":"video20","name":"Videobesök","visit_form":"video","minutes":20,"profession":"sjuksköterska"})");
    ok("/api/v1/booking/schedules", std::string(R"({"practitioner":")") + kBookingDoctor +
                                        R"(","visit_type":"lak30","weekdays":[1,2,3,4,5,6,7],"start":"00:00","end":"24:00","valid_from":"2026-01-01","valid_to":"2099-12-31"})");
    ok("/api/v1/booking/schedules", std::string(R"({"practitioner":")") + kNurse +
                                        R"(","visit_type":"video20","weekdays":[1,2,3,4,5,6,7],"start":"08:00","end":"16:00","breaks":["12:00-13:00"],"valid_from":"2026-01-01","valid_to":"2099-12-31"})");
}

// Free slots of a visit type, some days ahead (so the cancellation limit is not reached).
Poco::JSON::Array::Ptr freeSlots(BoxProcess& box, const std::string& visitType, int daysAhead = 5) {
    auto dates = box.authed("GET", std::string("/api/v1/booking/availabledates?unit=") + kBookingUnit + "&visit_type=" + visitType);
    EXPECT_EQ(dates.status, 200) << dates.body;
    auto list = dates.json()->getArray("dates");
    EXPECT_GT(list->size(), static_cast<std::size_t>(daysAhead));
    const auto date = list->getElement<std::string>(static_cast<unsigned>(daysAhead));
    auto slots = box.authed("GET", std::string("/api/v1/booking/timeslots?unit=") + kBookingUnit + "&date=" + date + "&visit_type=" + visitType);
    EXPECT_EQ(slots.status, 200) << slots.body;
    return slots.json()->getArray("timeslots");
}

long long slotAt(const Poco::JSON::Array::Ptr& a, unsigned i) { return a->getObject(i)->getValue<long long>("slot_id"); }

}  // namespace

TEST(BookingServer, ManySimultaneousBookingsOfOneSlotExactlyOneWins) {
    TempDir d;
    BoxProcess box("", bookingSet(d));
    box.start();
    box.loginAs("anna", "admin");
    setUp(box);
    const long long slot = slotAt(freeSlots(box, "lak30"), 3);
    // Ten different patients, each request on its own connection, all at once.
    const std::vector<std::string> patients = {"191212121212", "199001012385", "198507099805", "197310248872",
                                               "200001012384", "195202022389", "196603038891", "198112118883",
                                               "194404044440", "201205051236"};
    std::atomic<int> created{0}, taken{0}, other{0};
    std::vector<std::thread> threads;
    std::atomic<bool> go{false};
    for (const auto& p : patients)
        threads.emplace_back([&, p] {
            while (!go) std::this_thread::yield();
            const auto r = box.authed("POST", "/api/v1/booking/bookings",
                                      R"({"slot_id":)" + std::to_string(slot) + R"(,"patient":")" + p + "\"}");
            if (r.status == 201) ++created;
            else if (r.status == 409 && r.body.find("/problems/slot-taken") != std::string::npos) ++taken;
            else ++other;
        });
    go = true;
    for (auto& t : threads) t.join();
    EXPECT_EQ(created.load(), 1);
    EXPECT_EQ(taken.load(), 9);
    EXPECT_EQ(other.load(), 0);
    // The slot is no longer offered.
    const auto after = freeSlots(box, "lak30");
    for (unsigned i = 0; i < after->size(); ++i) EXPECT_NE(slotAt(after, i), slot);
}

TEST(BookingServer, BookCancelRebookAndRefusalsWithAuditAndMessages) {
    TempDir d;
    HttpSink sms;
    fs::create_directories(d.file("scripts"));
    // Triage: a reason mentioning fever is an infection (3 days); a routine control goes to
    // the second doctor.
    std::ofstream(d.file("scripts/triage.lua")) << R"(
kb.on("booking.requested", function(e)
  local p = e.payload
  if p.reason and string.find(p.reason, "feber") then p.triage = "infektion"; p.urgency_days = 3 end
  if p.reason == "rutinkontroll" then p.practitioner = "SE2321000016-P003" end
end)
)";
    std::ofstream(d.file("scripts/guardian.lua")) << R"(
kb.on("booking.requested", function(e)
  local p = e.payload
  local age = kb.pnr.age(p.patient, string.sub(p.start, 1, 10))
  if p.visit_form == "video" and age and age < 18 and not p.guardian then
    kb.reject("Ett videobesök för ett barn kräver en vårdnadshavare")
  end
end)
)";
    BoxProcess box("  settings:\n    booking:\n      clinic_phone: 090-123 45\n      reminder_hours: [24, 2]\n      sms:\n        gateway_url: " +
                       sms.url("/sms/messages") + "\n        token: gateway-secret\n" + "lua:\n  scripts_dir: " + d.file("scripts") + "\n",
                   bookingSet(d));
    box.start();
    box.loginAs("anna", "admin");
    setUp(box);
    ASSERT_EQ(box.authed("POST", "/api/v1/booking/practitioners",
                         std::string(R"({"hsa_id":"SE2321000016-P003","name":"Per Läkare","profession":"läkare","unit":")") + kBookingUnit + "\"}")
                  .status,
              201);
    ASSERT_EQ(box.authed("POST", "/api/v1/booking/schedules",
                         R"({"practitioner":"SE2321000016-P003","visit_type":"lak30","weekdays":[1,2,3,4,5,6,7],"start":"00:00","end":"24:00","valid_from":"2026-01-01","valid_to":"2099-12-31"})")
                  .status,
              201);
    box.loginAs("sam", "staff");
    const auto slots = freeSlots(box, "lak30");
    const long long s1 = slotAt(slots, 0), s2 = slotAt(slots, 2);

    // Bad input: a 4xx problem each, nothing stored.
    EXPECT_EQ(box.authed("POST", "/api/v1/booking/bookings", R"({"slot_id":1,"patient":"191212121213"})").status, 400);
    EXPECT_EQ(box.authed("POST", "/api/v1/booking/bookings", R"({"slot_id":"x","patient":"191212121212"})").status, 400);
    EXPECT_EQ(box.authed("POST", "/api/v1/booking/bookings", R"({"slot_id":1,"patient":"191212121212","x":1})").status, 400);
    EXPECT_EQ(box.authed("POST", "/api/v1/booking/bookings", R"({"slot_id":)").status, 400);
    EXPECT_EQ(box.authed("POST", "/api/v1/booking/bookings", R"({"slot_id":999999999,"patient":"191212121212"})").status, 404);

    const auto made = box.authed("POST", "/api/v1/booking/bookings",
                                 R"({"slot_id":)" + std::to_string(s1) +
                                     R"(,"patient":"19121212-1212","reason":"ont i örat sedan en vecka","phone":"070-123 45 67"})");
    ASSERT_EQ(made.status, 201) << made.body;
    const auto b = made.json();
    const long long id = b->getValue<long long>("bookingId");
    EXPECT_EQ(b->getValue<std::string>("subject_of_care"), "191212121212");
    EXPECT_EQ(b->getValue<std::string>("timeTypeName"), "Läkarbesök");
    EXPECT_TRUE(b->getValue<bool>("cancel_booking_allowed"));
    EXPECT_EQ(b->getValue<std::string>("triage"), "");

    // The triage hook's decisions are stored; its routing books the other doctor at that time.
    const auto fever = box.authed("POST", "/api/v1/booking/bookings",
                                  R"({"slot_id":)" + std::to_string(slotAt(slots, 4)) + R"(,"patient":"198507099805","reason":"feber sedan i går"})");
    ASSERT_EQ(fever.status, 201) << fever.body;
    EXPECT_EQ(fever.json()->getValue<std::string>("triage"), "infektion");
    EXPECT_EQ(fever.json()->getValue<int>("urgency_days"), 3);
    const auto routine = box.authed("POST", "/api/v1/booking/bookings",
                                    R"({"slot_id":)" + std::to_string(slotAt(slots, 6)) + R"(,"patient":"197310248872","reason":"rutinkontroll"})");
    ASSERT_EQ(routine.status, 201) << routine.body;
    EXPECT_EQ(routine.json()->getValue<std::string>("performer"), "SE2321000016-P003");
    EXPECT_EQ(routine.json()->getValue<std::string>("startTimeInclusive"),
              slots->getObject(6)->getValue<std::string>("startTimeInclusive"));

    // The confirmation SMS: time and place, never the reason.
    const auto got = sms.waitFor(1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].authorization, "Bearer gateway-secret");
    EXPECT_NE(got[0].body.find("+46701234567"), std::string::npos) << got[0].body;
    EXPECT_NE(got[0].body.find("Storgatan 1"), std::string::npos) << got[0].body;
    EXPECT_EQ(got[0].body.find("örat"), std::string::npos) << "no health information in messages";
    // The two reminders wait in the outbox until they are due.
    box.loginAs("ivar", "it");
    const auto pending = box.authed("GET", "/api/v1/outbox?state=pending");
    ASSERT_EQ(pending.status, 200) << pending.body;
    int reminders = 0;
    const auto msgs = pending.json()->getArray("messages");
    for (unsigned i = 0; i < msgs->size(); ++i)
        if (msgs->getObject(i)->getValue<std::string>("idempotency_key").find("-reminder-") != std::string::npos) ++reminders;
    EXPECT_EQ(reminders, 2) << pending.body;

    // A video visit for a child without a guardian is refused by the clinic's Lua hook.
    box.loginAs("sara", "staff");
    const auto video = freeSlots(box, "video20");
    const auto refused = box.authed("POST", "/api/v1/booking/bookings",
                                    R"({"slot_id":)" + std::to_string(slotAt(video, 0)) + R"(,"patient":"201205051236"})");
    EXPECT_EQ(refused.status, 422) << refused.body;
    EXPECT_EQ(refused.json()->getValue<std::string>("detail"), "Ett videobesök för ett barn kräver en vårdnadshavare");
    const auto withGuardian = box.authed("POST", "/api/v1/booking/bookings",
                                         R"({"slot_id":)" + std::to_string(slotAt(video, 0)) +
                                             R"(,"patient":"201205051236","guardian":"197310248872"})");
    EXPECT_EQ(withGuardian.status, 201) << withGuardian.body;

    // Rebook frees the old slot; cancel ends it; the patient's schedule shows the history.
    const auto moved = box.authed("POST", "/api/v1/booking/bookings/" + std::to_string(id) + "/rebook",
                                  R"({"slot_id":)" + std::to_string(s2) + "}");
    ASSERT_EQ(moved.status, 201) << moved.body;
    const long long newId = moved.json()->getValue<long long>("bookingId");
    EXPECT_EQ(box.authed("GET", "/api/v1/booking/bookings/" + std::to_string(id)).json()->getValue<std::string>("status"), "rebooked");
    EXPECT_EQ(box.authed("POST", "/api/v1/booking/bookings/" + std::to_string(id) + "/cancel", "{}").status, 409);
    const auto again = box.authed("POST", "/api/v1/booking/bookings", R"({"slot_id":)" + std::to_string(s1) + R"(,"patient":"199001012385"})");
    EXPECT_EQ(again.status, 201) << "the old slot is free again: " << again.body;
    EXPECT_EQ(box.authed("POST", "/api/v1/booking/bookings/" + std::to_string(newId) + "/noshow", "{}").status, 409)
        << "a future booking cannot be a no-show";
    const auto cancelled = box.authed("POST", "/api/v1/booking/bookings/" + std::to_string(newId) + "/cancel", R"({"by":"patient"})");
    ASSERT_EQ(cancelled.status, 200) << cancelled.body;
    EXPECT_EQ(cancelled.json()->getValue<std::string>("status"), "cancelled");
    const auto sched = box.authed("GET", "/api/v1/booking/patients/191212121212/schedule");
    ASSERT_EQ(sched.status, 200) << sched.body;
    EXPECT_EQ(sched.json()->getArray("bookings")->size(), 2u);
    EXPECT_EQ(box.authed("GET", "/api/v1/booking/patients/1912121212134/schedule").status, 400);

    // Every read and write of the patient's bookings is in the audit log.
    box.loginAs("aud", "auditor");
    const auto log = box.authed("GET", "/api/v1/audit?patient=191212121212&limit=100");
    ASSERT_EQ(log.status, 200) << log.body;
    std::set<std::string> actions;
    const auto recs = log.json()->getArray("records");
    for (unsigned i = 0; i < recs->size(); ++i) actions.insert(recs->getObject(i)->getValue<std::string>("action"));
    for (const char* a : {"booking.create", "booking.rebook", "booking.cancel", "booking.read"})
        EXPECT_TRUE(actions.count(a)) << a << " missing in " << log.body;
    EXPECT_EQ(box.output().find("191212121212"), std::string::npos) << "personnummer are masked in logs";
}

// The day view shows patients: the view writes ONE audit record that lists every patient
// shown (it used to write one chained record per patient), the chain still verifies, and
// each patient's review, CSV export and log extract find the view.
TEST(BookingServer, TheDayViewWritesOneAuditRecordListingEveryPatientShown) {
    TempDir d;
    BoxProcess box("", bookingSet(d));
    box.start();
    box.loginAs("anna", "admin");
    setUp(box);
    const auto slots = freeSlots(box, "lak30");
    const std::string date = slots->getObject(0)->getValue<std::string>("startTimeInclusive").substr(0, 10);
    const std::vector<std::string> patients = {"191212121212", "199001012385", "198507099805"};
    for (unsigned i = 0; i < patients.size(); ++i) {
        const auto r = box.authed("POST", "/api/v1/booking/bookings",
                                  R"({"slot_id":)" + std::to_string(slotAt(slots, i)) + R"(,"patient":")" + patients[i] + "\"}");
        ASSERT_EQ(r.status, 201) << r.body;
    }
    box.loginAs("sara", "staff");
    const auto view = box.authed("GET", std::string("/api/v1/booking/calendar?unit=") + kBookingUnit + "&date=" + date);
    ASSERT_EQ(view.status, 200) << view.body;
    for (const auto& p : patients) EXPECT_NE(view.body.find(p), std::string::npos);
    box.loginAs("aud", "auditor");
    for (const auto& p : patients) {
        const auto log = box.authed("GET", "/api/v1/audit?patient=" + p + "&limit=100");
        ASSERT_EQ(log.status, 200) << log.body;
        int reads = 0;
        const auto recs = log.json()->getArray("records");
        for (unsigned i = 0; i < recs->size(); ++i) {
            const auto rec = recs->getObject(i);
            if (rec->getValue<std::string>("action") == "booking.read" &&
                rec->getValue<std::string>("details").rfind("calendar " + std::string(kBookingUnit) + " from " + date, 0) == 0)
                ++reads;
        }
        EXPECT_EQ(reads, 1) << p << ": " << log.body;
        const auto extract = box.authed("GET", "/api/v1/audit/patient-extract?patient=" + p);
        ASSERT_EQ(extract.status, 200) << extract.body;
        bool sawSara = false;
        const auto entries = extract.json()->getArray("entries");
        for (unsigned i = 0; i < entries->size(); ++i) {
            const auto e = entries->getObject(i);
            if (e->getValue<std::string>("username") == "sara") {
                sawSara = true;
                EXPECT_EQ(e->getValue<std::string>("actions"), "booking.read");
                EXPECT_EQ(e->getValue<int>("count"), 1);
            }
        }
        EXPECT_TRUE(sawSara) << extract.body;
        for (const auto& other : patients) {
            if (other == p) continue;
            EXPECT_EQ(extract.body.find(other), std::string::npos) << "the extract names no other patient";
        }
    }
    // Exactly one record of the view, naming the three patients in order.
    const auto all = box.authed("GET", "/api/v1/audit?action=booking.read&user=sara&limit=100");
    ASSERT_EQ(all.status, 200) << all.body;
    const auto recs = all.json()->getArray("records");
    ASSERT_EQ(recs->size(), 1u) << all.body;
    const auto viewRecord = recs->getObject(0);
    EXPECT_EQ(viewRecord->getValue<std::string>("patient"), "");
    std::vector<std::string> sorted = patients;
    std::sort(sorted.begin(), sorted.end());
    const auto subjects = viewRecord->getArray("subjects");
    ASSERT_EQ(subjects->size(), sorted.size()) << all.body;
    for (unsigned i = 0; i < sorted.size(); ++i) EXPECT_EQ(subjects->getElement<std::string>(i), sorted[i]);
    const auto csv = box.authed("GET", "/api/v1/audit/export.csv?action=booking.read&user=sara");
    ASSERT_EQ(csv.status, 200) << csv.body;
    EXPECT_NE(csv.body.find("," + sorted[0] + " " + sorted[1] + " " + sorted[2] + "\r\n"), std::string::npos) << csv.body;
    const auto verify = box.authed("GET", "/api/v1/audit/verify");
    EXPECT_TRUE(verify.json()->getValue<bool>("ok")) << verify.body;
}

TEST(BookingServer, RemindersWaitInTheOutboxAcrossARestart) {
    TempDir d;
    const std::string set = bookingSet(d);
    BoxProcess box("  settings:\n    booking:\n      reminder_hours: [48]\n      email:\n        smtp_host: 127.0.0.1\n        smtp_port: 9\n", set);
    box.start();
    box.loginAs("anna", "admin");
    setUp(box);
    const auto slots = freeSlots(box, "lak30", 6);
    ASSERT_EQ(box.authed("POST", "/api/v1/booking/bookings",
                         R"({"slot_id":)" + std::to_string(slotAt(slots, 0)) + R"(,"patient":"191212121212","email":"p@example.se"})")
                  .status,
              201);
    auto reminder = [&]() -> Poco::JSON::Object::Ptr {
        const auto all = box.authed("GET", "/api/v1/outbox?state=pending").json()->getArray("messages");
        for (unsigned i = 0; i < all->size(); ++i)
            if (all->getObject(i)->getValue<std::string>("idempotency_key").find("-reminder-48-email") != std::string::npos)
                return all->getObject(i);
        return nullptr;
    };
    const auto before = reminder();
    ASSERT_TRUE(before);
    const auto due = before->getValue<long long>("next_attempt_at");
    box.stop();
    box.start();
    box.loginAs("anna2", "admin");
    const auto after = reminder();
    ASSERT_TRUE(after) << "the reminder survived the restart";
    EXPECT_EQ(after->getValue<long long>("next_attempt_at"), due);
    EXPECT_EQ(after->getValue<int>("attempts"), 0);
}

TEST(BookingServer, OpenInvitationVipCodeAndICalFeed) {
    TempDir d;
    HttpSink sms;
    BoxProcess box("  settings:\n    booking:\n      public_url: https://klinik.example.se\n      sms:\n        gateway_url: " +
                       sms.url("/sms") + "\n",
                   bookingSet(d));
    box.start();
    box.loginAs("anna", "admin");
    setUp(box);

    // Without a phone or an e-mail there is nowhere to send it: the field error says so by
    // its own code (the console's text), not the generic "invalid"; a bad phone says it too.
    const auto nowhere = box.authed("POST", "/api/v1/booking/invitations",
                                    std::string(R"({"patient":"199001012385","unit":")") + kBookingUnit + R"(","visit_type":"lak30","purpose":"x"})");
    EXPECT_EQ(nowhere.status, 400) << nowhere.body;
    EXPECT_NE(nowhere.body.find(R"("code":"contact-required")"), std::string::npos) << nowhere.body;
    const auto badPhone = box.authed("POST", "/api/v1/booking/invitations",
                                     std::string(R"({"patient":"199001012385","unit":")") + kBookingUnit + R"(","visit_type":"lak30","purpose":"x","phone":"abc"})");
    EXPECT_NE(badPhone.body.find(R"("code":"phone")"), std::string::npos) << badPhone.body;

    // An open invitation: the patient gets a link, opens it with their personnummer, answers
    // the questions and picks a time.
    const auto inv = box.authed("POST", "/api/v1/booking/invitations",
                                std::string(R"({"patient":"199001012385","unit":")") + kBookingUnit +
                                    R"(","visit_type":"lak30","purpose":"Årlig kontroll","questions":["Hur mår du?","Tar du mediciner?"],"phone":"0701234567"})");
    ASSERT_EQ(inv.status, 201) << inv.body;
    const std::string link = inv.json()->getValue<std::string>("link");
    const std::string token = link.substr(link.find('#') + 1);
    EXPECT_EQ(link.rfind("https://klinik.example.se/plugins/booking/invite.html#", 0), 0u) << link;
    const auto msg = sms.waitFor(1);
    ASSERT_FALSE(msg.empty());
    EXPECT_NE(msg[0].body.find(token), std::string::npos);
    EXPECT_EQ(msg[0].body.find("Årlig kontroll"), std::string::npos) << "the purpose stays behind the link";

    const std::string base = "/api/v1/booking/invite";
    const std::string tok = R"({"token":")" + token + R"(",)";
    EXPECT_EQ(box.request("POST", base + "/open", tok + R"("patient":"191212121212"})", {{"Content-Type", "application/json"}}).status, 403);
    const auto opened = box.request("POST", base + "/open", tok + R"("patient":"19900101-2385"})", {{"Content-Type", "application/json"}});
    ASSERT_EQ(opened.status, 200) << opened.body;
    EXPECT_EQ(opened.json()->getValue<std::string>("purpose"), "Årlig kontroll");
    EXPECT_FALSE(opened.json()->has("subject_of_care"));
    const auto offered = opened.json()->getArray("timeslots");
    ASSERT_GT(offered->size(), 0u);
    EXPECT_EQ(box.request("POST", base + "/answers", tok + R"("patient":"199001012385","answers":["Bra"]})", {{"Content-Type", "application/json"}}).status, 400);
    EXPECT_EQ(box.request("POST", base + "/answers", tok + R"("patient":"199001012385","answers":["Bra","Nej"]})", {{"Content-Type", "application/json"}}).status, 204);
    const auto picked = box.request("POST", base + "/book",
                                    tok + R"("patient":"199001012385","slot_id":)" + std::to_string(slotAt(offered, 10)) + "}",
                                    {{"Content-Type", "application/json"}});
    ASSERT_EQ(picked.status, 201) << picked.body;
    EXPECT_EQ(box.request("POST", base + "/book", tok + R"("patient":"199001012385","slot_id":)" + std::to_string(slotAt(offered, 11)) + "}",
                          {{"Content-Type", "application/json"}}).status,
              409);
    const auto list = box.authed("GET", std::string("/api/v1/booking/invitations?unit=") + kBookingUnit);
    ASSERT_EQ(list.status, 200);
    EXPECT_EQ(list.json()->getArray("invitations")->getObject(0)->getArray("answers")->size(), 2u);

    // A VIP code: the patient books directly within the clinic's limits; a revoked code is refused.
    const auto code = box.authed("POST", "/api/v1/booking/vipcodes", R"({"patient":"198507099805","visit_types":["lak30"],"max_active":1,"horizon_days":30})");
    ASSERT_EQ(code.status, 201) << code.body;
    const std::string c = code.json()->getValue<std::string>("code");
    EXPECT_EQ(box.authed("POST", "/api/v1/booking/vipcodes", R"({"patient":"198507099805","visit_types":["video20"]})").status, 400)
        << "video20 is not VIP-bookable";
    const auto avail = box.request("POST", "/api/v1/booking/vip/availability", R"({"code":")" + c + R"(","patient":"198507099805"})",
                                   {{"Content-Type", "application/json"}});
    ASSERT_EQ(avail.status, 200) << avail.body;
    const auto vipSlots = avail.json()->getArray("timeslots");
    ASSERT_GT(vipSlots->size(), 2u);
    EXPECT_FALSE(vipSlots->getObject(0)->has("performer"));
    const auto vb = box.request("POST", "/api/v1/booking/vip/book",
                                R"({"code":")" + c + R"(","patient":"198507099805","slot_id":)" + std::to_string(slotAt(vipSlots, 1)) + "}",
                                {{"Content-Type", "application/json"}});
    EXPECT_EQ(vb.status, 201) << vb.body;
    EXPECT_EQ(box.request("POST", "/api/v1/booking/vip/book",
                          R"({"code":")" + c + R"(","patient":"198507099805","slot_id":)" + std::to_string(slotAt(vipSlots, 2)) + "}",
                          {{"Content-Type", "application/json"}}).status,
              409)
        << "max_active 1";
    EXPECT_EQ(box.request("POST", "/api/v1/booking/vip/availability", R"({"code":")" + c + R"(","patient":"191212121212"})",
                          {{"Content-Type", "application/json"}}).status,
              403)
        << "the code belongs to another patient";
    const long long codeId = code.json()->getValue<long long>("id");
    EXPECT_EQ(box.authed("POST", "/api/v1/booking/vipcodes/" + std::to_string(codeId) + "/revoke", "{}").status, 204);
    EXPECT_EQ(box.request("POST", "/api/v1/booking/vip/availability", R"({"code":")" + c + R"(","patient":"198507099805"})",
                          {{"Content-Type", "application/json"}}).status,
              403);

    // Invitations and VIP codes share one counter per address: three wrong tries so far; six
    // more (alternating) are answered, and the 10th try is refused with 429.
    const std::map<std::string, std::string> json{{"Content-Type", "application/json"}};
    for (int i = 4; i <= 9; ++i) {
        const auto r = i % 2 ? box.request("POST", base + "/open", tok + R"("patient":"191212121212"})", json)
                             : box.request("POST", "/api/v1/booking/vip/availability", R"({"code":"WRONG-CODE","patient":"198507099805"})", json);
        EXPECT_EQ(r.status, 403) << "wrong try " << i << ": " << r.body;
    }
    EXPECT_EQ(box.request("POST", base + "/open", tok + R"("patient":"19900101-2385"})", json).status, 429)
        << "the 10th try is refused even with the right personnummer";

    // The practitioner's iCalendar feed: booked times without patient identities; revocable.
    const auto feed = box.authed("POST", std::string("/api/v1/booking/practitioners/") + kBookingDoctor + "/icalfeed", "{}");
    ASSERT_EQ(feed.status, 201) << feed.body;
    const std::string url = feed.json()->getValue<std::string>("url");
    const std::string path = url.substr(url.find("/api/"));
    const auto ics = box.request("GET", path);
    ASSERT_EQ(ics.status, 200) << ics.body;
    EXPECT_EQ(ics.contentType.rfind("text/calendar", 0), 0u);
    EXPECT_NE(ics.body.find("BEGIN:VEVENT\r\n"), std::string::npos);
    EXPECT_EQ(ics.body.find("199001012385"), std::string::npos);
    EXPECT_EQ(ics.body.find("198507099805"), std::string::npos);
    // UIDs carry the box's random identity (the same booking id on another box differs), and a
    // cancelled booking stays in the feed with STATUS:CANCELLED and a higher SEQUENCE.
    const long long pickedId = picked.json()->getValue<long long>("bookingId");
    const auto uidAt = ics.body.find("UID:booking-" + std::to_string(pickedId) + "-");
    ASSERT_NE(uidAt, std::string::npos) << ics.body;
    const std::string uid = ics.body.substr(uidAt + 4, ics.body.find("\r\n", uidAt) - uidAt - 4);
    const std::string boxId = uid.substr(uid.find('-', 8) + 1, 32);
    EXPECT_EQ(boxId.find_first_not_of("0123456789abcdef"), std::string::npos) << uid;
    EXPECT_EQ(uid, "booking-" + std::to_string(pickedId) + "-" + boxId + "@klinikbox");
    // With a reason: the picked time may start within the change limit (cancel_latest_hours).
    {
        const auto cancelled = box.authed("POST", "/api/v1/booking/bookings/" + std::to_string(pickedId) + "/cancel",
                                          R"({"reason":"Patienten ringde och avbokade"})");
        EXPECT_EQ(cancelled.status, 200) << cancelled.body;
    }
    const auto after = box.request("GET", path);
    ASSERT_EQ(after.status, 200);
    const auto ev = after.body.find("UID:" + uid + "\r\n");
    ASSERT_NE(ev, std::string::npos) << "the cancelled booking is still in the feed: " << after.body;
    const std::string event = after.body.substr(ev, after.body.find("END:VEVENT", ev) - ev);
    EXPECT_NE(event.find("STATUS:CANCELLED\r\n"), std::string::npos) << event;
    EXPECT_NE(event.find("SEQUENCE:1\r\n"), std::string::npos) << event;
    {
        TempDir d2;
        BoxProcess other("", bookingSet(d2));
        other.start();
        other.loginAs("anna", "admin");
        setUp(other);
        const long long slot = slotAt(freeSlots(other, "lak30"), 2);
        const auto b = other.authed("POST", "/api/v1/booking/bookings", R"({"slot_id":)" + std::to_string(slot) + R"(,"patient":"199001012385"})");
        ASSERT_EQ(b.status, 201) << b.body;
        const auto f = other.authed("POST", std::string("/api/v1/booking/practitioners/") + kBookingDoctor + "/icalfeed", "{}");
        ASSERT_EQ(f.status, 201);
        const std::string u = f.json()->getValue<std::string>("url");
        const auto otherIcs = other.request("GET", u.substr(u.find("/api/")));
        ASSERT_EQ(otherIcs.status, 200);
        EXPECT_NE(otherIcs.body.find("UID:booking-"), std::string::npos);
        EXPECT_EQ(otherIcs.body.find(boxId), std::string::npos) << "another box has another identity";
    }
    EXPECT_EQ(box.authed("DELETE", std::string("/api/v1/booking/practitioners/") + kBookingDoctor + "/icalfeed").status, 204);
    EXPECT_EQ(box.request("GET", path).status, 404);

    // Routes that take no body refuse one instead of ignoring it (issue 14.10).
    const std::string feedPath = std::string("/api/v1/booking/practitioners/") + kBookingDoctor + "/icalfeed";
    EXPECT_EQ(box.authed("POST", feedPath, R"({"x":)").status, 400);
    EXPECT_EQ(box.authed("POST", feedPath, R"({"expires":"never"})").status, 400);
    EXPECT_EQ(box.authed("POST", "/api/v1/booking/vipcodes/" + std::to_string(codeId) + "/revoke", "[1]").status, 400);

    // No token reaches the log: the invitation's travels in bodies, the feed's path segment is
    // redacted (issue 14.3); the delivered SMS no longer holds the link in kb_outbox.
    box.stop();
    const std::string feedToken = path.substr(path.rfind('/') + 1, path.size() - path.rfind('/') - 5);
    ASSERT_GT(feedToken.size(), 30u) << path;
    const auto log = box.output();
    EXPECT_NE(log.find("/api/v1/booking/ical/[redacted]"), std::string::npos) << log;
    EXPECT_EQ(log.find(feedToken), std::string::npos) << log;
    EXPECT_EQ(log.find(token), std::string::npos) << log;
    klinikbox::db::Connection db(box.dataDir() + "/klinikbox.db");
    auto st = db.prepare("SELECT state, payload FROM kb_outbox WHERE channel = 'booking.invsms'");
    ASSERT_TRUE(st.step());
    EXPECT_EQ(st.getText(0), "delivered");
    EXPECT_EQ(st.getText(1).find(token), std::string::npos) << st.getText(1);
}

TEST(BookingServer, SetupRefusesOverlapsAndBadSchedulesAndComputesHolidays) {
    TempDir d;
    BoxProcess box("", bookingSet(d));
    box.start();
    box.loginAs("anna", "admin");
    setUp(box);
    EXPECT_EQ(box.authed("POST", "/api/v1/booking/schedules",
                         std::string(R"({"practitioner":")") + kBookingDoctor +
                             R"(","visit_type":"lak30","weekdays":[1],"start":"09:00","end":"10:00","valid_from":"2027-01-01","valid_to":"2027-02-01"})")
                  .status,
              409);
    const auto bad = box.authed("POST", "/api/v1/booking/schedules",
                                std::string(R"({"practitioner":")") + kNurse +
                                    R"(","visit_type":"video20","weekdays":[9],"start":"10:00","end":"09:00","valid_from":"2027-01-01","valid_to":"2026-01-01"})");
    EXPECT_EQ(bad.status, 400) << bad.body;
    EXPECT_EQ(box.authed("POST", "/api/v1/booking/units", std::string(R"({"hsa_id":")") + kBookingUnit + R"(","name":"x"})").status, 409);
    EXPECT_EQ(box.authed("POST", "/api/v1/booking/units", R"({"hsa_id":"not-an-hsa","name":"x"})").status, 400);
    // Name limits count characters: 80 Swedish letters (160 bytes) are a valid visit-type name.
    std::string eighty;
    for (int i = 0; i < 80; ++i) eighty += "ö";
    const auto swedish = box.authed("POST", "/api/v1/booking/visittypes",
                                    R"({"id":"lang","name":")" + eighty + R"(","visit_form":"phone","minutes":10,"profession":"läkare"})");
    EXPECT_EQ(swedish.status, 201) << swedish.body;
    EXPECT_EQ(box.authed("POST", "/api/v1/booking/visittypes",
                         R"({"id":"langre","name":")" + eighty + R"(ö","visit_form":"phone","minutes":10,"profession":"läkare"})")
                  .status,
              400);
    const auto h = box.authed("GET", "/api/v1/booking/holidays?year=2027");
    ASSERT_EQ(h.status, 200);
    EXPECT_NE(h.body.find(R"("date":"2027-03-26","eve":false,"name":"Långfredagen")"), std::string::npos) << h.body;
    box.loginAs("sam", "staff");
    EXPECT_EQ(box.authed("POST", "/api/v1/booking/units", R"({"hsa_id":"SE2321000016-U009","name":"x"})").status, 403);
}

// The desk's most common change: the patient calls the same day. Staff may cancel a booking
// that has not started inside the patients' limit (cancel_latest_hours) when they give a reason, which
// the audit log keeps; without a reason the refusal names its machine-readable type.
TEST(BookingServer, StaffCancelTheSameDayWithAReasonThatIsAuditLogged) {
    TempDir d;
    // The patients' limit is a week here, not the default day: public holidays have no times
    // (Good Friday to Easter Monday is four days without any), and the test runs on any date.
    BoxProcess box("  settings:\n    booking:\n      cancel_latest_hours: 168\n", bookingSet(d));
    box.start();
    box.loginAs("anna", "admin");
    setUp(box);
    box.loginAs("sam", "staff");
    // The third free time from now (30-minute times around the clock) is within the limit.
    // Late in the evening the first date has fewer than three left: count on into the next.
    auto slots = freeSlots(box, "lak30", 0);
    if (slots->size() < 3) {
        const auto next = freeSlots(box, "lak30", 1);
        for (const auto& s : *next) slots->add(s);
    }
    const auto made = box.authed("POST", "/api/v1/booking/bookings",
                                 R"({"slot_id":)" + std::to_string(slotAt(slots, 2)) + R"(,"patient":"191212121212"})");
    ASSERT_EQ(made.status, 201) << made.body;
    EXPECT_FALSE(made.json()->getValue<bool>("cancel_booking_allowed")) << "the patient can no longer cancel it";
    const std::string path = "/api/v1/booking/bookings/" + std::to_string(made.json()->getValue<long long>("bookingId"));

    const auto noReason = box.authed("POST", path + "/cancel", "{}");
    EXPECT_EQ(noReason.status, 409) << noReason.body;
    EXPECT_EQ(noReason.json()->getValue<std::string>("type"), "/problems/late-change-needs-reason");
    EXPECT_EQ(box.authed("POST", path + "/cancel", R"({"reason":""})").status, 409);

    const auto done = box.authed("POST", path + "/cancel", R"({"reason":"patienten ringde, sjuk"})");
    ASSERT_EQ(done.status, 200) << done.body;
    EXPECT_EQ(done.json()->getValue<std::string>("status"), "cancelled");
    const auto twice = box.authed("POST", path + "/cancel", R"({"reason":"igen"})");
    EXPECT_EQ(twice.status, 409);
    EXPECT_EQ(twice.json()->getValue<std::string>("type"), "/problems/booking-not-active");

    box.loginAs("aud", "auditor");
    const auto log = box.authed("GET", "/api/v1/audit?patient=191212121212&action=booking.cancel&limit=10");
    ASSERT_EQ(log.status, 200) << log.body;
    EXPECT_NE(log.body.find("late change, reason: patienten ringde, sjuk"), std::string::npos) << log.body;
    EXPECT_NE(log.body.find("\"username\":\"sam\""), std::string::npos) << log.body;
}

// The review's kill -9 of bookings (issue 14), repeatable: in three rounds four clients book
// at once, two racing for every slot, and the box is killed (SIGKILL) while they do. Every
// booking the box acknowledged (201) is there after the restarts, no slot holds two live
// bookings, and the audit chain still verifies.
TEST(BookingServer, BookingsAcknowledgedBeforeAKillSurviveItAndNoSlotIsBookedTwice) {
    TempDir d;
    BoxProcess box("", bookingSet(d));
    box.start();
    box.loginAs("anna", "admin");
    setUp(box);
    const std::vector<std::string> patients = {"191212121212", "199001012385", "198507099805", "197310248872"};
    std::map<long long, long long> acknowledged;  // booking id -> slot id
    std::mutex mu;
    for (int round = 0; round < 3; ++round) {
        if (round > 0) {
            box.start();
            box.loginAs("anna" + std::to_string(round), "admin");
        }
        const auto slots = freeSlots(box, "lak30", 5 + round);
        ASSERT_GE(slots->size(), 20u);
        std::atomic<int> ackedThisRound{0};
        std::vector<std::thread> clients;
        for (unsigned t = 0; t < 4; ++t)
            clients.emplace_back([&, t] {
                // Clients 0 and 1 race for the even slots, 2 and 3 for the odd ones.
                for (unsigned i = t / 2; i < slots->size(); i += 2) {
                    try {
                        const long long slot = slotAt(slots, i);
                        const auto r = box.authed("POST", "/api/v1/booking/bookings",
                                                  R"({"slot_id":)" + std::to_string(slot) + R"(,"patient":")" + patients[t] + "\"}");
                        if (r.status == 201) {
                            std::lock_guard lock(mu);
                            acknowledged[r.json()->getValue<long long>("bookingId")] = slot;
                            ++ackedThisRound;
                        } else if (r.status != 409) {
                            ADD_FAILURE() << "slot " << slot << ": " << r.status << " " << r.body;
                        }
                    } catch (const std::exception&) {
                        return;  // the box was killed
                    }
                }
            });
        // Kill it in the middle of the clients' work.
        for (int i = 0; i < 6000 && ackedThisRound < 4 + 2 * round; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        box.stop(SIGKILL);
        for (auto& c : clients) c.join();
        EXPECT_GE(ackedThisRound.load(), 4 + 2 * round) << "the kill came after some bookings";
    }
    box.start();
    std::string out;
    EXPECT_EQ(box.cli({"audit", "verify"}, &out), 0) << out;
    box.stop();
    klinikbox::db::Connection db(box.dataDir() + "/klinikbox.db");
    for (const auto& [id, slot] : acknowledged) {
        auto st = db.prepare("SELECT slot_id, status FROM booking_bookings WHERE id = ?");
        st.bind(1, id);
        ASSERT_TRUE(st.step()) << "acknowledged booking " << id << " is lost";
        EXPECT_EQ(st.getInt(0), slot);
        EXPECT_EQ(st.getText(1), "booked");
    }
    auto twice = db.prepare("SELECT COUNT(*) FROM (SELECT slot_id FROM booking_bookings WHERE status IN ('booked','arrived','noshow')"
                            " GROUP BY slot_id HAVING COUNT(*) > 1)");
    ASSERT_TRUE(twice.step());
    EXPECT_EQ(twice.getInt(0), 0) << "no slot is booked twice";
}
