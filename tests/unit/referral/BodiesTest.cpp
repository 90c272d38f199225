// Every body the plugin builds validates against the activity:request 2.2 schemas, and the
// parser reads back what the builders wrote and refuses what is not one of the operations.
#include "Bodies.h"
#include "ReferralTestSupport.h"

#include <gtest/gtest.h>

using namespace klinikbox::referral;

namespace {
RequestBody sample() {
    RequestBody r;
    r.requestId = "SE2321000016-VC01#0b7f1c1e-0000-4000-8000-000000000001";
    r.timestamp = "20261205103000";
    r.patient = "191212121212";
    r.sender = Party{"SE2321000016-VC01", "Vårdcentralen <Norr> & Co", "SE2321000016-L001", "Anna Läkare"};
    r.receiverHsa = "SE2321000016-RAD1";
    r.priority = "akut";
    r.question = "Fraktur? <script>";
    r.anamnesis = "Föll på isen.";
    r.status = "Svullen handled.";
    r.requestedActivity = "Röntgen handled";
    r.patientInformed = true;
    r.attachments.push_back(Attachment{"application/pdf", "remiss.pdf", "%PDF-1.4 test"});
    return r;
}
AnswerBody answer(const std::string& code) {
    AnswerBody a;
    a.requestId = "SE2321000016-VC01#0b7f1c1e-0000-4000-8000-000000000001";
    a.answerId = "SE2321000016-RAD1#" + code + "-1";
    a.code = code;
    a.timestamp = "20261205110000";
    a.patient = "191212121212";
    a.responder = Party{"SE2321000016-RAD1", "Röntgen", "", "Rita Radiolog"};
    a.recipientHsa = "SE2321000016-VC01";
    a.forwardToHsa = code == "VID" ? "SE2321000016-FYS1" : "";
    a.text = "Svar & text";
    return a;
}
void expectValid(const std::string& xml, const std::string& op) {
    if (reftest::schemaRoot().empty()) GTEST_SKIP() << "the activity:request 2.2 schemas are not on this machine";
    EXPECT_EQ(kbtest::validateXml(xml, reftest::xsd(op)), "") << xml;
}
std::string env(const std::string& body, const std::string& la = "SE2321000016-RAD1") {
    return klinikbox::rivta::envelope(la, body);
}
}  // namespace

TEST(ReferralBodies, ProcessRequestValidatesWithAndWithoutOptionalParts) {
    expectValid(requestBody(sample()), "ProcessRequest");
    auto bare = sample();
    bare.anamnesis = bare.status = bare.requestedActivity = "";
    bare.attachments.clear();
    bare.coordinationNumber = true;
    bare.patient = "197010632391";
    bare.version = 2;
    expectValid(requestBody(bare), "ProcessRequest");
}

TEST(ReferralBodies, EveryConfirmationAndOutcomeValidates) {
    for (const char* c : {"BEK", "VID", "KOM", "AVB", "AVV"}) expectValid(answerBody(answer(c)), "ProcessRequestConfirmation");
    for (const char* c : {"DSV", "PSV", "SSV"}) expectValid(answerBody(answer(c)), "ProcessRequestOutcome");
    EXPECT_THROW((void)answerBody(answer("XYZ")), BodyError);
}

TEST(ReferralBodies, ResultsValidate) {
    if (reftest::schemaRoot().empty()) GTEST_SKIP();
    // The response elements are in the same schemas as the requests.
    for (const char* op : {"ProcessRequest", "ProcessRequestConfirmation", "ProcessRequestOutcome"}) {
        expectValid(resultBody(op, "OK"), op);
        expectValid(resultBody(op, "ERROR", "VALIDATION_ERROR", "fel"), op);
    }
}

TEST(ReferralBodies, ParsesBackWhatItBuilds) {
    const auto in = parseInbound(env(requestBody(sample())), 1u << 20);
    EXPECT_EQ(in.operation, "ProcessRequest");
    EXPECT_EQ(in.logicalAddress, "SE2321000016-RAD1");
    EXPECT_EQ(in.request.requestId, sample().requestId);
    EXPECT_EQ(in.request.question, "Fraktur? <script>");
    EXPECT_EQ(in.request.anamnesis, "Föll på isen.");
    EXPECT_EQ(in.request.status, "Svullen handled.");
    EXPECT_EQ(in.request.requestedActivity, "Röntgen handled");
    EXPECT_EQ(in.request.priority, "akut");
    EXPECT_TRUE(in.request.patientInformed);
    EXPECT_EQ(in.request.sender.practitionerHsa, "SE2321000016-L001");
    ASSERT_EQ(in.request.attachments.size(), 1u);
    EXPECT_EQ(in.request.attachments[0].bytes, "%PDF-1.4 test");
    const auto vid = parseInbound(env(answerBody(answer("VID")), "SE2321000016-VC01"), 1u << 20);
    EXPECT_EQ(vid.operation, "ProcessRequestConfirmation");
    EXPECT_EQ(vid.answer.code, "VID");
    EXPECT_EQ(vid.answer.forwardToHsa, "SE2321000016-FYS1");
    EXPECT_EQ(vid.answer.text, "Svar & text");
    const auto ssv = parseInbound(env(answerBody(answer("SSV")), "SE2321000016-VC01"), 1u << 20);
    EXPECT_EQ(ssv.operation, "ProcessRequestOutcome");
    EXPECT_EQ(ssv.answer.code, "SSV");
    EXPECT_EQ(parseResult(klinikbox::rivta::envelope("", resultBody("ProcessRequest", "ERROR", "APPLICATION_ERROR", "x"))).code,
              "ERROR");
}

