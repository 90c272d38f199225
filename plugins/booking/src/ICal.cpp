#include "ICal.h"

#include <cstdio>

namespace booking {

using namespace std::chrono;

std::string escapeText(const std::string& s) {
    std::string o;
    for (char c : s) {
        switch (c) {
            case '\\': o += "\\\\"; break;
            case ';': o += "\\;"; break;
            case ',': o += "\\,"; break;
            case '\n': o += "\\n"; break;
            case '\r': break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) break;  // other control characters are not allowed
                o += c;
        }
    }
    return o;
}

std::string foldLine(const std::string& line) {
    std::string out;
    std::size_t col = 0;
    for (std::size_t i = 0; i < line.size();) {
        std::size_t len = 1;  // the whole UTF-8 sequence stays on one line
        const auto c = static_cast<unsigned char>(line[i]);
        if (c >= 0xF0) len = 4;
        else if (c >= 0xE0) len = 3;
        else if (c >= 0xC0) len = 2;
        len = std::min(len, line.size() - i);
        if (col + len > 75) {
            out += "\r\n ";
            col = 1;
        }
        out.append(line, i, len);
        col += len;
        i += len;
    }
    return out + "\r\n";
}

namespace {
std::string utcStamp(sys_seconds t) {
    const auto day = floor<days>(t);
    const year_month_day d{day};
    const hh_mm_ss hms{t - day};
    char b[20];
    std::snprintf(b, sizeof b, "%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(d.year()), static_cast<unsigned>(d.month()),
                  static_cast<unsigned>(d.day()), static_cast<int>(hms.hours().count()),
                  static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
    return b;
}
}  // namespace

std::string bookingUid(long long bookingId, const std::string& boxId) {
    return "booking-" + std::to_string(bookingId) + "-" + boxId + "@klinikbox";
}

std::string renderCalendar(const std::string& name, const std::vector<CalendarEvent>& events) {
    std::string o;
    auto line = [&](const std::string& l) { o += foldLine(l); };
    line("BEGIN:VCALENDAR");
    line("VERSION:2.0");
    line("PRODID:-//klinikbox//booking//SV");
    line("CALSCALE:GREGORIAN");
    line("METHOD:PUBLISH");
    line("X-WR-CALNAME:" + escapeText(name));
    for (const auto& e : events) {
        line("BEGIN:VEVENT");
        line("UID:" + e.uid);
        line("DTSTAMP:" + utcStamp(e.stamp));
        line("DTSTART:" + utcStamp(e.start));
        line("DTEND:" + utcStamp(e.end));
        line("SUMMARY:" + escapeText(e.summary));
        if (!e.location.empty()) line("LOCATION:" + escapeText(e.location));
        if (e.sequence > 0) line("SEQUENCE:" + std::to_string(e.sequence));
        line(std::string("STATUS:") + (e.cancelled ? "CANCELLED" : "CONFIRMED"));
        line("CLASS:CONFIDENTIAL");
        line("END:VEVENT");
    }
    line("END:VCALENDAR");
    return o;
}

}  // namespace booking
