// The journal plugin's tables: the patient relationship learnt from the real booking
// plugin's event payloads (numeric ids, Stockholm offsets), the window, cancellations and
// rebookings; and the national log queue delivered in StoreLog batches of at most 500,
// against the simulator's log service (retry on an outage, each record sent once).
#include "Journal.h"

#include "FakePluginContext.h"
#include "SimProcess.h"
#include "TempDir.h"

#include <Poco/JSON/Parser.h>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace klinikbox;
using namespace klinikbox::journal;

namespace {

struct CountingAudit : Audit {
    std::vector<AuditEntry> entries;
    void record(const Request& by, const AuditEntry& e) override {
        entries.push_back(e);
        ++by.auditRecords;
    }
    void record(const Request& by, const AuditEntry& e, db::Connection&) override { record(by, e); }
    void recordSystem(const AuditEntry& e) override { entries.push_back(e); }
};
using Ctx = kbtest::BasicFakeContext<CountingAudit>;

std::chrono::system_clock::time_point at(const std::string& iso) {
    std::tm tm{};
    strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    return std::chrono::system_clock::from_time_t(timegm(&tm));
}

Poco::JSON::Object::Ptr json(const std::string& text) { return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>(); }

struct JournalStore : ::testing::Test {
    kbtest::TempDir dir;
    FixedClock clock{at("2026-11-25T08:00:00")};
    Ctx ctx{"journal", dir.file("box.db"), clock};
    const std::string unit = "SE2321000016-VE01";
    void SetUp() override {
        std::ifstream in(std::string(KB_SOURCE_DIR) + "/plugins/journal/migrations/0001_init.sql");
        std::stringstream ss;
        ss << in.rdbuf();
        ASSERT_FALSE(ss.str().empty());
        ctx.storeImpl.unguarded(ss.str());
    }
    long long now() const { return std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count(); }
    void apply(const std::string& event, const std::string& payload) {
        ctx.store().write([&](db::Connection& c) { applyVisitEvent(c, event, json(payload), clock.today(), now()); });
    }
    Relation relation(const std::string& patient, RelationWindow w = {30, 14}) {
        Relation r = Relation::None;
        ctx.store().read([&](db::Connection& c) { r = relationOf(c, patient, unit, w, now()); });
        return r;
    }
};

}  // namespace

TEST_F(JournalStore, ABookingFromTheBookingPluginMakesARelationWithinTheWindowOnly) {
    apply("booking.created", R"({"booking_id":17,"patient":"195003072385","care_unit":"SE2321000016-VE01","start":"2026-12-01T09:00:00+01:00","end":"2026-12-01T09:30:00+01:00"})");
    EXPECT_EQ(relation("195003072385"), Relation::Booking);
    EXPECT_EQ(relation("195003072385", {5, 14}), Relation::None);  // six days ahead, window five
    EXPECT_EQ(relation("196801149888"), Relation::None);
    // Another unit's booking is no relation for this unit.
    apply("booking.created", R"({"booking_id":18,"patient":"196801149888","care_unit":"SE2321000016-OTHER","start":"2026-11-25T10:00:00+01:00"})");
    EXPECT_EQ(relation("196801149888"), Relation::None);
    // A visit long ago no longer counts.
    apply("booking.created", R"({"booking_id":19,"patient":"197512303442","care_unit":"SE2321000016-VE01","start":"2026-10-01T10:00:00+02:00"})");
    EXPECT_EQ(relation("197512303442"), Relation::None);
    EXPECT_EQ(relation("197512303442", {30, 60}), Relation::Booking);
}

TEST_F(JournalStore, CancellingOrMovingABookingEndsItsRelationAndBadPayloadsAreRefused) {
    apply("booking.created", R"({"booking_id":17,"patient":"195003072385","care_unit":"SE2321000016-VE01","start":"2026-11-26T09:00:00+01:00"})");
    apply("booking.cancelled", R"({"booking_id":17})");
    EXPECT_EQ(relation("195003072385"), Relation::None);
    apply("booking.created", R"({"booking_id":20,"patient":"195003072385","care_unit":"SE2321000016-VE01","start":"2026-11-26T09:00:00+01:00"})");
    // Rebooked into a new booking far in the future: the old one is cancelled.
    apply("booking.rebooked", R"({"booking_id":21,"old_booking_id":20,"patient":"195003072385","care_unit":"SE2321000016-VE01","start":"2027-06-01T09:00:00+02:00"})");
    EXPECT_EQ(relation("195003072385"), Relation::None);
    // An arrival counts from now, even without a known booking.
    apply("checkin.arrived", R"({"booking_id":99,"patient":"195003072385","care_unit":"SE2321000016-VE01","arrived_at":0})");
    EXPECT_EQ(relation("195003072385"), Relation::Booking);
    EXPECT_THROW(apply("booking.created", R"({"booking_id":1,"patient":"195003072386","care_unit":"x","start":"2026-11-26T09:00:00Z"})"), std::invalid_argument);
    EXPECT_THROW(apply("booking.created", R"({"booking_id":"a b","patient":"195003072385","care_unit":"x","start":"2026-11-26T09:00:00Z"})"), std::invalid_argument);
    EXPECT_THROW(apply("booking.created", R"({"booking_id":2,"patient":"195003072385","care_unit":"x","start":"tomorrow"})"), std::invalid_argument);
    EXPECT_THROW(apply("booking.created", R"({"booking_id":[1],"patient":"195003072385"})"), std::invalid_argument);
}

