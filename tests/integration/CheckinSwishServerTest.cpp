// Swish as a patient can actually pay it, in a running box against the simulator: the kiosk
// shows a QR code the box drew from the request's token and the simulator settles the
// request only after it was scanned; the patient may type a mobile number instead
// (e-commerce); Swish's callback is answered 200; a Swish refund goes to Swish and corrects
// e-frikort; a callback URL off port 443 is refused; and payments paid at Swish while the box
// is killed (kill -9) are all settled by the reconciler after restarts: 0 mismatches.
#include "BoxProcess.h"
#include "SimProcess.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

using namespace kbtest;
namespace fs = std::filesystem;

namespace {

const char* const kUnit = "SE2321000016-U001";
// Wednesday 25 November 2026, 08:50 in Stockholm: the 09:00 and 09:30 slots are in the window.
const char* const kClock = "2026-11-25T07:50:00Z";
const char* const kCallback = "https://127.0.0.1/api/v1/checkin/swish/callback";

std::string pluginSet(const TempDir& dir) {
    const fs::path set = fs::path(dir.path()) / "set";
    for (const char* id : {"booking", "checkin", "efrikort"}) {
        const fs::path src = fs::path(KB_SOURCE_DIR) / "plugins" / id;
        fs::create_directories(set / id);
        for (const char* f : {"plugin.yaml", "schema.yaml"}) fs::copy_file(src / f, set / id / f);
        fs::copy(src / "migrations", set / id / "migrations", fs::copy_options::recursive);
        fs::copy(src / "web", set / id / "web", fs::copy_options::recursive);
        fs::copy_file(fs::path(KB_BUILD_DIR) / "plugins" / id / (std::string("lib") + id + ".so"), set / id / (std::string("lib") + id + ".so"));
    }
    return set.string();
}

std::string settings(const SimProcess& sim, const std::string& callbackUrl) {
    std::ostringstream c;
    c << "  settings:\n"
      << "    checkin:\n      care_unit: " << kUnit << "\n      clinic_name: Vårdcentralen Norr\n"
      << "      fees:\n        default_fee_ore: 20000\n        tariffs:\n          - {name: Läkarbesök, profession: läkare, fee_ore: 30000}\n"
      << "      swish:\n        enabled: true\n        url: " << sim.https() << "/swish-cpcapi\n        payee_alias: \"1231181189\"\n"
      << "        client_cert: " << sim.clientCert() << "\n        client_key: " << sim.clientKey() << "\n        ca_bundle: " << sim.ca()
      << "\n        callback_url: \"" << callbackUrl << "\"\n        timeout_ms: 2000\n"
      << "    efrikort:\n      care_principal_id: SE2321000016-REG1\n      care_provider_name: Vårdcentralen Norr AB\n"
      << "      care_provider_id: SE2321000016-CP01\n      care_unit_name: Vårdcentralen Norr\n      care_unit_id: " << kUnit << "\n"
      << "      employee_id: SE2321000016-E001\n      service_url: \"" << sim.https() << "/efrikort/{contract}\"\n"
      << "      client_cert: " << sim.clientCert() << "\n      client_key: " << sim.clientKey() << "\n      ca_bundle: " << sim.ca()
      << "\n      timeout_ms: 2000\n";
    return c.str();
}

// A valid personnummer born 1980-01-01 with serial n (the Luhn check digit computed).
std::string person(int n) {
    char b[16];
    std::snprintf(b, sizeof b, "800101%03d", n);
    int sum = 0;
    for (int i = 0; i < 9; ++i) {
        int d = (b[i] - '0') * (i % 2 == 0 ? 2 : 1);
        sum += d > 9 ? d - 9 : d;
    }
    return std::string("19") + b + std::to_string((10 - sum % 10) % 10);
}

template <class F>
bool eventually(F done, int tries = 1200) {  // up to ~60 s on a loaded machine
    for (int i = 0; i < tries; ++i) {
        if (done()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return done();
}

struct SwishClinic {
    TempDir dir;
    SimProcess sim{"", 3000};
    std::unique_ptr<BoxProcess> box;
    int logins = 0;

    explicit SwishClinic(const std::string& callbackUrl = kCallback) {
        sim.start();
        box = std::make_unique<BoxProcess>(settings(sim, callbackUrl), pluginSet(dir));
        std::string cfg;
        {
            std::ifstream in(box->configFile());
            std::stringstream ss;
            ss << in.rdbuf();
            cfg = ss.str();
        }
        cfg.replace(cfg.find("box:\n"), 5, std::string("box:\n  clock_start: \"") + kClock + "\"\n");
        std::ofstream(box->configFile()) << cfg;
        box->start();
    }

    void setUpSchedules() {
        login("admin");
        auto ok = [&](const std::string& path, const std::string& body) {
            const auto r = box->authed("POST", path, body);
            ASSERT_EQ(r.status, 201) << path << ": " << r.body;
        };
        ok("/api/v1/booking/units", std::string(R"({"hsa_id":")") + kUnit + R"(","name":"Vårdcentralen Norr","address":"Storgatan 1"})");
        ok("/api/v1/booking/visittypes", R"({"id":"lak30","name":"Läkarbesök","visit_form":"physical","minutes":30,"profession":"läkare"})");
        for (int p = 1; p <= 6; ++p) {
            const std::string hsa = "SE2321000016-P00" + std::to_string(p);
            ok("/api/v1/booking/practitioners", R"({"hsa_id":")" + hsa + R"(","name":"Läkare )" + hsa + R"(","profession":"läkare","unit":")" + kUnit + "\"}");
            ok("/api/v1/booking/schedules", R"({"practitioner":")" + hsa +
                                                R"(","visit_type":"lak30","weekdays":[1,2,3,4,5],"start":"08:00","end":"17:00","valid_from":"2026-01-01","valid_to":"2099-12-31"})");
        }
        // The waiting room's kiosk: registered once by an admin, it holds the device cookie.
        const auto reg = box->authed("POST", "/api/v1/checkin/kiosks", R"({"name":"Väntrummet"})");
        ASSERT_EQ(reg.status, 201) << reg.body;
        deviceCookie = reg.header("set-cookie").substr(0, reg.header("set-cookie").find(';'));
        login("staff");
    }

    void login(const std::string& role) { box->loginAs(role + std::to_string(++logins), role); }

    void book(const std::string& patient, int practitioner, const std::string& time) {
        const auto r = box->authed("GET", std::string("/api/v1/booking/timeslots?unit=") + kUnit + "&date=2026-11-25&practitioner=SE2321000016-P00" +
                                               std::to_string(practitioner));
        const auto slots = r.json()->getArray("timeslots");
        for (unsigned i = 0; i < slots->size(); ++i)
            if (slots->getObject(i)->getValue<std::string>("startTimeInclusive").substr(11, 5) == time) {
                const auto b = box->authed("POST", "/api/v1/booking/bookings",
                                           R"({"slot_id":)" + std::to_string(slots->getObject(i)->getValue<long long>("slot_id")) +
                                               R"(,"patient":")" + patient + "\"}");
                ASSERT_EQ(b.status, 201) << b.body;
                return;
            }
        FAIL() << "no slot at " << time;
    }

