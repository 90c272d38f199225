#include "EfrikortSim.h"

#include <Poco/AutoPtr.h>
#include <Poco/DOM/DOMParser.h>
#include <Poco/DOM/Document.h>
#include <Poco/DOM/Element.h>
#include <Poco/DOM/NodeList.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/SAX/XMLReader.h>
#include <Poco/URI.h>

#include <algorithm>
#include <regex>
#include <stdexcept>
#include <vector>

namespace sim {

using Poco::JSON::Array;

namespace {

struct CardView {
    std::string status = "BELOW_LIMIT", startDate, finalDate, endDate;
    long long currentOre = 0, toLimitOre = 0;
};

// The 12-month window: it starts at the first counted fee; when the fees reach the ceiling
// the card is FINAL until the window ends; otherwise the window rolls (only the last 12 months).
CardView cardOf(const Person& p) {
    CardView v;
    const long long now = daysOf(today());
    std::vector<const Transaction*> ts;
    for (const auto& t : p.transactions)
        if (t.status != "DELETED") ts.push_back(&t);
    std::sort(ts.begin(), ts.end(), [](auto* a, auto* b) { return a->date < b->date; });
    long long start = -1, sum = p.accumulatedOre;
    for (const auto* t : ts) {
        const long long d = daysOf(t->date);
        if (start < 0 || d >= start + 365) {
            if (start >= 0 && sum >= p.ceilingOre && d < start + 365) continue;
            start = d;
            sum = p.accumulatedOre;
        }
        sum += t->amountOre;
        if (sum >= p.ceilingOre && v.finalDate.empty()) v.finalDate = t->date;
    }
    if (start >= 0 && now >= start + 365) {  // the window is over: count only the last 12 months
        sum = p.accumulatedOre;
        start = -1;
        v.finalDate.clear();
        for (const auto* t : ts)
            if (daysOf(t->date) > now - 365) {
                if (start < 0) start = daysOf(t->date);
                sum += t->amountOre;
            }
    }
    v.currentOre = sum;
    v.toLimitOre = std::max(0LL, p.ceilingOre - sum);
    if (start >= 0) {
        v.startDate = dateOf(start);
        v.endDate = dateOf(start + 364);
    }
    if (sum >= p.ceilingOre) v.status = "FINAL";
    if (!p.statusOverride.empty()) v.status = p.statusOverride;
    if (v.status == "PRELIMINARY" || v.status == "FINAL") v.toLimitOre = 0;
    return v;
}

const char* kSoapNs = "http://schemas.xmlsoap.org/soap/envelope/";
const char* kEfrikortCoreNs = "urn:riv:cgi:healthcare:efrikort:3";

std::string envelope(const std::string& body) {
    return std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?><soap:Envelope xmlns:soap=\"") + kSoapNs + "\"><soap:Body>" + body +
           "</soap:Body></soap:Envelope>";
}

std::string soapFault(const std::string& text) {
    return envelope("<soap:Fault><faultcode>soap:Server</faultcode><faultstring>" + xmlEscape(text) + "</faultstring></soap:Fault>");
}

std::string resultXml(const std::string& code, const std::string& text = {}) {
    return "<e:result><e:resultCode>" + code + "</e:resultCode>" + (text.empty() ? "" : "<e:resultText>" + xmlEscape(text) + "</e:resultText>") +
           "</e:result>";
}

std::string cardXml(const std::string& pnr, const Person& p, const std::string& principal) {
    const auto v = cardOf(p);
    std::string x = "<e:card><e:cardSystemId>" + p.cardSystemId + "</e:cardSystemId><e:cardType><e:id>CARE_VISIT</e:id><e:name>Öppen hälso- och sjukvård</e:name></e:cardType>"
                    "<e:persons><e:id>" + pnr + "</e:id><e:readConsent>true</e:readConsent></e:persons>";
    if (!v.startDate.empty()) x += "<e:startDate>" + v.startDate + "</e:startDate>";
    if (!v.finalDate.empty() && v.status == "FINAL") x += "<e:finalCardDate>" + v.finalDate + "</e:finalCardDate>";
    if (!v.endDate.empty()) x += "<e:endDate>" + v.endDate + "</e:endDate>";
    x += "<e:currentAmount>" + amountText(v.currentOre) + "</e:currentAmount><e:amountToLimit>" + amountText(v.toLimitOre) +
         "</e:amountToLimit>";
    if (v.status == "FINAL" || v.status == "PRELIMINARY") x += "<e:cardId>" + p.cardSystemId.substr(0, 8) + "</e:cardId>";
    x += "<e:carePrincipal><e:id>" + xmlEscape(principal) + "</e:id><e:name>Regionen (sim)</e:name></e:carePrincipal><e:status>" +
         v.status + "</e:status></e:card>";
    return x;
}

std::string transactionXml(const std::string& pnr, const Transaction& t) {
    return "<e:transactions><e:transactionId>" + t.id + "</e:transactionId><e:personId>" + pnr + "</e:personId><e:amount>" +
           amountText(t.amountOre) + "</e:amount><e:transactionDate>" + t.date + "</e:transactionDate><e:registrationDateTime>" +
           t.registered + "</e:registrationDateTime><e:carePrincipal><e:id>" + xmlEscape(t.carePrincipal) +
           "</e:id><e:name>Regionen (sim)</e:name></e:carePrincipal><e:careProvider>" + xmlEscape(t.careProvider) +
           "</e:careProvider>" + (t.careUnit.empty() ? "" : "<e:careUnit>" + xmlEscape(t.careUnit) + "</e:careUnit>") +
           "<e:status>" + t.status + "</e:status></e:transactions>";
}

// The text of the first element with this local name (any namespace), or "".
std::string field(Poco::XML::Document* doc, const std::string& local) {
    Poco::AutoPtr<Poco::XML::NodeList> list = doc->getElementsByTagNameNS("*", local);
    if (list->length() == 0) return {};
    return list->item(0)->innerText();
}

}  // namespace

