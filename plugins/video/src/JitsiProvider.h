// Jitsi Meet with JWT authentication (prosody's token auth): the join link is
// <server>/<room>?jwt=<HS256 token> with the claims Jitsi checks.
#pragma once

#include "MeetingProvider.h"

namespace klinikbox::video {

struct JitsiSettings {
    std::string serverUrl;  // https://video.example.se (no trailing slash needed)
    std::string appId;      // iss
    std::string audience = "jitsi";
    std::string appSecret;  // HS256 key; empty means "not configured"
};

class JitsiProvider final : public MeetingProvider {
public:
    explicit JitsiProvider(JitsiSettings s);
    [[nodiscard]] std::string id() const override { return "jitsi"; }
    [[nodiscard]] bool configured() const override { return !s_.appSecret.empty() && !s_.serverUrl.empty(); }
    [[nodiscard]] std::string joinUrl(const MeetingGrant& grant, const Participant& who) const override;
    // The JWT alone: header {alg HS256, typ JWT}; claims aud, iss, sub (the server's host),
    // room, nbf, exp, context.user {name, moderator}.
    [[nodiscard]] std::string jwt(const MeetingGrant& grant, const Participant& who) const;

private:
    JitsiSettings s_;
    std::string host_;
};

}  // namespace klinikbox::video
