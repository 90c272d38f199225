// klinikbox-sim speaks the outside services' protocols: mutual TLS, eFrikort SOAP whose
// bodies validate against the eFrikort 3.0 schemas, Swish-style payments with callbacks,
// BankID-style identification, fault injection and state that survives a restart.
#include "SimProcess.h"

#include <chrono>
#include <thread>

#include <Poco/JSON/Array.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace kbtest;
namespace fs = std::filesystem;

namespace {

std::string xsdFor(const std::string& op) { return efrikortXsd(op); }
std::string bodyChild(const std::string& envelope) { return soapBodyChild(envelope); }
std::string validate(const std::string& xml, const std::string& xsd) { return validateXml(xml, xsd); }

std::string envelope(const std::string& body) {
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">"
           "<soap:Header><LogicalAddress xmlns=\"urn:riv:itintegration:registry:1\">SE2321000016-REG1</LogicalAddress></soap:Header>"
           "<soap:Body>" + body + "</soap:Body></soap:Envelope>";
}

std::string ns(const std::string& op) { return "urn:riv:cgi:healthcare:efrikort:" + op + "Responder:3"; }

const std::string kActor = "<actor><e:employeeId>SE2321000016-E001</e:employeeId><e:careProviderId>SE2321000016-CP01</e:careProviderId></actor>";

std::string getCard(const std::string& pnr) {
    return "<GetCardForPerson xmlns=\"" + ns("GetCardForPerson") + "\"><carePrincipalId>SE2321000016-REG1</carePrincipalId><personId>" +
           pnr + "</personId><cardTypeId>CARE_VISIT</cardTypeId></GetCardForPerson>";
}
std::string registerTx(const std::string& pnr, const std::string& amount) {
    return "<RegisterTransaction xmlns=\"" + ns("RegisterTransaction") + "\" xmlns:e=\"urn:riv:cgi:healthcare:efrikort:3\">"
           "<carePrincipalId>SE2321000016-REG1</carePrincipalId><careProvider>Vårdcentralen Norr AB</careProvider>"
           "<careUnit>Vårdcentralen Norr</careUnit><cardTypeId>CARE_VISIT</cardTypeId><personId>" + pnr +
           "</personId><transactionDate>2026-11-23</transactionDate><amount>" + amount + "</amount>" + kActor + "</RegisterTransaction>";
}

// Calls an eFrikort operation; checks that request and response validate.
SimResult efrikort(const SimProcess& sim, const std::string& op, const std::string& body) {
    EXPECT_EQ(validate(body, xsdFor(op)), "") << "request of " << op;
    auto r = sim.call("POST", "/efrikort/" + op, envelope(body), "text/xml; charset=utf-8");
    if (r.status == 200) {
        EXPECT_EQ(validate(bodyChild(r.body), xsdFor(op)), "") << "response of " << op << ": " << r.body;
    }
    return r;
}

std::string text(const std::string& xml, const std::string& local) {
    const auto p = xml.find(":" + local + ">");
    if (p == std::string::npos) return {};
    const auto s = p + local.size() + 2;
    return xml.substr(s, xml.find('<', s) - s);
}

}  // namespace

TEST(SimTls, ServicesRequireTheClientCertificate) {
    SimProcess sim;
    sim.start();
    EXPECT_THROW((void)sim.call("POST", "/efrikort/GetCardForPerson", envelope(getCard("191212121212")), "text/xml", false),
                 std::exception);
    EXPECT_EQ(sim.call("POST", "/efrikort/GetCardForPerson", envelope(getCard("191212121212")), "text/xml").status, 200);
}

