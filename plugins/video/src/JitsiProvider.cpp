#include "JitsiProvider.h"

#include "Crypto.h"

#include <Poco/JSON/Object.h>
#include <Poco/URI.h>

#include <sstream>
#include <stdexcept>

namespace klinikbox::video {

JitsiProvider::JitsiProvider(JitsiSettings s) : s_(std::move(s)) {
    while (!s_.serverUrl.empty() && s_.serverUrl.back() == '/') s_.serverUrl.pop_back();
    if (!s_.serverUrl.empty()) host_ = Poco::URI(s_.serverUrl).getHost();
}

namespace {
std::string compact(const Poco::JSON::Object& o) {
    std::ostringstream ss;
    o.stringify(ss);
    return ss.str();
}
long long seconds(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
}  // namespace

std::string JitsiProvider::jwt(const MeetingGrant& grant, const Participant& who) const {
    if (!configured()) throw std::logic_error("the Jitsi provider has no server URL or app secret");
    Poco::JSON::Object header;
    header.set("alg", "HS256");
    header.set("typ", "JWT");
    Poco::JSON::Object::Ptr user = new Poco::JSON::Object;
    user->set("name", who.displayName);
    user->set("moderator", who.moderator);
    Poco::JSON::Object::Ptr context = new Poco::JSON::Object;
    context->set("user", user);
    Poco::JSON::Object claims;
    claims.set("aud", s_.audience);
    claims.set("iss", s_.appId);
    claims.set("sub", host_);
    claims.set("room", grant.room);
    claims.set("nbf", seconds(grant.notBefore));
    claims.set("exp", seconds(grant.expires));
    claims.set("context", context);
    const std::string signingInput = base64UrlEncode(compact(header)) + "." + base64UrlEncode(compact(claims));
    return signingInput + "." + base64UrlEncode(hmacSha256(s_.appSecret, signingInput));
}

std::string JitsiProvider::joinUrl(const MeetingGrant& grant, const Participant& who) const {
    return s_.serverUrl + "/" + grant.room + "?jwt=" + jwt(grant, who);
}

}  // namespace klinikbox::video
