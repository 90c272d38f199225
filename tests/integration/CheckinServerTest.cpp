// Check-in, payment and e-frikort in a running box with the booking, checkin and efrikort
// plugins, against the national-services simulator: the fee is charged right, paid once,
// registered once (also across a killed box, duplicate callbacks and lost answers), a patient
// at the ceiling pays 0, and an outage falls back to the local ledger.
#include "CheckinClinic.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <csignal>
#include <sstream>
#include <thread>

using namespace kbtest;
namespace fs = std::filesystem;

namespace {


// The shared check-in box (CheckinClinic.h) with the region's age rules, four doctors and
// staff logged in.
struct KioskClinic : CheckinClinic {
    explicit KioskClinic(const std::string& callbackUrl = CheckinOptions{}.callbackUrl)
        : CheckinClinic(CheckinOptions{callbackUrl, "        free_from_age: 85\n        youth_free_below_age: 20\n", ""}) {
        setUp(4);
    }
};

// The kiosk asks for Swish (m-commerce), the patient scans the QR code and pays.
std::string paySwishAndConfirm(KioskClinic& c, const std::string& token) {
    const auto pay = c.kiosk("POST", "/api/v1/checkin/arrivals/" + token + "/payment", R"({"method":"swish"})");
    EXPECT_EQ(pay.status, 201) << pay.body;
    const auto app = pay.json()->getObject("payment")->getObject("swish")->getValue<std::string>("app_url");
    const auto from = app.find("token=") + 6;
    EXPECT_EQ(c.sim.steer("POST", "/sim/api/swish/scan", R"({"code":"D)" + app.substr(from, app.find('&') - from) + R"("})").status, 204);
    const auto reqs = c.sim.steer("GET", "/sim/api/swish/paymentrequests").json()->getArray("items");
    const std::string id = reqs->getObject(static_cast<unsigned>(reqs->size() - 1))->getValue<std::string>("id");
    EXPECT_EQ(c.sim.steer("POST", "/sim/api/swish/paymentrequests/" + id + "/settle", R"({"status":"PAID"})").status, 204);
    return id;
}

}  // namespace

