// The waiting-list Lua plugin in a running box: loaded from a plugin set with its lua/
// modules, its declared SMS channel waits unbound (nothing lost) until an admin binds it to
// a gateway in the console, which takes effect without a restart; its timer is kept in the
// core's kb_lua_jobs. With the booking plugin: accepting an offer books the freed slot for
// the patient through booking.book (once per offer), and a slot booked meanwhile is a clear
// 409 that leaves the patient on the list.
#include "BoxProcess.h"
#include "HttpSink.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

using namespace kbtest;
namespace fs = std::filesystem;

namespace {

// vantelista, and a Lua plugin that publishes booking.cancelled as the booking plugin would.
std::string waitingListSet(const TempDir& dir) {
    const fs::path set = fs::path(dir.path()) / "set";
    fs::create_directories(set);
    fs::copy(fs::path(KB_SOURCE_DIR) / "plugins/vantelista", set / "vantelista", fs::copy_options::recursive);
    fs::remove_all(set / "vantelista" / "tests");
    fs::create_directories(set / "cancels");
    std::ofstream(set / "cancels" / "plugin.yaml") << R"(id: cancels
name: Cancels (test)
version: 1.0.0
api: 1
kind: lua
entry: main.lua
description: Publishes booking.cancelled for the test.
permissions:
  events:
    publish: [booking.cancelled]
  outbound_hosts: []
  patient_data: false
)";
    std::ofstream(set / "cancels" / "main.lua") << R"(
kb.route("POST", "/cancel", { roles = { "staff" } }, function(req)
  kb.events.publish("booking.cancelled", req.json)
  return { status = 202, json = { queued = true } }
end)
)";
    return set.string();
}

const char* const kWaitlistUnit = "SE2321000016-VC01";
const char* const kWaitlistDoctor = "SE2321000016-DR01";

// vantelista, the real booking plugin, and "booker": any Lua plugin using booking.book.
std::string withBookingSet(const TempDir& dir) {
    const fs::path set = fs::path(dir.path()) / "set";
    fs::create_directories(set);
    fs::copy(fs::path(KB_SOURCE_DIR) / "plugins/vantelista", set / "vantelista", fs::copy_options::recursive);
    fs::remove_all(set / "vantelista" / "tests");
    const fs::path src = fs::path(KB_SOURCE_DIR) / "plugins" / "booking";
    fs::create_directories(set / "booking");
    for (const char* f : {"plugin.yaml", "schema.yaml"}) fs::copy_file(src / f, set / "booking" / f);
    fs::copy(src / "migrations", set / "booking" / "migrations", fs::copy_options::recursive);
    fs::copy(src / "web", set / "booking" / "web", fs::copy_options::recursive);
    fs::copy_file(fs::path(KB_BUILD_DIR) / "plugins" / "booking" / "libbooking.so", set / "booking" / "libbooking.so");
    fs::create_directories(set / "booker");
    std::ofstream(set / "booker" / "plugin.yaml") << R"(id: booker
name: Booker (test)
version: 1.0.0
api: 1
kind: lua
entry: main.lua
description: Books slots through booking.book for the test.
permissions:
  events:
    publish: [booking.book]
  outbound_hosts: []
  patient_data: true
)";
    std::ofstream(set / "booker" / "main.lua") << R"(
kb.route("POST", "/book", { roles = { "staff" } }, function(req)
  local answer, why, hook = kb.events.publish_sync("booking.book", req.json)
  if not answer then return { status = 422, json = { reason = why, hook = hook } } end
  return { json = answer }
end)
kb.route("POST", "/book-in-transaction", { roles = { "staff" } }, function(req)
  local ok, err = pcall(kb.db.transaction, function() return kb.events.publish_sync("booking.book", req.json) end)
  return { json = { ok = ok, error = tostring(err) } }
end)
)";
    return set.string();
}

