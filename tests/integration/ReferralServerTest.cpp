// Referrals in a running box (the referral plugin) against the simulator's referral parties:
// send -> BEK -> SSV; a referral from the hospital received and answered; rejection;
// forwarding; a box killed mid-send still delivers exactly once; the producer listener refuses
// clients without a trusted certificate, hostile XML, unknown units, and is not reachable
// from the normal listener (and the other way round); a receiver on another major version
// gets a clear refusal. With the booking plugin: an accepted referral's patient is invited
// (kallelse) through referral.invitation.requested; overdue referrals are a /metrics gauge.
#include "ReferralClinic.h"

#include <klinikbox/Db.h>

#include <csignal>

using namespace kbtest;
using namespace refclinic;

TEST(ReferralServer, SentReferralIsValidConfirmedAndAnsweredAndPrintable) {
    RefClinic c;
    c.directory();
    const auto id = c.draft(kRadiology);
    ASSERT_FALSE(id.empty());
    EXPECT_EQ(c.state(id), "draft");
    const auto sent = c.box->authed("POST", "/api/v1/referral/referrals/" + id + "/send", "{}");
    ASSERT_EQ(sent.status, 200) << sent.body;
    const auto requestId = sent.json()->getValue<std::string>("request_id");
    EXPECT_TRUE(eventually([&] { return c.state(id) == "SSV"; })) << c.state(id) << "\n" << c.box->authed("GET", "/api/v1/outbox").body;
    EXPECT_EQ(c.receivedCount("ProcessRequest", requestId), 1);
    // Every body the sim received validated against the XSD.
    const auto items = c.simReceived();
    for (std::size_t i = 0; i < items->size(); ++i)
        EXPECT_TRUE(items->getObject(static_cast<unsigned>(i))->getValue<bool>("valid"))
            << items->getObject(static_cast<unsigned>(i))->getValue<std::string>("schema_errors");
    const auto full = c.box->authed("GET", "/api/v1/referral/referrals/" + id).json();
    const auto answers = full->getArray("answers");
    ASSERT_EQ(answers->size(), 2u);
    EXPECT_EQ(answers->getObject(0)->getValue<std::string>("code"), "BEK");
    EXPECT_EQ(answers->getObject(1)->getValue<std::string>("code"), "SSV");
    // A second send is refused, the list shows the patient masked.
    EXPECT_EQ(c.box->authed("POST", "/api/v1/referral/referrals/" + id + "/send", "{}").status, 409);
    const auto list = c.box->authed("GET", "/api/v1/referral/outgoing");
    EXPECT_EQ(list.body.find("191212121212"), std::string::npos);
    EXPECT_NE(list.body.find("SSV"), std::string::npos);
}

