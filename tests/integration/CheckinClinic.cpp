#include "CheckinClinic.h"

#include <klinikbox/Db.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace kbtest {

namespace fs = std::filesystem;

namespace {

std::string pluginSet(const TempDir& dir) { return pluginSetOf(dir, {"booking", "checkin", "efrikort"}); }

std::string settings(const SimProcess& sim, const CheckinOptions& o) {
    std::ostringstream c;
    c << "  settings:\n"
      << "    checkin:\n      care_unit: " << kCheckinUnit << "\n      clinic_name: Vårdcentralen Norr\n"
      << "      fees:\n" << o.feeRules << "        default_fee_ore: 20000\n"
      << "        tariffs:\n          - {name: Läkarbesök, profession: läkare, fee_ore: 30000}\n"
      << "      swish:\n        enabled: true\n        url: " << sim.https() << "/swish-cpcapi\n        payee_alias: \"1231181189\"\n"
      << "        client_cert: " << sim.clientCert() << "\n        client_key: " << sim.clientKey() << "\n        ca_bundle: " << sim.ca()
      << "\n        callback_url: \"" << o.callbackUrl << "\"\n" << o.swishSettings
      << "    efrikort:\n      care_principal_id: SE2321000016-REG1\n      care_provider_name: Vårdcentralen Norr AB\n"
      << "      care_provider_id: SE2321000016-CP01\n      care_unit_name: Vårdcentralen Norr\n      care_unit_id: " << kCheckinUnit << "\n"
      << "      employee_id: SE2321000016-E001\n      service_url: \"" << sim.https() << "/efrikort/{contract}\"\n"
      << "      client_cert: " << sim.clientCert() << "\n      client_key: " << sim.clientKey() << "\n      ca_bundle: " << sim.ca()
      << "\n      timeout_ms: 2000\n";
    return c.str();
}

}  // namespace

CheckinClinic::CheckinClinic(const CheckinOptions& o) {
    // The simulator lives on the box's day, so the card's 12-month window holds its fees.
    sim.setClockStart(kCheckinClock);
    sim.start();
    box = std::make_unique<BoxProcess>(settings(sim, o), pluginSet(dir));
    // The development clock: the box lives on Wednesday morning.
    std::string cfg;
    {
        std::ifstream in(box->configFile());
        std::stringstream ss;
        ss << in.rdbuf();
        cfg = ss.str();
    }
    cfg.replace(cfg.find("box:\n"), 5, std::string("box:\n  clock_start: \"") + kCheckinClock + "\"\n");
    std::ofstream(box->configFile()) << cfg;
    box->start();
}

void CheckinClinic::setUp(int practitioners) {
    login("admin");
    auto ok = [&](const std::string& path, const std::string& body) {
        const auto r = box->authed("POST", path, body);
        ASSERT_EQ(r.status, 201) << path << ": " << r.body;
    };
    ok("/api/v1/booking/units", std::string(R"({"hsa_id":")") + kCheckinUnit + R"(","name":"Vårdcentralen Norr","address":"Storgatan 1"})");
    ok("/api/v1/booking/visittypes", R"({"id":"lak30","name":"Läkarbesök","visit_form":"physical","minutes":30,"profession":"läkare"})");
    for (int p = 1; p <= practitioners; ++p) {
        const std::string hsa = "SE2321000016-P00" + std::to_string(p);
        ok("/api/v1/booking/practitioners",
           R"({"hsa_id":")" + hsa + R"(","name":"Läkare )" + hsa + R"(","profession":"läkare","unit":")" + kCheckinUnit + "\"}");
        ok("/api/v1/booking/schedules", R"({"practitioner":")" + hsa +
                                            R"(","visit_type":"lak30","weekdays":[1,2,3,4,5],"start":"08:00","end":"17:00","valid_from":"2026-01-01","valid_to":"2099-12-31"})");
    }
    // The waiting room's kiosk: registered once by an admin, it holds the device cookie.
    const auto reg = box->authed("POST", "/api/v1/checkin/kiosks", R"({"name":"Väntrummet"})");
    ASSERT_EQ(reg.status, 201) << reg.body;
    const auto setCookie = reg.header("set-cookie");
    EXPECT_NE(setCookie.find("HttpOnly"), std::string::npos) << setCookie;
    deviceCookie = setCookie.substr(0, setCookie.find(';'));
    login("staff");
}

void CheckinClinic::login(const std::string& role) { box->loginAs(role + std::to_string(++logins), role); }

long long CheckinClinic::book(const std::string& patient, int practitioner, const std::string& time) {
    const auto r = box->authed("GET", std::string("/api/v1/booking/timeslots?unit=") + kCheckinUnit +
                                          "&date=2026-11-25&practitioner=SE2321000016-P00" + std::to_string(practitioner));
    const auto slots = r.json()->getArray("timeslots");
    for (unsigned i = 0; slots && i < slots->size(); ++i)
        if (slots->getObject(i)->getValue<std::string>("startTimeInclusive").substr(11, 5) == time) {
            const auto b = box->authed("POST", "/api/v1/booking/bookings",
                                       R"({"slot_id":)" + std::to_string(slots->getObject(i)->getValue<long long>("slot_id")) +
                                           R"(,"patient":")" + patient + "\"}");
            EXPECT_EQ(b.status, 201) << b.body;
            return b.status == 201 ? b.json()->getValue<long long>("bookingId") : 0;
        }
    ADD_FAILURE() << "no slot at " << time << ": " << r.body;
    return 0;
}

std::string CheckinClinic::checkIn(const std::string& patient) {
    const auto in = kiosk("POST", "/api/v1/checkin/arrivals", R"({"patient":")" + patient + "\"}");
    EXPECT_EQ(in.status, 201) << in.body;
    return in.status == 201 ? in.json()->getValue<std::string>("token") : "";
}

HttpResult CheckinClinic::kiosk(const std::string& method, const std::string& path, const std::string& body) const {
    return box->request(method, path, body, {{"Content-Type", "application/json"}, {"Cookie", deviceCookie}});
}

HttpResult CheckinClinic::phone(const std::string& method, const std::string& path, const std::string& body) const {
    return box->request(method, path, body, {{"Content-Type", "application/json"}});
}

Poco::JSON::Object::Ptr CheckinClinic::person(const std::string& pnr) {
    return sim.steer("GET", "/sim/api/efrikort/persons/" + pnr).json();
}

Poco::JSON::Object::Ptr CheckinClinic::waitForTransactions(const std::string& pnr, std::size_t n) {
    Poco::JSON::Object::Ptr p;
    eventually([&] {
        p = person(pnr);
        return p->getArray("transactions")->size() >= n;
    });
    return p;
}

bool CheckinClinic::waitForOutboxSettled(const std::string& channel) {
    return eventually([&] {
        klinikbox::db::Connection db(box->dataDir() + "/klinikbox.db");
        db.exec("PRAGMA busy_timeout = 5000");
        auto st = db.prepare("SELECT COUNT(*) FROM kb_outbox WHERE channel = ? AND state IN ('pending', 'delivering')");
        st.bind(1, channel);
        return st.step() && st.getInt(0) == 0;
    });
}

Poco::JSON::Array::Ptr CheckinClinic::swishRequests() {
    return sim.steer("GET", "/sim/api/swish/paymentrequests").json()->getArray("items");
}

Poco::JSON::Object::Ptr CheckinClinic::day() {
    const auto r = box->authed("GET", "/api/v1/checkin/day?date=2026-11-25");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json();
}

}  // namespace kbtest
