// The state machine and the store: legal and illegal transitions, de-duplication of
// redelivered referrals and answers, the overdue list, the directory and magic-byte sniffing.
#include "Directory.h"
#include "Producer.h"
#include "ReferralTestSupport.h"
#include "Referrals.h"

#include <gtest/gtest.h>

using namespace klinikbox::referral;
using klinikbox::db::Connection;

namespace {
struct Db {
    kbtest::TempDir dir;
    kbtest::FakeStore store{dir.file("kb.db"), "referral"};
    Db() {
        reftest::migrate(store);
        store.guard();
    }
};
Referral draft() {
    Referral r;
    r.patient = "191212121212";
    r.senderUnit = "SE2321000016-VC01";
    r.senderUnitName = "Vårdcentralen Norr";
    r.practitionerHsa = "SE2321000016-L001";
    r.practitionerName = "Anna Läkare";
    r.receiverHsa = "SE2321000016-RAD1";
    r.priority = "normal";
    r.question = "Fraktur?";
    return r;
}
AnswerBody ans(const std::string& requestId, const std::string& code, const std::string& id) {
    AnswerBody a;
    a.requestId = requestId;
    a.answerId = "SE2321000016-RAD1#" + id;
    a.code = code;
    a.patient = "191212121212";
    return a;
}
}  // namespace

TEST(ReferralStateMachine, FollowsTheContractCodes) {
    EXPECT_TRUE(allowed("draft", "sending"));
    EXPECT_FALSE(allowed("draft", "sent"));
    EXPECT_FALSE(allowed("draft", "BEK"));
    EXPECT_TRUE(allowed("sending", "sent"));
    for (const char* c : {"BEK", "VID", "KOM", "AVB", "AVV"}) EXPECT_TRUE(allowed("sent", c)) << c;
    EXPECT_FALSE(allowed("sent", "SSV"));
    for (const char* c : {"DSV", "PSV", "SSV"}) EXPECT_TRUE(allowed("BEK", c)) << c;
    EXPECT_TRUE(allowed("DSV", "SSV"));
    EXPECT_TRUE(allowed("PSV", "SSV"));
    EXPECT_TRUE(allowed("VID", "BEK"));
    EXPECT_TRUE(allowed("KOM", "sending"));
    for (const char* fin : {"SSV", "AVV", "AVB"})
        for (const char* c : {"BEK", "SSV", "sending", "sent", "VID"}) EXPECT_FALSE(allowed(fin, c)) << fin << "->" << c;
    EXPECT_FALSE(allowed("BEK", "AVV"));
    EXPECT_TRUE(isState("PSV"));
    EXPECT_FALSE(isState("XYZ"));
}

TEST(ReferralStore, SendConfirmAnswerAndRefuseIllegalSteps) {
    Db db;
    auto& c = db.store.conn;
    const auto id = insertDraft(c, draft(), 1000);
    auto r = get(c, id);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->state, "draft");
    EXPECT_EQ(r->requestId, "SE2321000016-VC01#" + id);
    EXPECT_THROW(transition(c, id, "sent", 1001), IllegalTransition);
    transition(c, id, "sending", 1001);
    EXPECT_THROW(updateDraft(c, *r, 1002), IllegalTransition);
    transition(c, id, "sent", 1002);
    EXPECT_EQ(get(c, id)->sentAt.value_or(0), 1002);
    EXPECT_EQ(applyAnswer(c, "in", ans(r->requestId, "SSV", "x1"), 1003), Applied::Illegal);
    EXPECT_EQ(get(c, id)->state, "sent");
    EXPECT_EQ(applyAnswer(c, "in", ans(r->requestId, "BEK", "b1"), 1004), Applied::Applied);
    EXPECT_EQ(applyAnswer(c, "in", ans(r->requestId, "BEK", "b1"), 1005), Applied::Duplicate);
    EXPECT_EQ(applyAnswer(c, "in", ans("SE2321000016-VC01#nope", "BEK", "b2"), 1005), Applied::Unknown);
    EXPECT_EQ(applyAnswer(c, "in", ans(r->requestId, "PSV", "p1"), 1006), Applied::Applied);
    EXPECT_EQ(applyAnswer(c, "in", ans(r->requestId, "SSV", "s1"), 1007), Applied::Applied);
    EXPECT_EQ(applyAnswer(c, "in", ans(r->requestId, "AVB", "a1"), 1008), Applied::Illegal);
    const auto done = get(c, id);
    EXPECT_EQ(done->state, "SSV");
    ASSERT_EQ(done->answers.size(), 3u);
    EXPECT_EQ(done->answers[2].code, "SSV");
}