TEST(ReferralBodies, RefusesWrongNamespacesHostileAndMalformedXml) {
    auto body = requestBody(sample());
    auto wrongNs = body;
    wrongNs.replace(wrongNs.find("ProcessRequestResponder:2"), 25, "ProcessRequestResponder:9");
    EXPECT_THROW((void)parseInbound(env(wrongNs), 1u << 20), BodyError);
    const std::string laughs =
        "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;\">]>"
        "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>&lol2;</soap:Body></soap:Envelope>";
    EXPECT_THROW((void)parseInbound(laughs, 1u << 20), klinikbox::rivta::XmlError);
    const std::string xxe =
        "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>"
        "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>&e;</soap:Body></soap:Envelope>";
    EXPECT_THROW((void)parseInbound(xxe, 1u << 20), klinikbox::rivta::XmlError);
    EXPECT_THROW((void)parseInbound("<soap:Envelope", 1u << 20), klinikbox::rivta::XmlError);
    EXPECT_THROW((void)parseInbound(env(body), 100), klinikbox::rivta::XmlError);
    auto noId = body;
    noId.replace(noId.find("SE2321000016-VC01#"), 18, "SE2321000016-VC01-");
    EXPECT_THROW((void)parseInbound(env(noId), 1u << 20), BodyError);
}

// An element the contract allows once, given twice, is refused: the box read the first
// <patient> while a schema-validating reader refuses the message, so the referral could be
// filed under another patient than its sender meant. Elements the contract lets repeat
// (a second condition) are all read, and other namespaces' extensions are not checked.
TEST(ReferralBodies, AnElementTheContractAllowsOnceIsRefusedTwiceAndRepeatablesAreAllRead) {
    const auto body = requestBody(sample());
    const auto patientAt = body.find("<core:patient>");
    const auto patientEnd = body.find("</core:patient>") + std::string("</core:patient>").size();
    ASSERT_NE(patientAt, std::string::npos);
    auto second = body.substr(patientAt, patientEnd - patientAt);
    second.replace(second.find("191212121212"), 12, "195003072385");
    auto twoPatients = body;
    twoPatients.insert(patientEnd, second);
    try {
        (void)parseInbound(env(twoPatients), 1u << 20);
        ADD_FAILURE() << "two patients were read";
    } catch (const BodyError& e) {
        EXPECT_NE(std::string(e.what()).find("one patient in request"), std::string::npos) << e.what();
    }
    auto twoIds = body;
    twoIds.insert(twoIds.find("<core:typeOfRequest"), "<core:requestId extension=\"SE2321000016-VC01#other\"/>");
    EXPECT_THROW((void)parseInbound(env(twoIds), 1u << 20), BodyError);

    auto twoConditions = body;
    twoConditions.insert(twoConditions.find("</core:condition>") + std::string("</core:condition>").size(),
                         "<core:condition><core:text>Smärta vid belastning.</core:text></core:condition>");
    auto extension = twoConditions;
    extension.insert(extension.find("</core:questionFormulation>"), "<x:note xmlns:x=\"urn:example:ext\">a</x:note><x:note xmlns:x=\"urn:example:ext\">b</x:note>");
    for (const auto& xml : {twoConditions, extension}) {
        expectValid(xml, "ProcessRequest");
        const auto in = parseInbound(env(xml), 1u << 20);
        EXPECT_EQ(in.request.status, "Svullen handled.\n\nSmärta vid belastning.");
    }
}

// An outside message may nest the contract's elements as deep as its size allows: the
// duplicate check walks them with a list, not with recursion, and refuses the message.
TEST(ReferralBodies, DeeplyNestedElementsAreRefusedWithoutExhaustingTheStack) {
    auto body = requestBody(sample());
    std::string deep;
    for (int i = 0; i < 100000; ++i) deep += "<core:x>";
    deep += "<core:y/><core:y/>";  // at the bottom: the walk must get there
    for (int i = 0; i < 100000; ++i) deep += "</core:x>";
    body.insert(body.find("</core:questionFormulation>"), deep);
    try {
        (void)parseInbound(env(body), 8u << 20);
        ADD_FAILURE() << "read";
    } catch (const BodyError& e) {
        EXPECT_NE(std::string(e.what()).find("one y in x"), std::string::npos) << e.what();
    }
}
