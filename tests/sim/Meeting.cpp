#include "Meeting.h"

#include <Poco/JWT/Signer.h>
#include <Poco/JWT/Token.h>

#include <chrono>

namespace sim {

namespace {
std::string escape(const std::string& s) {
    std::string o;
    for (char c : s) {
        switch (c) {
            case '<': o += "&lt;"; break;
            case '>': o += "&gt;"; break;
            case '&': o += "&amp;"; break;
            case '"': o += "&quot;"; break;
            default: o += c;
        }
    }
    return o;
}

std::string page(const std::string& title, const std::string& body) {
    return "<!doctype html><html lang=\"sv\"><head><meta charset=\"utf-8\"><title>" + escape(title) +
           "</title></head><body><h1>" + escape(title) + "</h1>" + body +
           "<p><small>klinikbox-sim: en lokal ersättning för videomötesservern (inget lämnar datorn).</small></p></body></html>";
}
}  // namespace

MeetingAnswer meetingPage(const std::string& room, const std::string& jwt, const std::string& secret) {
    if (secret.empty() || jwt.empty()) return {401, page("Ingen behörighet", "<p>Länken saknar giltig token.</p>")};
    Poco::JWT::Token token;
    try {
        Poco::JWT::Signer signer(secret);
        signer.addAlgorithm(Poco::JWT::Signer::ALGO_HS256);
        if (!signer.tryVerify(jwt, token)) return {401, page("Ingen behörighet", "<p>Token är inte signerad av klinikens box.</p>")};
    } catch (const std::exception&) {
        return {401, page("Ingen behörighet", "<p>Token kunde inte läsas.</p>")};
    }
    const auto& claims = token.payload();
    if (claims.optValue<std::string>("room", "") != room)
        return {403, page("Fel rum", "<p>Token gäller ett annat rum.</p>")};
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    if (claims.optValue<long long>("nbf", 0) > now + 60 || claims.optValue<long long>("exp", 0) < now)
        return {403, page("Utanför tiden", "<p>Token gäller inte nu.</p>")};
    std::string name = "okänd";
    bool moderator = false;
    if (auto ctx = claims.getObject("context"))
        if (auto user = ctx->getObject("user")) {
            name = user->optValue<std::string>("name", name);
            moderator = user->optValue<bool>("moderator", false);
        }
    return {200, page("Videomöte (simulerat)", "<p>Rum: <code>" + escape(room) + "</code></p><p>Deltagare: " + escape(name) +
                                                   (moderator ? " (mötesledare)" : "") + "</p>")};
}

}  // namespace sim
