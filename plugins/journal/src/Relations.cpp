#include "Relations.h"

#include <klinikbox/Personnummer.h>

#include <Poco/DateTimeParser.h>

#include <regex>
#include <stdexcept>

namespace klinikbox::journal {
namespace {

std::string str(const Poco::JSON::Object::Ptr& p, const std::string& k, std::size_t max) {
    if (!p->has(k)) throw std::invalid_argument(k + " is missing");
    const auto v = p->get(k);
    if (!v.isString() && !v.isInteger()) throw std::invalid_argument(k + " is not text");
    auto s = v.convert<std::string>();
    if (s.empty() || s.size() > max) throw std::invalid_argument(k + " is empty or too long");
    return s;
}

long long isoSeconds(const std::string& text) {
    // Poco's parser is lenient (it accepts words); the shape is checked first.
    static const std::regex shape(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))");
    if (!std::regex_match(text, shape)) throw std::invalid_argument("start is not an ISO 8601 time with offset");
    int tz = 0;
    Poco::DateTime dt;
    if (!Poco::DateTimeParser::tryParse(Poco::DateTimeFormat::ISO8601_FORMAT, text, dt, tz) &&
        !Poco::DateTimeParser::tryParse(Poco::DateTimeFormat::ISO8601_FRAC_FORMAT, text, dt, tz))
        throw std::invalid_argument("start is not an ISO 8601 time");
    return dt.timestamp().epochTime() - tz;
}

}  // namespace

void applyVisitEvent(db::Connection& c, const std::string& event, const Poco::JSON::Object::Ptr& p,
                     std::chrono::year_month_day today, long long now) {
    if (!p) throw std::invalid_argument("no payload");
    static const std::regex idRe("[A-Za-z0-9_-]{1,64}");
    const auto id = str(p, "booking_id", 64);
    if (!std::regex_match(id, idRe)) throw std::invalid_argument("booking_id has an unexpected form");
    if (event == "booking.cancelled") {
        c.prepare("UPDATE journal_visits SET state = 'cancelled', updated_at = ? WHERE booking_id = ?").bind(1, now).bind(2, id).exec();
        return;
    }
    const auto pn = Personnummer::parse(str(p, "patient", 20), today);
    if (std::holds_alternative<PersonnummerError>(pn)) throw std::invalid_argument("patient is not a valid personnummer");
    const auto patient = std::get<Personnummer>(pn).twelveDigits();
    const auto unit = str(p, "care_unit", 64);
    if (event == "checkin.arrived") {
        // An arrival without a known booking still is a visit, from now.
        c.prepare("INSERT INTO journal_visits(booking_id, patient, care_unit, start_at, state, updated_at) VALUES(?, ?, ?, ?, 'arrived', ?) "
                  "ON CONFLICT(booking_id) DO UPDATE SET state = 'arrived', updated_at = excluded.updated_at")
            .bind(1, id).bind(2, patient).bind(3, unit).bind(4, now).bind(5, now).exec();
        return;
    }
    const auto start = isoSeconds(str(p, "start", 40));
    if (event == "booking.rebooked" && p->has("old_booking_id")) {
        const auto old = p->get("old_booking_id");
        if (old.isString() || old.isInteger())
            c.prepare("UPDATE journal_visits SET state = 'cancelled', updated_at = ? WHERE booking_id = ? AND booking_id <> ?")
                .bind(1, now).bind(2, old.convert<std::string>()).bind(3, id).exec();
    }
    c.prepare("INSERT INTO journal_visits(booking_id, patient, care_unit, start_at, state, updated_at) VALUES(?, ?, ?, ?, 'booked', ?) "
              "ON CONFLICT(booking_id) DO UPDATE SET patient = excluded.patient, care_unit = excluded.care_unit, "
              "start_at = excluded.start_at, state = CASE WHEN state = 'arrived' THEN 'arrived' ELSE 'booked' END, "
              "updated_at = excluded.updated_at")
        .bind(1, id).bind(2, patient).bind(3, unit).bind(4, start).bind(5, now).exec();
}

Relation relationOf(db::Connection& c, const std::string& patient, const std::string& careUnit, const RelationWindow& w, long long now) {
    auto b = c.prepare("SELECT 1 FROM journal_visits WHERE patient = ? AND care_unit = ? AND state <> 'cancelled' "
                       "AND start_at BETWEEN ? AND ? LIMIT 1");
    b.bind(1, patient).bind(2, careUnit).bind(3, now - w.daysAfter * 86400).bind(4, now + w.daysBefore * 86400);
    if (b.step()) return Relation::Booking;
    auto a = c.prepare("SELECT 1 FROM journal_relations WHERE patient = ? AND care_unit = ? AND expires_at > ? LIMIT 1");
    a.bind(1, patient).bind(2, careUnit).bind(3, now);
    return a.step() ? Relation::Asserted : Relation::None;
}

void assertRelation(db::Connection& c, const std::string& patient, const std::string& careUnit, long long userId,
                    const std::string& username, const std::string& reason, const RelationWindow& w, long long now) {
    c.prepare("INSERT INTO journal_relations(patient, care_unit, user_id, username, reason, created_at, expires_at) VALUES(?, ?, ?, ?, ?, ?, ?)")
        .bind(1, patient).bind(2, careUnit).bind(3, userId).bind(4, username).bind(5, reason).bind(6, now)
        .bind(7, now + w.daysAfter * 86400).exec();
}

}  // namespace klinikbox::journal