void setUpBooking(BoxProcess& box) {
    auto ok = [&](const std::string& path, const std::string& body) {
        const auto r = box.authed("POST", path, body);
        ASSERT_EQ(r.status, 201) << path << ": " << r.body;
    };
    ok("/api/v1/booking/units", std::string(R"({"hsa_id":")") + kWaitlistUnit + R"(","name":"Vårdcentralen Norr","address":"Storgatan 1, Umeå"})");
    ok("/api/v1/booking/practitioners",
       std::string(R"({"hsa_id":")") + kWaitlistDoctor + R"(","name":"Eva Läkare","profession":"läkare","unit":")" + kWaitlistUnit + "\"}");
    ok("/api/v1/booking/visittypes", R"({"id":"lak30","name":"Läkarbesök","visit_form":"physical","minutes":30,"profession":"läkare"})");
    ok("/api/v1/booking/schedules", std::string(R"({"practitioner":")") + kWaitlistDoctor +
                                        R"(","visit_type":"lak30","weekdays":[1,2,3,4,5,6,7],"start":"00:00","end":"24:00","valid_from":"2026-01-01","valid_to":"2099-12-31"})");
}

// Free slots five days ahead (far from the cancellation limit).
std::vector<long long> freeSlots(BoxProcess& box) {
    auto dates = box.authed("GET", std::string("/api/v1/booking/availabledates?unit=") + kWaitlistUnit + "&visit_type=lak30");
    EXPECT_EQ(dates.status, 200) << dates.body;
    const auto date = dates.json()->getArray("dates")->getElement<std::string>(5);
    auto slots = box.authed("GET", std::string("/api/v1/booking/timeslots?unit=") + kWaitlistUnit + "&date=" + date + "&visit_type=lak30");
    EXPECT_EQ(slots.status, 200) << slots.body;
    std::vector<long long> out;
    auto a = slots.json()->getArray("timeslots");
    for (unsigned i = 0; i < a->size(); ++i) out.push_back(a->getObject(i)->getValue<long long>("slot_id"));
    return out;
}

long long bookFor(BoxProcess& box, long long slot, const std::string& patient) {
    const auto r = box.authed("POST", "/api/v1/booking/bookings",
                              R"({"slot_id":)" + std::to_string(slot) + R"(,"patient":")" + patient + "\"}");
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? r.json()->getValue<long long>("bookingId") : 0;
}

// The id of the open offer of `slot`, once the async booking.cancelled handler made it.
long long waitForOffer(BoxProcess& box, long long slot) {
    for (int i = 0; i < 2400; ++i) {
        auto offers = box.authed("GET", "/api/v1/vantelista/offers").json()->getArray("offers");
        for (unsigned k = 0; offers && k < offers->size(); ++k)
            if (offers->getObject(k)->getValue<long long>("slot_id") == slot) return offers->getObject(k)->getValue<long long>("id");
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    ADD_FAILURE() << "no offer of slot " << slot << "\n" << box.output();
    return 0;
}

}  // namespace