TEST(CheckinServer, PatientChecksInPaysWithSwishAndTheFeeIsRegisteredOnce) {
    KioskClinic c;
    c.book("199001012385");
    // The kiosk never answers with another patient's data: an unknown personnummer is 404.
    const auto unknown = c.kiosk("POST", "/api/v1/checkin/arrivals", R"({"patient":"198507099805"})");
    EXPECT_EQ(unknown.status, 404) << unknown.body;
    EXPECT_EQ(c.kiosk("POST", "/api/v1/checkin/arrivals", R"({"patient":"19900101-2384"})").status, 400);
    EXPECT_EQ(c.kiosk("POST", "/api/v1/checkin/arrivals", R"({"patient":"199001012385","x":1})").status, 400);

    const auto in = c.kiosk("POST", "/api/v1/checkin/arrivals", R"({"patient":"19900101-2385"})");
    ASSERT_EQ(in.status, 201) << in.body;
    const auto s = in.json();
    EXPECT_EQ(s->getValue<std::string>("time"), "09:00");
    EXPECT_EQ(s->getValue<long long>("charge_ore"), 30000);
    EXPECT_FALSE(s->getValue<bool>("estimate"));
    EXPECT_FALSE(s->has("patient")) << "the kiosk does not echo the personnummer";
    for (const char* k : {"card_status", "card_source", "left_ore", "exempt_reason", "fee_ore", "tariff"})
        EXPECT_FALSE(s->has(k)) << k << " is not shown to an anonymous caller";
    const std::string token = s->getValue<std::string>("token");

    // Swish: the request, the payer approves; the callback never comes (its URL is dead), so
    // the kiosk's polling confirms the payment with Swish.
    const std::string id = paySwishAndConfirm(c, token);
    EXPECT_EQ(id.size(), 32u);
    Poco::JSON::Object::Ptr st;
    for (int i = 0; i < 200; ++i) {
        st = c.kiosk("GET", "/api/v1/checkin/arrivals/" + token).json();
        if (st->getValue<std::string>("state") == "paid") break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_EQ(st->getValue<std::string>("state"), "paid");
    // A second tap on "pay" does not charge again.
    EXPECT_EQ(c.kiosk("POST", "/api/v1/checkin/arrivals/" + token + "/payment", R"({"method":"swish"})").json()->getValue<std::string>("state"),
              "paid");
    // Callbacks that arrive (twice) are confirmed with Swish, answered 200 (Swish repeats
    // until it gets 200) and change nothing more.
    for (int i = 0; i < 2; ++i)
        EXPECT_EQ(c.kiosk("POST", "/api/v1/checkin/swish/callback", R"({"id":")" + id + R"(","status":"PAID"})").status, 200);
    const auto p = c.waitForTransactions("199001012385", 1);
    ASSERT_EQ(p->getArray("transactions")->size(), 1u) << "registered in eFrikort";
    EXPECT_EQ(p->getArray("transactions")->getObject(0)->getValue<long long>("amount_ore"), 30000);
    // Every fee report (the callbacks above could only have queued another) is delivered.
    ASSERT_TRUE(c.waitForOutboxSettled("checkin.feereport"));
    EXPECT_EQ(c.person("199001012385")->getArray("transactions")->size(), 1u) << "and only once";

    // The receipt and the day report.
    const auto receipt = c.kiosk("GET", "/api/v1/checkin/arrivals/" + token + "/receipt");
    ASSERT_EQ(receipt.status, 200);
    EXPECT_EQ(receipt.json()->getObject("payment")->getValue<std::string>("status"), "paid");
    const auto day = c.box->authed("GET", "/api/v1/checkin/day?date=2026-11-25");
    ASSERT_EQ(day.status, 200) << day.body;
    EXPECT_EQ(day.json()->getValue<int>("checked_in"), 1);
    EXPECT_EQ(day.json()->getObject("paid_ore_by_method")->getValue<long long>("swish"), 30000);
    // The booking is marked arrived.
    const auto sched = c.box->authed("GET", "/api/v1/booking/patients/199001012385/schedule");
    EXPECT_NE(sched.body.find(R"("status":"arrived")"), std::string::npos) << sched.body;
}

TEST(CheckinServer, APatientAtTheCeilingPaysNothingAndEarlyLateAmbiguousAreExplained) {
    KioskClinic c;
    ASSERT_EQ(c.sim.steer("PUT", "/sim/api/efrikort/persons/198507099805", R"({"status":"FINAL"})").status, 200);
    c.book("198507099805");
    const auto in = c.kiosk("POST", "/api/v1/checkin/arrivals", R"({"patient":"198507099805"})");
    ASSERT_EQ(in.status, 201) << in.body;
    EXPECT_EQ(in.json()->getValue<long long>("charge_ore"), 0);
    EXPECT_FALSE(in.json()->has("exempt_reason"));
    EXPECT_EQ(c.kiosk("GET", "/api/v1/checkin/arrivals/" + in.json()->getValue<std::string>("token") + "/receipt")
                  .json()->getValue<std::string>("exempt_reason"),
              "frikort")
        << "the patient's own receipt says why";
    EXPECT_EQ(c.kiosk("POST", "/api/v1/checkin/arrivals/" + in.json()->getValue<std::string>("token") + "/payment", R"({"method":"swish"})").status,
              409);
    // Almost at the ceiling: the last fee is cut to what is left.
    ASSERT_EQ(c.sim.steer("PUT", "/sim/api/efrikort/persons/197005051235", R"({"accumulated_ore":135000})").status, 200);
    c.book("197005051235", 2);
    const auto cut = c.kiosk("POST", "/api/v1/checkin/arrivals", R"({"patient":"197005051235"})");
    ASSERT_EQ(cut.status, 201) << cut.body;
    EXPECT_EQ(cut.json()->getValue<long long>("charge_ore"), 10000);
    // 85 or older: free by the rules.
    c.book("193803031230", 3);
    const auto old = c.kiosk("POST", "/api/v1/checkin/arrivals", R"({"patient":"193803031230"})");
    ASSERT_EQ(old.status, 201);
    EXPECT_EQ(old.json()->getValue<long long>("charge_ore"), 0);
    EXPECT_EQ(c.kiosk("GET", "/api/v1/checkin/arrivals/" + old.json()->getValue<std::string>("token") + "/receipt")
                  .json()->getValue<std::string>("exempt_reason"),
              "85 år eller äldre");
    // Early (a booking at 11:00), ambiguous (two bookings now).
    c.book("201007071234", 4, "11:00");
    const auto early = c.kiosk("POST", "/api/v1/checkin/arrivals", R"({"patient":"201007071234"})");
    EXPECT_EQ(early.status, 409);
    EXPECT_NE(early.body.find("checkin-early"), std::string::npos);
    EXPECT_NE(early.json()->getValue<std::string>("detail").find("11:00"), std::string::npos) << early.body;
    c.book("194404044440", 4, "09:00");
    c.book("194404044440", 1, "09:30");
    const auto two = c.kiosk("POST", "/api/v1/checkin/arrivals", R"({"patient":"194404044440"})");
    EXPECT_EQ(two.status, 409);
    EXPECT_NE(two.body.find("checkin-ambiguous"), std::string::npos) << two.body;
}

TEST(CheckinServer, AnOutageFallsBackToTheLocalLedgerAndAKilledBoxRegistersOnceAfterRestart) {
    KioskClinic c;
    c.book("199001012385");
    // eFrikort is down at check-in: the fee comes from the local ledger, marked local.
    c.sim.steer("POST", "/sim/api/faults", R"({"service":"efrikort","operation":"GetCardForPerson","kind":"fail","count":5})");
    const auto in = c.kiosk("POST", "/api/v1/checkin/arrivals", R"({"patient":"199001012385"})");
    ASSERT_EQ(in.status, 201) << in.body;
    EXPECT_TRUE(in.json()->getValue<bool>("estimate")) << "the fee comes from the local ledger";
    EXPECT_EQ(in.json()->getValue<long long>("charge_ore"), 30000);
    const std::string token = in.json()->getValue<std::string>("token");
    // The registration's answer is lost twice after eFrikort committed: the retry must adopt
    // the transaction, not register it again. And the box is killed meanwhile.
    c.sim.steer("POST", "/sim/api/faults", R"({"service":"efrikort","operation":"RegisterTransaction","kind":"lost_answer","count":1})");
    c.sim.steer("POST", "/sim/api/faults", R"({"service":"efrikort","operation":"GetExtendedCardForPerson","kind":"fail","count":1})");
    paySwishAndConfirm(c, token);
    for (int i = 0; i < 200; ++i) {
        if (c.kiosk("GET", "/api/v1/checkin/arrivals/" + token).json()->getValue<std::string>("state") == "paid") break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    c.waitForTransactions("199001012385", 1);
    c.box->stop(SIGKILL);
    c.box->start();
    c.box->loginAs("ivar", "admin");
    // The outbox finishes the job after the restart; the staff view shows it registered.
    Poco::JSON::Object::Ptr view;
    for (int i = 0; i < 400; ++i) {
        view = c.box->authed("GET", "/api/v1/efrikort/patients/199001012385").json();
        const auto fees = view->getObject("local")->getArray("fees");
        if (fees->size() == 1 && fees->getObject(0)->getValue<std::string>("state") == "registered") break;
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    const auto fees = view->getObject("local")->getArray("fees");
    ASSERT_EQ(fees->size(), 1u);
    EXPECT_EQ(fees->getObject(0)->getValue<std::string>("state"), "registered") << c.box->output();
    EXPECT_EQ(c.person("199001012385")->getArray("transactions")->size(), 1u) << "registered exactly once";
    EXPECT_EQ(view->getObject("local")->getValue<long long>("left_ore"), 145000 - 30000);
    EXPECT_EQ(view->getObject("national")->getValue<long long>("left_ore"), 145000 - 30000);
}

TEST(CheckinServer, OptInAndARefundCorrectTheRegistration) {
    KioskClinic c;
    ASSERT_EQ(c.sim.steer("PUT", "/sim/api/efrikort/persons/199001012385", R"({"opt_in":false})").status, 200);
    c.book("199001012385");
    const auto in = c.kiosk("POST", "/api/v1/checkin/arrivals", R"({"patient":"199001012385"})");
    ASSERT_EQ(in.status, 201) << in.body;
    EXPECT_TRUE(in.json()->getValue<bool>("optin_required"));
    const std::string token = in.json()->getValue<std::string>("token");
    EXPECT_EQ(c.kiosk("POST", "/api/v1/checkin/arrivals/" + token + "/optin", R"({"consent":true})").status, 204);
    // Paid at the desk by staff.
    c.box->loginAs("kassa", "staff");
    const auto day = c.box->authed("GET", "/api/v1/checkin/day?date=2026-11-25").json();
    const long long visit = day->getArray("visits")->getObject(0)->getValue<long long>("visit_id");
    ASSERT_EQ(c.box->authed("POST", "/api/v1/checkin/visits/" + std::to_string(visit) + "/payment", R"({"method":"desk"})").status, 201);
    auto p = c.waitForTransactions("199001012385", 1);
    ASSERT_EQ(p->getArray("transactions")->size(), 1u) << "registered after the opt-in";
    EXPECT_TRUE(p->getValue<bool>("opt_in"));
    // A partial refund updates the transaction.
    c.box->loginAs("anna2", "admin");
    const auto d2 = c.box->authed("GET", "/api/v1/checkin/day?date=2026-11-25").json();
    const long long payment = d2->getArray("visits")->getObject(0)->getObject("payment")->getValue<long long>("id");
    ASSERT_EQ(c.box->authed("POST", "/api/v1/checkin/payments/" + std::to_string(payment) + "/refund", R"({"amount_ore":10000})").status, 204);
    for (int i = 0; i < 400; ++i) {
        p = c.person("199001012385");
        if (p->getArray("transactions")->getObject(0)->getValue<std::string>("status") == "UPDATED") break;
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    EXPECT_EQ(p->getArray("transactions")->getObject(0)->getValue<long long>("amount_ore"), 20000);
    EXPECT_EQ(c.box->authed("POST", "/api/v1/checkin/payments/" + std::to_string(payment) + "/refund", R"({"amount_ore":30000})").status, 400)
        << "more than was paid";
    // Two desk refunds back to back (within one second: they collided as desk-<seconds>, 500).
    for (int i = 0; i < 2; ++i) {
        const auto r = c.box->authed("POST", "/api/v1/checkin/payments/" + std::to_string(payment) + "/refund", R"({"amount_ore":5000})");
        EXPECT_EQ(r.status, 204) << i << ": " << r.body;
    }
    for (int i = 0; i < 400; ++i) {
        p = c.person("199001012385");
        if (p->getArray("transactions")->getObject(0)->getValue<long long>("amount_ore") == 10000) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    EXPECT_EQ(p->getArray("transactions")->getObject(0)->getValue<long long>("amount_ore"), 10000) << "both refunds reached eFrikort";
}

// Issue 14.4/14.6/14.8: the phone is not an oracle (without the kiosk's code every personnummer
// gets the same refusal), every attempt counts, the kiosk device has its own limits apart from
// the address it shares with the patients' phones, and a flood writes a handful of audit rows.
TEST(CheckinServer, ThePhoneNeedsTheKiosksCodeEveryAttemptCountsAndTheKioskIsNotLockedOutByPhones) {
    KioskClinic c;
    c.book("199001012385");
    c.book("197005051235", 2);
    const auto booked = c.phone("POST", "/api/v1/checkin/arrivals", R"({"patient":"199001012385","channel":"phone"})");
    const auto unbooked = c.phone("POST", "/api/v1/checkin/arrivals", R"({"patient":"198507099805","channel":"phone"})");
    EXPECT_EQ(booked.status, 403) << booked.body;
    EXPECT_EQ(unbooked.status, 403);
    EXPECT_EQ(booked.json()->getValue<std::string>("type"), unbooked.json()->getValue<std::string>("type"));
    EXPECT_EQ(booked.json()->getValue<std::string>("detail"), unbooked.json()->getValue<std::string>("detail"));
    EXPECT_EQ(c.phone("POST", "/api/v1/checkin/arrivals", R"({"patient":"199001012385","channel":"kiosk"})").status, 403)
        << "claiming to be the kiosk is not enough";
    // The kiosk shows the code; with it the phone checks in and sees only what the kiosk shows.
    const auto device = c.kiosk("GET", "/api/v1/checkin/device").json();
    ASSERT_TRUE(device->getValue<bool>("kiosk"));
    const std::string code = device->getValue<std::string>("phone_code");
    EXPECT_EQ(code.size(), 6u);
    EXPECT_FALSE(c.phone("GET", "/api/v1/checkin/device").json()->has("phone_code")) << "only the kiosk gets the code";
    const auto in = c.phone("POST", "/api/v1/checkin/arrivals", R"({"patient":"199001012385","code":")" + code + "\"}");
    ASSERT_EQ(in.status, 201) << in.body;
    EXPECT_FALSE(in.json()->has("card_status"));
    // Wrong codes from the clinic's Wi-Fi: 10 misses per address (3 so far), then every
    // attempt from that address is refused — even a right one.
    for (int i = 0; i < 7; ++i)
        EXPECT_EQ(c.phone("POST", "/api/v1/checkin/arrivals", R"({"patient":"197005051235","code":"000000"})").status, 403) << i;
    EXPECT_EQ(c.phone("POST", "/api/v1/checkin/arrivals", R"({"patient":"197005051235","code":")" + code + "\"}").status, 429);
    for (int i = 0; i < 300; ++i) (void)c.phone("POST", "/api/v1/checkin/arrivals", R"({"patient":"197005051235","code":"000000"})");
    // The kiosk (same address, its own device) still checks the next patient in.
    const auto k = c.kiosk("POST", "/api/v1/checkin/arrivals", R"({"patient":"197005051235"})");
    EXPECT_EQ(k.status, 201) << k.body;
    // 310 refused attempts wrote 5 audit records (the rest are summarised later).
    c.box->loginAs("granskare", "auditor");
    const auto log = c.box->authed("GET", "/api/v1/audit?action=checkin.refused&limit=1000");
    ASSERT_EQ(log.status, 200) << log.body;
    EXPECT_EQ(log.json()->getArray("records")->size(), 5u) << log.body.substr(0, 2000);
}

// The same patient checked in from two places at once (a double tap, the kiosk and the
// phone): each attempt gives the visit a new session token, so an attempt that read its visit
// back by its own token could find another attempt's token there and answer 500. Every
// answer is the visit (201) or "busy" (409), and there is one visit.
TEST(CheckinServer, TheSamePatientCheckedInFromTwoPlacesAtOnceGetsTheVisitOrBusyNeverAnError) {
    KioskClinic c;
    c.book("199001012385");
    ASSERT_EQ(c.kiosk("POST", "/api/v1/checkin/arrivals", R"({"patient":"199001012385"})").status, 201);
    std::vector<int> statuses[2];
    std::vector<std::string> errors[2];
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 30; ++i) {
                const auto r = c.kiosk("POST", "/api/v1/checkin/arrivals", R"({"patient":"199001012385"})");
                statuses[t].push_back(r.status);
                if (r.status != 201 && r.status != 409) errors[t].push_back(std::to_string(r.status) + " " + r.body);
                else if (r.status == 201 && r.json()->optValue<std::string>("time", "").size() != 5)
                    errors[t].push_back("201 without the visit's time: " + r.body);
            }
        });
    for (auto& t : threads) t.join();
    for (int t = 0; t < 2; ++t) {
        EXPECT_EQ(statuses[t].size(), 30u);
        EXPECT_TRUE(errors[t].empty()) << errors[t].size() << " failed, the first: " << errors[t].front();
    }
    const auto day = c.box->authed("GET", "/api/v1/checkin/day");
    ASSERT_EQ(day.status, 200) << day.body;
    EXPECT_EQ(day.json()->getArray("visits")->size(), 1u) << day.body;
}