TEST(SimEfrikort, FeesAccumulateToAFrikortAndEveryBodyValidates) {
    SimProcess sim;
    sim.setClockStart(kbtest::kFixtureClock);
    sim.start();
    auto none = efrikort(sim, "GetCardForPerson", getCard("191212121212"));
    ASSERT_EQ(none.status, 200) << none.body;
    EXPECT_EQ(text(none.body, "resultCode"), "OK");
    EXPECT_EQ(none.body.find("<e:card>"), std::string::npos);

    auto r1 = efrikort(sim, "RegisterTransaction", registerTx("191212121212", "1200.00"));
    ASSERT_EQ(r1.status, 200) << r1.body;
    const std::string tx = text(r1.body, "transactionId");
    EXPECT_EQ(tx.size(), 36u);
    auto card = efrikort(sim, "GetCardForPerson", getCard("191212121212"));
    EXPECT_EQ(text(card.body, "status"), "BELOW_LIMIT");
    EXPECT_EQ(text(card.body, "amountToLimit"), "250.00");
    auto r2 = efrikort(sim, "RegisterTransaction", registerTx("191212121212", "250.00"));
    ASSERT_EQ(r2.status, 200);
    card = efrikort(sim, "GetCardForPerson", getCard("191212121212"));
    EXPECT_EQ(text(card.body, "status"), "FINAL");
    EXPECT_EQ(text(card.body, "amountToLimit"), "0.00");

    auto ext = efrikort(sim, "GetExtendedCardForPerson",
                        "<GetExtendedCardForPerson xmlns=\"" + ns("GetExtendedCardForPerson") +
                            "\"><carePrincipalId>SE2321000016-REG1</carePrincipalId><personId>191212121212</personId><cardTypeId>CARE_VISIT</cardTypeId></GetExtendedCardForPerson>");
    EXPECT_NE(ext.body.find(tx), std::string::npos);

    // A correction and a deletion.
    auto upd = efrikort(sim, "UpdateTransaction",
                        "<UpdateTransaction xmlns=\"" + ns("UpdateTransaction") + "\" xmlns:e=\"urn:riv:cgi:healthcare:efrikort:3\">"
                        "<carePrincipalId>SE2321000016-REG1</carePrincipalId><careProvider>Vårdcentralen Norr AB</careProvider>"
                        "<transactionId>" + tx + "</transactionId><transactionDate>2026-11-23</transactionDate><amount>1000.00</amount>"
                        "<updateReason>rättelse</updateReason>" + kActor + "</UpdateTransaction>");
    EXPECT_EQ(text(upd.body, "resultCode"), "OK") << upd.body;
    card = efrikort(sim, "GetCardForPerson", getCard("191212121212"));
    EXPECT_EQ(text(card.body, "amountToLimit"), "200.00");
    auto del = efrikort(sim, "DeleteTransaction",
                        "<DeleteTransaction xmlns=\"" + ns("DeleteTransaction") + "\" xmlns:e=\"urn:riv:cgi:healthcare:efrikort:3\">"
                        "<carePrincipalId>SE2321000016-REG1</carePrincipalId><transactionId>" + tx + "</transactionId>" + kActor +
                        "</DeleteTransaction>");
    EXPECT_EQ(text(del.body, "resultCode"), "OK") << del.body;
    const auto person = sim.steer("GET", "/sim/api/efrikort/persons/191212121212").json();
    EXPECT_EQ(person->getValue<long long>("current_ore"), 25000);
}

TEST(SimEfrikort, OptInRequiredUntilThePatientJoins) {
    SimProcess sim;
    sim.setClockStart(kbtest::kFixtureClock);
    sim.start();
    ASSERT_EQ(sim.steer("PUT", "/sim/api/efrikort/persons/199001012385", R"({"opt_in": false})").status, 200);
    auto r = efrikort(sim, "RegisterTransaction", registerTx("199001012385", "200.00"));
    EXPECT_EQ(text(r.body, "resultCode"), "OPTINREQUIRED");
    auto opt = efrikort(sim, "RegisterOptIn",
                        "<RegisterOptIn xmlns=\"" + ns("RegisterOptIn") + "\" xmlns:e=\"urn:riv:cgi:healthcare:efrikort:3\">"
                        "<carePrincipalId>SE2321000016-REG1</carePrincipalId><personId>199001012385</personId>"
                        "<cardTypeId>CARE_VISIT</cardTypeId>" + kActor + "</RegisterOptIn>");
    EXPECT_EQ(text(opt.body, "resultCode"), "OK") << opt.body;
    r = efrikort(sim, "RegisterTransaction", registerTx("199001012385", "200.00"));
    EXPECT_EQ(text(r.body, "resultCode"), "OK");
}