void EfrikortSim::handle(const std::string& op, const std::string& body, Poco::Net::HTTPServerResponse& res) {
    std::string response;
    int status = 200;
    std::string fault;
    {
        std::lock_guard lock(state_.mu);
        fault = state_.takeFault("efrikort", op);
    }
    if (fault == "timeout") pause(timeoutMs_);
    if (fault == "fail" || fault == "timeout" || fault == "http500") {
        response = fault == "http500" ? "internal error" : soapFault("simulated failure of " + op);
        status = 500;
    } else {
        try {
            response = answer(op, body, fault == "optinrequired");
            if (fault == "lost_answer") {  // done, but the answer never reaches the caller
                response = "answer lost";
                status = 502;
            }
        } catch (const std::exception& e) {
            response = soapFault(std::string("cannot process the request: ") + e.what());
            status = 500;
        }
    }
    {
        std::lock_guard lock(state_.mu);
        state_.record("efrikort", op, body, response);
    }
    send(res, status, (status == 500 && fault == "http500") || status == 502 ? "text/plain" : "text/xml; charset=utf-8", response);
}

std::string EfrikortSim::answer(const std::string& op, const std::string& body, bool forceOptIn) {
    Poco::XML::DOMParser parser;
    parser.setFeature(Poco::XML::XMLReader::FEATURE_NAMESPACES, true);
    Poco::AutoPtr<Poco::XML::Document> doc = parser.parseString(body);
    const std::string ns = "urn:riv:cgi:healthcare:efrikort:" + op + "Responder:3";
    Poco::AutoPtr<Poco::XML::NodeList> opNodes = doc->getElementsByTagNameNS(ns, op);
    if (opNodes->length() == 0) throw std::runtime_error("no " + op + " element in namespace " + ns);
    const std::string principal = field(doc, "carePrincipalId");
    const std::string pnr = field(doc, "personId");
    auto open = [&](const std::string& resultElem) {
        return "<" + op + "Response xmlns=\"" + ns + "\" xmlns:e=\"" + kEfrikortCoreNs + "\"><" + resultElem + ">";
    };
    auto close = [&](const std::string& resultElem) { return "</" + resultElem + "></" + op + "Response>"; };
    std::lock_guard lock(state_.mu);
    if (op == "GetCardForPerson" || op == "GetExtendedCardForPerson") {
        const std::string elem = op == "GetCardForPerson" ? "getCardForPersonResultType" : "getExtendedCardResultType";
        auto it = state_.persons.find(pnr);
        if (forceOptIn || (it != state_.persons.end() && !it->second.optIn))
            return envelope(open(elem) + resultXml("OPTINREQUIRED", "Patienten har inte anslutit sig till e-frikort") + close(elem));
        if (it == state_.persons.end() || (it->second.transactions.empty() && it->second.accumulatedOre == 0 &&
                                           it->second.statusOverride.empty()))
            return envelope(open(elem) + resultXml("OK", "Inget kort finns") + close(elem));
        auto& p = it->second;
        if (p.cardSystemId.empty()) p.cardSystemId = uuid();
        std::string inner = cardXml(pnr, p, principal);
        if (op == "GetExtendedCardForPerson") {
            std::string ts;
            for (const auto& t : p.transactions) ts += transactionXml(pnr, t);
            inner = "<e:extendedCard>" + inner + ts + "</e:extendedCard>";
        }
        return envelope(open(elem) + resultXml("OK") + inner + close(elem));
    }
    if (op == "RegisterTransaction") {
        const std::string elem = "registerTransactionResultType";
        auto& p = state_.persons[pnr];
        if (forceOptIn || !p.optIn) return envelope(open(elem) + resultXml("OPTINREQUIRED", "Samtycke saknas") + close(elem));
        const long long ore = oreOf(field(doc, "amount"));
        if (ore <= 0) return envelope(open(elem) + resultXml("VALIDATION_ERROR", "amount must be positive") + close(elem));
        if (p.cardSystemId.empty()) p.cardSystemId = uuid();
        Transaction t;
        t.id = uuid();
        t.date = field(doc, "transactionDate").empty() ? today() : field(doc, "transactionDate");
        t.amountOre = ore;
        t.carePrincipal = principal;
        t.careProvider = field(doc, "careProvider");
        t.careUnit = field(doc, "careUnit");
        t.registered = isoNow();
        p.transactions.push_back(t);
        state_.save();
        return envelope(open(elem) + resultXml("OK") + "<e:cardSystemId>" + p.cardSystemId + "</e:cardSystemId><e:transactionId>" +
                        t.id + "</e:transactionId>" + close(elem));
    }
    if (op == "UpdateTransaction" || op == "DeleteTransaction") {
        const std::string elem = op == "UpdateTransaction" ? "registerTransactionResultType" : "resultType";
        const std::string id = field(doc, "transactionId");
        for (auto& [who, p] : state_.persons)
            for (auto& t : p.transactions)
                if (t.id == id) {
                    if (t.status == "DELETED")
                        return envelope(open(elem) + (op == "UpdateTransaction" ? resultXml("ERROR", "transaction is deleted")
                                                                               : "<e:resultCode>ERROR</e:resultCode><e:resultText>transaction is deleted</e:resultText>") +
                                        close(elem));
                    if (op == "UpdateTransaction") {
                        t.amountOre = oreOf(field(doc, "amount"));
                        t.date = field(doc, "transactionDate");
                        t.status = "UPDATED";
                        state_.save();
                        return envelope(open(elem) + resultXml("OK") + "<e:cardSystemId>" + p.cardSystemId +
                                        "</e:cardSystemId><e:transactionId>" + t.id + "</e:transactionId>" + close(elem));
                    }
                    t.status = "DELETED";
                    state_.save();
                    return envelope(open(elem) + "<e:resultCode>OK</e:resultCode>" + close(elem));
                }
        if (op == "UpdateTransaction") return envelope(open(elem) + resultXml("ERROR", "no such transaction") + close(elem));
        return envelope(open(elem) + "<e:resultCode>ERROR</e:resultCode><e:resultText>no such transaction</e:resultText>" + close(elem));
    }
    if (op == "RegisterOptIn") {
        state_.persons[pnr].optIn = true;
        state_.save();
        return envelope(open("resultType") + "<e:resultCode>OK</e:resultCode>" + close("resultType"));
    }
    throw std::runtime_error("unsupported operation " + op);
}

