// The adapter between video visits and a meeting service. A provider turns "this person
// may join this room now" into a link that service accepts.
#pragma once

#include <chrono>
#include <string>

namespace klinikbox::video {

struct Participant {
    std::string displayName;
    bool moderator = false;  // the practitioner moderates; the patient does not
};

struct MeetingGrant {
    std::string room;                             // the unguessable room id
    std::chrono::system_clock::time_point notBefore;
    std::chrono::system_clock::time_point expires;
};

class MeetingProvider {
public:
    virtual ~MeetingProvider() = default;
    [[nodiscard]] virtual std::string id() const = 0;
    // False when settings are missing; joinUrl then throws.
    [[nodiscard]] virtual bool configured() const = 0;
    [[nodiscard]] virtual std::string joinUrl(const MeetingGrant& grant, const Participant& who) const = 0;
};

}  // namespace klinikbox::video
