// Every request body the journal plugin builds validates against its RIV-TA schema, and the
// answers' parsers refuse what must not pass (errors, missing rows, unknown statuses).
#include "Blocks.h"
#include "Consent.h"
#include "DocBook.h"
#include "NationalLog.h"
#include "Npo.h"

#include "SimProcess.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <sstream>

using namespace klinikbox;
using namespace klinikbox::journal;

namespace {
std::string schemas() {
    auto root = kbtest::efrikortSchemaRoot();  // .../schemas/efrikort-3.0
    return root.substr(0, root.rfind('/'));
}
std::string xsd(const std::string& domain, const std::string& op, const std::string& version) {
    return schemas() + "/" + domain + "/interactions/" + op + "Interaction/" + op + "Responder_" + version + ".xsd";
}
const std::string kHd = "clinicalprocess-healthcond-description-3.0";
Actor actor() { return {"SE2321000016-A1B2", "SE2321000016-VG01", "SE2321000016-VE01"}; }

rivta::Envelope env(const std::string& body, const std::string& header = {}) {
    return rivta::parseEnvelope(rivta::envelope("5565594230", body, header));
}
}  // namespace

TEST(JournalContracts, EveryRequestBodyValidatesAgainstItsSchema) {
    const std::string pnr = "191212121212";
    EXPECT_EQ(kbtest::validateXml(checkConsentBody(actor(), pnr),
                                  xsd("informationsecurity-authorization-consent-2.0", "CheckConsent", "2.0")), "");
    ConsentRegistration r{"3f2b8f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", false, pnr, actor(), "2026-12-05T10:00:00", "", "2026-12-05T10:00:00", ""};
    EXPECT_EQ(kbtest::validateXml(registerConsentBody(r), xsd("informationsecurity-authorization-consent-2.0", "RegisterExtendedConsent", "2.0")), "");
    r.emergency = true;
    r.endDate = "2026-12-05T22:00:00";
    r.reason = "Medvetslös patient <akut> & ensam";
    EXPECT_EQ(kbtest::validateXml(registerConsentBody(r), xsd("informationsecurity-authorization-consent-2.0", "RegisterExtendedConsent", "2.0")), "");
    EXPECT_EQ(kbtest::validateXml(checkBlocksBody(actor(), pnr, {{"SE2321000016-VE09", "SE2321000016-VG09", "2026-01-02T03:04:05"},
                                                                {"SE2321000016-VE08", "SE2321000016-VG08", "2025-01-02T03:04:05"}}),
                                  xsd("informationsecurity-authorization-blocking-4.0", "CheckBlocks", "4.0")), "");
    LogRecord l{"6b1f0c9e-2a3b-4c5d-9e8f-7a6b5c4d3e2f", "SE2321000016-SYS1", "Läsa", "2026-12-05T10:00:00", "Vård och behandling",
                "SE2321000016-A1B2", "SE2321000016-VG01", "SE2321000016-VE01", pnr, "Journalanteckning", "samtycke"};
    auto l2 = l;
    l2.logId = "6b1f0c9e-2a3b-4c5d-9e8f-7a6b5c4d3e30";
    EXPECT_EQ(kbtest::validateXml(storeLogBody({l, l2}), xsd("informationsecurity-auditing-log-2.0", "StoreLog", "2.0")), "");
    Query q{pnr, "20250101", "20261231", "SE2321000016-VG09"};
    EXPECT_EQ(kbtest::validateXml(requestBody(Kind::Notes, q), xsd(kHd, "GetCareDocumentation", "3.0")), "");
    EXPECT_EQ(kbtest::validateXml(requestBody(Kind::Notes, q, "SE2321000016-SYS2", "ref-2"), xsd(kHd, "GetCareDocumentation", "3.0")), "");
    EXPECT_EQ(kbtest::validateXml(requestBody(Kind::Notes, Query{pnr, "", "", ""}), xsd(kHd, "GetCareDocumentation", "3.0")), "");
    EXPECT_EQ(kbtest::validateXml(requestBody(Kind::Diagnoses, q), xsd(kHd, "GetDiagnosis", "2.0")), "");
    EXPECT_EQ(kbtest::validateXml(requestBody(Kind::Alerts, q), xsd(kHd, "GetAlertInformation", "2.0")), "");
    EXPECT_THROW((void)storeLogBody(std::vector<LogRecord>(501, l)), std::invalid_argument);
}