TEST(SimFaults, ArmedFaultsHitTheNextCallsOnly) {
    SimProcess sim;
    sim.setClockStart(kbtest::kFixtureClock);
    sim.start();
    ASSERT_EQ(sim.steer("POST", "/sim/api/faults", R"({"service":"efrikort","operation":"RegisterTransaction","kind":"fail","count":2})").status, 204);
    for (int i = 0; i < 2; ++i) {
        auto r = sim.call("POST", "/efrikort/RegisterTransaction", envelope(registerTx("191212121212", "100")), "text/xml");
        EXPECT_EQ(r.status, 500);
        EXPECT_NE(r.body.find("soap:Fault"), std::string::npos);
    }
    EXPECT_EQ(sim.call("POST", "/efrikort/RegisterTransaction", envelope(registerTx("191212121212", "100")), "text/xml").status, 200);
    sim.steer("POST", "/sim/api/faults", R"({"service":"efrikort","kind":"optinrequired"})");
    auto r = sim.call("POST", "/efrikort/GetCardForPerson", envelope(getCard("191212121212")), "text/xml");
    EXPECT_EQ(text(r.body, "resultCode"), "OPTINREQUIRED");
    const auto got = sim.steer("GET", "/sim/api/received?service=efrikort").json()->getArray("items");
    EXPECT_EQ(got->size(), 4u);
}

TEST(SimSwish, PaymentRequestsAreValidatedSettledAndCancelledLikeSwish) {
    SimProcess sim;
    sim.start();
    // e-commerce: the payer's number is given, the payer opens Swish themselves.
    const std::string ok =
        R"({"payeeAlias":"1231181189","payerAlias":"46701234567","amount":"200.00","currency":"SEK","callbackUrl":"https://127.0.0.1/cb","message":"Besök 2026-11-23"})";
    auto bad = sim.call("PUT", "/swish-cpcapi/api/v2/paymentrequests/abc", ok, "application/json");
    EXPECT_EQ(bad.status, 422);
    EXPECT_NE(bad.body.find("RP01"), std::string::npos);
    auto badAmount = sim.call("PUT", "/swish-cpcapi/api/v2/paymentrequests/0123456789ABCDEF0123456789ABCDEF",
                              R"({"payeeAlias":"1231181189","amount":"2,00","currency":"SEK","callbackUrl":"https://x/cb"})", "application/json");
    EXPECT_EQ(badAmount.status, 422);
    EXPECT_NE(badAmount.body.find("AM02"), std::string::npos);
    // '/' is outside Swish's character set; Swish calls back only on port 443.
    auto slash = sim.call("PUT", "/swish-cpcapi/api/v2/paymentrequests/0123456789ABCDEF0123456789ABCDEF",
                          R"({"payeeAlias":"1231181189","amount":"2.00","currency":"SEK","callbackUrl":"https://x/cb","message":"Besök 23/11"})",
                          "application/json");
    EXPECT_EQ(slash.status, 422);
    EXPECT_NE(slash.body.find("RP02"), std::string::npos);
    auto port = sim.call("PUT", "/swish-cpcapi/api/v2/paymentrequests/0123456789ABCDEF0123456789ABCDEF",
                         R"({"payeeAlias":"1231181189","amount":"2.00","currency":"SEK","callbackUrl":"https://x:8443/cb"})", "application/json");
    EXPECT_EQ(port.status, 422);
    EXPECT_NE(port.body.find("RP03"), std::string::npos);
    const std::string id = "11111111111111111111111111111111";
    const auto created = sim.call("PUT", "/swish-cpcapi/api/v2/paymentrequests/" + id, ok, "application/json");
    EXPECT_EQ(created.status, 201);
    EXPECT_EQ(created.headers.count("PaymentRequestToken"), 0u) << "e-commerce has no token";
    EXPECT_NE(created.headers.at("Location").find(id), std::string::npos);
    EXPECT_EQ(sim.call("PUT", "/swish-cpcapi/api/v2/paymentrequests/" + id, ok, "application/json").status, 409);
    auto st = sim.call("GET", "/swish-cpcapi/api/v1/paymentrequests/" + id, "", "application/json");
    EXPECT_EQ(st.json()->getValue<std::string>("status"), "CREATED");
    EXPECT_EQ(sim.steer("POST", "/sim/api/swish/paymentrequests/" + id + "/settle", R"({"status":"PAID"})").status, 204);
    st = sim.call("GET", "/swish-cpcapi/api/v1/paymentrequests/" + id, "", "application/json");
    EXPECT_EQ(st.json()->getValue<std::string>("status"), "PAID");
    const std::string reference = st.json()->getValue<std::string>("paymentReference");
    EXPECT_FALSE(reference.empty());
    auto cancel = sim.call("PATCH", "/swish-cpcapi/api/v1/paymentrequests/" + id, R"([{"op":"replace","path":"/status","value":"cancelled"}])",
                           "application/json-patch+json");
    EXPECT_EQ(cancel.status, 422);
    EXPECT_NE(cancel.body.find("RP07"), std::string::npos);
    const std::string id2 = "22222222222222222222222222222222";
    EXPECT_EQ(sim.call("PUT", "/swish-cpcapi/api/v2/paymentrequests/" + id2, ok, "application/json").status, 201);
    cancel = sim.call("PATCH", "/swish-cpcapi/api/v1/paymentrequests/" + id2, R"([{"op":"replace","path":"/status","value":"cancelled"}])",
                      "application/json-patch+json");
    EXPECT_EQ(cancel.status, 200);
    EXPECT_EQ(cancel.json()->getValue<std::string>("status"), "CANCELLED");

    // A refund as the real API takes it: the merchant is the payer, the original payment is
    // named by its paymentReference, and no more than what was paid comes back in total.
    const std::string refund = R"({"originalPaymentReference":")" + reference +
                               R"(","callbackUrl":"https://127.0.0.1/cb","payerAlias":"1231181189","amount":"150.00","currency":"SEK","message":"Återbetalning"})";
    EXPECT_EQ(sim.call("PUT", "/swish-cpcapi/api/v2/refunds/33333333333333333333333333333333", refund, "application/json").status, 201);
    auto tooMuch = sim.call("PUT", "/swish-cpcapi/api/v2/refunds/44444444444444444444444444444444", refund, "application/json");
    EXPECT_EQ(tooMuch.status, 422) << "150 + 150 > 200";
    EXPECT_NE(tooMuch.body.find("RF03"), std::string::npos);
    auto unknown = sim.call("PUT", "/swish-cpcapi/api/v2/refunds/55555555555555555555555555555555",
                            R"({"originalPaymentReference":"NOSUCHPAYMENT","callbackUrl":"https://127.0.0.1/cb","payerAlias":"1231181189","amount":"1.00","currency":"SEK"})",
                            "application/json");
    EXPECT_EQ(unknown.status, 422);
    EXPECT_NE(unknown.body.find("RF02"), std::string::npos);
    EXPECT_EQ(sim.call("GET", "/swish-cpcapi/api/v1/refunds/33333333333333333333333333333333", "", "application/json")
                  .json()->getValue<std::string>("status"),
              "PAID");
}

