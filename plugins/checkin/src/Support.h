// What every check-in resource shares: the staff roles, small formatting helpers (tokens,
// JSON text, kronor), and the rows of a visit (one patient's arrival) and of a payment.
#pragma once

#include <klinikbox/Plugin.h>
#include <klinikbox/Secrets.h>

#include <Poco/JSON/Object.h>

#include <chrono>
#include <optional>
#include <set>
#include <sstream>
#include <string>

// The plugin's own types live in checkin::plugin, apart from the fee rules' checkin::Visit.
namespace checkin::plugin {

using namespace klinikbox;
using namespace std::chrono;
using Poco::JSON::Array;
using Poco::JSON::Object;

inline const std::set<Role> kStaff = {Role::Staff, Role::Admin};

inline std::string token() { return randomToken(24); }

inline std::string json(const Object& o) {
    std::ostringstream s;
    o.stringify(s);
    return s.str();
}

inline std::string kronor(long long ore) {
    std::string s = std::to_string(ore / 100);
    if (ore % 100) s += "," + std::string(ore % 100 < 10 ? "0" : "") + std::to_string(ore % 100);
    return s + " kr";
}

struct Visit {
    long long id = 0, bookingId = 0, feeOre = 0, chargeOre = 0;
    std::string patient, unit, date, start, room, tariff, exemptReason, cardStatus, cardSource, channel;
    std::optional<long long> leftOre;
    bool counts = true, optinRequired = false;
    long long arrivedAt = 0;
};

struct Payment {
    long long id = 0, visitId = 0, amountOre = 0, refundedOre = 0, createdAt = 0;
    std::string method, status, instructionId, reference;
    std::string requestToken, payerAlias;  // Swish: m-commerce token, or the e-commerce payer
    int checks = 0;                        // status queries the reconciler made
};

}  // namespace checkin::plugin