TEST(JournalContracts, ConsentAnswersAreReadStrictly) {
    const std::string ns = "urn:riv:informationsecurity:authorization:consent:CheckConsentResponder:2";
    auto answer = [&](const std::string& inner) {
        return env("<r:CheckConsentResponse xmlns:r=\"" + ns + "\" xmlns:c=\"urn:riv:informationsecurity:authorization:consent:2\"><r:checkResult>" +
                   inner + "</r:checkResult></r:CheckConsentResponse>");
    };
    EXPECT_EQ(parseCheckConsent(answer("<c:result><c:resultCode>OK</c:resultCode></c:result><c:hasConsent>true</c:hasConsent><c:assertionType>Consent</c:assertionType>").body), Consent::Consent);
    EXPECT_EQ(parseCheckConsent(answer("<c:result><c:resultCode>OK</c:resultCode></c:result><c:hasConsent>true</c:hasConsent><c:assertionType>Emergency</c:assertionType>").body), Consent::Emergency);
    EXPECT_EQ(parseCheckConsent(answer("<c:result><c:resultCode>OK</c:resultCode></c:result><c:hasConsent>false</c:hasConsent>").body), Consent::None);
    EXPECT_THROW((void)parseCheckConsent(answer("<c:result><c:resultCode>ERROR</c:resultCode></c:result><c:hasConsent>true</c:hasConsent>").body), ServiceError);
    EXPECT_THROW((void)parseCheckConsent(answer("<c:result><c:resultCode>OK</c:resultCode></c:result>").body), ServiceError);
}

TEST(JournalContracts, BlockAnswersNeedEveryRowAndKnownStatuses) {
    const std::string head = "<r:CheckBlocksResponse xmlns:r=\"urn:riv:informationsecurity:authorization:blocking:CheckBlocksResponder:4\" "
                             "xmlns:c=\"urn:riv:informationsecurity:authorization:blocking:4\"><r:checkBlocksResult><c:result><c:resultCode>OK</c:resultCode></c:result>";
    const std::string tail = "</r:checkBlocksResult></r:CheckBlocksResponse>";
    auto row = [](int n, const std::string& s) {
        return "<c:checkResults><c:status>" + s + "</c:status><c:rowNumber>" + std::to_string(n) + "</c:rowNumber></c:checkResults>";
    };
    const auto b = parseCheckBlocks(env(head + row(1, "OK") + row(2, "BLOCKED") + tail).body, 2);
    EXPECT_EQ(b, (std::vector<bool>{false, true}));
    EXPECT_THROW((void)parseCheckBlocks(env(head + row(1, "OK") + tail).body, 2), ServiceError);             // row 2 missing
    EXPECT_THROW((void)parseCheckBlocks(env(head + row(1, "VALIDATIONERROR") + tail).body, 1), ServiceError);
    EXPECT_THROW((void)parseCheckBlocks(env(head + row(3, "OK") + tail).body, 2), ServiceError);             // out of range
}

