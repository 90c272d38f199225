// A stand-in for a Jitsi Meet server on loopback, so the demo never sends a meeting link (and
// its token) to an internet host: GET /meet/<room>?jwt=<token> checks the token as prosody's
// token auth would (HS256 with the shared secret, room, nbf/exp) and shows a plain page.
#pragma once

#include <string>

namespace sim {

struct MeetingAnswer {
    int status = 200;
    std::string html;
};

// `room` is the path after /meet/, `jwt` the query parameter; `secret` the app secret the box
// signs with (empty: every token is refused).
[[nodiscard]] MeetingAnswer meetingPage(const std::string& room, const std::string& jwt, const std::string& secret);

}  // namespace sim
