// Shared journal access in the real box against the simulator's NPÖ aggregator, consent,
// block and log services: every row of the PDL decision table (relation × consent ×
// emergency × block × service outage), paging, filters, safe rendering, the national log
// through an outage, log review, the patient's log extract, and a walk of every route of
// the plugin as each role to show no record content leaves without the checks.
#include "BoxProcess.h"
#include <klinikbox/Db.h>
#include "Eventually.h"
#include "SimProcess.h"

#include <Poco/JSON/Array.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <regex>
#include <set>
#include <thread>

using namespace kbtest;
namespace fs = std::filesystem;

namespace {

const std::string kJournalUnit = "SE2321000016-VE01";
const std::string kShared = "195003072385";     // documentation from three systems, consent
const std::string kBlocked = "196801149888";    // consent, the psychiatry unit blocked
const std::string kNoConsent = "197512303442";  // no consent
const std::string kNoBooking = "191212121212";  // no booking at all
// Texts of the simulator's documents that must only appear after every check passed.
const std::vector<std::string> kContent = {"Söker för hosta", "Knäsmärta", "Röntgen höger knä", "Fysioterapi", "Känslig anteckning",
                                           "saknar ansvarig vårdenhet", "Astma", "penicillin", "Depressiv"};

std::string pluginSet(const TempDir& dir) {
    const fs::path set = pluginSetOf(dir, {"journal"});
    fs::create_directories(set / "fakebooking");
    fs::copy_file(fs::path(KB_SOURCE_DIR) / "tests" / "fixtures" / "plugins" / "fakebooking" / "plugin.yaml", set / "fakebooking" / "plugin.yaml");
    fs::copy_file(fs::path(KB_BUILD_DIR) / "fixtures" / "libfakebooking.so", set / "fakebooking" / "libfakebooking.so");
    return set.string();
}

std::string settings(const SimProcess& sim) {
    const auto& u = sim.https();
    return "  settings:\n    journal:\n      care_provider_id: SE2321000016-VG01\n      system_hsa_id: SE2321000016-KBOX\n"
           "      care_units:\n        - {hsa_id: " + kJournalUnit + ", name: Vårdcentralen Norr}\n"
           "      services:\n        npo_url: \"" + u + "/npo/{contract}\"\n        consent_url: " + u + "/consent\n        blocks_url: " + u +
           "/blocks\n        log_url: " + u + "/log\n        client_cert: " + sim.clientCert() + "\n        client_key: " + sim.clientKey() +
           "\n        ca: " + sim.ca() + "\n        timeout_ms: 5000\n";
}

std::string isoIn(std::chrono::seconds d) {
    const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + d);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char b[32];
    std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return b;
}

bool hasContent(const std::string& body) {
    for (const auto& c : kContent)
        if (body.find(c) != std::string::npos) return true;
    return false;
}

struct JournalClinic {
    TempDir dir;
    SimProcess sim{"", 8000};  // a "timeout" fault holds the answer longer than the box waits (5 s)
    std::unique_ptr<BoxProcess> box;
    JournalClinic() {
        sim.start();
        box = std::make_unique<BoxProcess>(settings(sim), pluginSet(dir));
        box->start();
        box->loginAs("eva", "staff", {"--hsa-id", "SE2321000016-E001", "--care-unit", kJournalUnit});
        if (box->authed("GET", "/api/v1/journal/assignment").status == 404) ADD_FAILURE() << "the journal plugin is not loaded:\n" << box->output();
    }
    void book(const std::string& patient, const std::string& id, std::chrono::seconds in = std::chrono::hours(2)) {
        const auto body = R"({"name":"booking.created","payload":{"booking_id":")" + id + R"(","patient":")" + patient +
                          R"(","care_unit":")" + kJournalUnit + R"(","start":")" + isoIn(in) + R"(","end":")" + isoIn(in + std::chrono::minutes(30)) + R"("}})";
        ASSERT_EQ(box->authed("POST", "/api/v1/fakebooking/events", body).status, 204);
        ASSERT_TRUE(eventually([&] {
            auto s = box->authed("GET", "/api/v1/journal/patients/" + patient);
            return s.status == 200 && s.json()->getValue<std::string>("relation") == "booking";
        })) << "the booking event never made a relation";
    }
    HttpResult notes(const std::string& patient, const std::string& query = {}) const {
        return box->authed("GET", "/api/v1/journal/patients/" + patient + "/records/notes" + query);
    }
    std::string reason(const HttpResult& r) const { return r.json()->optValue<std::string>("reason", ""); }
    void fault(const std::string& service, const std::string& kind, int count = 1) {
        ASSERT_EQ(sim.steer("POST", "/sim/api/faults", R"({"service":")" + service + R"(","kind":")" + kind + R"(","count":)" +
                                                           std::to_string(count) + "}").status, 204);
    }
    int npoCalls() const { return static_cast<int>(sim.steer("GET", "/sim/api/received?service=npo").json()->getArray("items")->size()); }
};