bool EfrikortSim::steer(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res, const std::string& body) {
    static const std::regex personRe(R"(^/sim/api/efrikort/persons/([0-9]{12})$)");
    const std::string path = Poco::URI(req.getURI()).getPath();
    std::smatch m;
    if (!std::regex_match(path, m, personRe)) return false;
    std::lock_guard lock(state_.mu);
    auto& person = state_.persons[m[1]];
    if (req.getMethod() == "PUT") {
        const auto o = Poco::JSON::Parser().parse(body).extract<Object::Ptr>();
        const auto status = o->optValue<std::string>("status", "NONE");
        person.statusOverride = status == "NONE" ? "" : status;
        person.ceilingOre = o->optValue<long long>("ceiling_ore", person.ceilingOre);
        person.accumulatedOre = o->optValue<long long>("accumulated_ore", person.accumulatedOre);
        person.optIn = o->optValue<bool>("opt_in", person.optIn);
        if (person.cardSystemId.empty()) person.cardSystemId = uuid();
        state_.save();
    }
    const auto v = cardOf(person);
    Object out;
    out.set("status", v.status);
    out.set("current_ore", v.currentOre);
    out.set("to_limit_ore", v.toLimitOre);
    out.set("opt_in", person.optIn);
    Array ts;
    for (const auto& t : person.transactions) {
        Object x;
        x.set("transaction_id", t.id);
        x.set("amount_ore", t.amountOre);
        x.set("date", t.date);
        x.set("status", t.status);
        ts.add(x);
    }
    out.set("transactions", ts);
    send(res, 200, "application/json", json(out));
    return true;
}

std::string EfrikortSim::pageHtml() {
    std::string persons;
    std::lock_guard lock(state_.mu);
    for (const auto& [pnr, p] : state_.persons) {
        const auto v = cardOf(p);
        persons += "<tr><td>" + pnr.substr(0, 8) + "-****</td><td>" + v.status + "</td><td>" + amountText(v.currentOre) + "</td><td>" +
                   amountText(v.toLimitOre) + "</td><td>" + std::to_string(p.transactions.size()) + "</td></tr>";
    }
    return "<h2>e-frikort</h2><table border=1><tr><th>Person</th><th>Status</th><th>Betalt</th><th>Kvar</th><th>Transaktioner</th></tr>" +
           persons + "</table>";
}

}  // namespace sim