TEST(JournalContracts, CareDocumentationAnswerGivesHeadersSourcesAndPages) {
    const std::string ps = "<ih:ProcessingStatus xmlns:ih=\"urn:riv:interoperability:headers:1\"><ih:ProcessingStatusList>"
                           "<ih:logicalAddress>SE2321000016-SYS2</ih:logicalAddress><ih:statusCode>DataFromSource</ih:statusCode>"
                           "<ih:isResponseFromCache>false</ih:isResponseFromCache></ih:ProcessingStatusList></ih:ProcessingStatus>";
    const std::string body =
        "<r:GetCareDocumentationResponse xmlns:r=\"urn:riv:clinicalprocess:healthcond:description:GetCareDocumentationResponder:3\" "
        "xmlns:c=\"urn:riv:clinicalprocess:healthcond:description:3\"><r:careDocumentation><c:header><c:accessControlHeader>"
        "<c:accountableHealthcareProvider><c:root>x</c:root><c:extension>SE2321000016-VG09</c:extension></c:accountableHealthcareProvider>"
        "<c:accountableCareUnit><c:root>x</c:root><c:extension>SE2321000016-VE09</c:extension></c:accountableCareUnit>"
        "<c:patientId><c:root>x</c:root><c:extension>191212121212</c:extension></c:patientId>"
        "<c:blockComparisonTime>20260102030405</c:blockComparisonTime><c:approvedForPatient>true</c:approvedForPatient></c:accessControlHeader>"
        "<c:sourceSystemId><c:root>x</c:root><c:extension>SE2321000016-SYS2</c:extension></c:sourceSystemId>"
        "<c:record><c:id><c:root>x</c:root><c:extension>doc-1</c:extension></c:id><c:timestamp>20260102030405</c:timestamp></c:record>"
        "</c:header><c:body><c:clinicalDocumentNoteCode><c:code>utr</c:code><c:displayName>Utredning</c:displayName></c:clinicalDocumentNoteCode>"
        "<c:clinicalDocumentNoteTitle>Besök</c:clinicalDocumentNoteTitle><c:clinicalDocumentNoteText>Text</c:clinicalDocumentNoteText></c:body>"
        "</r:careDocumentation><r:hasMore><r:logicalAddress>SE2321000016-SYS2</r:logicalAddress><r:reference>p2</r:reference></r:hasMore>"
        "<r:result><c:resultCode>OK</c:resultCode></r:result></r:GetCareDocumentationResponse>";
    const auto p = parseAnswer(Kind::Notes, env(body, ps));
    ASSERT_EQ(p.records.size(), 1u);
    EXPECT_EQ(p.records[0].accountableUnit, "SE2321000016-VE09");
    EXPECT_EQ(p.records[0].accountableProvider, "SE2321000016-VG09");
    EXPECT_EQ(p.records[0].blockTime, "2026-01-02T03:04:05");
    EXPECT_EQ(p.records[0].title, "Besök");
    ASSERT_EQ(p.sources.size(), 1u);
    EXPECT_EQ(p.sources[0].statusCode, "DataFromSource");
    ASSERT_EQ(p.hasMore.size(), 1u);
    EXPECT_EQ(p.hasMore[0].second, "p2");
}

TEST(JournalDocBook, ProducerTextNeverBecomesMarkup) {
    EXPECT_EQ(renderNoteHtml("Rad 1\n<script>alert(1)</script>"), "<p>Rad 1<br>&lt;script&gt;alert(1)&lt;/script&gt;</p>");
    const auto html = renderNoteHtml(
        "<article xmlns=\"http://docbook.org/ns/docbook\" version=\"5.0\"><title>Epikris</title><section><para>Patienten &lt;img src=x "
        "onerror=alert(1)&gt; mår <emphasis>bra</emphasis>.</para><script>alert(2)</script><itemizedlist><listitem><para>A</para>"
        "</listitem></itemizedlist></section></article>");
    EXPECT_EQ(html, "<div><h4>Epikris</h4><div><p>Patienten &lt;img src=x onerror=alert(1)&gt; mår <em>bra</em>.</p>alert(2)"
                    "<ul><li><p>A</p></li></ul></div></div>");
    // A DOCTYPE (entity expansion) is refused by the hardened parser and shown as text.
    EXPECT_EQ(renderNoteHtml("<!DOCTYPE x [<!ENTITY a \"b\">]><para>&a;</para>").find("<para>"), std::string::npos);
    EXPECT_EQ(renderNoteHtml("   "), "");
    // The tree the console builds from: text leaves, only the box's own tags.
    const auto tree = renderNote("<para>a<script>b</script><emphasis>c</emphasis></para>");
    std::ostringstream s;
    tree->stringify(s);
    EXPECT_EQ(s.str(), R"([{"children":["a","b",{"children":["c"],"tag":"em"}],"tag":"p"}])");
}

TEST(JournalContracts, LogAndAssertionIdsAreVersion4UuidsAndDoNotRepeat) {
    // A bug fixed: the ids were base64 text padded with zeros, not UUIDs.
    static const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        const auto id = newUuid();
        ASSERT_TRUE(std::regex_match(id, uuid)) << id;
        seen.insert(id);
    }
    EXPECT_EQ(seen.size(), 1000u);
}