std::set<std::string> ids(const HttpResult& r) {
    std::set<std::string> out;
    const auto a = r.json()->getArray("records");
    for (std::size_t i = 0; i < a->size(); ++i) out.insert(a->getObject(static_cast<unsigned>(i))->getValue<std::string>("id"));
    return out;
}

// A review period around today (at most two years long), whatever year the test runs in.
std::string aroundToday() {
    using namespace std::chrono;
    const auto today = floor<days>(system_clock::now());
    auto text = [](sys_days d) {
        const year_month_day y{d};
        char b[16];
        std::snprintf(b, sizeof b, "%04d-%02u-%02u", static_cast<int>(y.year()), static_cast<unsigned>(y.month()),
                      static_cast<unsigned>(y.day()));
        return std::string(b);
    };
    return "from=" + text(today - days{300}) + "&to=" + text(today + days{300});
}

}  // namespace

TEST(JournalServer, EveryRowOfTheDecisionTableHoldsInTheRunningBox) {
    JournalClinic c;
    // No assignment chosen: nothing at all.
    auto r = c.notes(kShared);
    EXPECT_EQ(r.status, 409) << r.body;
    EXPECT_FALSE(hasContent(r.body));
    EXPECT_EQ(c.box->authed("PUT", "/api/v1/journal/assignment", R"({"care_unit":"SE2321000016-NOPE"})").status, 400);
    ASSERT_EQ(c.box->authed("PUT", "/api/v1/journal/assignment", R"({"care_unit":")" + kJournalUnit + R"("})").status, 200);

    // Relation none (consent or not): refused before any service is asked.
    r = c.notes(kShared);
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(c.reason(r), "no-relation");
    EXPECT_EQ(c.npoCalls(), 0);

    // Relation booking × consent × no block: shown, from three systems over three pages.
    c.book(kShared, "B1");
    r = c.notes(kShared);
    ASSERT_EQ(r.status, 200) << r.body;
    auto o = r.json();
    EXPECT_EQ(o->getValue<std::string>("basis"), "consent");
    EXPECT_FALSE(o->getValue<bool>("emergency"));
    EXPECT_EQ(ids(r), (std::set<std::string>{"sys1-001", "sys2-001", "sys2-002", "sys2-003", "sys3-001"}));
    EXPECT_EQ(o->getValue<int>("pages"), 3);
    EXPECT_EQ(o->getValue<int>("without_care_unit_count"), 1);  // never shown
    EXPECT_EQ(r.body.find("saknar ansvarig"), std::string::npos);
    EXPECT_EQ(o->getValue<int>("blocked_count"), 0);
    EXPECT_EQ(o->getArray("sources")->size(), 3u);
    // Producer text is rendered safely: DocBook becomes the box's own few tags, and
    // markup inside the text stays text (the console builds it with textContent).
    EXPECT_EQ(r.body.find(R"("tag":"script")"), std::string::npos);
    EXPECT_EQ(r.body.find(R"("tag":"img")"), std::string::npos);
    EXPECT_NE(r.body.find(R"({"children":["Knäsmärta"],"tag":"h4"})"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("ingen fraktur. <script>alert('x')"), std::string::npos) << r.body;
    // Filters: a period and a care provider.
    EXPECT_EQ(ids(c.notes(kShared, "?from=2026-10-01&to=2026-10-31")), (std::set<std::string>{"sys1-001", "sys2-002", "sys2-003"}));
    // NPÖ's dates are of the years 1900-2099: another year is a 400 here, not the service's
    // refusal answered as its outage (503).
    for (const char* q : {"?from=9999-12-31&to=9999-12-31", "?from=0000-01-01", "?to=2100-01-01"}) {
        const auto far = c.notes(kShared, q);
        EXPECT_EQ(far.status, 400) << q << ": " << far.body;
    }
    EXPECT_EQ(ids(c.notes(kShared, "?provider=SE2321000016-VG11")), (std::set<std::string>{"sys2-001", "sys2-002", "sys2-003"}));
    EXPECT_EQ(c.notes(kShared, "?from=2026-13-01&to=2026-10-31").status, 400);
    EXPECT_EQ(c.notes(kShared, "?from=2026-10-01").status, 400);
    EXPECT_EQ(c.notes(kShared, "?sort=x").status, 400);
    EXPECT_EQ(c.box->authed("GET", "/api/v1/journal/patients/195003072386/records/notes").status, 400);
    EXPECT_EQ(c.box->authed("GET", "/api/v1/journal/patients/" + kShared + "/records/labs").status, 404);
    // Diagnoses and alerts through the same checks.
    auto dx = c.box->authed("GET", "/api/v1/journal/patients/" + kShared + "/records/diagnoses");
    ASSERT_EQ(dx.status, 200);
    EXPECT_EQ(ids(dx), (std::set<std::string>{"sys1-dx1", "sys3-dx1"}));
    auto al = c.box->authed("GET", "/api/v1/journal/patients/" + kShared + "/records/alerts");
    ASSERT_EQ(al.status, 200);
    EXPECT_NE(al.body.find("penicillin"), std::string::npos);
    // A source system that could not answer is named by its ProcessingStatus.
    ASSERT_EQ(c.sim.steer("PUT", "/sim/api/journal/sources", R"({"down":["SE2321000016-SYS3"]})").status, 204);
    r = c.notes(kShared);
    ASSERT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("NoDataSynchFailed"), std::string::npos);
    EXPECT_EQ(ids(r).count("sys3-001"), 0u);
    ASSERT_EQ(c.sim.steer("PUT", "/sim/api/journal/sources", R"({"down":[]})").status, 204);

    // Booking × consent × block: the blocked record is counted and named, never shown.
    c.book(kBlocked, "B2");
    r = c.notes(kBlocked);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.json()->getValue<int>("blocked_count"), 1);
    EXPECT_EQ(r.json()->getValue<std::string>("blocked_message"), "Det finns spärrad information som inte visas.");
    EXPECT_EQ(r.body.find("Känslig anteckning"), std::string::npos);
    EXPECT_EQ(ids(r).count("sys3-001"), 0u);
    dx = c.box->authed("GET", "/api/v1/journal/patients/" + kBlocked + "/records/diagnoses");
    ASSERT_EQ(dx.status, 200);
    EXPECT_EQ(dx.body.find("Depressiv"), std::string::npos);

    // Service outages: consent (failure, timeout) and blocks refuse, and say why.
    c.fault("consent", "fail");
    r = c.notes(kShared);
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(c.reason(r), "consent-service-unavailable");
    EXPECT_FALSE(hasContent(r.body));
    c.fault("consent", "timeout");
    r = c.notes(kShared);
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(c.reason(r), "consent-service-unavailable");
    c.fault("blocks", "http500");
    r = c.notes(kBlocked);
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(c.reason(r), "block-service-unavailable");
    EXPECT_FALSE(hasContent(r.body));
    c.fault("npo", "fail");
    r = c.notes(kShared);
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(c.reason(r), "npo-unavailable");

    // Booking × no consent: refused; emergency access (reason required) opens it, red-flagged.
    c.book(kNoConsent, "B3");
    r = c.notes(kNoConsent);
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(c.reason(r), "no-consent");
    EXPECT_FALSE(hasContent(r.body));
    EXPECT_EQ(c.box->authed("POST", "/api/v1/journal/patients/" + kNoConsent + "/emergency", R"({})").status, 400);
    EXPECT_EQ(c.box->authed("POST", "/api/v1/journal/patients/" + kNoConsent + "/emergency", R"({"reason":"x"})").status, 400);
    EXPECT_EQ(c.box->authed("POST", "/api/v1/journal/patients/" + kNoConsent + "/emergency", R"({"reason":"Medvetslös","x":1})").status, 400);
    // Five characters, not five bytes: "ååå" (three in six bytes) passed a byte count, then the
    // database's CHECK after the consent service had registered it (a 500, no audit record,
    // and the records opened). Spaces are no reason either.
    for (const char* reason : {"ååå", "     ", " \u00a0 Öö \t"}) {
        const auto bad = c.box->authed("POST", "/api/v1/journal/patients/" + kNoConsent + "/emergency", std::string(R"({"reason":")") + reason + "\"}");
        EXPECT_EQ(bad.status, 400) << reason << ": " << bad.body;
        EXPECT_EQ(c.notes(kNoConsent).status, 403) << reason;
        const auto rel = c.box->authed("POST", "/api/v1/journal/patients/" + kNoConsent + "/relation", std::string(R"({"reason":")") + reason + "\"}");
        EXPECT_EQ(rel.status, 400) << reason << ": " << rel.body;
    }
    c.fault("consent", "fail");  // the registration itself fails closed
    EXPECT_EQ(c.box->authed("POST", "/api/v1/journal/patients/" + kNoConsent + "/emergency", R"({"reason":"Medvetslös vid ankomst"})").status, 503);
    EXPECT_EQ(c.notes(kNoConsent).status, 403);
    ASSERT_EQ(c.box->authed("POST", "/api/v1/journal/patients/" + kNoConsent + "/emergency", R"({"reason":"Medvetslös vid ankomst"})").status, 201);
    r = c.notes(kNoConsent);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()->getValue<std::string>("basis"), "emergency");
    EXPECT_TRUE(r.json()->getValue<bool>("emergency"));
    // Emergency × consent-service outage: still refused.
    c.fault("consent", "fail");
    EXPECT_EQ(c.notes(kNoConsent).status, 503);
    // Emergency × block: blocks still hold.
    ASSERT_EQ(c.sim.steer("PUT", "/sim/api/journal/blocks/" + kNoConsent, R"({"units":["SE2321000016-VE11"]})").status, 204);
    r = c.notes(kNoConsent);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.json()->getValue<int>("blocked_count"), 3);
    EXPECT_EQ(r.body.find("Knäsmärta"), std::string::npos);

    // No relation × emergency access: emergency replaces consent only, never the relation.
    ASSERT_EQ(c.box->authed("POST", "/api/v1/journal/patients/194001011230/emergency", R"({"reason":"Medvetslös vid ankomst"})").status, 201);
    r = c.notes("194001011230");
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(c.reason(r), "no-relation");
    EXPECT_FALSE(hasContent(r.body));

    // Asserted relation (no booking) × registered consent: shown, flagged for review.
    r = c.notes(kNoBooking);
    EXPECT_EQ(c.reason(r), "no-relation");
    EXPECT_EQ(c.box->authed("POST", "/api/v1/journal/patients/" + kNoBooking + "/relation", R"({"reason":"kort"})").status, 400);
    ASSERT_EQ(c.box->authed("POST", "/api/v1/journal/patients/" + kNoBooking + "/relation", R"({"reason":"Akut besök utan bokning"})").status, 200);
    r = c.notes(kNoBooking);
    EXPECT_EQ(c.reason(r), "no-consent");
    EXPECT_EQ(c.box->authed("POST", "/api/v1/journal/patients/" + kNoBooking + "/consent", R"({"end_date":"2020-01-01"})").status, 400);
    // Past the days the box's instants hold: said so, not "the end date has passed".
    const auto far = c.box->authed("POST", "/api/v1/journal/patients/" + kNoBooking + "/consent", R"({"end_date":"9999-12-31"})");
    EXPECT_EQ(far.status, 400) << far.body;
    EXPECT_NE(far.body.find("2199-12-31"), std::string::npos) << far.body;
    ASSERT_EQ(c.box->authed("POST", "/api/v1/journal/patients/" + kNoBooking + "/consent", R"({"end_date":"2099-12-31"})").status, 201);
    r = c.notes(kNoBooking);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()->getValue<std::string>("relation"), "asserted");
    EXPECT_EQ(r.json()->getValue<std::string>("basis"), "consent");
    // The consent service received it with scope NationalLevel and the end date.
    const auto consents = c.sim.steer("GET", "/sim/api/journal/consents/" + kNoBooking).body;
    EXPECT_NE(consents.find("2099-12-31"), std::string::npos);
    // It ends with its last day in Swedish time (23:59:59+01:00), as the service was told, not
    // at UTC midnight an hour later.
    {
        klinikbox::db::Connection db(c.box->dataDir() + "/klinikbox.db");
        auto st = db.prepare("SELECT ends_at FROM journal_assertions WHERE kind = 'consent' AND patient = ?");
        st.bind(1, kNoBooking);
        ASSERT_TRUE(st.step());
        EXPECT_EQ(st.getInt(0), 4102441199LL);  // 2099-12-31T22:59:59Z
    }

    // A cancelled booking ends the relation.
    ASSERT_EQ(c.box->authed("POST", "/api/v1/fakebooking/events", R"({"name":"booking.cancelled","payload":{"booking_id":"B2"}})").status, 204);
    EXPECT_TRUE(eventually([&] { return c.reason(c.notes(kBlocked)) == "no-relation"; }));

    // Every request the services received validated against its XSD (the sim answers a
    // fault naming the schema otherwise).
    const auto got = c.sim.steer("GET", "/sim/api/received").json()->getArray("items");
    int journalCalls = 0;
    for (std::size_t i = 0; i < got->size(); ++i) {
        const auto item = got->getObject(static_cast<unsigned>(i));
        const auto svc = item->getValue<std::string>("service");
        if (svc != "npo" && svc != "consent" && svc != "blocks" && svc != "log") continue;
        ++journalCalls;
        const auto resp = item->getValue<std::string>("response");
        EXPECT_EQ(resp.find("schema validation failed"), std::string::npos) << resp;
        EXPECT_EQ(resp.find("schema not found"), std::string::npos) << resp;
    }
    EXPECT_GT(journalCalls, 20);
}