TEST(ReferralServer, ReceivedReferralIsListedAndAnsweredAndRejectionsAndForwardsReachTheSender) {
    RefClinic c;
    c.directory();
    const auto sent = c.sim.steer("POST", "/sim/api/referral/send",
                                  std::string(R"({"from":")") + kRadiology + R"(","to":")" + kReferralUnit + R"(","question":"Rehab?"})");
    ASSERT_EQ(sent.status, 200);
    ASSERT_EQ(sent.json()->getValue<int>("status"), 200) << sent.body;
    EXPECT_EQ(sent.json()->getValue<std::string>("result_code"), "OK");
    const auto requestId = sent.json()->getValue<std::string>("request_id");
    // A redelivery is accepted and changes nothing.
    const auto again = c.sim.steer("POST", "/sim/api/referral/send",
                                   std::string(R"({"from":")") + kRadiology + R"(","to":")" + kReferralUnit + R"(","request_id":")" +
                                       requestId + R"("})");
    EXPECT_EQ(again.json()->getValue<std::string>("result_code"), "OK");
    auto incoming = c.box->authed("GET", "/api/v1/referral/incoming").json()->getArray("items");
    ASSERT_EQ(incoming->size(), 1u);
    const auto id = incoming->getObject(0)->getValue<std::string>("id");
    EXPECT_EQ(incoming->getObject(0)->getValue<std::string>("state"), "sent");
    // An outcome before the confirmation is refused by the state machine.
    EXPECT_EQ(c.box->authed("POST", "/api/v1/referral/referrals/" + id + "/answer", R"({"code":"SSV","text":"x"})").status, 409);
    EXPECT_EQ(c.box->authed("POST", "/api/v1/referral/referrals/" + id + "/answer", R"({"code":"BEK"})").status, 200);
    EXPECT_EQ(c.box->authed("POST", "/api/v1/referral/referrals/" + id + "/answer", R"({"code":"SSV","text":"Utlåtande."})").status,
              200);
    // Two outbox messages: the outcome may arrive first (the sender refuses it until the
    // confirmation is there, and the outbox retries it), so wait for both.
    EXPECT_TRUE(eventually([&] { return c.receivedCount("ProcessRequestOutcome", requestId) == 1; }));
    EXPECT_TRUE(eventually([&] { return c.receivedCount("ProcessRequestConfirmation", requestId) == 1; }));
    EXPECT_EQ(c.state(id), "SSV");

    // A second referral is rejected with a reason; a third is forwarded to the radiology.
    auto send = [&] {
        const auto s = c.sim.steer("POST", "/sim/api/referral/send",
                                   std::string(R"({"from":")") + kRadiology + R"(","to":")" + kReferralUnit + R"("})");
        return s.json()->getValue<std::string>("request_id");
    };
    const auto rejectId = send();
    const auto forwardId = send();
    incoming = c.box->authed("GET", "/api/v1/referral/incoming").json()->getArray("items");
    ASSERT_EQ(incoming->size(), 3u);
    std::string rid, fid;
    for (std::size_t i = 0; i < incoming->size(); ++i) {
        const auto o = incoming->getObject(static_cast<unsigned>(i));
        if (o->getValue<std::string>("request_id") == rejectId) rid = o->getValue<std::string>("id");
        if (o->getValue<std::string>("request_id") == forwardId) fid = o->getValue<std::string>("id");
    }
    EXPECT_EQ(c.box->authed("POST", "/api/v1/referral/referrals/" + rid + "/answer", R"({"code":"AVV"})").status, 400);
    EXPECT_EQ(c.box->authed("POST", "/api/v1/referral/referrals/" + rid + "/answer", R"({"code":"AVV","text":"Fel mottagare."})").status,
              200);
    EXPECT_EQ(c.box->authed("POST", "/api/v1/referral/referrals/" + rid + "/answer", R"({"code":"BEK"})").status, 409);
    // Forwarding to a receiver on another major version is refused; to the radiology it goes.
    EXPECT_EQ(c.box->authed("POST", "/api/v1/referral/referrals/" + fid + "/answer",
                            std::string(R"({"code":"VID","forward_to":")") + kPhysio + "\"}")
                  .status,
              422);
    EXPECT_EQ(c.box->authed("POST", "/api/v1/referral/referrals/" + fid + "/answer",
                            std::string(R"({"code":"VID","forward_to":")") + kRadiology + "\"}")
                  .status,
              200);
    EXPECT_TRUE(eventually([&] { return c.receivedCount("ProcessRequestConfirmation", rejectId) == 1; }));
    EXPECT_TRUE(eventually([&] { return c.receivedCount("ProcessRequestConfirmation", forwardId) == 1; }));
    // The forwarded referral itself reached the new receiver, with its original request id.
    EXPECT_TRUE(eventually([&] { return c.receivedCount("ProcessRequest", forwardId) == 1; }));
    EXPECT_EQ(c.state(rid), "AVV");
    EXPECT_EQ(c.state(fid), "VID");
}

TEST(ReferralServer, ReceiverOnAnotherMajorVersionIsRefusedClearly) {
    RefClinic c;
    c.directory();
    const auto id = c.draft(kPhysio);
    const auto r = c.box->authed("POST", "/api/v1/referral/referrals/" + id + "/send", "{}");
    EXPECT_EQ(r.status, 422) << r.body;
    EXPECT_NE(r.body.find("receiver-version"), std::string::npos);
    EXPECT_EQ(c.state(id), "draft");
}

TEST(ReferralServer, KilledMidSendAndLostAnswersStillDeliverExactlyOnce) {
    RefClinic c;
    c.directory();
    // Every answer is lost until cleared: the referral arrives, the box never hears it.
    ASSERT_EQ(c.sim.steer("POST", "/sim/api/referral/faults", R"({"kind":"lost_answer","count":1000})").status, 204);
    const auto id = c.draft(kRadiology);
    const auto sent = c.box->authed("POST", "/api/v1/referral/referrals/" + id + "/send", "{}");
    ASSERT_EQ(sent.status, 200);
    const auto requestId = sent.json()->getValue<std::string>("request_id");
    int deliveries = 0;
    ASSERT_TRUE(eventually([&] { return c.receivedCount("ProcessRequest", requestId, &deliveries) == 1 && deliveries >= 2; }));
    c.box->stop(SIGKILL);
    ASSERT_EQ(c.sim.steer("POST", "/sim/api/referral/faults", R"({"kind":"clear"})").status, 204);
    c.start(false);  // the session survives the restart
    // The retry gets "already received" and adopts the earlier delivery.
    EXPECT_TRUE(eventually([&] { return c.state(id) == "sent"; })) << c.state(id);
    EXPECT_EQ(c.receivedCount("ProcessRequest", requestId), 1);
    // The hospital's automatic answers went to the killed box; it answers again by hand.
    for (const char* code : {"BEK", "SSV"}) {
        const auto a = c.sim.steer("POST", "/sim/api/referral/answer",
                                   std::string(R"({"code":")") + code + R"(","to":")" + kReferralUnit + R"(","request_id":")" + requestId +
                                       R"(","patient":"191212121212"})");
        EXPECT_EQ(a.json()->getValue<std::string>("result_code"), "OK") << a.body;
    }
    EXPECT_EQ(c.state(id), "SSV");
    EXPECT_EQ(c.receivedCount("ProcessRequest", requestId), 1);
}

