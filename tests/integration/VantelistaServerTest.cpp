// The waiting-list Lua plugin in a running box: loaded from a plugin set with its lua/
// modules, its declared SMS channel waits unbound (nothing lost) until an admin binds it to
// a gateway in the console, which takes effect without a restart; its timer is kept in the
// core's kb_lua_jobs.
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
            EXPECT_EQ(box.authed("POST", "/api/v1/outbox/" + std::to_string(m->getValue<long long>("id")) + "/retry").status, 200);
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
