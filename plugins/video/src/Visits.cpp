#include "Visits.h"

#include "BookingEvent.h"
#include "Crypto.h"

#include <klinikbox/Personnummer.h>
#include <klinikbox/Problem.h>

#include <Poco/JSON/Array.h>

#include <chrono>
#include <regex>

namespace klinikbox::video {

namespace {

constexpr const char* kRoomColumns =
    "booking_id, booking_id_numeric, room_id, state, patient, care_unit, care_unit_name, practitioner, "
    "practitioner_name, visit_type_name, start_text, end_text, start_date, lobby, generation, start_at, end_at, "
    "session_hash, order_ref, identified_name";

Room readRoom(db::Statement& st) {
    Room r;
    r.bookingId = st.getText(0);
    r.bookingIdNumeric = st.getInt(1) != 0;
    r.roomId = st.getText(2);
    r.state = st.getText(3);
    r.patient = st.getText(4);
    r.careUnit = st.getText(5);
    r.careUnitName = st.getText(6);
    r.practitioner = st.getText(7);
    r.practitionerName = st.getText(8);
    r.visitTypeName = st.getText(9);
    r.startText = st.getText(10);
    r.endText = st.getText(11);
    r.startDate = st.getText(12);
    r.lobby = st.getText(13);
    r.generation = st.getInt(14);
    r.startAt = st.getInt(15);
    r.endAt = st.getInt(16);
    r.sessionHash = st.getOptionalText(17);
    r.orderRef = st.getOptionalText(18);
    r.identifiedName = st.getOptionalText(19);
    return r;
}

std::optional<Room> loadRoom(db::Connection& c, const std::string& bookingId) {
    auto st = c.prepare(std::string("SELECT ") + kRoomColumns + " FROM video_rooms WHERE booking_id = ?");
    st.bind(1, bookingId);
    if (!st.step()) return std::nullopt;
    return readRoom(st);
}

Problem refused(const std::string& reason, const std::string& detail) {
    return Problem(403, "/problems/video-link-refused", "Join link refused", detail).with("reason", reason);
}

}  // namespace

VideoSettings settingsFrom(const Poco::JSON::Object::Ptr& c) {
    VideoSettings s;
    s.publicUrl = c->optValue<std::string>("public_url", "https://klinikbox.local");
    s.windowBeforeMinutes = c->optValue<int>("window_before_minutes", 15);
    s.windowAfterMinutes = c->optValue<int>("window_after_minutes", 30);
    return s;
}

Visits::Visits(PluginContext& ctx, VideoSettings settings, std::shared_ptr<MeetingProvider> meetings,
               std::shared_ptr<IdentityProvider> idp)
    : ctx_(ctx), s_(std::move(settings)), meetings_(std::move(meetings)), idp_(std::move(idp)),
      patientRefusals_(ctx.clock(), {10, std::chrono::minutes(10), 10000}),
      identifyStarts_(ctx.clock(), {20, std::chrono::minutes(10), 10000}),
      refusalLog_(ctx.clock(), {5, std::chrono::minutes(10), 10000}) {
    while (!s_.publicUrl.empty() && s_.publicUrl.back() == '/') s_.publicUrl.pop_back();
}

void Visits::init() {
    std::string key;
    ctx_.store().write([&](db::Connection& c) {
        auto st = c.prepare("SELECT token_key FROM video_keys WHERE id = 1");
        if (st.step()) {
            key = st.getText(0);
            return;
        }
        key = randomHex(32);
        c.prepare("INSERT INTO video_keys(id, token_key) VALUES(1, ?)").bind(1, key).exec();
    });
    tokens_ = std::make_unique<JoinTokens>(key);
}

long long Visits::nowSeconds() const {
    return std::chrono::duration_cast<std::chrono::seconds>(ctx_.clock().now().time_since_epoch()).count();
}

Visits::Window Visits::windowOf(const Room& r) const {
    return {r.startAt - s_.windowBeforeMinutes * 60LL, r.endAt + s_.windowAfterMinutes * 60LL};
}

std::string Visits::tokenFor(const Room& r, JoinRole role) const {
    const auto w = windowOf(r);
    return tokens_->sign(JoinClaims{r.bookingId, role, r.roomId, r.generation, w.from, w.until});
}

std::string Visits::patientJoinUrl(const Room& r) const {
    // The token travels in the fragment: browsers never send it to a server, so it stays
    // out of access logs and Referer headers.
    return s_.publicUrl + "/api/v1/video/join#t=" + tokenFor(r, JoinRole::Patient);
}

std::optional<Room> Visits::room(const std::string& bookingId) {
    std::optional<Room> r;
    ctx_.store().read([&](db::Connection& c) { r = loadRoom(c, bookingId); });
    return r;
}

void Visits::publishLink(const Room& r) {
    Poco::JSON::Object::Ptr p = new Poco::JSON::Object;
    if (r.bookingIdNumeric)
        p->set("booking_id", std::stoll(r.bookingId));
    else
        p->set("booking_id", r.bookingId);
    p->set("patient_join_url", patientJoinUrl(r));
    ctx_.events().publish(Event{"video.link", p, std::nullopt, {}});
}

// ---- booking events ----

void Visits::onCreated(const Event& e) {
    Booking b;
    try {
        b = parseBooking(e.payload, ctx_.clock().today());
    } catch (const std::exception& ex) {
        ctx_.log().warning(std::string("video: ignoring booking.created: ") + ex.what());
        return;
    }
    if (b.visitForm != "video") return;
    bool inserted = false;
    ctx_.store().write([&](db::Connection& c) {
        auto st = c.prepare(
            "INSERT INTO video_rooms(booking_id, booking_id_numeric, room_id, state, patient, care_unit, care_unit_name, "
            "practitioner, practitioner_name, visit_type_name, start_text, end_text, start_date, start_at, end_at, "
            "updated_at) VALUES(?, ?, ?, 'active', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(booking_id) DO NOTHING");
        // 128 random bits from OpenSSL's CSPRNG, hex: the room name is the meeting's secret.
        st.bind(1, b.id).bind(2, b.numeric ? 1 : 0).bind(3, randomHex(16)).bind(4, b.patient).bind(5, b.careUnit)
            .bind(6, b.careUnitName).bind(7, b.practitioner).bind(8, b.practitionerName).bind(9, b.visitTypeName)
            .bind(10, b.startText).bind(11, b.endText).bind(12, startDateOf(b)).bind(13, b.startAt)
            .bind(14, b.endAt).bind(15, nowSeconds());
        st.exec();
        inserted = c.changes() > 0;
    });
    if (!inserted) return;  // the same event twice
    ctx_.audit().recordSystem(AuditEntry{"video.room", b.patient, "vård", "ok", "room created for booking " + b.id});
    if (auto r = room(b.id)) publishLink(*r);
}

void Visits::revoke(const std::string& bookingId, const std::string& why) {
    std::optional<std::string> pending;
    std::string patient;
    ctx_.store().write([&](db::Connection& c) {
        auto r = loadRoom(c, bookingId);
        if (!r || r->state == "revoked") return;
        pending = r->orderRef;
        patient = r->patient;
        c.prepare("UPDATE video_rooms SET state = 'revoked', lobby = 'empty', session_hash = NULL, order_ref = NULL, "
                  "updated_at = ? WHERE booking_id = ?")
            .bind(1, nowSeconds()).bind(2, bookingId).exec();
    });
    if (patient.empty()) return;
    ctx_.audit().recordSystem(AuditEntry{"video.room", patient, "vård", "ok", "room revoked: " + why});
    if (pending && idp_ && idp_->configured()) {
        try {
            idp_->cancel(*pending);
        } catch (const std::exception& ex) {
            ctx_.log().warning(std::string("video: cancelling an identification failed: ") + ex.what());
        }
    }
}

void Visits::onCancelled(const Event& e) {
    bool numeric = false;
    std::string id;
    try {
        if (!e.payload) throw std::invalid_argument("no payload");
        id = bookingIdOf(e.payload, numeric);
    } catch (const std::exception& ex) {
        ctx_.log().warning(std::string("video: ignoring booking.cancelled: ") + ex.what());
        return;
    }
    revoke(id, "booking " + id + " cancelled");
}

void Visits::onRebooked(const Event& e) {
    Booking b;
    try {
        b = parseBooking(e.payload, ctx_.clock().today());
    } catch (const std::exception& ex) {
        ctx_.log().warning(std::string("video: ignoring booking.rebooked: ") + ex.what());
        return;
    }
    // A booking plugin that moves a booking into a new booking (old_booking_id) ends the
    // old booking's room: its links stop working, and the new booking gets its own room.
    if (e.payload->has("old_booking_id")) {
        const auto old = e.payload->get("old_booking_id");
        if (old.isInteger() || old.isString()) {
            const std::string oldId = old.convert<std::string>();
            if (oldId != b.id) revoke(oldId, "booking " + oldId + " moved to booking " + b.id);
        }
    }
    if (b.visitForm != "video") {
        revoke(b.id, "booking " + b.id + " rebooked to another visit form");
        return;
    }
    if (!room(b.id)) {
        onCreated(e);
        return;
    }
    bool moved = false;
    ctx_.store().write([&](db::Connection& c) {
        // A new generation: links of the old time stop working, the new link goes out.
        c.prepare("UPDATE video_rooms SET start_text = ?, end_text = ?, start_date = ?, start_at = ?, end_at = ?, "
                  "practitioner = ?, practitioner_name = ?, care_unit = ?, care_unit_name = ?, visit_type_name = ?, "
                  "generation = generation + 1, lobby = 'empty', session_hash = NULL, order_ref = NULL, "
                  "identified_name = NULL, updated_at = ? WHERE booking_id = ? AND state = 'active'")
            .bind(1, b.startText).bind(2, b.endText).bind(3, startDateOf(b)).bind(4, b.startAt)
            .bind(5, b.endAt).bind(6, b.practitioner).bind(7, b.practitionerName).bind(8, b.careUnit)
            .bind(9, b.careUnitName).bind(10, b.visitTypeName).bind(11, nowSeconds()).bind(12, b.id).exec();
        moved = c.changes() > 0;
    });
    if (!moved) return;
    ctx_.audit().recordSystem(AuditEntry{"video.room", b.patient, "vård", "ok", "room moved for booking " + b.id});
    if (auto r = room(b.id)) publishLink(*r);
}

// ---- tokens ----

// An anonymous refusal: the first few per address and window are recorded one by one, the
// rest as one summary record with the address's next refusal in a later window.
void Visits::logRefusal(Request& req, const AuditEntry& e) {
    const auto d = refusalLog_.onDenial(req.remoteAddress);
    if (d.suppressedBefore > 0)
        ctx_.audit().record(req, AuditEntry{"video.join", "", "vård", "denied",
                                            std::to_string(d.suppressedBefore) + " more refused patient calls from " + d.key +
                                                " in the previous window (summarised)"});
    if (d.record) ctx_.audit().record(req, e);
}

void Visits::tooMany(Request& req, AttemptLimiter& limiter) {
    logRefusal(req, AuditEntry{"video.join", "", "vård", "denied", "patient call over the limit"});
    Problem p(429, "/problems/too-many-attempts", "Too many attempts", "too many attempts from this address; try again later");
    p.with("retry_after_seconds", limiter.retryAfter(req.remoteAddress));
    throw p;
}

Room Visits::admitToken(Request& req, const std::string& token, JoinRole role) {
    const std::string who = std::string(toString(role));
    const bool anonymous = role == JoinRole::Patient;
    if (anonymous && patientRefusals_.blocked(req.remoteAddress)) tooMany(req, patientRefusals_);
    auto deny = [&](const std::string& patient, const std::string& reason) {
        const AuditEntry e{"video.join", patient, "vård", "denied", who + " link refused: " + reason};
        if (anonymous) {
            patientRefusals_.count(req.remoteAddress);
            logRefusal(req, e);
        } else {
            ctx_.audit().record(req, e);
        }
        return refused(reason, "the join link is not valid now (" + reason + ")");
    };
    const auto check = tokens_->verify(token, role, ctx_.clock().now());
    if (!check.claims) throw deny("", std::string(toString(*check.error)));
    const auto& c = *check.claims;
    auto r = room(c.bookingId);
    if (!r || r->roomId != c.room) throw deny("", "unknown-room");
    if (r->state != "active") throw deny(r->patient, "revoked");
    if (r->generation != c.generation) throw deny(r->patient, "superseded");
    const auto w = windowOf(*r);
    const long long now = nowSeconds();
    if (now < w.from) throw deny(r->patient, "not-yet-valid");
    if (now >= w.until) throw deny(r->patient, "expired");
    return *r;
}

// ---- staff ----

Poco::JSON::Object::Ptr Visits::visitsOn(Request& req, const std::string& date) {
    static const std::regex re(R"(\d{4}-\d{2}-\d{2})");
    const std::string day = date.empty() ? dateText(ctx_.clock().today()) : date;
    if (!std::regex_match(day, re)) throw Problem::badRequest("/problems/invalid-parameter", "date must be YYYY-MM-DD");
    std::vector<Room> rooms;
    ctx_.store().read([&](db::Connection& c) {
        auto st = c.prepare(std::string("SELECT ") + kRoomColumns +
                            " FROM video_rooms WHERE start_date = ? AND state = 'active' ORDER BY start_at, booking_id");
        st.bind(1, day);
        while (st.step()) rooms.push_back(readRoom(st));
    });
    Poco::JSON::Array::Ptr arr = new Poco::JSON::Array;
    for (const auto& r : rooms) {
        Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
        o->set("booking_id", r.bookingId);
        o->set("patient", r.patient.substr(0, 8) + "-" + r.patient.substr(8));
        o->set("identified_name", r.identifiedName ? Poco::Dynamic::Var(*r.identifiedName) : Poco::Dynamic::Var());
        o->set("start", r.startText);
        o->set("end", r.endText);
        o->set("practitioner", r.practitioner);
        o->set("practitioner_name", r.practitionerName);
        o->set("visit_type_name", r.visitTypeName);
        o->set("lobby", r.lobby);
        arr->add(o);
        ctx_.audit().record(req, AuditEntry{"video.read", r.patient, "vård", "ok", "video lobby list"});
    }
    Poco::JSON::Object::Ptr out = new Poco::JSON::Object;
    out->set("date", day);
    out->set("visits", arr);
    out->set("meetings_configured", meetings_ && meetings_->configured());
    out->set("identification_configured", idp_ && idp_->configured());
    return out;
}

Poco::JSON::Object::Ptr Visits::links(Request& req, const std::string& bookingId) {
    if (!validBookingId(bookingId)) throw Problem::badRequest("/problems/invalid-parameter", "invalid booking id");
    auto r = room(bookingId);
    if (!r) throw Problem::notFound("no video visit for booking " + bookingId);
    ctx_.audit().record(req, AuditEntry{"video.read", r->patient, "vård", "ok", "join links of booking " + bookingId});
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("booking_id", r->bookingId);
    o->set("state", r->state);
    o->set("lobby", r->lobby);
    if (r->state != "active") return o;
    const auto w = windowOf(*r);
    o->set("valid_from", w.from);
    o->set("valid_until", w.until);
    o->set("patient_join_url", patientJoinUrl(*r));
    o->set("practitioner_token", tokenFor(*r, JoinRole::Practitioner));
    return o;
}

Poco::JSON::Object::Ptr Visits::admit(Request& req, const std::string& bookingId) {
    if (!validBookingId(bookingId)) throw Problem::badRequest("/problems/invalid-parameter", "invalid booking id");
    std::optional<Room> r;
    bool done = false;
    ctx_.store().write([&](db::Connection& c) {
        r = loadRoom(c, bookingId);
        if (!r) return;
        c.prepare("UPDATE video_rooms SET lobby = 'admitted', updated_at = ? WHERE booking_id = ? AND state = 'active' "
                  "AND lobby = 'waiting'")
            .bind(1, nowSeconds()).bind(2, bookingId).exec();
        done = c.changes() > 0;
        if (done)
            ctx_.audit().record(req, AuditEntry{"video.admit", r->patient, "vård", "ok", "patient admitted from the lobby"}, c);
    });
    if (!r) throw Problem::notFound("no video visit for booking " + bookingId);
    if (!done)
        throw Problem::conflict("/problems/video-not-waiting",
                                "the patient is not identified and waiting in the lobby (lobby: " + r->lobby + ")");
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("booking_id", bookingId);
    o->set("lobby", "admitted");
    return o;
}

Poco::JSON::Object::Ptr Visits::practitionerJoin(Request& req, const std::string& token) {
    const Room r = admitToken(req, token, JoinRole::Practitioner);
    if (!meetings_ || !meetings_->configured())
        throw Problem(503, "/problems/video-not-configured", "Video meetings not configured",
                      "set jitsi.server_url and jitsi.app_secret in the video plugin's settings");
    const auto w = windowOf(r);
    Participant who{r.practitionerName.empty() && req.principal ? req.principal->username : r.practitionerName, true};
    const auto url = meetings_->joinUrl(
        MeetingGrant{r.roomId, std::chrono::system_clock::time_point(std::chrono::seconds(w.from)),
                     std::chrono::system_clock::time_point(std::chrono::seconds(w.until))},
        who);
    ctx_.audit().record(req, AuditEntry{"video.join", r.patient, "vård", "ok", "practitioner joined booking " + r.bookingId});
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("booking_id", r.bookingId);
    o->set("join_url", url);
    o->set("lobby", r.lobby);
    return o;
}

// ---- patient ----

Poco::JSON::Object::Ptr Visits::patientIdentify(Request& req, const std::string& token) {
    if (identifyStarts_.blocked(req.remoteAddress)) tooMany(req, identifyStarts_);
    identifyStarts_.count(req.remoteAddress);
    const Room r = admitToken(req, token, JoinRole::Patient);
    if (!idp_ || !idp_->configured())
        throw Problem(503, "/problems/identification-unavailable", "Identification not configured",
                      "the clinic has not configured an identity provider");
    if (r.orderRef) {
        try {
            idp_->cancel(*r.orderRef);
        } catch (const std::exception&) {
            // The old order times out by itself at the provider.
        }
    }
    IdentOrder order;
    try {
        order = idp_->start(req.remoteAddress);
    } catch (const IdentityError& ex) {
        ctx_.log().warning(std::string("video: ") + ex.what());
        throw Problem(502, "/problems/identification-unavailable", "Identification service unavailable",
                      "the identity provider could not be reached; try again");
    }
    const std::string session = randomHex(16);
    bool stored = false;
    ctx_.store().write([&](db::Connection& c) {
        c.prepare("UPDATE video_rooms SET lobby = 'identifying', order_ref = ?, session_hash = ?, identified_name = NULL, "
                  "updated_at = ? WHERE booking_id = ? AND generation = ? AND state = 'active'")
            .bind(1, order.orderRef).bind(2, sha256Hex(session)).bind(3, nowSeconds()).bind(4, r.bookingId)
            .bind(5, r.generation).exec();
        stored = c.changes() > 0;
        if (stored)
            ctx_.audit().record(req, AuditEntry{"video.identify", r.patient, "vård", "ok", "identification started"}, c);
    });
    if (!stored) throw refused("revoked", "the visit changed while identification started");
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("session", session);
    o->set("auto_start_token", order.autoStartToken);
    o->set("state", "identifying");
    return o;
}

Poco::JSON::Object::Ptr Visits::patientStatus(Request& req, const std::string& token, const std::string& session) {
    Room r = admitToken(req, token, JoinRole::Patient);
    if (!r.sessionHash || !constantTimeEquals(*r.sessionHash, sha256Hex(session))) {
        patientRefusals_.count(req.remoteAddress);
        logRefusal(req, AuditEntry{"video.join", r.patient, "vård", "denied", "patient lobby session not valid"});
        throw Problem(403, "/problems/video-session", "Lobby session not valid",
                      "start the identification again from this browser")
            .with("reason", "session");
    }
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    auto visitInfo = [&] {
        Poco::JSON::Object::Ptr v = new Poco::JSON::Object;
        v->set("start", r.startText);
        v->set("end", r.endText);
        v->set("care_unit_name", r.careUnitName);
        v->set("practitioner_name", r.practitionerName);
        o->set("visit", v);
    };
    if (r.lobby == "identifying" && r.orderRef) {
        IdentStatus st;
        try {
            st = idp_->collect(*r.orderRef);
        } catch (const IdentityError& ex) {
            ctx_.log().warning(std::string("video: ") + ex.what());
            throw Problem(502, "/problems/identification-unavailable", "Identification service unavailable",
                          "the identity provider could not be reached; try again");
        }
        if (st.state == IdentStatus::State::Pending) {
            o->set("state", "identifying");
            o->set("hint", st.hintCode);
            return o;
        }
        std::string next = "empty";
        std::string identified;
        if (st.state == IdentStatus::State::Complete) {
            auto pn = Personnummer::parse(st.personalNumber, ctx_.clock().today());
            identified = std::holds_alternative<Personnummer>(pn) ? std::get<Personnummer>(pn).twelveDigits() : "";
            next = identified == r.patient ? "waiting" : "refused";
        }
        bool changed = false;
        ctx_.store().write([&](db::Connection& c) {
            c.prepare("UPDATE video_rooms SET lobby = ?, order_ref = NULL, identified_name = ?, "
                      "session_hash = CASE WHEN ? = 'refused' THEN NULL ELSE session_hash END, updated_at = ? "
                      "WHERE booking_id = ? AND lobby = 'identifying' AND order_ref = ?")
                .bind(1, next).bind(2, next == "waiting" ? std::optional<std::string>(st.name) : std::nullopt)
                .bind(3, next).bind(4, nowSeconds()).bind(5, r.bookingId).bind(6, *r.orderRef).exec();
            changed = c.changes() > 0;
            if (!changed) return;
            if (next == "waiting")
                ctx_.audit().record(req, AuditEntry{"video.identify", r.patient, "vård", "ok", "patient identified"}, c);
            else if (next == "refused")
                ctx_.audit().record(
                    req, AuditEntry{"video.join", r.patient, "vård", "denied", "identified person is not the booking's patient"}, c);
        });
        if (!changed) {
            o->set("state", "identifying");
            return o;
        }
        r.lobby = next;
        if (next == "waiting") r.identifiedName = st.name;
        if (st.state == IdentStatus::State::Failed) {
            o->set("state", "failed");
            o->set("hint", st.hintCode);
            return o;
        }
    }
    o->set("state", r.lobby);
    if (r.lobby == "waiting") visitInfo();
    if (r.lobby == "admitted") {
        visitInfo();
        if (!meetings_ || !meetings_->configured())
            throw Problem(503, "/problems/video-not-configured", "Video meetings not configured",
                          "the clinic has not configured its meeting server");
        const auto w = windowOf(r);
        o->set("join_url", meetings_->joinUrl(
                               MeetingGrant{r.roomId, std::chrono::system_clock::time_point(std::chrono::seconds(w.from)),
                                            std::chrono::system_clock::time_point(std::chrono::seconds(w.until))},
                               // Never the patient's name: the token rides in the meeting
                               // server's query string (and its logs), which may be a third
                               // party's. Staff see who it is in the console.
                               Participant{"Patient", false}));
        ctx_.audit().record(req, AuditEntry{"video.join", r.patient, "vård", "ok", "patient joined booking " + r.bookingId});
    }
    return o;
}

}  // namespace klinikbox::video
