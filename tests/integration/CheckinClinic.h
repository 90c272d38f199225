// The check-in fixture shared by CheckinServerTest and CheckinSwishServerTest: a running box
// with the booking, checkin and efrikort plugins against the national-services simulator
// (Swish, e-frikort), its development clock on Wednesday 25 November 2026, 08:50 in
// Stockholm (the 09:00 and 09:30 slots are in the check-in window), a unit with doctors on
// weekday schedules, and a registered waiting-room kiosk.
#pragma once

#include "BoxProcess.h"
#include "Eventually.h"
#include "SimProcess.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <functional>
#include <memory>
#include <string>

namespace kbtest {

inline constexpr const char* kCheckinUnit = "SE2321000016-U001";
inline constexpr const char* kCheckinClock = kFixtureClock;  // the box and its simulator

struct CheckinOptions {
    // Port 443 on loopback: nobody listens, so no callback arrives unless the simulator is
    // told to forward it (POST /sim/api/swish/callback-port).
    std::string callbackUrl = "https://127.0.0.1/api/v1/checkin/swish/callback";
    std::string feeRules;       // extra lines under checkin.fees (8-space indent)
    std::string swishSettings;  // extra lines under checkin.swish (8-space indent)
};

class CheckinClinic {
public:
    explicit CheckinClinic(const CheckinOptions& o = {});

    // As an admin: the unit, the visit type lak30 (physical, 30 min, läkare), `practitioners`
    // doctors SE2321000016-P001.. working weekdays 08-17, and the kiosk; then logs in as staff.
    void setUp(int practitioners);
    // Logs in a new user of `role` (admin1, staff2, ...).
    void login(const std::string& role);

    // Books the patient at `time` on 2026-11-25 with practitioner n; the booking's id (0 and
    // a test failure when there is no such slot).
    long long book(const std::string& patient, int practitioner = 1, const std::string& time = "09:00");
    // The kiosk checks the patient in; the arrival's token ("" and a failure otherwise).
    std::string checkIn(const std::string& patient);

    // A request from the registered kiosk, and one from a patient's phone (no kiosk cookie).
    [[nodiscard]] HttpResult kiosk(const std::string& method, const std::string& path, const std::string& body = {}) const;
    [[nodiscard]] HttpResult phone(const std::string& method, const std::string& path, const std::string& body = {}) const;

    // The simulator's e-frikort person, and (bounded) until it holds n transactions.
    Poco::JSON::Object::Ptr person(const std::string& pnr);
    Poco::JSON::Object::Ptr waitForTransactions(const std::string& pnr, std::size_t n);
    // True once no outbox message of `channel` waits or is being delivered (every delivery
    // and its effects are done), bounded.
    bool waitForOutboxSettled(const std::string& channel);
    Poco::JSON::Array::Ptr swishRequests();
    // The day report of 2026-11-25.
    Poco::JSON::Object::Ptr day();

    TempDir dir;
    SimProcess sim{"", 3000};
    std::unique_ptr<BoxProcess> box;
    std::string deviceCookie;  // kb_kiosk=<token>
    int logins = 0;
};

}  // namespace kbtest
