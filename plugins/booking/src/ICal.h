// An iCalendar (RFC 5545) feed of a practitioner's booked times: CRLF line ends, lines folded
// at 75 octets without splitting a UTF-8 character, TEXT values escaped. The feed carries no
// patient identity and no health information, only "Bokad tid" and the visit type.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace booking {

struct CalendarEvent {
    std::string uid;      // stable and globally unique, e.g. "booking-17-<box id>@klinikbox"
    std::chrono::sys_seconds start{}, end{}, stamp{};
    std::string summary;  // e.g. "Bokad tid: Läkarbesök 20 min"
    std::string location;
    bool cancelled = false;  // published with STATUS:CANCELLED, so calendars drop it
    int sequence = 0;        // revision: a cancellation raises it above the booking's
};

// The UID of a booking's event: the booking id and the box's random identity (RFC 5545
// wants UIDs unique across all systems; booking ids alone repeat on every box).
[[nodiscard]] std::string bookingUid(long long bookingId, const std::string& boxId);

[[nodiscard]] std::string escapeText(const std::string& s);
[[nodiscard]] std::string foldLine(const std::string& line);  // with the trailing CRLF
[[nodiscard]] std::string renderCalendar(const std::string& name, const std::vector<CalendarEvent>& events);

}  // namespace booking