TEST_F(JournalStore, QueuedVisitEventsAreWrittenInOrderInOneGoAndAnEventThatIsNoVisitIsSkipped) {
    Journal j(ctx, JournalSettings{});
    std::vector<Event> events;
    const auto add = [&](const std::string& name, const std::string& payload) { events.push_back(Event{name, json(payload), std::nullopt, "r"}); };
    add("booking.created", R"({"booking_id":17,"patient":"195003072385","care_unit":"SE2321000016-VE01","start":"2026-11-26T09:00:00+01:00"})");
    add("booking.created", R"({"booking_id":18,"patient":"195003072386","care_unit":"SE2321000016-VE01","start":"2026-11-26T09:00:00+01:00"})");
    add("booking.created", R"({"booking_id":19,"patient":"196801149888","care_unit":"SE2321000016-VE01","start":"2026-11-26T10:00:00+01:00"})");
    add("booking.cancelled", R"({"booking_id":17})");
    add("booking.created", R"({"booking_id":20,"patient":"197512303442","care_unit":"SE2321000016-VE01","start":"2026-11-26T11:00:00+01:00"})");
    std::vector<const Event*> batch;
    for (const auto& e : events) batch.push_back(&e);
    j.onVisitEvents(batch);
    // In the order published: 17 was booked and then cancelled.
    EXPECT_EQ(relation("195003072385"), Relation::None);
    // The invalid personnummer (check digit) was skipped, and the events after it kept.
    EXPECT_EQ(relation("196801149888"), Relation::Booking);
    EXPECT_EQ(relation("197512303442"), Relation::Booking);
    long long visits = 0;
    ctx.store().read([&](db::Connection& c) {
        auto st = c.prepare("SELECT count(*) FROM journal_visits");
        ASSERT_TRUE(st.step());
        visits = st.getInt(0);
    });
    EXPECT_EQ(visits, 3);
}

TEST_F(JournalStore, AnAssertedRelationLastsTheWindowAndThenEnds) {
    ctx.store().write([&](db::Connection& c) { assertRelation(c, "195003072385", unit, 1, "eva", "Akut besök", {30, 14}, now()); });
    EXPECT_EQ(relation("195003072385"), Relation::Asserted);
    clock.advance(std::chrono::hours(24 * 15));
    EXPECT_EQ(relation("195003072385"), Relation::None);
}

TEST_F(JournalStore, TheNationalLogGoesOutInBatchesOfAtMost500AndEachRecordOnce) {
    kbtest::SimProcess sim;
    sim.start();
    JournalSettings s;
    s.systemHsaId = "SE2321000016-KBOX";
    s.logUrl = sim.https() + "/log";
    s.nationalAddress = "SE165565594230-1000";
    s.tls = rivta::Endpoint{"", sim.clientCert(), sim.clientKey(), sim.ca(), 5000};
    Journal j(ctx, s);
    std::vector<std::string> ids;
    ctx.store().write([&](db::Connection& c) {
        for (int i = 0; i < 600; ++i) {
            char id[40];
            std::snprintf(id, sizeof id, "00000000-0000-4000-a000-%012d", i);
            ids.emplace_back(id);
            LogRecord l{id, s.systemHsaId, "Läsa", "2026-11-25T08:00:00", "Vård och behandling", "SE2321000016-E001",
                        "SE2321000016-VG01", unit, "195003072385", "Journalanteckning", "samtycke"};
            c.prepare("INSERT INTO journal_national_log(log_id, record, created_at) VALUES(?, ?, ?)").bind(1, l.logId).bind(2, toJson(l)).bind(3, i).exec();
        }
    });
    // An outage: retried later, nothing marked sent.
    sim.steer("POST", "/sim/api/faults", R"({"service":"log","kind":"fail"})");
    EXPECT_EQ(j.deliverLogs(QueuedMessage{1, kLogChannel, ids[599], ids[599], 1}).kind, DeliveryResult::Kind::Retry);
    // The message of the last record sends it with the 499 oldest: one call of 500.
    EXPECT_EQ(j.deliverLogs(QueuedMessage{1, kLogChannel, ids[599], ids[599], 2}).kind, DeliveryResult::Kind::Delivered);
    EXPECT_EQ(sim.steer("GET", "/sim/api/journal/logs").json()->getArray("items")->size(), 500u);
    // Messages of records already sent deliver nothing more.
    EXPECT_EQ(j.deliverLogs(QueuedMessage{2, kLogChannel, ids[0], ids[0], 1}).kind, DeliveryResult::Kind::Delivered);
    EXPECT_EQ(sim.steer("GET", "/sim/api/journal/logs").json()->getArray("items")->size(), 500u);
    // The next pending message sends the remaining 100.
    EXPECT_EQ(j.deliverLogs(QueuedMessage{3, kLogChannel, ids[500], ids[500], 1}).kind, DeliveryResult::Kind::Delivered);
    const auto logs = sim.steer("GET", "/sim/api/journal/logs").json()->getArray("items");
    EXPECT_EQ(logs->size(), 600u);
    const auto calls = sim.steer("GET", "/sim/api/received?service=log").json()->getArray("items");
    int ok = 0;
    for (std::size_t i = 0; i < calls->size(); ++i)
        if (calls->getObject(static_cast<unsigned>(i))->getValue<std::string>("response").rfind("200 ", 0) == 0) ++ok;
    EXPECT_EQ(ok, 2);  // 500 + 100
    long long pending = -1;
    ctx.store().read([&](db::Connection& c) {
        auto st = c.prepare("SELECT count(*) FROM journal_national_log WHERE sent_at IS NULL");
        if (st.step()) pending = st.getInt(0);
    });
    EXPECT_EQ(pending, 0);
}