TEST(CheckinServer, AVideoVisitIsNotCheckedInAtTheKiosk) {
    KioskClinic c;
    c.box->loginAs("anna3", "admin");
    ASSERT_EQ(c.box->authed("POST", "/api/v1/booking/visittypes",
                            R"({"id":"vid20","name":"Videobesök","visit_form":"video","minutes":20,"profession":"läkare"})")
                  .status,
              201);
    ASSERT_EQ(c.box->authed("POST", "/api/v1/booking/practitioners",
                            std::string(R"({"hsa_id":"SE2321000016-P005","name":"Läkare fem","profession":"läkare","unit":")") + kCheckinUnit + "\"}")
                  .status,
              201);
    ASSERT_EQ(c.box->authed("POST", "/api/v1/booking/schedules",
                            R"({"practitioner":"SE2321000016-P005","visit_type":"vid20","weekdays":[1,2,3,4,5],"start":"08:00","end":"10:00","valid_from":"2026-01-01","valid_to":"2099-12-31"})")
                  .status,
              201);
    c.box->loginAs("sam2", "staff");
    c.book("199001012385", 5, "09:00");
    const auto r = c.kiosk("POST", "/api/v1/checkin/arrivals", R"({"patient":"199001012385"})");
    EXPECT_EQ(r.status, 409) << r.body;
    EXPECT_NE(r.body.find("checkin-video-visit"), std::string::npos) << r.body;
}