TEST(SimSwish, AnMCommerceRequestIsPaidOnlyAfterItsTokenWasScanned) {
    SimProcess sim;
    sim.start();
    // No payerAlias: m-commerce. The answer's token is the only way to the request.
    const std::string body = R"({"payeeAlias":"1231181189","amount":"300.00","currency":"SEK","callbackUrl":"https://127.0.0.1/cb","message":"Besök"})";
    const std::string id = "66666666666666666666666666666666";
    const auto created = sim.call("PUT", "/swish-cpcapi/api/v2/paymentrequests/" + id, body, "application/json");
    ASSERT_EQ(created.status, 201);
    ASSERT_EQ(created.headers.count("PaymentRequestToken"), 1u);
    const std::string token = created.headers.at("PaymentRequestToken");
    EXPECT_EQ(token.size(), 32u);
    // Nobody scanned it: the payer cannot have paid, and "auto" waits for the scan too.
    sim.steer("POST", "/sim/api/swish/auto", R"({"status":"PAID","delay_ms":0})");
    const auto early = sim.steer("POST", "/sim/api/swish/paymentrequests/" + id + "/settle", R"({"status":"PAID"})");
    EXPECT_EQ(early.status, 409);
    EXPECT_NE(early.body.find("scanned"), std::string::npos);
    EXPECT_EQ(sim.steer("POST", "/sim/api/swish/scan", R"({"code":"Dnotatoken"})").status, 409);
    // The QR code's text is "D" and the token.
    EXPECT_EQ(sim.steer("POST", "/sim/api/swish/scan", R"({"code":"D)" + token + R"("})").status, 204);
    std::string status;
    for (int i = 0; i < 400 && status != "PAID"; ++i) {
        status = sim.call("GET", "/swish-cpcapi/api/v1/paymentrequests/" + id, "", "application/json").json()->getValue<std::string>("status");
        if (status != "PAID") std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    EXPECT_EQ(status, "PAID") << "settled by itself once scanned";

    // The demo's page offers the scan as a button (a form post of the QR code's text).
    sim.steer("POST", "/sim/api/swish/auto", R"({"status":"","delay_ms":0})");
    const std::string id2 = "77777777777777777777777777777777";
    const auto second = sim.call("PUT", "/swish-cpcapi/api/v2/paymentrequests/" + id2, body, "application/json");
    ASSERT_EQ(second.status, 201);
    const auto page = sim.steer("GET", "/");
    EXPECT_NE(page.body.find("Skanna QR-koden"), std::string::npos);
    EXPECT_NE(page.body.find("D" + second.headers.at("PaymentRequestToken")), std::string::npos);
    EXPECT_EQ(sim.steer("POST", "/sim/swish/scan", "code=D" + second.headers.at("PaymentRequestToken")).status, 303);
    EXPECT_EQ(sim.steer("POST", "/sim/api/swish/paymentrequests/" + id2 + "/settle", R"({"status":"PAID"})").status, 204);
}

TEST(SimState, CardsAndPaymentsSurviveARestart) {
    const std::string dir = (fs::temp_directory_path() / ("kbsim-restart-" + std::to_string(::getpid()))).string();
    {
        SimProcess sim(dir);
        sim.setClockStart(kbtest::kFixtureClock);
        sim.start();
        ASSERT_EQ(sim.call("POST", "/efrikort/RegisterTransaction", envelope(registerTx("191212121212", "300.00")), "text/xml").status, 200);
        sim.stop();
        sim.start();
        const auto p = sim.steer("GET", "/sim/api/efrikort/persons/191212121212").json();
        EXPECT_EQ(p->getValue<long long>("current_ore"), 30000);
        EXPECT_EQ(p->getArray("transactions")->size(), 1u);
    }
    fs::remove_all(dir);
}

TEST(SimBankId, AnOrderCompletesAsTheSteeredPerson) {
    SimProcess sim;
    sim.start();
    ASSERT_EQ(sim.steer("POST", "/sim/api/bankid/next", R"({"personalNumber":"191212121212","name":"Tolvan Tolvansson"})").status, 204);
    auto auth = sim.call("POST", "/bankid/rp/v6.0/auth", R"({"endUserIp":"127.0.0.1"})", "application/json");
    ASSERT_EQ(auth.status, 200) << auth.body;
    const std::string ref = auth.json()->getValue<std::string>("orderRef");
    auto c1 = sim.call("POST", "/bankid/rp/v6.0/collect", R"({"orderRef":")" + ref + "\"}", "application/json");
    EXPECT_EQ(c1.json()->getValue<std::string>("status"), "pending");
    auto c2 = sim.call("POST", "/bankid/rp/v6.0/collect", R"({"orderRef":")" + ref + "\"}", "application/json");
    EXPECT_EQ(c2.json()->getValue<std::string>("status"), "complete");
    EXPECT_EQ(c2.json()->getObject("completionData")->getObject("user")->getValue<std::string>("personalNumber"), "191212121212");
    // Without a steered person, the user cancels.
    auth = sim.call("POST", "/bankid/rp/v6.0/auth", R"({"endUserIp":"127.0.0.1"})", "application/json");
    const std::string ref2 = auth.json()->getValue<std::string>("orderRef");
    (void)sim.call("POST", "/bankid/rp/v6.0/collect", R"({"orderRef":")" + ref2 + "\"}", "application/json");
    auto f = sim.call("POST", "/bankid/rp/v6.0/collect", R"({"orderRef":")" + ref2 + "\"}", "application/json");
    EXPECT_EQ(f.json()->getValue<std::string>("status"), "failed");
    EXPECT_EQ(f.json()->getValue<std::string>("hintCode"), "userCancel");
}

TEST(SimSms, MessagesNeedATokenAndAreRecorded) {
    SimProcess sim;
    sim.start();
    EXPECT_EQ(sim.steer("POST", "/sms/messages", R"({"to":"+46701234567","text":"hej"})").status, 401);
    const auto items = sim.steer("GET", "/sim/api/received?service=sms").json()->getArray("items");
    EXPECT_EQ(items->size(), 1u);
}
