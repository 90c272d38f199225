#include "JoinTokens.h"

#include "Crypto.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <sstream>
#include <stdexcept>

namespace klinikbox::video {

std::string_view toString(JoinRole r) { return r == JoinRole::Patient ? "patient" : "practitioner"; }

std::string_view toString(TokenError e) {
    switch (e) {
        case TokenError::Malformed: return "malformed";
        case TokenError::BadSignature: return "bad-signature";
        case TokenError::WrongAudience: return "wrong-audience";
        case TokenError::WrongRole: return "wrong-role";
        case TokenError::NotYetValid: return "not-yet-valid";
        case TokenError::Expired: return "expired";
    }
    return "unknown";
}

namespace {
constexpr std::string_view kPrefix = "v1.";
}

JoinTokens::JoinTokens(std::string key) : key_(std::move(key)) {
    if (key_.size() < 32) throw std::invalid_argument("join token key must be at least 32 bytes");
}

std::string JoinTokens::signRaw(const std::string& claimsJson) const {
    const std::string head = std::string(kPrefix) + base64UrlEncode(claimsJson);
    return head + "." + base64UrlEncode(hmacSha256(key_, head));
}

std::string JoinTokens::sign(const JoinClaims& c) const {
    Poco::JSON::Object o;
    o.set("aud", std::string(kAudience));
    o.set("bid", c.bookingId);
    o.set("role", std::string(toString(c.role)));
    o.set("room", c.room);
    o.set("gen", c.generation);
    o.set("nbf", c.notBefore);
    o.set("exp", c.expires);
    std::ostringstream ss;
    o.stringify(ss);
    return signRaw(ss.str());
}

TokenCheck JoinTokens::verify(std::string_view token, JoinRole expectedRole,
                              std::chrono::system_clock::time_point now) const {
    auto fail = [](TokenError e) { return TokenCheck{std::nullopt, e}; };
    if (token.size() > kMaxLength || token.substr(0, kPrefix.size()) != kPrefix) return fail(TokenError::Malformed);
    const auto dot = token.rfind('.');
    if (dot <= kPrefix.size() - 1 || dot + 1 >= token.size()) return fail(TokenError::Malformed);
    const std::string_view head = token.substr(0, dot);
    std::string sig, json;
    if (!base64UrlDecode(token.substr(dot + 1), sig) || !base64UrlDecode(head.substr(kPrefix.size()), json))
        return fail(TokenError::Malformed);
    if (!constantTimeEquals(sig, hmacSha256(key_, head))) return fail(TokenError::BadSignature);

    JoinClaims c;
    std::string aud, role;
    try {
        Poco::JSON::Parser parser;
        auto obj = parser.parse(json).extract<Poco::JSON::Object::Ptr>();
        if (!obj) return fail(TokenError::Malformed);
        aud = obj->getValue<std::string>("aud");
        role = obj->getValue<std::string>("role");
        c.bookingId = obj->getValue<std::string>("bid");
        c.room = obj->getValue<std::string>("room");
        c.generation = obj->getValue<long long>("gen");
        c.notBefore = obj->getValue<long long>("nbf");
        c.expires = obj->getValue<long long>("exp");
    } catch (const std::exception&) {
        return fail(TokenError::Malformed);
    }
    if (aud != kAudience) return fail(TokenError::WrongAudience);
    if (role != toString(expectedRole)) return fail(TokenError::WrongRole);
    c.role = expectedRole;
    const long long t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    if (t < c.notBefore) return fail(TokenError::NotYetValid);
    if (t >= c.expires) return fail(TokenError::Expired);
    return TokenCheck{c, std::nullopt};
}

}  // namespace klinikbox::video