TEST(JournalServer, EveryAccessReachesTheNationalLogThroughAnOutage) {
    JournalClinic c;
    ASSERT_EQ(c.box->authed("PUT", "/api/v1/journal/assignment", R"({"care_unit":")" + kJournalUnit + R"("})").status, 200);
    c.book(kShared, "L1");
    c.fault("log", "fail", 4);  // the log service is down for the first deliveries
    for (int i = 0; i < 5; ++i) ASSERT_EQ(c.notes(kShared).status, 200);
    // Care was not blocked; the records arrive once the service is back, each once.
    ASSERT_TRUE(eventually([&] { return c.sim.steer("GET", "/sim/api/journal/logs").json()->getArray("items")->size() >= 5; }));
    const auto logs = c.sim.steer("GET", "/sim/api/journal/logs").json()->getArray("items");
    std::set<std::string> logIds;
    for (std::size_t i = 0; i < logs->size(); ++i) {
        const auto l = logs->getObject(static_cast<unsigned>(i));
        logIds.insert(l->getValue<std::string>("logId"));
        EXPECT_TRUE(std::regex_match(l->getValue<std::string>("logId"), std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
        EXPECT_EQ(l->getValue<std::string>("userId"), "SE2321000016-E001");
        EXPECT_EQ(l->getValue<std::string>("careUnitId"), kJournalUnit);
        EXPECT_EQ(l->getValue<std::string>("patient"), kShared);
        EXPECT_EQ(l->getValue<std::string>("purpose"), "Vård och behandling");
        EXPECT_EQ(l->getValue<std::string>("activity"), "Läsa");
    }
    EXPECT_EQ(logIds.size(), 5u);
    EXPECT_EQ(logs->size(), 5u);
    // A refused read names the patient in the stored form whatever form the path had, so the
    // patient's log extract holds the attempt: "500307-2385" is the ten-digit form of kShared.
    EXPECT_EQ(c.box->authed("GET", "/api/v1/journal/patients/500307-2385/records/notes?from=2026-01-01").status, 400);
    // And locally: the audit log has each access with unit, purpose and basis.
    c.box->loginAs("ann", "auditor");
    const auto refused = c.box->authed("GET", "/api/v1/audit?action=journal.read&patient=" + kShared + "&limit=100");
    ASSERT_EQ(refused.status, 200) << refused.body;
    EXPECT_NE(refused.body.find("\"outcome\":\"failed\""), std::string::npos) << refused.body;
    const auto audit = c.box->authed("GET", "/api/v1/audit?action=journal.notes&patient=" + kShared + "&limit=100");
    ASSERT_EQ(audit.status, 200);
    std::size_t shown = 0, pos = 0;
    while ((pos = audit.body.find("basis consent", pos)) != std::string::npos) ++shown, ++pos;
    EXPECT_EQ(shown, 5u);
    EXPECT_NE(audit.body.find("purpose Vård och behandling"), std::string::npos);
}

TEST(JournalServer, AuditorReviewsFlaggedAccessesAndPrintsThePatientsExtract) {
    JournalClinic c;
    ASSERT_EQ(c.box->authed("PUT", "/api/v1/journal/assignment", R"({"care_unit":")" + kJournalUnit + R"("})").status, 200);
    c.book(kNoConsent, "R1");
    ASSERT_EQ(c.box->authed("POST", "/api/v1/journal/patients/" + kNoConsent + "/emergency", R"({"reason":"Medvetslös vid ankomst"})").status, 201);
    ASSERT_EQ(c.notes(kNoConsent).status, 200);
    ASSERT_EQ(c.box->authed("POST", "/api/v1/journal/patients/" + kShared + "/relation", R"({"reason":"Telefonrådgivning"})").status, 200);
    ASSERT_EQ(c.notes(kShared).status, 200);
    c.book(kBlocked, "R2");
    ASSERT_EQ(c.notes(kBlocked).status, 200);

    c.box->loginAs("ann", "auditor");
    EXPECT_EQ(c.box->authed("GET", "/api/v1/journal/review").status, 400);
    EXPECT_EQ(c.box->authed("GET", "/api/v1/journal/review?from=2026-02-30&to=2026-03-01").status, 400);
    auto rv = c.box->authed("GET", "/api/v1/journal/review?" + aroundToday());
    ASSERT_EQ(rv.status, 200) << rv.body;
    const auto o = rv.json();
    EXPECT_EQ(o->getArray("without_booking")->size(), 1u);  // the asserted relation
    EXPECT_GE(o->getArray("emergency")->size(), 2u);        // registration and the read
    EXPECT_GE(o->getArray("sample")->size(), 1u);           // the ordinary read of the blocked patient
    const auto id = o->getArray("without_booking")->getObject(0)->getValue<long long>("id");
    EXPECT_EQ(c.box->authed("POST", "/api/v1/journal/review/" + std::to_string(id), R"({})").status, 400);
    EXPECT_EQ(c.box->authed("POST", "/api/v1/journal/review/999999", R"({"comment":"ok"})").status, 404);
    auto mark = c.box->authed("POST", "/api/v1/journal/review/" + std::to_string(id), R"({"comment":"Kontrollerad: telefonrådgivning"})");
    ASSERT_EQ(mark.status, 200) << mark.body;
    EXPECT_TRUE(mark.json()->getValue<bool>("reviewed"));
    const auto audit = c.box->authed("GET", "/api/v1/audit?action=journal.review.mark&limit=10");
    EXPECT_NE(audit.body.find("reviewed"), std::string::npos);

    auto ex = c.box->authed("GET", "/api/v1/journal/extract/" + kNoConsent + "?" + aroundToday());
    ASSERT_EQ(ex.status, 200) << ex.body;
    const auto acc = ex.json()->getArray("accesses");
    ASSERT_EQ(acc->size(), 2u);  // emergency registered, notes read
    EXPECT_EQ(acc->getObject(1)->getValue<std::string>("care_unit_name"), "Vårdcentralen Norr");
    EXPECT_EQ(acc->getObject(1)->getValue<std::string>("what"), "Journalanteckningar");
    EXPECT_EQ(acc->getObject(1)->getValue<std::string>("basis"), "Nödåtkomst (du kunde inte tillfrågas)");
    auto page = c.box->authed("GET", "/api/v1/journal/extract/" + kNoConsent + "/print?" + aroundToday());
    ASSERT_EQ(page.status, 200);
    EXPECT_NE(page.contentType.find("text/html"), std::string::npos);
    EXPECT_NE(page.body.find("Vårdcentralen Norr"), std::string::npos);
    EXPECT_NE(page.body.find("19751230-3442"), std::string::npos);
    EXPECT_EQ(c.box->authed("GET", "/api/v1/journal/extract/197512303443?" + aroundToday()).status, 400);
    // A period past the range the box's instants hold: 400, not "the period ends before it starts".
    const auto far = c.box->authed("GET", "/api/v1/journal/extract/" + kNoConsent + "?from=2000-01-01&to=9999-12-31");
    EXPECT_EQ(far.status, 400) << far.body;
    EXPECT_NE(far.body.find("2199-12-31"), std::string::npos) << far.body;
}

TEST(JournalServer, NoRouteGivesRecordContentWithoutTheChecks) {
    JournalClinic c;
    ASSERT_EQ(c.box->authed("PUT", "/api/v1/journal/assignment", R"({"care_unit":")" + kJournalUnit + R"("})").status, 200);
    c.book(kShared, "W1");
    // Every route of the plugin, with bodies that would be accepted.
    struct Route {
        std::string method, path, body;
    };
    const std::string p = "/api/v1/journal/patients/" + kShared;
    const std::vector<Route> routes = {
        {"GET", "/api/v1/journal/assignment", ""},
        {"PUT", "/api/v1/journal/assignment", R"({"care_unit":")" + kJournalUnit + R"("})"},
        {"GET", p, ""},
        {"POST", p + "/relation", R"({"reason":"Akut besök utan bokning"})"},
        {"POST", p + "/consent", R"({})"},
        {"POST", p + "/emergency", R"({"reason":"Medvetslös vid ankomst"})"},
        {"GET", p + "/records/notes", ""},
        {"GET", p + "/records/diagnoses", ""},
        {"GET", p + "/records/alerts", ""},
        {"GET", "/api/v1/journal/review?from=2026-01-01&to=2099-12-31", ""},
        {"POST", "/api/v1/journal/review/1", R"({"comment":"ok"})"},
        {"GET", "/api/v1/journal/extract/" + kShared + "?from=2026-01-01&to=2099-12-31", ""},
        {"GET", "/api/v1/journal/extract/" + kShared + "/print?from=2026-01-01&to=2099-12-31", ""},
    };
    auto walk = [&](const std::string& who, bool anonymous) {
        for (const auto& r : routes) {
            const auto res = anonymous ? c.box->request(r.method, r.path, r.body, {{"Content-Type", "application/json"}})
                                       : c.box->authed(r.method, r.path, r.body);
            EXPECT_FALSE(hasContent(res.body)) << who << " " << r.method << " " << r.path << " -> " << res.status;
            if (anonymous) {
                EXPECT_EQ(res.status, 401) << r.path;
            }
        }
    };
    walk("anonymous", true);
    for (const char* role : {"admin", "it", "auditor"}) {
        c.box->loginAs(std::string("u-") + role, role, {"--hsa-id", "SE2321000016-X" + std::string(role).substr(0, 1)});
        walk(role, false);
    }
    // Staff without an HSA-id: refused with a reason, never content.
    c.box->loginAs("nohsa", "staff");
    walk("staff without HSA-id", false);
    // Staff with an HSA-id and a booking relation, but the patient's consent withdrawn:
    // first no assignment (409), then every content route refuses (403) without content.
    ASSERT_EQ(c.sim.steer("PUT", "/sim/api/journal/consents/" + kShared, R"({"consent":false})").status, 200);
    c.box->loginAs("sara", "staff", {"--hsa-id", "SE2321000016-E009"});
    EXPECT_EQ(c.box->authed("GET", p + "/records/notes").status, 409);  // no assignment
    ASSERT_EQ(c.box->authed("PUT", "/api/v1/journal/assignment", R"({"care_unit":")" + kJournalUnit + R"("})").status, 200);
    for (const char* k : {"notes", "diagnoses", "alerts"}) {
        const auto res = c.box->authed("GET", p + "/records/" + k);
        EXPECT_EQ(res.status, 403) << k;
        EXPECT_FALSE(hasContent(res.body)) << k;
    }
    EXPECT_FALSE(hasContent(c.box->authed("GET", p).body));
}