TEST(ReferralServer, ProducerListenerRefusesUntrustedClientsHostileXmlAndOtherRoutes) {
    RefClinic c;
    const std::string pki = c.sim.stateDir() + "/pki";
    // The normal listener does not serve the producer routes.
    EXPECT_EQ(c.box->request("POST", "/api/v1/referral/rivta/ProcessRequest", "<x/>", {{"Content-Type", "text/xml"}}).status, 404);
    // The producer listener does not serve anything else.
    EXPECT_EQ(producerPost(c.producer, "/api/v1/health", "", c.sim.clientCert(), c.sim.clientKey(), c.sim.ca()), 404);
    // A client whose certificate no trusted CA issued (the box's own self-signed one) fails the handshake.
    const std::string certFile = c.box->dataDir() + "/tls/server.crt", keyFile = c.box->dataDir() + "/tls/server.key";
    ASSERT_TRUE(fs::exists(certFile));
    EXPECT_ANY_THROW((void)producerPost(c.producer, "/api/v1/referral/rivta/ProcessRequest", "<x/>", certFile, keyFile, c.sim.ca()));
    EXPECT_ANY_THROW((void)producerPost(c.producer, "/api/v1/referral/rivta/ProcessRequest", "<x/>", "", "", c.sim.ca()));
    // Hostile and malformed XML, unknown units and oversized bodies: refused, nothing stored.
    const std::string path = "/api/v1/referral/rivta/ProcessRequest";
    auto post = [&](const std::string& body, std::string* answer = nullptr) {
        return producerPost(c.producer, path, body, c.sim.clientCert(), c.sim.clientKey(), c.sim.ca(), answer);
    };
    std::string answer;
    EXPECT_EQ(post("<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
                   "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">"
                   "<soap:Body>&c;</soap:Body></soap:Envelope>",
                   &answer),
              400);
    EXPECT_NE(answer.find("Fault"), std::string::npos);
    EXPECT_EQ(post("<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>", &answer), 400);
    EXPECT_EQ(answer.find("root:"), std::string::npos);
    EXPECT_EQ(post("<soap:Envelope"), 400);
    EXPECT_EQ(post(std::string(300 * 1024, 'x')), 413);
    const auto unknown = c.sim.steer("POST", "/sim/api/referral/send",
                                     std::string(R"({"from":")") + kRadiology + R"(","to":"SE2321000016-ZZZ9"})");
    EXPECT_EQ(unknown.json()->getValue<int>("status"), 400);
    EXPECT_TRUE(c.box->authed("GET", "/api/v1/referral/incoming").json()->getArray("items")->size() == 0);
    EXPECT_TRUE(c.box->running());
}

TEST(ReferralServer, AnAcceptedReferralInvitesThePatientAndOverdueReferralsAreAGauge) {
    RefClinic c(true);
    c.directory();
    ASSERT_EQ(c.box->authed("POST", "/api/v1/booking/units",
                            std::string(R"({"hsa_id":")") + kReferralUnit + R"(","name":"Vårdcentralen Norr","address":"Storgatan 1"})")
                  .status,
              201);
    ASSERT_EQ(c.box->authed("POST", "/api/v1/booking/visittypes",
                            R"({"id":"fys30","name":"Fysioterapi","visit_form":"physical","minutes":30,"profession":"fysioterapeut"})")
                  .status,
              201);
    const auto sent = c.sim.steer("POST", "/sim/api/referral/send",
                                  std::string(R"({"from":")") + kRadiology + R"(","to":")" + kReferralUnit + R"(","question":"Rehab?"})");
    ASSERT_EQ(sent.json()->getValue<int>("status"), 200) << sent.body;
    const auto id = c.box->authed("GET", "/api/v1/referral/incoming").json()->getArray("items")->getObject(0)->getValue<std::string>("id");
    const std::string invite = "/api/v1/referral/referrals/" + id + "/invitation";
    EXPECT_EQ(c.box->authed("POST", invite, R"({"visit_type":"fys30","phone":"0701234567"})").status, 409) << "not accepted yet";
    ASSERT_EQ(c.box->authed("POST", "/api/v1/referral/referrals/" + id + "/answer", R"({"code":"BEK"})").status, 200);
    // The booking plugin's refusal comes back as its problem; nothing is invited.
    auto bad = c.box->authed("POST", invite, R"({"visit_type":"nope","phone":"0701234567"})");
    EXPECT_EQ(bad.status, 400) << bad.body;
    EXPECT_NE(bad.body.find("visit_type"), std::string::npos) << bad.body;
    EXPECT_EQ(c.box->authed("POST", invite, R"({"visit_type":"fys30"})").status, 400) << "no phone or e-mail";
    auto ok = c.box->authed("POST", invite, R"({"visit_type":"fys30","phone":"0701234567"})");
    ASSERT_EQ(ok.status, 200) << ok.body << c.box->output();
    const auto invitation = ok.json()->getValue<long long>("invitation_id");
    auto list = c.box->authed("GET", std::string("/api/v1/booking/invitations?unit=") + kReferralUnit);
    ASSERT_EQ(list.status, 200) << list.body;
    auto items = list.json()->getArray("invitations");
    ASSERT_EQ(items->size(), 1u) << list.body;
    EXPECT_EQ(items->getObject(0)->getValue<long long>("id"), invitation);
    EXPECT_EQ(items->getObject(0)->getValue<std::string>("subject_of_care"), "191212121212");
    EXPECT_EQ(items->getObject(0)->getValue<std::string>("visit_type"), "fys30");
    EXPECT_NE(items->getObject(0)->getValue<std::string>("purpose").find("Remiss från"), std::string::npos);

    // Overdue: a sent referral the receiver never confirms, older than overdue_days (3).
    auto gauge = [&] {
        const auto m = c.box->request("GET", "/metrics").body;
        const std::string name = "\nkb_referral_overdue_referrals ";
        const auto p = m.find(name);
        return p == std::string::npos ? std::string("absent") : m.substr(p + name.size(), m.find('\n', p + 1) - p - name.size());
    };
    EXPECT_EQ(gauge(), "0");
    ASSERT_EQ(c.sim.steer("POST", "/sim/api/referral/config",
                          std::string(R"({"parties":{")") + kRadiology + R"(":{"confirm":"","outcome":""}}})")
                  .status,
              204);
    const auto out = c.draft(kRadiology);
    ASSERT_EQ(c.box->authed("POST", "/api/v1/referral/referrals/" + out + "/send", "{}").status, 200);
    ASSERT_TRUE(eventually([&] { return c.state(out) == "sent"; })) << c.state(out);
    EXPECT_EQ(gauge(), "0") << "sent just now";
    {
        klinikbox::db::Connection db(c.box->dataDir() + "/klinikbox.db");
        db.exec("PRAGMA busy_timeout = 10000");
        db.prepare("UPDATE referral_referrals SET sent_at = sent_at - 4 * 86400 WHERE id = ?").bind(1, out).exec();
        ASSERT_EQ(db.changes(), 1);
    }
    EXPECT_EQ(gauge(), "1");
    EXPECT_EQ(c.box->authed("GET", "/api/v1/referral/overdue").json()->getArray("items")->size(), 1u);
}