    HttpResult kiosk(const std::string& method, const std::string& path, const std::string& body = {}) const {
        return box->request(method, path, body, {{"Content-Type", "application/json"}, {"Cookie", deviceCookie}});
    }
    std::string deviceCookie;  // kb_kiosk=<token>

    std::string checkIn(const std::string& patient) {
        const auto in = kiosk("POST", "/api/v1/checkin/arrivals", R"({"patient":")" + patient + "\"}");
        EXPECT_EQ(in.status, 201) << in.body;
        return in.status == 201 ? in.json()->getValue<std::string>("token") : "";
    }

    Poco::JSON::Array::Ptr swishRequests() { return sim.steer("GET", "/sim/api/swish/paymentrequests").json()->getArray("items"); }

    Poco::JSON::Object::Ptr day() {
        const auto r = box->authed("GET", "/api/v1/checkin/day?date=2026-11-25");
        EXPECT_EQ(r.status, 200) << r.body;
        return r.json();
    }
};

std::string tokenOf(const std::string& appUrl) {
    const auto from = appUrl.find("token=") + 6;
    return appUrl.substr(from, appUrl.find('&') - from);
}

}  // namespace

TEST(CheckinSwish, TheKioskShowsAQrCodeAndTheRequestIsPaidOnlyAfterItWasScanned) {
    SwishClinic c;
    c.setUpSchedules();
    c.book("199001012385", 1, "09:00");
    const std::string session = c.checkIn("199001012385");
    const auto pay = c.kiosk("POST", "/api/v1/checkin/arrivals/" + session + "/payment", R"({"method":"swish"})");
    ASSERT_EQ(pay.status, 201) << pay.body;
    const auto swish = pay.json()->getObject("payment")->getObject("swish");
    ASSERT_TRUE(swish) << pay.body;
    EXPECT_EQ(swish->getValue<std::string>("flow"), "m-commerce");
    const auto svg = swish->getValue<std::string>("qr_svg");
    EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u) << svg.substr(0, 100);
    // The app switch link for the patient's own phone: the token and the way back to the receipt.
    const auto app = swish->getValue<std::string>("app_url");
    EXPECT_EQ(app.rfind("swish://paymentrequest?token=", 0), 0u) << app;
    EXPECT_NE(app.find("&callbackurl=https%3A%2F%2F127.0.0.1%2Fplugins%2Fcheckin%2Freceipt.html%23" + session), std::string::npos) << app;

    // The request Swish got: no payer (m-commerce), a message within Swish's character set.
    const auto reqs = c.swishRequests();
    ASSERT_EQ(reqs->size(), 1u);
    const auto req = reqs->getObject(0);
    EXPECT_EQ(req->getValue<std::string>("payerAlias"), "");
    EXPECT_EQ(req->getValue<std::string>("message"), "Besök 2026-11-25");
    const std::string id = req->getValue<std::string>("id");

    // Not scanned: the simulator refuses to settle; the kiosk still waits and shows the code.
    EXPECT_EQ(c.sim.steer("POST", "/sim/api/swish/paymentrequests/" + id + "/settle", R"({"status":"PAID"})").status, 409);
    const auto waiting = c.kiosk("GET", "/api/v1/checkin/arrivals/" + session).json();
    EXPECT_EQ(waiting->getValue<std::string>("state"), "waiting");
    EXPECT_EQ(waiting->getObject("payment")->getObject("swish")->getValue<std::string>("qr_svg"), svg) << "the same code while it waits";

    // The patient scans the code (its text is "D" + the token) and pays; Swish calls back
    // through the port forward to the box, which answers 200.
    ASSERT_EQ(c.sim.steer("POST", "/sim/api/swish/callback-port", R"({"port":)" + c.box->url().substr(c.box->url().rfind(':') + 1) + "}").status, 204);
    ASSERT_EQ(c.sim.steer("POST", "/sim/api/swish/scan", R"({"code":"D)" + tokenOf(app) + R"("})").status, 204);
    ASSERT_EQ(c.sim.steer("POST", "/sim/api/swish/paymentrequests/" + id + "/settle", R"({"status":"PAID"})").status, 204);
    EXPECT_TRUE(eventually([&] {
        const auto got = c.sim.steer("GET", "/sim/api/received?service=swish").json()->getArray("items");
        for (unsigned i = 0; i < got->size(); ++i)
            if (got->getObject(i)->getValue<std::string>("operation") == "callback " + id)
                return got->getObject(i)->getValue<std::string>("response") == "200";
        return false;
    })) << "Swish's callback answered 200";
    EXPECT_TRUE(eventually([&] { return c.kiosk("GET", "/api/v1/checkin/arrivals/" + session).json()->getValue<std::string>("state") == "paid"; }));
    const auto paid = c.kiosk("GET", "/api/v1/checkin/arrivals/" + session).json();
    EXPECT_FALSE(paid->getObject("payment")->has("swish")) << "no code once paid";

    // A callback body that is not a payment object is refused; Swish's own is answered 200.
    EXPECT_EQ(c.kiosk("POST", "/api/v1/checkin/swish/callback", "not json").status, 400);
    EXPECT_EQ(c.kiosk("POST", "/api/v1/checkin/swish/callback", R"({"id":")" + id + R"(","status":"PAID"})").status, 200);
}