TEST(VantelistaServer, AnOfferWaitsForItsChannelAndGoesOutOnceTheAdminBindsIt) {
    HttpSink sms;
    TempDir d;
    BoxProcess box("lua:\n  channels:\n    - name: smsgw\n      url: " + sms.url("/sms") +
                       "\n      bearer_token: gw-token\n",
                   waitingListSet(d));
    box.start();
    auto ready = box.request("GET", "/readyz");
    ASSERT_NE(ready.body.find("vantelista"), std::string::npos) << ready.body;
    auto plugins = ready.json()->getArray("plugins");
    for (std::size_t i = 0; i < plugins->size(); ++i)
        ASSERT_EQ(plugins->getObject(static_cast<unsigned>(i))->getValue<std::string>("state"), "running")
            << ready.body << box.output();

    box.loginAs("ada", "admin");
    auto channels = box.authed("GET", "/api/v1/lua/channels");
    ASSERT_EQ(channels.status, 200) << channels.body;
    EXPECT_NE(channels.body.find(R"("channel":"vantelista.sms")"), std::string::npos) << channels.body;
    EXPECT_NE(channels.body.find(R"("gateway":null)"), std::string::npos) << channels.body;
    EXPECT_NE(channels.body.find(R"("gateways":["smsgw"])"), std::string::npos) << channels.body;

    box.loginAs("sam", "staff");
    auto add = box.authed("POST", "/api/v1/vantelista/entries",
                          R"({"patient":"19121212-1212","phone":"070-111 11 11","care_unit":"SE2321000016-VC01"})");
    ASSERT_EQ(add.status, 201) << add.body;
    ASSERT_EQ(box.authed("POST", "/api/v1/cancels/cancel",
                         R"({"booking_id":9,"care_unit":"SE2321000016-VC01","practitioner":"SE2321000016-DR01",
                             "visit_type":"besok","start":"2099-01-20T09:30:00+01:00","slot_id":4})")
                  .status,
              202);
    // The offer is made (async handler); its SMS waits in the outbox, unbound.
    std::string offers;
    for (int i = 0; i < 400; ++i) {
        offers = box.authed("GET", "/api/v1/vantelista/offers").body;
        if (offers.find("\"slot_id\":4") != std::string::npos) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    ASSERT_NE(offers.find("\"slot_id\":4"), std::string::npos) << offers << box.output();
    EXPECT_TRUE(sms.items().empty());

    box.loginAs("adam", "admin");  // loginAs adds the user: a second admin
    EXPECT_EQ(box.authed("PUT", "/api/v1/lua/channels/vantelista.sms", R"({"gateway":"nope"})").status, 400);
    EXPECT_EQ(box.authed("PUT", "/api/v1/lua/channels/other.sms", R"({"gateway":"smsgw"})").status, 404);
    auto bind = box.authed("PUT", "/api/v1/lua/channels/vantelista.sms", R"({"gateway":"smsgw"})");
    ASSERT_EQ(bind.status, 200) << bind.body;
    // No restart: the waiting message goes out at its next attempt (retry it now).
    auto pending = box.authed("GET", "/api/v1/outbox?state=pending").json()->getArray("messages");
    ASSERT_TRUE(pending);
    for (std::size_t i = 0; i < pending->size(); ++i) {
        auto m = pending->getObject(static_cast<unsigned>(i));
        if (m->getValue<std::string>("channel") == "vantelista.sms") {
            // The outbox may deliver it on its own between the list and the retry (a retry of a
            // message no longer pending is a 404); either way it must go out exactly once.
            const std::string id = std::to_string(m->getValue<long long>("id"));
            const int retried = box.authed("POST", "/api/v1/outbox/" + id + "/retry").status;
            if (retried != 200) {
                EXPECT_EQ(retried, 404);
                const auto still = box.authed("GET", "/api/v1/outbox?state=pending").json()->getArray("messages");
                for (std::size_t j = 0; still && j < still->size(); ++j)
                    EXPECT_NE(std::to_string(still->getObject(static_cast<unsigned>(j))->getValue<long long>("id")), id)
                        << "refused a retry of a message that is still pending";
            }
        }
    }
    const auto got = sms.waitFor(1, std::chrono::seconds(60));
    ASSERT_EQ(got.size(), 1u) << box.output();
    EXPECT_EQ(got[0].authorization, "Bearer gw-token");
    EXPECT_EQ(got[0].idempotencyKey, "offer-1");
    EXPECT_NE(got[0].body.find("+46701111111"), std::string::npos) << got[0].body;
    EXPECT_EQ(got[0].body.find("191212121212"), std::string::npos) << "no personnummer in the SMS";
    auto metrics = box.request("GET", "/metrics");
    EXPECT_NE(metrics.body.find("kb_lua_channel_bound{channel=\"vantelista.sms\"} 1"), std::string::npos);
}

