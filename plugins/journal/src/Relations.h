// The active patient relationship (aktuell vårdrelation) between a care unit and a patient:
// a booking or visit within the configured window, learnt from the booking and check-in
// events into the plugin's own table, or a relation staff assert with a reason.
#pragma once
#include "AccessDecision.h"

#include <klinikbox/Db.h>

#include <Poco/JSON/Object.h>

#include <chrono>
#include <string>

namespace klinikbox::journal {

struct RelationWindow {
    long long daysBefore = 30;  // a booking this far ahead counts
    long long daysAfter = 14;   // a booking or visit this long ago counts; an asserted relation lasts this long
};

// Applies one event (booking.created / .rebooked / .cancelled, checkin.arrived) to
// journal_visits. Throws std::invalid_argument for a payload it cannot use.
void applyVisitEvent(db::Connection& c, const std::string& event, const Poco::JSON::Object::Ptr& payload,
                     std::chrono::year_month_day today, long long now);

// Booking first (it needs no review), then an unexpired asserted relation.
[[nodiscard]] Relation relationOf(db::Connection& c, const std::string& patient, const std::string& careUnit,
                                  const RelationWindow& w, long long now);

void assertRelation(db::Connection& c, const std::string& patient, const std::string& careUnit, long long userId,
                    const std::string& username, const std::string& reason, const RelationWindow& w, long long now);

}  // namespace klinikbox::journal