TEST(CheckinSwish, ThePatientMayTypeAMobileNumberAndARefundGoesBackThroughSwish) {
    SwishClinic c;
    c.setUpSchedules();
    c.book("199001012385", 1, "09:00");
    const std::string session = c.checkIn("199001012385");
    const auto bad = c.kiosk("POST", "/api/v1/checkin/arrivals/" + session + "/payment", R"({"method":"swish","payer_mobile":"08-123 456 78"})");
    EXPECT_EQ(bad.status, 400) << "a landline has no Swish";
    EXPECT_EQ(c.swishRequests()->size(), 0u);
    const auto pay = c.kiosk("POST", "/api/v1/checkin/arrivals/" + session + "/payment", R"({"method":"swish","payer_mobile":"070-123 45 67"})");
    ASSERT_EQ(pay.status, 201) << pay.body;
    const auto swish = pay.json()->getObject("payment")->getObject("swish");
    EXPECT_EQ(swish->getValue<std::string>("flow"), "e-commerce");
    EXPECT_FALSE(swish->has("qr_svg"));
    EXPECT_EQ(pay.body.find("46701234567"), std::string::npos) << "the number is not echoed";
    const auto req = c.swishRequests()->getObject(0);
    EXPECT_EQ(req->getValue<std::string>("payerAlias"), "46701234567");
    // e-commerce: the request is in the payer's app; no scan needed.
    ASSERT_EQ(c.sim.steer("POST", "/sim/api/swish/paymentrequests/" + req->getValue<std::string>("id") + "/settle", R"({"status":"PAID"})").status, 204);
    ASSERT_TRUE(eventually([&] { return c.kiosk("GET", "/api/v1/checkin/arrivals/" + session).json()->getValue<std::string>("state") == "paid"; }));
    ASSERT_TRUE(eventually([&] {
        return c.sim.steer("GET", "/sim/api/efrikort/persons/199001012385").json()->getArray("transactions")->size() == 1;
    }));

    // A partial refund: Swish takes it (the merchant pays back, naming the original payment)
    // and e-frikort's transaction is corrected.
    c.login("admin");
    const auto payment = c.day()->getArray("visits")->getObject(0)->getObject("payment");
    const std::string reference = payment->getValue<std::string>("reference");
    const auto refund = c.box->authed("POST", "/api/v1/checkin/payments/" + std::to_string(payment->getValue<long long>("id")) + "/refund",
                                      R"({"amount_ore":10000})");
    ASSERT_EQ(refund.status, 204) << refund.body;
    Poco::JSON::Object::Ptr r;
    const auto all = c.swishRequests();
    for (unsigned i = 0; i < all->size(); ++i)
        if (all->getObject(i)->getValue<bool>("refund")) r = all->getObject(i);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->getValue<std::string>("originalPaymentReference"), reference);
    EXPECT_EQ(r->getValue<std::string>("payerAlias"), "1231181189");
    EXPECT_DOUBLE_EQ(r->getValue<double>("amount"), 100.0);
    EXPECT_EQ(r->getValue<std::string>("status"), "PAID");
    ASSERT_TRUE(eventually([&] {
        const auto t = c.sim.steer("GET", "/sim/api/efrikort/persons/199001012385").json()->getArray("transactions")->getObject(0);
        return t->getValue<std::string>("status") == "UPDATED" && t->getValue<long long>("amount_ore") == 20000;
    }));
    // More than is left is refused by the box before Swish is asked.
    EXPECT_EQ(c.box->authed("POST", "/api/v1/checkin/payments/" + std::to_string(payment->getValue<long long>("id")) + "/refund",
                            R"({"amount_ore":30000})").status,
              400);
    const auto d = c.day();
    EXPECT_EQ(d->getObject("paid_ore_by_method")->getValue<long long>("swish"), 20000);
}

