// Video visits: the meeting rooms kept from the booking events, the patient's lobby
// (identify, wait, be admitted) and the staff's side (links, lobby list, admit, join).
// Every join, allowed or refused, is audit-logged as video.join.
#pragma once

#include "BookingEvent.h"
#include "IdentityProvider.h"
#include "JoinTokens.h"
#include "MeetingProvider.h"

#include <klinikbox/AttemptLimiter.h>
#include <klinikbox/DenialSummary.h>
#include <klinikbox/PluginContext.h>

#include <Poco/JSON/Object.h>

#include <memory>
#include <optional>
#include <string>

namespace klinikbox::video {

struct VideoSettings {
    std::string publicUrl;  // https://box.example.se ; patient links start with it
    int windowBeforeMinutes = 15;
    int windowAfterMinutes = 30;
};
[[nodiscard]] VideoSettings settingsFrom(const Poco::JSON::Object::Ptr& config);

// One row of video_rooms.
struct Room {
    std::string bookingId;
    bool bookingIdNumeric = false;
    std::string roomId, state, patient, careUnit, careUnitName, practitioner, practitionerName, visitTypeName;
    std::string startText, endText, startDate, lobby;
    long long generation = 1, startAt = 0, endAt = 0;
    std::optional<std::string> sessionHash, orderRef, identifiedName;
};

class Visits {
public:
    Visits(PluginContext& ctx, VideoSettings settings, std::shared_ptr<MeetingProvider> meetings,
           std::shared_ptr<IdentityProvider> idp);

    // Loads the token key, making one at the first start.
    void init();

    // Async handlers of booking.created / booking.cancelled / booking.rebooked.
    void onCreated(const Event& e);
    void onCancelled(const Event& e);
    void onRebooked(const Event& e);

    // Staff routes.
    [[nodiscard]] Poco::JSON::Object::Ptr visitsOn(Request& req, const std::string& date);
    [[nodiscard]] Poco::JSON::Object::Ptr links(Request& req, const std::string& bookingId);
    [[nodiscard]] Poco::JSON::Object::Ptr admit(Request& req, const std::string& bookingId);
    [[nodiscard]] Poco::JSON::Object::Ptr practitionerJoin(Request& req, const std::string& token);

    // Patient routes (anonymous; the token is the credential, the lobby session binds the
    // browser that identified).
    [[nodiscard]] Poco::JSON::Object::Ptr patientIdentify(Request& req, const std::string& token);
    [[nodiscard]] Poco::JSON::Object::Ptr patientStatus(Request& req, const std::string& token,
                                                        const std::string& session);

    [[nodiscard]] std::optional<Room> room(const std::string& bookingId);
    [[nodiscard]] std::string tokenFor(const Room& r, JoinRole role) const;
    [[nodiscard]] std::string patientJoinUrl(const Room& r) const;
    [[nodiscard]] const JoinTokens& tokens() const { return *tokens_; }

private:
    struct Window {
        long long from, until;
    };
    [[nodiscard]] Window windowOf(const Room& r) const;
    [[nodiscard]] long long nowSeconds() const;
    // Verifies a token and the room it names; refusals are audit-logged and thrown as 403.
    Room admitToken(Request& req, const std::string& token, JoinRole role);
    void publishLink(const Room& r);
    void revoke(const std::string& bookingId, const std::string& why);

    PluginContext& ctx_;
    VideoSettings s_;
    std::shared_ptr<MeetingProvider> meetings_;
    std::shared_ptr<IdentityProvider> idp_;
    std::unique_ptr<JoinTokens> tokens_;
    // Anonymous patient calls, per network address and 10 minutes: 10 refused join tokens,
    // then 429; 20 identification starts, then 429. Refusals are audit-logged through the
    // summary (5 records per address and window, then one summary record).
    AttemptLimiter patientRefusals_;
    AttemptLimiter identifyStarts_;
    DenialSummary refusalLog_;
    [[noreturn]] void tooMany(Request& req, AttemptLimiter& limiter);
    void logRefusal(Request& req, const AuditEntry& e);
};

}  // namespace klinikbox::video