// The lists show the newest first, also among referrals written in the same second (their
// ids are random UUIDs, which once decided that order).
TEST(ReferralStore, ListsShowTheNewestFirstWithinOneSecond) {
    Db db;
    auto& c = db.store.conn;
    std::vector<std::string> ids;
    for (int i = 0; i < 8; ++i) ids.push_back(insertDraft(c, draft(), 2000));
    const auto rows = list(c, "out");
    ASSERT_EQ(rows.size(), ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(rows[i].id, ids[ids.size() - 1 - i]) << i;
}

TEST(ReferralStore, AReferralToCompleteCanBeChangedAndIsSentAsANewVersion) {
    Db db;
    auto& c = db.store.conn;
    const auto id = insertDraft(c, draft(), 1000);
    transition(c, id, "sending", 1001);
    transition(c, id, "sent", 1002);
    auto r = *get(c, id);
    EXPECT_THROW(updateDraft(c, r, 1003), IllegalTransition) << "sent: not changeable";
    EXPECT_EQ(applyAnswer(c, "in", ans(r.requestId, "KOM", "k1"), 1004), Applied::Applied);
    r.anamnesis = "Kompletterad anamnes.";
    updateDraft(c, r, 1005);
    transition(c, id, "sending", 1006);
    EXPECT_EQ(get(c, id)->version, 2);
    EXPECT_EQ(get(c, id)->anamnesis, "Kompletterad anamnes.");
    EXPECT_THROW(updateDraft(c, r, 1007), IllegalTransition) << "sending again: not changeable";
}

TEST(ReferralStore, OnlyTheSenderCancelsAndNothingFollowsACancellation) {
    Db db;
    auto& c = db.store.conn;
    // A referral we sent, cancelled by us.
    const auto id = insertDraft(c, draft(), 1000);
    const auto requestId = get(c, id)->requestId;
    auto ours = ans(requestId, "AVB", "c1");
    ours.answerId = "SE2321000016-VC01#c1";
    ours.responder.unitHsa = "SE2321000016-VC01";
    EXPECT_EQ(applyCancellation(c, "out", ours, 1001), Applied::Illegal) << "a draft is not sent, so not cancelled";
    transition(c, id, "sending", 1001);
    transition(c, id, "sent", 1002);
    auto notTheSender = ours;
    notTheSender.responder.unitHsa = "SE2321000016-RAD1";
    EXPECT_EQ(applyCancellation(c, "out", notTheSender, 1003), Applied::Unknown);
    auto notAvb = ours;
    notAvb.code = "BEK";
    notAvb.answerId = "SE2321000016-VC01#c0";
    EXPECT_EQ(applyCancellation(c, "out", notAvb, 1003), Applied::Illegal);
    EXPECT_EQ(applyCancellation(c, "out", ours, 1004), Applied::Applied);
    EXPECT_EQ(applyCancellation(c, "out", ours, 1005), Applied::Duplicate);
    auto r = get(c, id);
    EXPECT_EQ(r->state, "AVB");
    ASSERT_EQ(r->answers.size(), 1u);
    EXPECT_EQ(r->answers[0].direction, "out");
    EXPECT_EQ(applyAnswer(c, "in", ans(requestId, "BEK", "b1"), 1006), Applied::Illegal);

    // A referral we received, cancelled by its sender after we confirmed it.
    RequestBody b;
    b.requestId = "SE2321000016-RAD1#r9";
    b.patient = "191212121212";
    b.sender = Party{"SE2321000016-RAD1", "Röntgen", "", "Rita"};
    b.receiverHsa = "SE2321000016-VC01";
    b.question = "?";
    const auto in = storeIncoming(c, b, 1007).first;
    EXPECT_EQ(applyAnswer(c, "out", ans(b.requestId, "BEK", "ours-b"), 1008), Applied::Applied);
    auto theirs = ans(b.requestId, "AVB", "t1");
    theirs.responder.unitHsa = "SE2321000016-FYS1";
    EXPECT_EQ(applyCancellation(c, "in", theirs, 1009), Applied::Unknown) << "only the sender cancels";
    theirs.responder.unitHsa = "SE2321000016-RAD1";
    EXPECT_EQ(applyCancellation(c, "in", theirs, 1009), Applied::Applied);
    EXPECT_EQ(get(c, in)->state, "AVB");
    EXPECT_EQ(applyAnswer(c, "out", ans(b.requestId, "SSV", "ours-s"), 1010), Applied::Illegal);
}

TEST(ReferralStore, OverdueListsSentReferralsWithoutConfirmation) {
    Db db;
    auto& c = db.store.conn;
    const auto a = insertDraft(c, draft(), 0);
    const auto b = insertDraft(c, draft(), 0);
    for (const auto& id : {a, b}) {
        transition(c, id, "sending", 0);
        transition(c, id, "sent", 0);
    }
    EXPECT_EQ(applyAnswer(c, "in", ans(get(c, b)->requestId, "BEK", "b"), 10), Applied::Applied);
    EXPECT_TRUE(overdue(c, 86400 * 2, 3).empty());
    const auto late = overdue(c, 86400 * 4, 3);
    ASSERT_EQ(late.size(), 1u);
    EXPECT_EQ(late[0].id, a);
}

TEST(ReferralStore, IncomingReferralIsStoredOnceAndAnsweredByUs) {
    Db db;
    auto& c = db.store.conn;
    RequestBody b;
    b.requestId = "SE2321000016-RAD1#r1";
    b.patient = "191212121212";
    b.sender = Party{"SE2321000016-RAD1", "Röntgen", "", "Rita"};
    b.receiverHsa = "SE2321000016-VC01";
    b.question = "?";
    const auto first = storeIncoming(c, b, 5);
    EXPECT_FALSE(first.second);
    const auto again = storeIncoming(c, b, 6);
    EXPECT_TRUE(again.second);
    EXPECT_EQ(again.first, first.first);
    EXPECT_EQ(list(c, "in").size(), 1u);
    auto a = ans(b.requestId, "AVV", "ours1");
    EXPECT_EQ(applyAnswer(c, "out", a, 7), Applied::Applied);
    EXPECT_EQ(get(c, first.first)->state, "AVV");
}

TEST(ReferralDirectory, ImportsCsvAndJsonAndRefusesBadRows) {
    const auto csv = parseCsv(
        "hsaIdentity;displayName;receives;endpointUrl;contractVersion\n"
        "SE2321000016-RAD1;Röntgen Syd;\"röntgen; ultraljud\";https://rad.example/pr;2.2\n"
        "SE2321000016-FYS1;Fysio;fysioterapi;https://fys.example/pr;3.0\n");
    ASSERT_EQ(csv.size(), 2u);
    EXPECT_EQ(csv[0].receives, "röntgen; ultraljud");
    EXPECT_EQ(majorVersion(csv[1].contractVersion), 3);
    EXPECT_THROW((void)parseCsv("hsa_id,name,endpoint_url\nnot-an-hsa,X,https://x.example\n"), DirectoryError);
    EXPECT_THROW((void)parseCsv("hsa_id,name,endpoint_url\nSE2321000016-RAD1,X,http://x.example\n"), DirectoryError);
    const auto json = parseJson(R"({"units":[{"hsaIdentity":"SE2321000016-RAD1","displayName":"R","endpointUrl":"https://r.example/x"}]})");
    ASSERT_EQ(json.size(), 1u);
    EXPECT_EQ(json[0].contractVersion, "2.2");
    EXPECT_THROW((void)parseJson("{"), DirectoryError);
    EXPECT_THROW((void)parseJson("[1]"), DirectoryError);
    Db db;
    upsertReceiver(db.store.conn, csv[0]);
    upsertReceiver(db.store.conn, csv[0]);
    EXPECT_EQ(receivers(db.store.conn).size(), 1u);
    EXPECT_TRUE(removeReceiver(db.store.conn, csv[0].hsaId));
    EXPECT_FALSE(receiver(db.store.conn, csv[0].hsaId));
}

TEST(ReferralAttachments, TypeComesFromTheMagicBytes) {
    EXPECT_EQ(sniffMediaType("%PDF-1.7"), "application/pdf");
    EXPECT_EQ(sniffMediaType(std::string("\xFF\xD8\xFF\xE0", 4)), "image/jpeg");
    EXPECT_EQ(sniffMediaType(std::string("\x89PNG\r\n\x1a\n", 8)), "image/png");
    EXPECT_EQ(sniffMediaType("MZ\x90"), "");
    EXPECT_EQ(sniffMediaType(""), "");
}

TEST(ReferralProducer, AnswersWithResultCodesAndChangesNothingForRefusedMessages) {
    Db db;
    ProducerSettings s{{"SE2321000016-VC01"}, 64 * 1024};
    RequestBody b;
    b.requestId = "SE2321000016-RAD1#r1";
    b.timestamp = "20261205100000";
    b.patient = "191212121212";
    b.sender = Party{"SE2321000016-RAD1", "Röntgen", "", "Rita"};
    b.receiverHsa = "SE2321000016-VC01";
    b.priority = "normal";
    b.question = "?";
    const auto good = klinikbox::rivta::envelope("SE2321000016-VC01", requestBody(b));
    auto a = handleInbound(db.store, s, good, 10);
    EXPECT_EQ(a.status, 200);
    EXPECT_TRUE(a.changed);
    EXPECT_NE(a.envelope.find(">OK<"), std::string::npos);
    auto again = handleInbound(db.store, s, good, 11);
    EXPECT_FALSE(again.changed);
    EXPECT_NE(again.envelope.find(">OK<"), std::string::npos);
    // Unknown unit, oversized, hostile, wrong patient: refused, nothing stored.
    const auto other = klinikbox::rivta::envelope("SE2321000016-XXX9", requestBody(b));
    EXPECT_EQ(handleInbound(db.store, s, other, 12).status, 400);
    EXPECT_EQ(handleInbound(db.store, s, std::string(70 * 1024, ' '), 12).status, 413);
    EXPECT_EQ(handleInbound(db.store, s, "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>", 12).status, 400);
    auto bad = b;
    bad.requestId = "SE2321000016-RAD1#r2";
    bad.patient = "191212121213";
    const auto badPatient = handleInbound(db.store, s, klinikbox::rivta::envelope("SE2321000016-VC01", requestBody(bad)), 12);
    EXPECT_NE(badPatient.envelope.find("VALIDATION_ERROR"), std::string::npos);
    auto spoof = b;
    spoof.requestId = "SE2321000016-ZZZ1#r3";
    EXPECT_NE(handleInbound(db.store, s, klinikbox::rivta::envelope("SE2321000016-VC01", requestBody(spoof)), 12)
                  .envelope.find("VALIDATION_ERROR"),
              std::string::npos);
    EXPECT_EQ(list(db.store.conn, "in").size(), 1u);
}
