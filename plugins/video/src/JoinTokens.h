// The plugin's own join tokens: a signed, short-lived statement "this holder may join the
// room of booking B as patient|practitioner between nbf and exp". They are what a join link
// carries; the Jitsi JWT is only handed out after a token (and, for patients, an
// identification) has been checked.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace klinikbox::video {

enum class JoinRole { Patient, Practitioner };
[[nodiscard]] std::string_view toString(JoinRole r);

struct JoinClaims {
    std::string bookingId;
    JoinRole role = JoinRole::Patient;
    std::string room;
    long long generation = 1;
    long long notBefore = 0;  // Unix seconds
    long long expires = 0;    // Unix seconds (exclusive)
};

// Why a token is refused. Stable names: they appear in problems and audit details.
enum class TokenError { Malformed, BadSignature, WrongAudience, WrongRole, NotYetValid, Expired };
[[nodiscard]] std::string_view toString(TokenError e);

struct TokenCheck {
    std::optional<JoinClaims> claims;  // set when the token is valid
    std::optional<TokenError> error;
};

class JoinTokens {
public:
    static constexpr std::string_view kAudience = "klinikbox-video";
    static constexpr std::size_t kMaxLength = 1024;

    // `key` is the HMAC-SHA256 key (at least 32 bytes).
    explicit JoinTokens(std::string key);

    // "v1.<base64url(JSON claims)>.<base64url(HMAC-SHA256(key, "v1." + claims part))>"
    [[nodiscard]] std::string sign(const JoinClaims& claims) const;
    // Checks form, signature (constant time), audience, role and the validity period.
    [[nodiscard]] TokenCheck verify(std::string_view token, JoinRole expectedRole,
                                    std::chrono::system_clock::time_point now) const;

    // Signs arbitrary claims JSON; for tests that need a correctly signed but wrong token.
    [[nodiscard]] std::string signRaw(const std::string& claimsJson) const;

private:
    std::string key_;
};

}  // namespace klinikbox::video
