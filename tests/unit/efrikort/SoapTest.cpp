// The eFrikort client against the simulator: bodies valid per the 3.0 schemas, answers
// parsed, faults and outages thrown so the outbox retries.
#include "Ledger.h"
#include "SimProcess.h"
#include "Soap.h"

#include <gtest/gtest.h>

using namespace efrikort;
using kbtest::SimProcess;

namespace {

Party party() {
    return Party{"SE2321000016-REG1", "Vårdcentralen Norr AB", "SE2321000016-CP01", "Vårdcentralen Norr", "SE2321000016-U001",
                 "SE2321000016-E001"};
}
Endpoint endpoint(const SimProcess& sim, int timeoutMs = 4000) {
    return Endpoint{sim.https() + "/efrikort/{contract}", sim.clientCert(), sim.clientKey(), sim.ca(), timeoutMs};
}
}  // namespace

TEST(EfrikortSoap, EveryRequestBodyValidatesAgainstTheSchemas) {
    if (!kbtest::efrikortSchemasFound()) GTEST_SKIP() << "the eFrikort 3.0 schemas are not on this machine (set KB_SHARED_DIR)";
    const auto p = party();
    EXPECT_EQ(kbtest::validateXml(getCardBody(p, "191212121212", false), kbtest::efrikortXsd("GetCardForPerson")), "");
    EXPECT_EQ(kbtest::validateXml(getCardBody(p, "191212121212", true), kbtest::efrikortXsd("GetExtendedCardForPerson")), "");
    EXPECT_EQ(kbtest::validateXml(registerTransactionBody(p, "191212121212", "2026-11-23", 20000), kbtest::efrikortXsd("RegisterTransaction")), "");
    EXPECT_EQ(kbtest::validateXml(updateTransactionBody(p, "0b7f1c1e-0000-4000-8000-000000000001", "2026-11-23", 10000, "rättelse"),
                                  kbtest::efrikortXsd("UpdateTransaction")), "");
    EXPECT_EQ(kbtest::validateXml(deleteTransactionBody(p, "0b7f1c1e-0000-4000-8000-000000000001", "återbetald"),
                                  kbtest::efrikortXsd("DeleteTransaction")), "");
    EXPECT_EQ(kbtest::validateXml(registerOptInBody(p, "191212121212"), kbtest::efrikortXsd("RegisterOptIn")), "");
    // Names with XML characters are escaped, not injected.
    auto q = p;
    q.careUnitName = "Vård & <hälsa>";
    EXPECT_EQ(kbtest::validateXml(registerTransactionBody(q, "191212121212", "2026-11-23", 20000), kbtest::efrikortXsd("RegisterTransaction")), "");
}

TEST(EfrikortSoap, RegistersLooksUpCorrectsAndDeletesAgainstTheSimulator) {
    SimProcess sim;
    sim.setClockStart(kbtest::kFixtureClock);
    sim.start();
    const auto p = party();
    const auto e = endpoint(sim);
    auto card = call(e, "GetCardForPerson", envelope(p.carePrincipalId, getCardBody(p, "191212121212", false)));
    EXPECT_EQ(card.code, "OK");
    EXPECT_FALSE(card.hasCard);
    auto reg = call(e, "RegisterTransaction", envelope(p.carePrincipalId, registerTransactionBody(p, "191212121212", "2026-11-23", 140000)));
    ASSERT_EQ(reg.code, "OK");
    ASSERT_EQ(reg.transactionId.size(), 36u);
    card = call(e, "GetCardForPerson", envelope(p.carePrincipalId, getCardBody(p, "191212121212", false)));
    EXPECT_EQ(card.cardStatus, "BELOW_LIMIT");
    EXPECT_EQ(card.amountToLimitOre, 5000);
    auto ext = call(e, "GetExtendedCardForPerson", envelope(p.carePrincipalId, getCardBody(p, "191212121212", true)));
    ASSERT_EQ(ext.transactions.size(), 1u);
    EXPECT_EQ(ext.transactions[0].ore, 140000);
    EXPECT_EQ(ext.transactions[0].careUnit, "Vårdcentralen Norr");
    auto upd = call(e, "UpdateTransaction", envelope(p.carePrincipalId, updateTransactionBody(p, reg.transactionId, "2026-11-23", 100000, "")));
    EXPECT_EQ(upd.code, "OK");
    auto del = call(e, "DeleteTransaction", envelope(p.carePrincipalId, deleteTransactionBody(p, reg.transactionId, "")));
    EXPECT_EQ(del.code, "OK");
    // Every request the client sent validates (as the simulator received them).
    const auto got = sim.steer("GET", "/sim/api/received?service=efrikort").json()->getArray("items");
    for (std::size_t i = 0; i < got->size(); ++i) {
        const auto item = got->getObject(static_cast<unsigned>(i));
        EXPECT_EQ(kbtest::validateXml(kbtest::soapBodyChild(item->getValue<std::string>("request")),
                                      kbtest::efrikortXsd(item->getValue<std::string>("operation"))),
                  "");
    }
}

TEST(EfrikortSoap, FaultsOutagesAndOptInRequiredAreToldApart) {
    SimProcess sim("", 3000);
    sim.setClockStart(kbtest::kFixtureClock);
    sim.start();
    const auto p = party();
    sim.steer("POST", "/sim/api/faults", R"({"service":"efrikort","kind":"fail"})");
    EXPECT_THROW((void)call(endpoint(sim), "GetCardForPerson", envelope(p.carePrincipalId, getCardBody(p, "191212121212", false))), SoapFault);
    sim.steer("POST", "/sim/api/faults", R"({"service":"efrikort","kind":"http500"})");
    EXPECT_THROW((void)call(endpoint(sim), "GetCardForPerson", envelope(p.carePrincipalId, getCardBody(p, "191212121212", false))),
                 std::runtime_error);
    sim.steer("POST", "/sim/api/faults", R"({"service":"efrikort","kind":"timeout"})");
    EXPECT_THROW((void)call(endpoint(sim, 500), "GetCardForPerson", envelope(p.carePrincipalId, getCardBody(p, "191212121212", false))),
                 std::exception);
    sim.steer("PUT", "/sim/api/efrikort/persons/199001012385", R"({"opt_in": false})");
    auto r = call(endpoint(sim), "RegisterTransaction", envelope(p.carePrincipalId, registerTransactionBody(p, "199001012385", "2026-11-23", 100)));
    EXPECT_EQ(r.code, "OPTINREQUIRED");
    // The wrong client certificate (none) is refused by the service.
    auto noCert = endpoint(sim);
    noCert.clientCert.clear();
    noCert.clientKey.clear();
    EXPECT_THROW((void)call(noCert, "GetCardForPerson", envelope(p.carePrincipalId, getCardBody(p, "191212121212", false))), std::exception);
    EXPECT_THROW((void)parseAnswer("<not-soap"), std::runtime_error);
    EXPECT_THROW((void)parseAnswer("<a/>"), std::runtime_error);
}