TEST(VantelistaServer, AcceptingAnOfferBooksTheSlotOnceAndASlotTakenMeanwhileIsAClearOutcome) {
    TempDir d;
    BoxProcess box("", withBookingSet(d));
    box.start();
    auto ready = box.request("GET", "/readyz");
    auto plugins = ready.json()->getArray("plugins");
    ASSERT_EQ(plugins->size(), 3u) << ready.body;
    for (unsigned i = 0; i < plugins->size(); ++i)
        ASSERT_EQ(plugins->getObject(i)->getValue<std::string>("state"), "running") << ready.body << box.output();
    box.loginAs("anna", "admin");
    setUpBooking(box);
    box.loginAs("sam", "staff");
    const auto slots = freeSlots(box);
    ASSERT_GE(slots.size(), 3u);
    for (const char* p : {"191212121212", "200808082382"}) {
        auto add = box.authed("POST", "/api/v1/vantelista/entries",
                              std::string(R"({"patient":")") + p + R"(","phone":"070-111 11 11","care_unit":")" + kWaitlistUnit + "\"}");
        ASSERT_EQ(add.status, 201) << add.body;
    }

    // A cancellation frees slots[0]: offered to the first patient, who accepts: booked.
    const long long first = bookFor(box, slots[0], "199001012385");
    ASSERT_EQ(box.authed("POST", "/api/v1/booking/bookings/" + std::to_string(first) + "/cancel", "{}").status, 200);
    const long long offer = waitForOffer(box, slots[0]);
    auto accept = box.authed("POST", "/api/v1/vantelista/offers/" + std::to_string(offer) + "/accept");
    ASSERT_EQ(accept.status, 200) << accept.body << box.output();
    EXPECT_EQ(accept.json()->getValue<std::string>("state"), "accepted");
    const long long booked = accept.json()->getValue<long long>("booking_id");
    auto b = box.authed("GET", "/api/v1/booking/bookings/" + std::to_string(booked));
    ASSERT_EQ(b.status, 200) << b.body;
    EXPECT_EQ(b.json()->getValue<std::string>("subject_of_care"), "191212121212");
    EXPECT_EQ(b.json()->getValue<long long>("slot_id"), slots[0]);
    EXPECT_EQ(b.json()->getValue<std::string>("status"), "booked");
    EXPECT_EQ(b.json()->getValue<std::string>("channel"), "plugin");
    // Once: the offer is closed, and the slot has exactly this one live booking.
    EXPECT_EQ(box.authed("POST", "/api/v1/vantelista/offers/" + std::to_string(offer) + "/accept").status, 409);
    auto schedule = box.authed("GET", "/api/v1/booking/patients/191212121212/schedule");
    EXPECT_EQ(schedule.json()->getArray("bookings")->size(), 1u) << schedule.body;

    // slots[1] is freed and offered to the second patient, but staff book it for someone
    // else before the patient calls back: accepting is a 409 slot-taken, nobody is double
    // booked, and the patient keeps their place on the list.
    const long long second = bookFor(box, slots[1], "199001012385");
    ASSERT_EQ(box.authed("POST", "/api/v1/booking/bookings/" + std::to_string(second) + "/cancel", "{}").status, 200);
    const long long offer2 = waitForOffer(box, slots[1]);
    bookFor(box, slots[1], "198507099805");
    auto taken = box.authed("POST", "/api/v1/vantelista/offers/" + std::to_string(offer2) + "/accept");
    EXPECT_EQ(taken.status, 409) << taken.body;
    EXPECT_NE(taken.body.find("/problems/slot-taken"), std::string::npos) << taken.body;
    auto entries = box.authed("GET", "/api/v1/vantelista/entries").json()->getArray("entries");
    ASSERT_EQ(entries->size(), 1u);
    EXPECT_EQ(entries->getObject(0)->getValue<std::string>("patient"), "200808082382");
    EXPECT_EQ(entries->getObject(0)->getValue<std::string>("state"), "waiting");
    EXPECT_EQ(box.authed("GET", "/api/v1/booking/patients/200808082382/schedule").json()->getArray("bookings")->size(), 0u);

    // Audit: the booking made for the waiting patient, and the refused one.
    box.loginAs("olle", "auditor");
    auto log = box.authed("GET", "/api/v1/audit?patient=191212121212&action=booking.create&limit=10");
    ASSERT_EQ(log.status, 200) << log.body;
    EXPECT_NE(log.body.find("booking.book vantelista-offer-" + std::to_string(offer)), std::string::npos) << log.body;
    auto refused = box.authed("GET", "/api/v1/audit?patient=200808082382&action=booking.create&limit=10");
    EXPECT_NE(refused.body.find("/problems/slot-taken"), std::string::npos) << refused.body;
    // The waiting list's own records name the patient whose offer was shown and refused: the
    // list of offers and a failed answer named nobody, so the patient's log extract missed them.
    auto own = box.authed("GET", "/api/v1/audit?patient=200808082382&action=vantelista.offer.&limit=50");
    ASSERT_EQ(own.status, 200) << own.body;
    EXPECT_NE(own.body.find("vantelista.offer.list"), std::string::npos) << own.body;
    EXPECT_NE(own.body.find("vantelista.offer.accept"), std::string::npos) << own.body;
}

