// Rooms kept from the booking events (created, cancelled, rebooked) and the lobby: the
// patient identifies, waits, is admitted and only then gets the meeting link. Runs the
// domain code on a fake context with a real SQLite store and a FixedClock.
#include "Crypto.h"
#include "JitsiProvider.h"
#include "TempDir.h"
#include "TimeZone.h"
#include "VideoFakes.h"
#include "Visits.h"

#include <Poco/JSON/Parser.h>

#include <gtest/gtest.h>

#include <deque>
#include <fstream>

using namespace kbtest;
using namespace klinikbox;
using namespace klinikbox::video;
using std::chrono::minutes;
using std::chrono::seconds;
using std::chrono::system_clock;

namespace {

const std::string kPatient = "191212121212";
const std::string kOther = "198507099805";
const std::string kJitsiSecret = "jitsi-secret-jitsi-secret-jitsi-secret";

system_clock::time_point utc(const std::string& iso) { return system_clock::time_point(seconds(*parseIsoTime(iso))); }

// An identity provider that answers from a script.
struct ScriptedIdp : IdentityProvider {
    std::deque<IdentStatus> answers;
    std::vector<std::string> started, cancelled;
    bool up = true;
    bool configured() const override { return true; }
    IdentOrder start(const std::string& ip) override {
        if (!up) throw IdentityError("down");
        started.push_back(ip);
        return IdentOrder{"order-" + std::to_string(started.size()), "auto-" + std::to_string(started.size())};
    }
    IdentStatus collect(const std::string&) override {
        if (answers.empty()) return IdentStatus{};
        auto a = answers.front();
        answers.pop_front();
        return a;
    }
    void cancel(const std::string& ref) override { cancelled.push_back(ref); }
    void completeAs(const std::string& pnr, const std::string& name) {
        answers.push_back(IdentStatus{IdentStatus::State::Pending, "outstandingTransaction", "", ""});
        answers.push_back(IdentStatus{IdentStatus::State::Complete, "", pnr, name});
    }
};

template <class F>
Problem problemOf(F&& f) {
    try {
        f();
    } catch (const Problem& p) {
        return p;
    }
    ADD_FAILURE() << "no problem thrown";
    return Problem(0, "", "");
}

std::string reasonOf(const Problem& p) { return p.toJson()->optValue<std::string>("reason", ""); }

std::string tokenOfUrl(const std::string& url) {
    const auto pos = url.find("#t=");
    return pos == std::string::npos ? std::string() : url.substr(pos + 3);
}

class VideoVisitsTest : public ::testing::Test {
protected:
    TempDir dir;
    FixedClock clock{utc("2026-11-25T08:50:00+01:00")};
    FakeContext ctx{"video", dir.file("box.db"), clock};
    std::shared_ptr<JitsiProvider> jitsi =
        std::make_shared<JitsiProvider>(JitsiSettings{"https://video.klinik.se", "klinikbox", "jitsi", kJitsiSecret});
    std::shared_ptr<ScriptedIdp> idp = std::make_shared<ScriptedIdp>();
    std::unique_ptr<Visits> visits;

    void SetUp() override {
        std::ifstream in(std::string(KB_SOURCE_DIR) + "/plugins/video/migrations/0001_init.sql");
        std::stringstream ss;
        ss << in.rdbuf();
        ASSERT_FALSE(ss.str().empty());
        ctx.storeImpl.unguarded(ss.str());
        ctx.eventsImpl.mayPublish = {"video.link"};
        visits = std::make_unique<Visits>(ctx, VideoSettings{"https://box.klinik.se/", 15, 30}, jitsi, idp);
        visits->init();
    }

