// Swish as a patient can actually pay it, in a running box against the simulator: the kiosk
// shows a QR code the box drew from the request's token and the simulator settles the
// request only after it was scanned; the patient may type a mobile number instead
// (e-commerce); Swish's callback is answered 200; a Swish refund goes to Swish and corrects
// e-frikort; a callback URL off port 443 is refused; and payments paid at Swish while the box
// is killed (kill -9) are all settled by the reconciler after restarts: 0 mismatches.
#include "CheckinClinic.h"

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

const char* const kCallback = "https://127.0.0.1/api/v1/checkin/swish/callback";

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

// The shared check-in box (CheckinClinic.h) with Swish answering within 2 s; six doctors.
struct SwishClinic : CheckinClinic {
    explicit SwishClinic(const std::string& callbackUrl = kCallback)
        : CheckinClinic(CheckinOptions{callbackUrl, "", "        timeout_ms: 2000\n"}) {}
    void setUpSchedules() { setUp(6); }
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
    }, std::chrono::seconds(120))) << c.box->output();

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