TEST(CheckinSwish, ARequestNobodyPaysEndsAsAnErrorFoundByTheReconcilerAndThePatientMayPayAnotherWay) {
    SwishClinic c;
    c.setUpSchedules();
    c.book("199001012385", 1, "09:00");
    // Swish gives a payer 3 minutes; here 2 seconds.
    ASSERT_EQ(c.sim.steer("POST", "/sim/api/swish/expiry", R"({"seconds":2})").status, 204);
    const std::string session = c.checkIn("199001012385");
    ASSERT_EQ(c.kiosk("POST", "/api/v1/checkin/arrivals/" + session + "/payment", R"({"method":"swish"})").status, 201);
    // Nobody scans, no kiosk polls (the patient walked away), no callback comes: the
    // reconciler alone finds the request failed at Swish.
    ASSERT_TRUE(eventually([&] {
        const auto p = c.day()->getArray("visits")->getObject(0)->getObject("payment");
        return p && p->getValue<std::string>("status") == "error";
    })) << c.box->output();
    EXPECT_EQ(c.swishRequests()->getObject(0)->getValue<std::string>("errorCode"), "TM01");
    const auto st = c.kiosk("GET", "/api/v1/checkin/arrivals/" + session).json();
    EXPECT_EQ(st->getValue<std::string>("state"), "unpaid");
    EXPECT_FALSE(st->getObject("payment")->has("swish")) << "no QR code for a failed request";
    // The visit is free to be paid again, here at the desk.
    const auto desk = c.kiosk("POST", "/api/v1/checkin/arrivals/" + session + "/payment", R"({"method":"desk"})");
    EXPECT_EQ(desk.status, 201) << desk.body;
    EXPECT_EQ(desk.json()->getValue<std::string>("state"), "pay_at_desk");
}

