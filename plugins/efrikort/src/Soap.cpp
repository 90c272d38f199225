#include "Soap.h"

#include "Ledger.h"

#include <Poco/AutoPtr.h>
#include <Poco/DOM/DOMParser.h>
#include <Poco/DOM/Document.h>
#include <Poco/DOM/Element.h>
#include <Poco/DOM/NodeList.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/SAX/SAXException.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

namespace efrikort {

namespace {

const std::string kCore = "urn:riv:cgi:healthcare:efrikort:3";

std::string esc(const std::string& s) {
    std::string o;
    for (char c : s) {
        switch (c) {
            case '&': o += "&amp;"; break;
            case '<': o += "&lt;"; break;
            case '>': o += "&gt;"; break;
            case '"': o += "&quot;"; break;
            default: o += c;
        }
    }
    return o;
}

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
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">"
           "<soap:Header><LogicalAddress xmlns=\"urn:riv:itintegration:registry:1\">" + esc(logicalAddress) +
           "</LogicalAddress></soap:Header><soap:Body>" + body + "</soap:Body></soap:Envelope>";
}

Result parseAnswer(const std::string& xml) {
    Poco::XML::DOMParser parser;
    parser.setFeature(Poco::XML::XMLReader::FEATURE_NAMESPACES, true);
    parser.setFeature(Poco::XML::XMLReader::FEATURE_EXTERNAL_GENERAL_ENTITIES, false);
    parser.setFeature(Poco::XML::XMLReader::FEATURE_EXTERNAL_PARAMETER_ENTITIES, false);
    Poco::AutoPtr<Poco::XML::Document> doc;
    try {
        doc = parser.parseString(xml);
    } catch (const Poco::Exception& e) {
        throw std::runtime_error("the answer is not XML: " + e.displayText());
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
    const Poco::URI uri(url);
    if (uri.getScheme() != "https") throw std::runtime_error("the eFrikort service URL must be https");
    Poco::Net::Context::Params params;
    params.certificateFile = e.clientCert;
    params.privateKeyFile = e.clientKey;
    params.caLocation = e.caBundle;
    params.loadDefaultCAs = e.caBundle.empty();
    params.verificationMode = Poco::Net::Context::VERIFY_RELAXED;
    Poco::Net::Context::Ptr ctx = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
    Poco::Net::HTTPSClientSession s(uri.getHost(), uri.getPort(), ctx);
    const Poco::Timespan t(static_cast<long>(e.timeoutMs) * 1000);
    s.setTimeout(t, t, t);
    Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_POST, uri.getPathAndQuery(), Poco::Net::HTTPMessage::HTTP_1_1);
    req.setContentType("text/xml; charset=utf-8");
    req.set("SOAPAction", "urn:riv:cgi:healthcare:efrikort:" + contract + "Responder:3:" + contract);
    req.setContentLength(static_cast<std::streamsize>(envelopeXml.size()));
    s.sendRequest(req) << envelopeXml;
    Poco::Net::HTTPResponse res;
    std::istream& in = s.receiveResponse(res);
    std::string body;
    Poco::StreamCopier::copyToString(in, body);
    if (res.getStatus() != 200 && body.find("Fault") == std::string::npos)
        throw std::runtime_error("eFrikort answered HTTP " + std::to_string(res.getStatus()));
    return parseAnswer(body);
}

}  // namespace efrikort