// The review's log grep (issue 14): after a check-in with payment, a receipt, look-ups by
// personnummer in URLs (plain and percent-encoded) and a failed login, neither the box's log
// nor its access log holds the check-in session token, the kiosk's device token, a password
// or a full personnummer in any written form.
TEST(CheckinServer, TheLogsOfACheckInWithPaymentHoldNoTokenPasswordOrFullPersonnummer) {
    KioskClinic c;
    c.book("199001012385");
    const std::string wrongPassword = "fel lösenord för granskningen";
    EXPECT_EQ(c.box->request("POST", "/api/v1/auth/login", R"({"username":"staff1","password":")" + wrongPassword + "\"}").status, 401);
    const std::string token = c.checkIn("19900101-2385");
    ASSERT_FALSE(token.empty());
    paySwishAndConfirm(c, token);
    EXPECT_TRUE(eventually([&] { return c.kiosk("GET", "/api/v1/checkin/arrivals/" + token).body.find("\"state\":\"paid\"") != std::string::npos; }));
    EXPECT_EQ(c.kiosk("GET", "/api/v1/checkin/arrivals/" + token + "/receipt").status, 200);
    for (const char* path : {"/api/v1/efrikort/patients/199001012385", "/api/v1/efrikort/patients/19900101%2D2385",
                             "/api/v1/efrikort/patients/900101-2385?pnr=900101%2D2385", "/api/v1/nothing/19900101-2385"})
        EXPECT_LT(c.box->authed("GET", path).status, 500) << path;
    c.box->stop();
    const auto log = c.box->output();
    ASSERT_NE(log.find("/api/v1/checkin/arrivals/[redacted]"), std::string::npos) << "the access log is on:\n" << log;
    const std::string device = c.deviceCookie.substr(c.deviceCookie.find('=') + 1);
    ASSERT_GT(device.size(), 30u);
    for (const std::string& secret : {token, device, wrongPassword, std::string("correct horse battery staple")})
        EXPECT_EQ(log.find(secret), std::string::npos) << "a secret in the log: " << secret;
    for (const char* pnr : {"199001012385", "9001012385", "19900101-2385", "900101-2385", "19900101%2D2385", "900101%2D2385"})
        EXPECT_EQ(log.find(pnr), std::string::npos) << "an unmasked personnummer in the log: " << pnr;
}