TEST(CheckinSwish, ACallbackUrlOffPort443IsRefused) {
    SwishClinic c("https://127.0.0.1:8443/api/v1/checkin/swish/callback");
    // `config check` names it before the start (a warning: the rest of the box still runs) ...
    std::string out;
    EXPECT_EQ(c.box->cli({"config", "check"}, &out), 0) << out;
    EXPECT_NE(out.find("WARNING"), std::string::npos) << out;
    EXPECT_NE(out.find("plugins.settings.checkin.swish.callback_url"), std::string::npos) << out;
    // ... and the plugin refuses to start with it.
    const auto r = c.box->request("GET", "/readyz");
    ASSERT_EQ(r.status, 200) << r.body;
    const auto plugins = r.json()->getArray("plugins");
    bool refused = false;
    for (unsigned i = 0; i < plugins->size(); ++i) {
        const auto p = plugins->getObject(i);
        if (p->getValue<std::string>("id") != "checkin") continue;
        refused = p->getValue<std::string>("state") == "failed";
        EXPECT_NE(p->optValue<std::string>("reason", "").find("callback_url"), std::string::npos) << r.body;
    }
    EXPECT_TRUE(refused) << r.body;
}

// kill -9 during check-ins with payment, four rounds, twelve patients: some pay by QR code,
// some by mobile number, some while the box is being killed. No callback reaches the box
// (port 443 is dead), so only the reconciler can settle what was paid while it was down.
TEST(CheckinSwish, PaymentsPaidAtSwishWhileTheBoxIsKilledAreAllSettledAfterRestarts) {
    SwishClinic c;
    c.setUpSchedules();
    const char* times[] = {"09:00", "09:30"};
    std::vector<std::string> patients;
    for (int i = 0; i < 12; ++i) {
        patients.push_back(person(10 + i));
        c.book(patients.back(), i % 6 + 1, times[i / 6]);
    }
    // The payer approves by themselves 200 ms after the request (e-commerce) or the scan.
    ASSERT_EQ(c.sim.steer("POST", "/sim/api/swish/auto", R"({"status":"PAID","delay_ms":200})").status, 204);
    for (int round = 0; round < 4; ++round) {
        const auto& qr = patients[static_cast<std::size_t>(round * 3)];
        const auto& mobile = patients[static_cast<std::size_t>(round * 3 + 1)];
        const auto& killed = patients[static_cast<std::size_t>(round * 3 + 2)];
        // By QR code: requested and scanned; paid while the box is killed.
        const auto s1 = c.checkIn(qr);
        const auto p1 = c.kiosk("POST", "/api/v1/checkin/arrivals/" + s1 + "/payment", R"({"method":"swish"})");
        ASSERT_EQ(p1.status, 201) << p1.body;
        ASSERT_EQ(c.sim.steer("POST", "/sim/api/swish/scan",
                              R"({"code":"D)" + tokenOf(p1.json()->getObject("payment")->getObject("swish")->getValue<std::string>("app_url")) + R"("})")
                      .status,
                  204);
        // By mobile number.
        const auto s2 = c.checkIn(mobile);
        ASSERT_EQ(c.kiosk("POST", "/api/v1/checkin/arrivals/" + s2 + "/payment", R"({"method":"swish","payer_mobile":"0701234567"})").status, 201);
        // The third checks in and pays while the box is killed: before, during or after its
        // request reached Swish, depending on the round.
        // Even rounds by mobile number, odd rounds by QR code (whose token may be lost with the box).
        std::thread t([&c, killed, round] {
            try {
                const auto in = c.kiosk("POST", "/api/v1/checkin/arrivals", R"({"patient":")" + killed + "\"}");
                if (in.status == 201)
                    (void)c.kiosk("POST", "/api/v1/checkin/arrivals/" + in.json()->getValue<std::string>("token") + "/payment",
                                  round % 2 ? R"({"method":"swish"})" : R"({"method":"swish","payer_mobile":"0709876543"})");
            } catch (...) {
            }
        });
        std::this_thread::sleep_for(std::chrono::milliseconds(30 * round));  // vary the moment of the kill
        c.box->stop(SIGKILL);
        t.join();
        c.box->start();
    }
    c.login("staff");
    // Patients who were shown a QR code before the kill scan it now (a request whose token the
    // box lost is withdrawn by the box instead; either way it ends final).
    const auto waiting = c.swishRequests();
    for (unsigned i = 0; i < waiting->size(); ++i) {
        const auto r = waiting->getObject(i);
        if (r->has("scanned") && !r->getValue<bool>("scanned") && r->getValue<std::string>("status") == "CREATED")
            (void)c.sim.steer("POST", "/sim/api/swish/scan", R"({"code":"D)" + r->getValue<std::string>("token") + R"("})");
    }
    // Every request at Swish becomes final (the payers approved), and the box follows.
    ASSERT_TRUE(eventually([&] {
        const auto all = c.swishRequests();
        for (unsigned i = 0; i < all->size(); ++i)
            if (all->getObject(i)->getValue<std::string>("status") == "CREATED") return false;
        const auto visits = c.day()->getArray("visits");
        for (unsigned i = 0; i < visits->size(); ++i) {
            const auto p = visits->getObject(i)->getObject("payment");
            if (p && p->getValue<std::string>("status") == "created") return false;
        }
        return true;
    }, 2400)) << c.box->output();

    // Compare: every payment PAID at Swish is paid in the box with the same reference, and
    // nothing is paid in the box that Swish did not pay.
    std::set<std::string> paidAtSwish, paidInBox;
    const auto all = c.swishRequests();
    for (unsigned i = 0; i < all->size(); ++i)
        if (!all->getObject(i)->getValue<bool>("refund") && all->getObject(i)->getValue<std::string>("status") == "PAID")
            paidAtSwish.insert(all->getObject(i)->getValue<std::string>("paymentReference"));
    const auto d = c.day();
    const auto visits = d->getArray("visits");
    std::map<std::string, int> paidPatients;
    for (unsigned i = 0; i < visits->size(); ++i) {
        const auto p = visits->getObject(i)->getObject("payment");
        if (p && p->getValue<std::string>("status") == "paid") {
            paidInBox.insert(p->getValue<std::string>("reference"));
            ++paidPatients[visits->getObject(i)->getValue<std::string>("patient")];
        }
    }
    int mismatches = 0;
    for (const auto& r : paidAtSwish) mismatches += paidInBox.count(r) ? 0 : 1;
    for (const auto& r : paidInBox) mismatches += paidAtSwish.count(r) ? 0 : 1;
    std::cout << "[ kill -9 x4 ] checked in " << d->getValue<long long>("checked_in") << ", requests at Swish " << all->size() << ", paid at Swish "
              << paidAtSwish.size() << ", paid in the box " << paidInBox.size() << ", mismatches " << mismatches << "\n";
    EXPECT_EQ(mismatches, 0) << paidAtSwish.size() << " paid at Swish, " << paidInBox.size() << " in the box";
    EXPECT_GE(paidAtSwish.size(), 8u) << "the QR and mobile payments of every round were paid";
    // The day report: what was paid is counted once, nobody paid is asked to pay again.
    EXPECT_EQ(d->getObject("paid_ore_by_method")->getValue<long long>("swish"), 30000LL * static_cast<long long>(paidInBox.size()));
    EXPECT_EQ(d->getValue<long long>("outstanding"), d->getValue<long long>("checked_in") - static_cast<long long>(paidInBox.size()));
    // Each fee reached e-frikort exactly once.
    for (const auto& p : patients) {
        const std::size_t expected = paidPatients.count(p) ? 1 : 0;
        EXPECT_TRUE(eventually([&] { return c.sim.steer("GET", "/sim/api/efrikort/persons/" + p).json()->getArray("transactions")->size() >= expected; }));
        EXPECT_EQ(c.sim.steer("GET", "/sim/api/efrikort/persons/" + p).json()->getArray("transactions")->size(), expected) << p;
    }
}