    static Event booking(const std::string& name, long long id, const std::string& start, const std::string& end,
                         const std::string& form = "video", const std::string& patient = kPatient) {
        Poco::JSON::Object::Ptr p = new Poco::JSON::Object;
        p->set("booking_id", id);
        p->set("patient", patient);
        p->set("care_unit", "SE2321000016-15CQ");
        p->set("care_unit_name", "Vårdcentralen Ekbacken");
        p->set("practitioner", "SE2321000016-1A2B");
        p->set("practitioner_name", "Eva Ek");
        p->set("profession", "läkare");
        p->set("visit_form", form);
        p->set("visit_type", "vt1");
        p->set("visit_type_name", "Videobesök läkare");
        p->set("start", start);
        p->set("end", end);
        p->set("location", "");
        return Event{name, p, std::nullopt, {}};
    }
    void created(long long id = 7, const std::string& start = "2026-11-25T09:00:00+01:00",
                 const std::string& end = "2026-11-25T09:20:00+01:00") {
        visits->onCreated(booking("booking.created", id, start, end));
    }
    std::string patientToken(const std::string& id = "7") { return visits->tokenFor(*visits->room(id), JoinRole::Patient); }
    std::string practitionerToken(const std::string& id = "7") {
        return visits->tokenFor(*visits->room(id), JoinRole::Practitioner);
    }
    Request anonymous() {
        Request r;
        r.remoteAddress = "192.0.2.10";
        return r;
    }
    Request staff() {
        Request r;
        r.principal = Principal{5, "eva", Role::Staff, "SE2321000016-1A2B", "SE2321000016-15CQ"};
        return r;
    }
    int auditCount(const std::string& action, const std::string& outcome) {
        int n = 0;
        for (const auto& r : ctx.auditImpl.of(action)) n += r.entry.outcome == outcome;
        return n;
    }
};

}  // namespace

TEST_F(VideoVisitsTest, CreatedVideoBookingGetsAnUnguessableRoomAndPublishesThePatientLink) {
    created(7);
    created(8, "2026-11-25T10:00:00+01:00", "2026-11-25T10:20:00+01:00");
    auto a = visits->room("7"), b = visits->room("8");
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->roomId.size(), 32u);  // 128 random bits as hex
    EXPECT_EQ(a->roomId.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_NE(a->roomId, b->roomId);
    EXPECT_EQ(a->state, "active");
    EXPECT_EQ(a->patient, kPatient);
    EXPECT_EQ(a->startDate, "2026-11-25");

    ASSERT_EQ(ctx.eventsImpl.published.size(), 2u);
    const auto& ev = ctx.eventsImpl.published[0];
    EXPECT_EQ(ev.name, "video.link");
    EXPECT_TRUE(ev.payload->get("booking_id").isInteger());
    EXPECT_EQ(ev.payload->getValue<long long>("booking_id"), 7);
    const auto url = ev.payload->getValue<std::string>("patient_join_url");
    EXPECT_EQ(url.rfind("https://box.klinik.se/api/v1/video/join#t=v1.", 0), 0u) << url;
    const auto check = visits->tokens().verify(tokenOfUrl(url), JoinRole::Patient, clock.now());
    ASSERT_TRUE(check.claims);
    EXPECT_EQ(check.claims->bookingId, "7");
    EXPECT_EQ(check.claims->room, a->roomId);
    // Window: 15 minutes before start to 30 minutes after end.
    EXPECT_EQ(check.claims->notBefore, *parseIsoTime("2026-11-25T08:45:00+01:00"));
    EXPECT_EQ(check.claims->expires, *parseIsoTime("2026-11-25T09:50:00+01:00"));
    EXPECT_EQ(ctx.auditImpl.of("video.room").size(), 2u);
}

TEST_F(VideoVisitsTest, PhysicalVisitsGetNoRoomAndDuplicateEventsKeepTheRoom) {
    visits->onCreated(booking("booking.created", 9, "2026-11-25T09:00:00+01:00", "2026-11-25T09:20:00+01:00", "physical"));
    EXPECT_FALSE(visits->room("9"));
    created(7);
    const auto first = visits->room("7")->roomId;
    created(7);
    EXPECT_EQ(visits->room("7")->roomId, first);
    EXPECT_EQ(ctx.eventsImpl.published.size(), 1u);
}

