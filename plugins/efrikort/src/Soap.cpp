#include "Soap.h"

#include "Ledger.h"

#include <klinikbox/RivTa.h>

#include <Poco/AutoPtr.h>
#include <Poco/DOM/Document.h>
#include <Poco/DOM/Element.h>
#include <Poco/DOM/NodeList.h>

namespace efrikort {

namespace {

const std::string kCore = "urn:riv:cgi:healthcare:efrikort:3";

std::string esc(const std::string& s) { return klinikbox::rivta::xmlEscape(s); }

std::string open(const std::string& op) {
    return "<" + op + " xmlns=\"urn:riv:cgi:healthcare:efrikort:" + op + "Responder:3\" xmlns:e=\"" + kCore + "\">";
}

std::string el(const std::string& name, const std::string& value) { return "<" + name + ">" + esc(value) + "</" + name + ">"; }

std::string actor(const Party& p) {
    return "<actor><e:employeeId>" + esc(p.employeeId) + "</e:employeeId><e:careProviderId>" + esc(p.careProviderId) +
           "</e:careProviderId>" + (p.careUnitId.empty() ? "" : "<e:careUnitId>" + esc(p.careUnitId) + "</e:careUnitId>") + "</actor>";
}

std::string text(Poco::XML::Element* parent, const std::string& local) {
    Poco::AutoPtr<Poco::XML::NodeList> l = parent->getElementsByTagNameNS("*", local);
    return l->length() ? l->item(0)->innerText() : std::string();
}

}  // namespace

std::string getCardBody(const Party& p, const std::string& personId, bool extended) {
    const std::string op = extended ? "GetExtendedCardForPerson" : "GetCardForPerson";
    return open(op) + el("carePrincipalId", p.carePrincipalId) + el("personId", personId) + el("cardTypeId", "CARE_VISIT") + "</" + op + ">";
}

std::string registerTransactionBody(const Party& p, const std::string& personId, const std::string& date, long long ore) {
    return open("RegisterTransaction") + el("carePrincipalId", p.carePrincipalId) + el("careProvider", p.careProviderName) +
           (p.careUnitName.empty() ? "" : el("careUnit", p.careUnitName)) + el("cardTypeId", "CARE_VISIT") + el("personId", personId) +
           el("transactionDate", date) + el("amount", soapAmount(ore)) + actor(p) + "</RegisterTransaction>";
}

std::string updateTransactionBody(const Party& p, const std::string& transactionId, const std::string& date, long long ore,
                                  const std::string& reason) {
    return open("UpdateTransaction") + el("carePrincipalId", p.carePrincipalId) + el("careProvider", p.careProviderName) +
           (p.careUnitName.empty() ? "" : el("careUnit", p.careUnitName)) + el("transactionId", transactionId) +
           el("transactionDate", date) + el("amount", soapAmount(ore)) + (reason.empty() ? "" : el("updateReason", reason)) + actor(p) +
           "</UpdateTransaction>";
}

std::string deleteTransactionBody(const Party& p, const std::string& transactionId, const std::string& reason) {
    return open("DeleteTransaction") + el("carePrincipalId", p.carePrincipalId) + el("transactionId", transactionId) +
           (reason.empty() ? "" : el("deleteReason", reason)) + actor(p) + "</DeleteTransaction>";
}

std::string registerOptInBody(const Party& p, const std::string& personId) {
    return open("RegisterOptIn") + el("carePrincipalId", p.carePrincipalId) + el("personId", personId) + el("cardTypeId", "CARE_VISIT") +
           actor(p) + "</RegisterOptIn>";
}

std::string envelope(const std::string& logicalAddress, const std::string& body) {
    return klinikbox::rivta::envelope(logicalAddress, body);
}

Result parseAnswer(const std::string& xml) {
    Poco::AutoPtr<Poco::XML::Document> doc;
    try {
        doc = klinikbox::rivta::parse(xml);
    } catch (const klinikbox::rivta::XmlError& e) {
        throw std::runtime_error(std::string("the answer is not acceptable XML: ") + e.what());
    }
    Poco::XML::Element* root = doc->documentElement();
    Poco::AutoPtr<Poco::XML::NodeList> faults = root->getElementsByTagNameNS("http://schemas.xmlsoap.org/soap/envelope/", "Fault");
    if (faults->length()) throw SoapFault("SOAP fault: " + text(static_cast<Poco::XML::Element*>(faults->item(0)), "faultstring"));
    Result r;
    r.code = text(root, "resultCode");
    if (r.code.empty()) throw std::runtime_error("the answer has no resultCode");
    r.text = text(root, "resultText");
    Poco::AutoPtr<Poco::XML::NodeList> cards = root->getElementsByTagNameNS(kCore, "card");
    if (cards->length()) {
        auto* card = static_cast<Poco::XML::Element*>(cards->item(0));
        r.hasCard = true;
        r.cardStatus = text(card, "status");
        r.amountToLimitOre = parseSoapAmount(text(card, "amountToLimit"));
        r.currentAmountOre = parseSoapAmount(text(card, "currentAmount"));
    }
    Poco::AutoPtr<Poco::XML::NodeList> txs = root->getElementsByTagNameNS(kCore, "transactions");
    for (unsigned long i = 0; i < txs->length(); ++i) {
        auto* t = static_cast<Poco::XML::Element*>(txs->item(i));
        Result::Tx x;
        x.id = text(t, "transactionId");
        x.date = text(t, "transactionDate");
        x.status = text(t, "status");
        x.careUnit = text(t, "careUnit");
        x.registered = text(t, "registrationDateTime");
        x.ore = parseSoapAmount(text(t, "amount")).value_or(0);
        r.transactions.push_back(x);
    }
    if (r.transactions.empty()) r.transactionId = text(root, "transactionId");
    return r;
}

Result call(const Endpoint& e, const std::string& contract, const std::string& envelopeXml) {
    std::string url = e.urlPattern;
    const auto p = url.find("{contract}");
    if (p != std::string::npos) url.replace(p, 10, contract);
    const klinikbox::rivta::Endpoint ep{url, e.clientCert, e.clientKey, e.caBundle, e.timeoutMs};
    klinikbox::rivta::HttpAnswer a;
    try {
        a = klinikbox::rivta::post(ep, "urn:riv:cgi:healthcare:efrikort:" + contract + "Responder:3:" + contract, envelopeXml);
    } catch (const klinikbox::rivta::TransportError& ex) {
        throw std::runtime_error(std::string("eFrikort: ") + ex.what());
    }
    if (a.status != 200 && a.body.find("Fault") == std::string::npos)
        throw std::runtime_error("eFrikort answered HTTP " + std::to_string(a.status));
    return parseAnswer(a.body);
}

}  // namespace efrikort
