// The local ledger and its registration in eFrikort, on a fake context with a real SQLite
// store, against the simulator: a fee is registered once, each refund counts once however
// often it is reported or its correction delivered, and the transaction ends at what was
// charged minus every refund, in whatever order the corrections are delivered.
#include "FakePluginContext.h"
#include "Registrations.h"
#include "SimProcess.h"
#include "TempDir.h"

#include <Poco/JSON/Object.h>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace efrikort;
using namespace klinikbox;
using kbtest::SimProcess;

namespace {

const std::string kPatient = "199001012385";

struct NoAudit : Audit {
    int records = 0;
    void record(const Request&, const AuditEntry&) override { ++records; }
    void record(const Request&, const AuditEntry&, db::Connection&) override { ++records; }
    void recordSystem(const AuditEntry&) override { ++records; }
};

class EfrikortRegistrations : public ::testing::Test {
protected:
    kbtest::TempDir dir;
    FixedClock clock{std::chrono::system_clock::time_point(std::chrono::seconds(1795600000))};  // 2026-11-25
    kbtest::BasicFakeContext<NoAudit> ctx{"efrikort", dir.file("box.db"), clock};
    SimProcess sim;
    Settings settings;
    std::unique_ptr<Registrations> regs;

    void SetUp() override {
        for (const char* m : {"0001_ledger.sql", "0002_refunds.sql"}) {
            std::ifstream in(std::string(KB_SOURCE_DIR) + "/plugins/efrikort/migrations/" + m);
            std::stringstream ss;
            ss << in.rdbuf();
            ASSERT_FALSE(ss.str().empty()) << m;
            ctx.storeImpl.unguarded(ss.str());
        }
        sim.start();
        settings.party = Party{"SE2321000016-REG1", "Vårdcentralen Norr AB", "SE2321000016-CP01", "Vårdcentralen Norr",
                               "SE2321000016-U001", "SE2321000016-E001"};
        settings.endpoint = Endpoint{sim.https() + "/efrikort/{contract}", sim.clientCert(), sim.clientKey(), sim.ca(), 4000};
        regs = std::make_unique<Registrations>(ctx, settings);
    }

    static Event event(const std::string& name, const std::vector<std::pair<std::string, Poco::Dynamic::Var>>& fields) {
        Poco::JSON::Object::Ptr p = new Poco::JSON::Object;
        for (const auto& [k, v] : fields) p->set(k, v);
        return Event{name, p, std::nullopt, ""};
    }
    void paid(const std::string& payment, long long ore) {
        auto e = event("checkin.fee.paid", {{"payment_id", payment}, {"patient", kPatient}, {"care_unit", "SE2321000016-U001"},
                                            {"visit_date", "2026-11-25"}, {"charged_ore", ore}, {"fee_ore", ore}});
        regs->onPaid(e);
    }
    void refunded(const std::string& payment, const std::string& refund, long long ore) {
        auto e = event("checkin.fee.refunded", {{"payment_id", payment}, {"refund_id", refund}, {"refunded_ore", ore}});
        regs->onRefunded(e);
    }
    // The queued message of a channel with this key (the last one queued; the real outbox
    // keeps one per key).
    QueuedMessage queued(const std::string& key, int attempt = 1) {
        for (auto it = ctx.outboxImpl.queued.rbegin(); it != ctx.outboxImpl.queued.rend(); ++it)
            if (it->idempotencyKey == key) return QueuedMessage{1, it->channel, it->payload, it->idempotencyKey, attempt};
        ADD_FAILURE() << "nothing queued as " << key;
        return {};
    }
    // The transactions eFrikort holds for the patient (not deleted).
    std::vector<Result::Tx> national() {
        const auto r = soap(settings, "GetExtendedCardForPerson", getCardBody(settings.party, kPatient, true));
        std::vector<Result::Tx> out;
        for (const auto& t : r.transactions)
            if (t.status != "DELETED") out.push_back(t);
        return out;
    }
};

TEST_F(EfrikortRegistrations, EachRefundCountsOnceInWhateverOrderAndHoweverOftenItsCorrectionIsDelivered) {
    paid("p1", 30000);
    ASSERT_EQ(regs->deliverRegister(queued("register-p1")).kind, DeliveryResult::Kind::Delivered);
    ASSERT_EQ(regs->row("p1")->state, "registered");
    ASSERT_EQ(national().size(), 1u);
    EXPECT_EQ(national()[0].ore, 30000);

    refunded("p1", "1", 10000);
    refunded("p1", "1", 10000);  // the same event delivered twice
    refunded("p1", "2", 5000);
    EXPECT_EQ(regs->row("p1")->refunded, 15000) << "each refund once";
    // The corrections arrive in reverse order, and the first one twice.
    EXPECT_EQ(regs->deliverCorrect(queued("correct-p1-2")).kind, DeliveryResult::Kind::Delivered);
    EXPECT_EQ(regs->deliverCorrect(queued("correct-p1-1")).kind, DeliveryResult::Kind::Delivered);
    EXPECT_EQ(regs->deliverCorrect(queued("correct-p1-1", 2)).kind, DeliveryResult::Kind::Delivered);
    EXPECT_EQ(regs->row("p1")->refunded, 15000);
    ASSERT_EQ(national().size(), 1u);
    EXPECT_EQ(national()[0].ore, 15000);

    // Refunding the rest deletes the transaction.
    refunded("p1", "3", 15000);
    EXPECT_EQ(regs->deliverCorrect(queued("correct-p1-3")).kind, DeliveryResult::Kind::Delivered);
    EXPECT_EQ(regs->row("p1")->state, "deleted");
    EXPECT_TRUE(national().empty());
}

TEST_F(EfrikortRegistrations, ARefundBeforeTheRegistrationIsCountedOnceAndOnlyWhatIsLeftIsRegistered) {
    paid("p2", 30000);
    refunded("p2", "7", 10000);
    // The correction waits for the registration, however often it is tried: it never adds
    // the refund again (it once did, on every retry).
    for (int attempt = 1; attempt <= 3; ++attempt)
        EXPECT_EQ(regs->deliverCorrect(queued("correct-p2-7", attempt)).kind, DeliveryResult::Kind::Retry);
    EXPECT_EQ(regs->row("p2")->refunded, 10000);
    ASSERT_EQ(regs->deliverRegister(queued("register-p2")).kind, DeliveryResult::Kind::Delivered);
    ASSERT_EQ(national().size(), 1u);
    EXPECT_EQ(national()[0].ore, 20000);
    EXPECT_EQ(regs->deliverCorrect(queued("correct-p2-7", 4)).kind, DeliveryResult::Kind::Delivered);
    EXPECT_EQ(national()[0].ore, 20000);
}

TEST_F(EfrikortRegistrations, ARefundOfAFeeNotPaidThroughUsIsIgnoredAndABadEventIsRefused) {
    refunded("unknown", "1", 10000);
    EXPECT_TRUE(ctx.outboxImpl.queued.empty());
    auto e = event("checkin.fee.refunded", {{"payment_id", "p1"}, {"refunded_ore", 100}});
    EXPECT_THROW(regs->onRefunded(e), std::invalid_argument) << "no refund_id";
    paid("p3", 20000);
    refunded("p3", "1", 50000);
    EXPECT_EQ(regs->row("p3")->refunded, 20000) << "never more than was charged";
}

}  // namespace