TEST_F(VideoVisitsTest, InvalidEventsAreIgnoredAndTheLogNamesNoPersonnummer) {
    visits->onCreated(booking("booking.created", 1, "2026-11-25T09:00:00+01:00", "2026-11-25T09:20:00+01:00", "video",
                              "191212121213"));  // wrong check digit
    visits->onCreated(booking("booking.created", 2, "2026-11-25T09:20:00+01:00", "2026-11-25T09:00:00+01:00"));
    visits->onCreated(booking("booking.created", 3, "25/11/2026 09:00", "2026-11-25T09:20:00+01:00"));
    visits->onCreated(Event{"booking.created", nullptr, std::nullopt, {}});
    Poco::JSON::Object::Ptr weird = new Poco::JSON::Object;
    weird->set("booking_id", "../../etc");
    visits->onCancelled(Event{"booking.cancelled", weird, std::nullopt, {}});
    for (const auto* id : {"1", "2", "3"}) EXPECT_FALSE(visits->room(id));
    EXPECT_EQ(ctx.logImpl.lines.size(), 5u);
    for (const auto& l : ctx.logImpl.lines) EXPECT_EQ(l.find("19121212121"), std::string::npos) << l;
    EXPECT_TRUE(ctx.eventsImpl.published.empty());
}

TEST_F(VideoVisitsTest, CancellingRevokesTheRoomAndItsTokensAreRefusedAfter) {
    created(7);
    const auto token = patientToken();
    const auto staffToken = practitionerToken();
    auto req = anonymous();
    EXPECT_NO_THROW((void)visits->patientIdentify(req, token));
    visits->onCancelled(booking("booking.cancelled", 7, "2026-11-25T09:00:00+01:00", "2026-11-25T09:20:00+01:00"));
    EXPECT_EQ(visits->room("7")->state, "revoked");
    EXPECT_EQ(idp->cancelled, std::vector<std::string>{"order-1"});  // the pending identification too
    auto p = problemOf([&] { (void)visits->patientIdentify(req, token); });
    EXPECT_EQ(p.status(), 403);
    EXPECT_EQ(reasonOf(p), "revoked");
    auto s = staff();
    EXPECT_EQ(reasonOf(problemOf([&] { (void)visits->practitionerJoin(s, staffToken); })), "revoked");
    auto denied = ctx.auditImpl.of("video.join");
    ASSERT_EQ(denied.size(), 2u);
    EXPECT_EQ(denied[0].entry.outcome, "denied");
    EXPECT_EQ(denied[0].entry.patient, kPatient);
    EXPECT_EQ(denied[1].by, "eva");
    auto links = visits->links(s, "7");
    EXPECT_EQ(links->getValue<std::string>("state"), "revoked");
    EXPECT_FALSE(links->has("patient_join_url"));
}

TEST_F(VideoVisitsTest, RebookingMovesTheWindowAndOldLinksStopWorking) {
    created(7);
    const auto oldToken = patientToken();
    const auto oldRoom = visits->room("7")->roomId;
    visits->onRebooked(booking("booking.rebooked", 7, "2026-11-26T14:00:00+01:00", "2026-11-26T14:30:00+01:00"));
    auto r = visits->room("7");
    EXPECT_EQ(r->startDate, "2026-11-26");
    EXPECT_EQ(r->generation, 2);
    EXPECT_EQ(r->roomId, oldRoom);
    ASSERT_EQ(ctx.eventsImpl.published.size(), 2u);
    const auto newToken = tokenOfUrl(ctx.eventsImpl.published[1].payload->getValue<std::string>("patient_join_url"));

    auto req = anonymous();
    // Still inside the old window: the old link is superseded, the new one not valid yet.
    EXPECT_EQ(reasonOf(problemOf([&] { (void)visits->patientIdentify(req, oldToken); })), "superseded");
    EXPECT_EQ(reasonOf(problemOf([&] { (void)visits->patientIdentify(req, newToken); })), "not-yet-valid");
    clock.set(utc("2026-11-26T13:44:59+01:00"));
    EXPECT_EQ(reasonOf(problemOf([&] { (void)visits->patientIdentify(req, newToken); })), "not-yet-valid");
    clock.set(utc("2026-11-26T13:45:00+01:00"));
    EXPECT_EQ(visits->patientIdentify(req, newToken)->getValue<std::string>("state"), "identifying");
    clock.set(utc("2026-11-26T15:00:00+01:00"));
    EXPECT_EQ(reasonOf(problemOf([&] { (void)visits->patientIdentify(req, newToken); })), "expired");

    // Rebooked to a physical visit: the room goes away.
    visits->onRebooked(booking("booking.rebooked", 7, "2026-11-27T14:00:00+01:00", "2026-11-27T14:30:00+01:00", "physical"));
    EXPECT_EQ(visits->room("7")->state, "revoked");
}

