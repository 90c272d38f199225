#include "BookingEvent.h"

#include <klinikbox/Clock.h>
#include <klinikbox/Personnummer.h>

#include <cstdio>
#include <regex>
#include <stdexcept>

namespace klinikbox::video {

namespace {

std::string text(const Poco::JSON::Object::Ptr& p, const std::string& k, std::size_t maxLen = 200) {
    if (!p->has(k) || p->isNull(k)) return {};
    auto v = p->get(k);
    if (!v.isString()) throw std::invalid_argument(k + " is not a string");
    auto s = v.convert<std::string>();
    if (s.size() > maxLen) throw std::invalid_argument(k + " is too long");
    return s;
}

}  // namespace

bool validBookingId(const std::string& id) {
    static const std::regex re("[A-Za-z0-9_-]{1,64}");
    return std::regex_match(id, re);
}

std::string bookingIdOf(const Poco::JSON::Object::Ptr& p, bool& numeric) {
    if (!p->has("booking_id")) throw std::invalid_argument("booking_id is missing");
    auto v = p->get("booking_id");
    std::string id;
    if (v.isInteger()) {
        numeric = true;
        id = v.convert<std::string>();
    } else if (v.isString()) {
        numeric = false;
        id = v.convert<std::string>();
    } else {
        throw std::invalid_argument("booking_id is neither a number nor a string");
    }
    if (!validBookingId(id)) throw std::invalid_argument("booking_id has an unexpected form");
    return id;
}

std::optional<long long> parseIsoTime(const std::string& t) {
    // YYYY-MM-DDTHH:MM[:SS[.fff]](Z|+HH:MM|-HH:MM), read as every plugin reads another's times.
    const auto at = Clock::parseInstant(t);
    if (!at) return std::nullopt;
    return std::chrono::duration_cast<std::chrono::seconds>(at->time_since_epoch()).count();
}

Booking parseBooking(const Poco::JSON::Object::Ptr& p, std::chrono::year_month_day today) {
    if (!p) throw std::invalid_argument("no payload");
    Booking b;
    b.id = bookingIdOf(p, b.numeric);
    auto pn = Personnummer::parse(text(p, "patient", 20), today);
    if (std::holds_alternative<PersonnummerError>(pn))
        throw std::invalid_argument("patient is not a valid personnummer (" +
                                    std::string(toString(std::get<PersonnummerError>(pn))) + ")");
    b.patient = std::get<Personnummer>(pn).twelveDigits();
    b.careUnit = text(p, "care_unit", 64);
    b.careUnitName = text(p, "care_unit_name");
    b.practitioner = text(p, "practitioner", 64);
    b.practitionerName = text(p, "practitioner_name");
    b.visitForm = text(p, "visit_form", 20);
    b.visitTypeName = text(p, "visit_type_name");
    b.startText = text(p, "start", 40);
    b.endText = text(p, "end", 40);
    const auto s = parseIsoTime(b.startText), e = parseIsoTime(b.endText);
    if (!s || !e) throw std::invalid_argument("start or end is not an ISO 8601 time with offset");
    if (*e <= *s) throw std::invalid_argument("end is not after start");
    b.startAt = *s;
    b.endAt = *e;
    return b;
}

std::string dateText(std::chrono::year_month_day d) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(d.year()), static_cast<unsigned>(d.month()),
                  static_cast<unsigned>(d.day()));
    return buf;
}

std::string startDateOf(const Booking& b) {
    return dateText(Clock::localDate(std::chrono::system_clock::time_point(std::chrono::seconds(b.startAt))));
}

}  // namespace klinikbox::video
