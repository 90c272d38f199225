// What a booking event (booking.created, .cancelled, .rebooked) tells the video plugin,
// checked: the booking's id, patient, unit, practitioner and times, whichever plugin sent it.
#pragma once

#include <Poco/JSON/Object.h>

#include <chrono>
#include <optional>
#include <string>

namespace klinikbox::video {

// "2026-11-25T09:00:00+01:00" (seconds and fraction optional, Z allowed) -> Unix seconds.
[[nodiscard]] std::optional<long long> parseIsoTime(const std::string& text);

// A booking id as the plugin keeps and takes it in paths: 1-64 of [A-Za-z0-9_-].
[[nodiscard]] bool validBookingId(const std::string& id);

// The event's booking_id (a number or a string; `numeric` says which), checked; throws
// std::invalid_argument. Enough for booking.cancelled, which needs nothing else.
[[nodiscard]] std::string bookingIdOf(const Poco::JSON::Object::Ptr& payload, bool& numeric);

struct Booking {
    std::string id;
    bool numeric = false;  // booking_id came as a number (video.link gives it back as one)
    std::string patient, careUnit, careUnitName, practitioner, practitionerName, visitForm, visitTypeName;
    std::string startText, endText;
    long long startAt = 0, endAt = 0;
};

// The payload checked; throws std::invalid_argument naming the field at fault.
[[nodiscard]] Booking parseBooking(const Poco::JSON::Object::Ptr& payload, std::chrono::year_month_day today);

// "YYYY-MM-DD".
[[nodiscard]] std::string dateText(std::chrono::year_month_day d);

// The day a visit is listed under: its start in the box's time zone. The text's own date is
// not it when a booking source writes another offset (23:30+00:00 is the next day in Sweden).
[[nodiscard]] std::string startDateOf(const Booking& b);

}  // namespace klinikbox::video