TEST_F(VideoVisitsTest, RebookingAnUnknownVideoBookingCreatesItsRoom) {
    visits->onRebooked(booking("booking.rebooked", 11, "2026-11-25T11:00:00+01:00", "2026-11-25T11:20:00+01:00"));
    ASSERT_TRUE(visits->room("11"));
    EXPECT_EQ(visits->room("11")->generation, 1);
}

TEST_F(VideoVisitsTest, IdentifiedPatientWaitsAndGetsTheMeetingLinkOnlyAfterAdmission) {
    created(7);
    const auto token = patientToken();
    auto req = anonymous();
    idp->completeAs(kPatient, "Tolvan Tolvansson");
    auto started = visits->patientIdentify(req, token);
    EXPECT_EQ(idp->started, std::vector<std::string>{"192.0.2.10"});
    EXPECT_EQ(started->getValue<std::string>("auto_start_token"), "auto-1");
    const auto session = started->getValue<std::string>("session");
    EXPECT_EQ(session.size(), 32u);

    auto s1 = visits->patientStatus(req, token, session);
    EXPECT_EQ(s1->getValue<std::string>("state"), "identifying");
    EXPECT_FALSE(s1->has("visit"));  // nothing about the visit before identification
    auto s2 = visits->patientStatus(req, token, session);
    EXPECT_EQ(s2->getValue<std::string>("state"), "waiting");
    EXPECT_EQ(s2->getObject("visit")->getValue<std::string>("care_unit_name"), "Vårdcentralen Ekbacken");
    EXPECT_FALSE(s2->has("join_url"));
    EXPECT_EQ(visits->room("7")->lobby, "waiting");

    auto staffReq = staff();
    auto list = visits->visitsOn(staffReq, "");
    ASSERT_EQ(list->getArray("visits")->size(), 1u);
    EXPECT_EQ(list->getArray("visits")->getObject(0)->getValue<std::string>("lobby"), "waiting");
    EXPECT_EQ(list->getArray("visits")->getObject(0)->getValue<std::string>("identified_name"), "Tolvan Tolvansson");

    EXPECT_EQ(visits->admit(staffReq, "7")->getValue<std::string>("lobby"), "admitted");
    auto s3 = visits->patientStatus(req, token, session);
    EXPECT_EQ(s3->getValue<std::string>("state"), "admitted");
    const auto url = s3->getValue<std::string>("join_url");
    EXPECT_EQ(url.rfind("https://video.klinik.se/" + visits->room("7")->roomId + "?jwt=", 0), 0u) << url;
    const auto jwt = url.substr(url.find("jwt=") + 4);
    EXPECT_EQ(jwt, jitsi->jwt(MeetingGrant{visits->room("7")->roomId, utc("2026-11-25T08:45:00+01:00"),
                                           utc("2026-11-25T09:50:00+01:00")},
                              Participant{"Patient", false}));
    // Never the patient's name in the token (it rides in the meeting server's query string).
    EXPECT_EQ(url.find("Tolvan"), std::string::npos);

    const auto joins = ctx.auditImpl.of("video.join");
    ASSERT_EQ(joins.size(), 1u);
    EXPECT_EQ(joins[0].entry.outcome, "ok");
    EXPECT_EQ(joins[0].entry.patient, kPatient);
    EXPECT_EQ(auditCount("video.identify", "ok"), 2);  // started, identified
    EXPECT_EQ(auditCount("video.admit", "ok"), 1);
}