TEST(VantelistaServer, AnyLuaPluginBooksThroughBookingBookOncePerKey) {
    TempDir d;
    BoxProcess box("", withBookingSet(d));
    box.start();
    box.loginAs("anna", "admin");
    setUpBooking(box);
    box.loginAs("sam", "staff");
    const auto slots = freeSlots(box);
    ASSERT_GE(slots.size(), 2u);
    const std::string body = R"({"slot_id":)" + std::to_string(slots[0]) + R"(,"patient":"19121212-1212","idempotency_key":"k-1"})";
    auto one = box.authed("POST", "/api/v1/booker/book", body);
    ASSERT_EQ(one.status, 200) << one.body << box.output();
    ASSERT_TRUE(one.json()->has("booking_id")) << one.body;
    EXPECT_FALSE(one.json()->getValue<bool>("again"));
    auto two = box.authed("POST", "/api/v1/booker/book", body);
    ASSERT_EQ(two.status, 200) << two.body;
    EXPECT_EQ(two.json()->getValue<long long>("booking_id"), one.json()->getValue<long long>("booking_id"));
    EXPECT_TRUE(two.json()->getValue<bool>("again"));
    // The key reused for another patient books nothing.
    auto reused = box.authed("POST", "/api/v1/booker/book",
                             R"({"slot_id":)" + std::to_string(slots[1]) + R"(,"patient":"199001012385","idempotency_key":"k-1"})");
    EXPECT_EQ(reused.json()->getObject("problem")->getValue<std::string>("type"), "/problems/idempotency-key-reused") << reused.body;
    // Another key on the same slot: taken. Bad input: a 400 problem, nothing booked.
    auto other = box.authed("POST", "/api/v1/booker/book",
                            R"({"slot_id":)" + std::to_string(slots[0]) + R"(,"patient":"199001012385","idempotency_key":"k-2"})");
    ASSERT_EQ(other.status, 200) << other.body;
    EXPECT_EQ(other.json()->getObject("problem")->getValue<std::string>("type"), "/problems/slot-taken") << other.body;
    auto bad = box.authed("POST", "/api/v1/booker/book", R"({"slot_id":)" + std::to_string(slots[1]) + R"(,"patient":"19121212-1213","idempotency_key":"k-3"})");
    EXPECT_EQ(bad.json()->getObject("problem")->getValue<int>("status"), 400) << bad.body;
    auto noKey = box.authed("POST", "/api/v1/booker/book", R"({"slot_id":)" + std::to_string(slots[1]) + R"(,"patient":"199001012385"})");
    EXPECT_EQ(noKey.json()->getObject("problem")->getValue<int>("status"), 400) << noKey.body;
    auto inTx = box.authed("POST", "/api/v1/booker/book-in-transaction", body);
    EXPECT_NE(inTx.body.find("not inside kb.db.transaction"), std::string::npos) << inTx.body;
    EXPECT_EQ(box.authed("GET", "/api/v1/booking/patients/199001012385/schedule").json()->getArray("bookings")->size(), 0u);
}
