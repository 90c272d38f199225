// What every booking resource shares: the roles, the purpose of its audit records, and the
// helpers that read request input (HSA-ids, dates, string lists) and format numbers and lists.
#pragma once

#include "Calendar.h"

#include <klinikbox/JsonInput.h>
#include <klinikbox/Plugin.h>
#include <klinikbox/Problem.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace booking {

using namespace klinikbox;
using namespace std::chrono;
using Poco::JSON::Array;
using Poco::JSON::Object;

inline const std::set<Role> kStaff = {Role::Staff, Role::Admin};
inline const std::set<Role> kAdmin = {Role::Admin};
inline constexpr const char* kPurposeCare = "vård";

// A VIP code a patient can type: 10 characters without look-alikes (0/O, 1/I/L).
std::string vipCode();

std::string normaliseCode(const std::string& s);

inline long long toSec(sys_seconds t) { return t.time_since_epoch().count(); }
inline sys_seconds fromSec(long long s) { return sys_seconds{seconds{s}}; }

std::string joinInts(const std::set<int>& v);

std::vector<std::string> splitList(const std::string& s, char sep = ',');

inline Problem invalid(const std::string& field, const std::string& detail) { return JsonInput::invalid(field, detail); }
inline Problem invalid(const std::string& field, const std::string& detail, const std::string& code) {
    return JsonInput::invalid(field, detail, code);
}

std::string requireHsa(const JsonInput& in, const std::string& field);

std::string queryHsa(const Request& req, const std::string& name, bool required = true);

year_month_day queryDate(const Request& req, const std::string& name, std::optional<year_month_day> def);

Array::Ptr stringArray(const std::vector<std::string>& v);

std::vector<std::string> readStringArray(const JsonInput& in, const std::string& field, std::size_t maxItems,
                                         std::size_t maxLen, bool required);

}  // namespace booking