TEST_F(VideoVisitsTest, AnotherPersonsIdentificationIsRefusedAndAuditLogged) {
    created(7);
    const auto token = patientToken();
    auto req = anonymous();
    idp->completeAs(kOther, "Someone Else");
    const auto session = visits->patientIdentify(req, token)->getValue<std::string>("session");
    (void)visits->patientStatus(req, token, session);
    auto s = visits->patientStatus(req, token, session);
    EXPECT_EQ(s->getValue<std::string>("state"), "refused");
    EXPECT_FALSE(s->has("visit"));
    EXPECT_FALSE(s->has("join_url"));
    EXPECT_EQ(visits->room("7")->lobby, "refused");
    EXPECT_EQ(auditCount("video.join", "denied"), 1);
    auto staffReq = staff();
    EXPECT_EQ(problemOf([&] { (void)visits->admit(staffReq, "7"); }).status(), 409);
    // The refused browser's session is gone.
    EXPECT_EQ(problemOf([&] { (void)visits->patientStatus(req, token, session); }).status(), 403);
}

TEST_F(VideoVisitsTest, FailedIdentificationCanBeRetried) {
    created(7);
    const auto token = patientToken();
    auto req = anonymous();
    idp->answers.push_back(IdentStatus{IdentStatus::State::Failed, "userCancel", "", ""});
    const auto session = visits->patientIdentify(req, token)->getValue<std::string>("session");
    auto s = visits->patientStatus(req, token, session);
    EXPECT_EQ(s->getValue<std::string>("state"), "failed");
    EXPECT_EQ(s->getValue<std::string>("hint"), "userCancel");
    EXPECT_EQ(visits->room("7")->lobby, "empty");
    idp->completeAs(kPatient, "Tolvan");
    const auto again = visits->patientIdentify(req, token)->getValue<std::string>("session");
    (void)visits->patientStatus(req, token, again);
    EXPECT_EQ(visits->patientStatus(req, token, again)->getValue<std::string>("state"), "waiting");
}

TEST_F(VideoVisitsTest, StatusFromAnotherBrowserThanTheIdentifyingOneIsRefused) {
    created(7);
    const auto token = patientToken();
    auto req = anonymous();
    idp->completeAs(kPatient, "Tolvan");
    const auto session = visits->patientIdentify(req, token)->getValue<std::string>("session");
    (void)visits->patientStatus(req, token, session);
    (void)visits->patientStatus(req, token, session);
    auto staffReq = staff();
    (void)visits->admit(staffReq, "7");
    // Someone who got the forwarded link but did not identify gets nothing.
    auto p = problemOf([&] { (void)visits->patientStatus(req, token, randomHex(16)); });
    EXPECT_EQ(p.status(), 403);
    EXPECT_EQ(reasonOf(p), "session");
    EXPECT_EQ(auditCount("video.join", "denied"), 1);
}

TEST_F(VideoVisitsTest, TamperedOrMisusedTokensAreRefusedAndAuditLogged) {
    created(7);
    created(8, "2026-11-25T09:30:00+01:00", "2026-11-25T09:50:00+01:00");
    auto req = anonymous();
    std::string tampered = patientToken();
    tampered[10] = tampered[10] == 'A' ? 'B' : 'A';
    EXPECT_EQ(reasonOf(problemOf([&] { (void)visits->patientIdentify(req, tampered); })), "bad-signature");
    EXPECT_EQ(reasonOf(problemOf([&] { (void)visits->patientIdentify(req, practitionerToken()); })), "wrong-role");
    auto s = staff();
    EXPECT_EQ(reasonOf(problemOf([&] { (void)visits->practitionerJoin(s, patientToken()); })), "wrong-role");
    // A correctly signed token that names booking 8 with booking 7's room.
    const auto r7 = visits->room("7");
    const auto mixed = visits->tokens().sign(JoinClaims{"8", JoinRole::Patient, r7->roomId, 1, 0, 4'000'000'000});
    EXPECT_EQ(reasonOf(problemOf([&] { (void)visits->patientIdentify(req, mixed); })), "unknown-room");
    EXPECT_EQ(auditCount("video.join", "denied"), 4);
    EXPECT_TRUE(idp->started.empty());
}

TEST_F(VideoVisitsTest, PatientLinkWorksOnlyAroundTheBookingWindow) {
    created(7);
    const auto token = patientToken();
    auto req = anonymous();
    clock.set(utc("2026-11-25T08:44:59+01:00"));
    EXPECT_EQ(reasonOf(problemOf([&] { (void)visits->patientIdentify(req, token); })), "not-yet-valid");
    clock.set(utc("2026-11-25T09:49:59+01:00"));
    EXPECT_NO_THROW((void)visits->patientIdentify(req, token));
    clock.set(utc("2026-11-25T09:50:00+01:00"));
    EXPECT_EQ(reasonOf(problemOf([&] { (void)visits->patientIdentify(req, token); })), "expired");
}

TEST_F(VideoVisitsTest, PractitionerJoinGivesAModeratorLinkAndIsAudited) {
    created(7);
    auto s = staff();
    auto links = visits->links(s, "7");
    auto j = visits->practitionerJoin(s, links->getValue<std::string>("practitioner_token"));
    const auto url = j->getValue<std::string>("join_url");
    const auto jwt = url.substr(url.find("jwt=") + 4);
    EXPECT_EQ(jwt, jitsi->jwt(MeetingGrant{visits->room("7")->roomId, utc("2026-11-25T08:45:00+01:00"),
                                           utc("2026-11-25T09:50:00+01:00")},
                              Participant{"Eva Ek", true}));
    const auto joins = ctx.auditImpl.of("video.join");
    ASSERT_EQ(joins.size(), 1u);
    EXPECT_EQ(joins[0].by, "eva");
    EXPECT_EQ(joins[0].entry.outcome, "ok");
    EXPECT_EQ(ctx.auditImpl.of("video.read").size(), 1u);
    EXPECT_EQ(problemOf([&] { (void)visits->links(s, "999"); }).status(), 404);
    EXPECT_EQ(problemOf([&] { (void)visits->links(s, "a/b"); }).status(), 400);
}

TEST_F(VideoVisitsTest, DayListShowsOnlyThatDaysActiveVisitsAndAuditsEachPatient) {
    created(7);
    created(8, "2026-11-26T09:00:00+01:00", "2026-11-26T09:20:00+01:00");
    created(9, "2026-11-25T07:00:00+01:00", "2026-11-25T07:20:00+01:00");
    visits->onCancelled(booking("booking.cancelled", 9, "2026-11-25T07:00:00+01:00", "2026-11-25T07:20:00+01:00"));
    auto s = staff();
    auto today = visits->visitsOn(s, "");
    EXPECT_EQ(today->getValue<std::string>("date"), "2026-11-25");
    ASSERT_EQ(today->getArray("visits")->size(), 1u);
    EXPECT_EQ(today->getArray("visits")->getObject(0)->getValue<std::string>("patient"), "19121212-1212");
    EXPECT_EQ(ctx.auditImpl.of("video.read").size(), 1u);
    EXPECT_EQ(visits->visitsOn(s, "2026-11-26")->getArray("visits")->size(), 1u);
    EXPECT_EQ(problemOf([&] { (void)visits->visitsOn(s, "26/11"); }).status(), 400);
}

TEST_F(VideoVisitsTest, AVisitIsListedUnderItsDayInTheBoxsTimeZoneWhateverOffsetItsSourceWrote) {
    const ScopedTimeZone sweden("Europe/Stockholm");
    // 23:30 UTC on 25 November is 00:30 on the 26th in Sweden; 00:30+02:00 is 23:30 on the 25th.
    created(7, "2026-11-25T23:30:00+00:00", "2026-11-25T23:50:00+00:00");
    created(8, "2026-11-26T00:30:00+02:00", "2026-11-26T00:50:00+02:00");
    auto s = staff();
    const auto on25 = visits->visitsOn(s, "2026-11-25")->getArray("visits");
    ASSERT_EQ(on25->size(), 1u);
    EXPECT_EQ(on25->getObject(0)->getValue<long long>("booking_id"), 8);
    const auto on26 = visits->visitsOn(s, "2026-11-26")->getArray("visits");
    ASSERT_EQ(on26->size(), 1u);
    EXPECT_EQ(on26->getObject(0)->getValue<long long>("booking_id"), 7);
    // The start keeps the text its source wrote.
    EXPECT_EQ(on26->getObject(0)->getValue<std::string>("start"), "2026-11-25T23:30:00+00:00");
    // A rebooking moves the visit to the day of its new start, by the same rule.
    visits->onRebooked(booking("booking.rebooked", 7, "2026-11-26T22:45:00-01:00", "2026-11-26T23:05:00-01:00"));
    EXPECT_EQ(visits->visitsOn(s, "2026-11-26")->getArray("visits")->size(), 0u);
    EXPECT_EQ(visits->visitsOn(s, "2026-11-27")->getArray("visits")->size(), 1u);
}

TEST_F(VideoVisitsTest, IdentityProviderDownIsA502AndChangesNothing) {
    created(7);
    idp->up = false;
    auto req = anonymous();
    EXPECT_EQ(problemOf([&] { (void)visits->patientIdentify(req, patientToken()); }).status(), 502);
    EXPECT_EQ(visits->room("7")->lobby, "empty");
}

TEST_F(VideoVisitsTest, BogusIdentifyCallsAreLimitedAndSummarisedInTheAuditLog) {
    created(7);
    auto req = anonymous();
    int refused = 0, limited = 0;
    for (int i = 0; i < 2000; ++i) {
        const auto p = problemOf([&] { (void)visits->patientIdentify(req, "bogus-token-" + std::to_string(i)); });
        refused += p.status() == 403;
        limited += p.status() == 429;
    }
    EXPECT_EQ(refused, 10) << "10 refused tokens per address, then 429";
    EXPECT_EQ(limited, 1990);
    EXPECT_EQ(ctx.auditImpl.of("video.join").size(), 5u) << "2,000 bogus calls write 5 records, not 2,000";
    // Another address is not affected; its patient identifies.
    auto other = anonymous();
    other.remoteAddress = "198.51.100.4";
    EXPECT_EQ(visits->patientIdentify(other, patientToken())->getValue<std::string>("state"), "identifying");
    // After the window the first address may try again, and the suppressed refusals are
    // written as one summary record.
    clock.advance(std::chrono::minutes(10));
    EXPECT_EQ(problemOf([&] { (void)visits->patientIdentify(req, "bogus"); }).status(), 403);
    const auto joins = ctx.auditImpl.of("video.join");
    ASSERT_EQ(joins.size(), 7u);
    EXPECT_NE(joins[5].entry.details.find("1995 more refused patient calls from 192.0.2.10"), std::string::npos) << joins[5].entry.details;
}

TEST_F(VideoVisitsTest, IdentificationStartsArePerAddressLimited) {
    created(7);
    idp->answers.clear();
    auto req = anonymous();
    for (int i = 0; i < 20; ++i) EXPECT_EQ(visits->patientIdentify(req, patientToken())->getValue<std::string>("state"), "identifying");
    EXPECT_EQ(problemOf([&] { (void)visits->patientIdentify(req, patientToken()); }).status(), 429);
    EXPECT_EQ(idp->started.size(), 20u) << "the 21st start never reached the identity provider";
}

TEST(VideoTime, IsoTimesWithOffsetsBecomeUnixSeconds) {
    EXPECT_EQ(parseIsoTime("1970-01-01T00:00:00Z"), 0);
    EXPECT_EQ(parseIsoTime("2026-11-25T09:00:00+01:00"), parseIsoTime("2026-11-25T08:00:00Z"));
    EXPECT_EQ(parseIsoTime("2026-07-01T09:00+02:00"), parseIsoTime("2026-07-01T07:00:00Z"));
    EXPECT_EQ(parseIsoTime("2026-07-01T09:00:00.250-01:30"), parseIsoTime("2026-07-01T10:30:00Z"));
    for (const char* bad : {"", "2026-11-25", "2026-11-25 09:00:00+01:00", "2026-02-30T09:00:00Z", "2026-11-25T24:00:00Z",
                            "2026-11-25T09:00:00", "2026-11-25T09:00:00+1:00"})
        EXPECT_FALSE(parseIsoTime(bad)) << bad;
}
