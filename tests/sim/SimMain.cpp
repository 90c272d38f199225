// klinikbox-sim: the national services a clinic's box talks to, on loopback, with their real
// protocols, its own state and a steering API (tests/sim/README.md):
//   HTTPS with mutual TLS: eFrikort 3.0 RIV-TA SOAP, a Swish-style payment API, a
//   BankID-style identity provider;  plain HTTP: an SMS gateway sink, the steering/inspection
//   JSON API and a page listing what was received.
// Prints one JSON line with its addresses when ready; runs until SIGTERM.
#include "NpoServices.h"
#include "Meeting.h"
#include "Pki.h"
#include "Referral.h"

#include <Poco/DOM/DOMParser.h>
#include <Poco/DOM/Document.h>
#include <Poco/DOM/Element.h>
#include <Poco/DOM/NodeList.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetSSL.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/SAX/InputSource.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <openssl/rand.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using Poco::JSON::Array;
using Poco::JSON::Object;
using namespace std::chrono;

std::atomic<bool> g_stop{false};
std::mutex g_stopMu;
std::condition_variable g_stopCv;

void onSignal(int) { g_stop = true; }

std::string randomHex(std::size_t bytes, bool upper) {
    std::vector<unsigned char> b(bytes);
    RAND_bytes(b.data(), static_cast<int>(bytes));
    const char* hex = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    std::string o;
    for (auto c : b) {
        o += hex[c >> 4];
        o += hex[c & 15];
    }
    return o;
}

std::string uuid() {
    auto h = randomHex(16, false);
    return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

std::string isoNow() {
    const auto t = system_clock::to_time_t(system_clock::now());
    std::tm tm{};
    gmtime_r(&t, &tm);
    char b[32];
    std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return b;
}

std::string today() { return isoNow().substr(0, 10); }

long long daysOf(const std::string& date) {  // YYYY-MM-DD -> days since 1970
    const year_month_day d{year{std::stoi(date.substr(0, 4))}, month{static_cast<unsigned>(std::stoi(date.substr(5, 2)))},
                           day{static_cast<unsigned>(std::stoi(date.substr(8, 2)))}};
    return sys_days{d}.time_since_epoch().count();
}

std::string dateOf(long long days) {
    const year_month_day d{sys_days{std::chrono::days{days}}};
    char b[16];
    std::snprintf(b, sizeof b, "%04d-%02u-%02u", static_cast<int>(d.year()), static_cast<unsigned>(d.month()),
                  static_cast<unsigned>(d.day()));
    return b;
}

std::string xmlEscape(const std::string& s) {
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

std::string amountText(long long ore) {
    char b[32];
    std::snprintf(b, sizeof b, "%lld.%02lld", ore / 100, ore % 100);
    return b;
}

// ---- state ------------------------------------------------------------------------------

struct Transaction {
    std::string id, date, status = "ACTIVE", carePrincipal, careProvider, careUnit, registered;
    long long amountOre = 0;
};
struct Person {
    std::string statusOverride;  // "", "PRELIMINARY", "FINAL", "EXPIRED", "BELOW_LIMIT"
    long long ceilingOre = 145000;
    long long accumulatedOre = 0;  // fees registered elsewhere (steering)
    bool optIn = true;
    std::string cardSystemId;
    std::vector<Transaction> transactions;
};
struct Payment {
    std::string id, payeeAlias, payerAlias, amount, currency, message, callbackUrl, payeeRef, status = "CREATED";
    std::string dateCreated, datePaid, paymentReference, errorCode, errorMessage;
    bool refund = false;
    std::string originalPaymentReference;
    std::string token;     // m-commerce: the PaymentRequestToken, the only way to reach the request
    bool scanned = false;  // the token was scanned (QR code) or opened (app switch) by a payer
    long long createdEpoch = 0;  // seconds; a request nobody pays times out (TM01)
};
struct Fault {
    std::string service, operation, kind;
    int count = 1;
};
struct BankIdOrder {
    int collects = 0;
    std::string status = "pending", personalNumber, name, hint;
};

class State {
public:
    explicit State(std::string file) : file_(std::move(file)) { load(); }

    std::mutex mu;
    std::map<std::string, Person> persons;
    std::map<std::string, Payment> payments;
    std::vector<Object::Ptr> received;
    std::vector<Fault> faults;
    std::map<std::string, BankIdOrder> orders;
    std::vector<std::pair<std::string, std::string>> nextIdentities;  // (personalNumber, name)
    std::string autoSettle;  // "" or PAID/DECLINED/ERROR
    int autoDelayMs = 0;
    int callbackPort = 0;
    int expirySeconds = 180;  // a payer has about 3 minutes, then the request fails with TM01  // where a callback to port 443 is delivered (the box behind a port forward)

    void record(const std::string& service, const std::string& op, const std::string& request, const std::string& response) {
        Object::Ptr o = new Object;
        o->set("service", service);
        o->set("operation", op);
        o->set("at", isoNow());
        o->set("request", request);
        o->set("response", response);
        received.push_back(o);
        if (received.size() > 2000) received.erase(received.begin());
    }
    // The fault for this call, if one is armed (consumes one use).
    std::string takeFault(const std::string& service, const std::string& op) {
        for (auto it = faults.begin(); it != faults.end(); ++it) {
            if (it->service != service || (it->operation != "*" && it->operation != op)) continue;
            const auto kind = it->kind;
            if (--it->count <= 0) faults.erase(it);
            return kind;
        }
        return {};
    }

    void save() {
        Object root;
        Object ps;
        for (const auto& [pnr, p] : persons) {
            Object o;
            o.set("status_override", p.statusOverride);
            o.set("ceiling_ore", p.ceilingOre);
            o.set("accumulated_ore", p.accumulatedOre);
            o.set("opt_in", p.optIn);
            o.set("card_system_id", p.cardSystemId);
            Array ts;
            for (const auto& t : p.transactions) {
                Object x;
                x.set("id", t.id);
                x.set("date", t.date);
                x.set("status", t.status);
                x.set("amount_ore", t.amountOre);
                x.set("care_principal", t.carePrincipal);
                x.set("care_provider", t.careProvider);
                x.set("care_unit", t.careUnit);
                x.set("registered", t.registered);
                ts.add(x);
            }
            o.set("transactions", ts);
            ps.set(pnr, o);
        }
        root.set("persons", ps);
        Object pays;
        for (const auto& [id, p] : payments) {
            Object o;
            o.set("payeeAlias", p.payeeAlias);
            o.set("payerAlias", p.payerAlias);
            o.set("amount", p.amount);
            o.set("currency", p.currency);
            o.set("message", p.message);
            o.set("callbackUrl", p.callbackUrl);
            o.set("payeePaymentReference", p.payeeRef);
            o.set("status", p.status);
            o.set("dateCreated", p.dateCreated);
            o.set("datePaid", p.datePaid);
            o.set("paymentReference", p.paymentReference);
            o.set("refund", p.refund);
            o.set("originalPaymentReference", p.originalPaymentReference);
            o.set("token", p.token);
            o.set("scanned", p.scanned);
            o.set("created_epoch", p.createdEpoch);
            o.set("errorCode", p.errorCode);
            o.set("errorMessage", p.errorMessage);
            pays.set(id, o);
        }
        root.set("payments", pays);
        const std::string tmp = file_ + ".tmp";
        {
            std::ofstream out(tmp);
            root.stringify(out, 1);
        }
        fs::rename(tmp, file_);
    }

private:
    std::string file_;
    void load() {
        std::ifstream in(file_);
        if (!in) return;
        Poco::JSON::Parser parser;
        const auto root = parser.parse(in).extract<Object::Ptr>();
        if (auto ps = root->getObject("persons"))
            for (const auto& [pnr, v] : *ps) {
                const auto o = v.extract<Object::Ptr>();
                Person p;
                p.statusOverride = o->getValue<std::string>("status_override");
                p.ceilingOre = o->getValue<long long>("ceiling_ore");
                p.accumulatedOre = o->getValue<long long>("accumulated_ore");
                p.optIn = o->getValue<bool>("opt_in");
                p.cardSystemId = o->getValue<std::string>("card_system_id");
                const auto ts = o->getArray("transactions");
                for (std::size_t i = 0; ts && i < ts->size(); ++i) {
                    const auto x = ts->getObject(static_cast<unsigned>(i));
                    Transaction t;
                    t.id = x->getValue<std::string>("id");
                    t.date = x->getValue<std::string>("date");
                    t.status = x->getValue<std::string>("status");
                    t.amountOre = x->getValue<long long>("amount_ore");
                    t.carePrincipal = x->getValue<std::string>("care_principal");
                    t.careProvider = x->getValue<std::string>("care_provider");
                    t.careUnit = x->getValue<std::string>("care_unit");
                    t.registered = x->getValue<std::string>("registered");
                    p.transactions.push_back(t);
                }
                persons[pnr] = p;
            }
        if (auto pays = root->getObject("payments"))
            for (const auto& [id, v] : *pays) {
                const auto o = v.extract<Object::Ptr>();
                Payment p;
                p.id = id;
                p.payeeAlias = o->getValue<std::string>("payeeAlias");
                p.payerAlias = o->getValue<std::string>("payerAlias");
                p.amount = o->getValue<std::string>("amount");
                p.currency = o->getValue<std::string>("currency");
                p.message = o->getValue<std::string>("message");
                p.callbackUrl = o->getValue<std::string>("callbackUrl");
                p.payeeRef = o->getValue<std::string>("payeePaymentReference");
                p.status = o->getValue<std::string>("status");
                p.dateCreated = o->getValue<std::string>("dateCreated");
                p.datePaid = o->getValue<std::string>("datePaid");
                p.paymentReference = o->getValue<std::string>("paymentReference");
                p.refund = o->getValue<bool>("refund");
                p.originalPaymentReference = o->getValue<std::string>("originalPaymentReference");
                p.token = o->optValue<std::string>("token", "");
                p.scanned = o->optValue<bool>("scanned", false);
                p.createdEpoch = o->optValue<long long>("created_epoch", 0);
                p.errorCode = o->optValue<std::string>("errorCode", "");
                p.errorMessage = o->optValue<std::string>("errorMessage", "");
                payments[id] = p;
            }
    }
};

// ---- eFrikort: the card of a person ----------------------------------------------------------

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
const char* kCoreNs = "urn:riv:cgi:healthcare:efrikort:3";

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

long long oreOf(const std::string& amount) {
    const double d = std::stod(amount);
    return static_cast<long long>(d * 100 + (d >= 0 ? 0.5 : -0.5));
}

// ---- HTTP plumbing ------------------------------------------------------------------------

std::string bodyOf(Poco::Net::HTTPServerRequest& req) {
    std::string b;
    Poco::StreamCopier::copyToString(req.stream(), b);
    return b;
}

void send(Poco::Net::HTTPServerResponse& res, int status, const std::string& type, const std::string& body) {
    res.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
    if (!type.empty()) res.setContentType(type);
    res.setContentLength(static_cast<std::streamsize>(body.size()));
    res.send() << body;
}

std::string json(const Object& o) {
    std::ostringstream s;
    o.stringify(s);
    return s.str();
}

// Waits up to `ms` or until the sim stops.
void pause(int ms) {
    std::unique_lock lock(g_stopMu);
    g_stopCv.wait_for(lock, milliseconds(ms), [] { return g_stop.load(); });
}

class Sim {
public:
    Sim(const std::string& dir, int timeoutMs) : state_(dir + "/state.json"), timeoutMs_(timeoutMs) {
        // The shared-journal services (NpoServices.h); schemas from $KB_SHARED_DIR/schemas or the source tree's ../shared.
        const char* shared = std::getenv("KB_SHARED_DIR");
        npo = std::make_unique<kbsim::NpoServices>(
            shared ? std::string(shared) + "/schemas" : std::string(KB_SIM_SCHEMAS), timeoutMs_,
            [this](const std::string& s, const std::string& o, const std::string& q, const std::string& a) {
                std::lock_guard l(state_.mu);
                state_.record(s, o, q, a);
            },
            [this](const std::string& s, const std::string& o) {
                std::lock_guard l(state_.mu);
                return state_.takeFault(s, o);
            });
    }
    std::unique_ptr<kbsim::NpoServices> npo;
    State& state() { return state_; }
    sim::ReferralSim* referral = nullptr;  // the referral parties (Referral.h)

    // ---- eFrikort ----
    void efrikort(const std::string& op, const std::string& body, Poco::Net::HTTPServerResponse& res) {
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
                response = efrikortAnswer(op, body, fault == "optinrequired");
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

    std::string efrikortAnswer(const std::string& op, const std::string& body, bool forceOptIn) {
        Poco::XML::DOMParser parser;
        parser.setFeature(Poco::XML::XMLReader::FEATURE_NAMESPACES, true);
        Poco::AutoPtr<Poco::XML::Document> doc = parser.parseString(body);
        const std::string ns = "urn:riv:cgi:healthcare:efrikort:" + op + "Responder:3";
        Poco::AutoPtr<Poco::XML::NodeList> opNodes = doc->getElementsByTagNameNS(ns, op);
        if (opNodes->length() == 0) throw std::runtime_error("no " + op + " element in namespace " + ns);
        const std::string principal = field(doc, "carePrincipalId");
        const std::string pnr = field(doc, "personId");
        auto open = [&](const std::string& resultElem) {
            return "<" + op + "Response xmlns=\"" + ns + "\" xmlns:e=\"" + kCoreNs + "\"><" + resultElem + ">";
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

    // ---- Swish ----
    void swish(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res, const std::string& body) {
        static const std::regex put(R"(^/swish-cpcapi/api/v2/(paymentrequests|refunds)/([^/?]+)$)");
        static const std::regex get(R"(^/swish-cpcapi/api/v1/(paymentrequests|refunds)/([^/?]+)$)");
        const std::string path = Poco::URI(req.getURI()).getPath();
        std::smatch m;
        std::string fault;
        {
            std::lock_guard lock(state_.mu);
            fault = state_.takeFault("swish", req.getMethod());
        }
        if (fault == "timeout") pause(timeoutMs_);
        if (!fault.empty()) return reply(res, "swish", req.getMethod() + " " + path, body, 500, "", "");
        if (req.getMethod() == "PUT" && std::regex_match(path, m, put)) return swishCreate(res, m[2], m[1] == "refunds", body, path);
        if ((req.getMethod() == "GET" || req.getMethod() == "PATCH") && std::regex_match(path, m, get)) {
            std::unique_lock lock(state_.mu);
            auto it = state_.payments.find(m[2]);
            if (it == state_.payments.end() || it->second.refund != (m[1] == "refunds")) {
                lock.unlock();
                return reply(res, "swish", req.getMethod() + " " + path, body, 404, "application/json",
                             R"([{"errorCode":"RP04","errorMessage":"No payment request found"}])");
            }
            expireIfDue(it->second);
            if (req.getMethod() == "PATCH") {
                if (it->second.status != "CREATED") {
                    lock.unlock();
                    return reply(res, "swish", "PATCH " + path, body, 422, "application/json",
                                 R"([{"errorCode":"RP07","errorMessage":"Transaction status is not CREATED"}])");
                }
                it->second.status = "CANCELLED";
                state_.save();
            }
            const std::string out = paymentJson(it->second);
            lock.unlock();
            return reply(res, "swish", req.getMethod() + " " + path, body, 200, "application/json", out);
        }
        reply(res, "swish", req.getMethod() + " " + path, body, 404, "application/json", "[]");
    }

    void swishCreate(Poco::Net::HTTPServerResponse& res, const std::string& id, bool refund, const std::string& body,
                     const std::string& path) {
        static const std::regex idRe("^[0-9A-F]{32}$");
        static const std::regex amountRe(R"(^[0-9]{1,12}(\.[0-9]{1,2})?$)");
        std::vector<std::pair<std::string, std::string>> errors;
        Object::Ptr in;
        try {
            Poco::JSON::Parser p;
            in = p.parse(body).extract<Object::Ptr>();
        } catch (...) {
            return reply(res, "swish", "PUT " + path, body, 400, "application/json", "");
        }
        auto str = [&](const char* k) { return in->has(k) && in->get(k).isString() ? in->getValue<std::string>(k) : std::string(); };
        if (!std::regex_match(id, idRe)) errors.emplace_back("RP01", "The instruction id must be 32 uppercase hexadecimal characters");
        const auto amount = str("amount");
        if (!std::regex_match(amount, amountRe) || oreOf(amount) < 1) errors.emplace_back("AM02", "Amount value is too large or invalid");
        if (str("currency") != "SEK") errors.emplace_back("AM03", "Invalid or missing Currency");
        if (!callbackOk(str("callbackUrl"))) errors.emplace_back("RP03", "Callback URL is missing or does not use HTTPS on port 443");
        // A payment request is paid to the merchant (payeeAlias); a refund is paid by it (payerAlias).
        if (str(refund ? "payerAlias" : "payeeAlias").empty()) errors.emplace_back("RP01", "Missing Merchant Swish Number");
        if (!messageOk(str("message"))) errors.emplace_back("RP02", "Wrong formatted message");
        if (!refund && !str("payerAlias").empty() && !std::regex_match(str("payerAlias"), std::regex("^[1-9][0-9]{7,14}$")))
            errors.emplace_back("BE18", "Payer alias is invalid");
        if (!str("payeePaymentReference").empty() && !std::regex_match(str("payeePaymentReference"), std::regex("^[A-Za-z0-9-]{1,35}$")))
            errors.emplace_back("FF08", "PaymentReference is invalid");
        if (refund) {
            // The refund must name a PAID payment of this merchant and stay within what is left of it.
            std::lock_guard lock(state_.mu);
            const Payment* original = nullptr;
            long long refunded = 0;
            for (const auto& [pid, p] : state_.payments) {
                if (!p.refund && p.status == "PAID" && !p.paymentReference.empty() && p.paymentReference == str("originalPaymentReference"))
                    original = &p;
                if (p.refund && p.originalPaymentReference == str("originalPaymentReference") && p.status != "ERROR") refunded += oreOf(p.amount);
            }
            if (!original || original->payeeAlias != str("payerAlias"))
                errors.emplace_back("RF02", "Original Payment not found or original payment is more than 13 months old");
            else if (std::regex_match(amount, amountRe) && oreOf(amount) + refunded > oreOf(original->amount))
                errors.emplace_back("RF03", "Payer alias in the refund does not match the payee alias in the original payment, or the amount is too large");
        }
        if (!errors.empty()) {
            Array a;
            for (const auto& [c, msg] : errors) {
                Object e;
                e.set("errorCode", c);
                e.set("errorMessage", msg);
                a.add(e);
            }
            std::ostringstream s;
            a.stringify(s);
            return reply(res, "swish", "PUT " + path, body, 422, "application/json", s.str());
        }
        {
            std::lock_guard lock(state_.mu);
            if (state_.payments.count(id)) {
                // The instruction id is the idempotency key: a repeat is refused.
                state_.record("swish", "PUT " + path, body, "409 duplicate");
            } else {
                Payment p;
                p.id = id;
                p.refund = refund;
                p.payeeAlias = str("payeeAlias");
                p.payerAlias = str("payerAlias");
                p.amount = amount;
                p.currency = "SEK";
                p.message = str("message");
                p.callbackUrl = str("callbackUrl");
                p.payeeRef = str(refund ? "payerPaymentReference" : "payeePaymentReference");
                p.originalPaymentReference = str("originalPaymentReference");
                p.dateCreated = isoNow();
                p.createdEpoch = duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
                if (refund) {
                    p.status = "PAID";  // refunds of the simulator settle at once
                    p.datePaid = isoNow();
                    p.paymentReference = randomHex(16, true);
                }
                state_.payments[id] = p;
                state_.save();
                state_.record("swish", "PUT " + path, body, "201");
                if (!refund && p.payerAlias.empty()) {
                    // m-commerce: reachable only through the token, so nobody pays it before it is scanned.
                    state_.payments[id].token = randomHex(16, false);
                    state_.save();
                    res.set("PaymentRequestToken", state_.payments[id].token);
                } else if (refund) {
                    callbackLater(id, 50);
                } else if (!state_.autoSettle.empty()) {
                    settleLater(id, state_.autoSettle, state_.autoDelayMs);
                }
                res.set("Location", "https://127.0.0.1/swish-cpcapi/api/v1/" + std::string(refund ? "refunds/" : "paymentrequests/") + id);
                return send(res, 201, "", "");
            }
        }
        send(res, 409, "application/json", R"([{"errorCode":"RP08","errorMessage":"The payment request has been cancelled or already exists"}])");
    }

    static std::string paymentJson(const Payment& p) {
        Object o;
        o.set("id", p.id);
        o.set(p.refund ? "payerPaymentReference" : "payeePaymentReference", p.payeeRef);
        if (!p.paymentReference.empty()) o.set("paymentReference", p.paymentReference);
        if (p.refund) o.set("originalPaymentReference", p.originalPaymentReference);
        o.set("callbackUrl", p.callbackUrl);
        o.set("payerAlias", p.payerAlias);
        o.set("payeeAlias", p.payeeAlias);
        o.set("amount", std::stod(p.amount));
        o.set("currency", p.currency);
        o.set("message", p.message);
        o.set("status", p.status);
        o.set("dateCreated", p.dateCreated);
        if (!p.datePaid.empty()) o.set("datePaid", p.datePaid);
        if (!p.errorCode.empty()) {
            o.set("errorCode", p.errorCode);
            o.set("errorMessage", p.errorMessage);
        }
        return json(o);
    }

    // A request nobody paid in time fails, as at Swish (TM01). The state lock is held.
    void expireIfDue(Payment& p) {
        if (p.refund || p.status != "CREATED" || p.createdEpoch <= 0) return;
        if (duration_cast<seconds>(system_clock::now().time_since_epoch()).count() - p.createdEpoch < state_.expirySeconds) return;
        p.status = "ERROR";
        p.errorCode = "TM01";
        p.errorMessage = "Swish timed out before the payment was started";
        state_.save();
    }

    // Swish's callbackUrl: https, and port 443 (the only port Swish calls).
    static bool callbackOk(const std::string& url) {
        try {
            const Poco::URI u(url);
            return u.getScheme() == "https" && !u.getHost().empty() && u.getPort() == 443;
        } catch (const Poco::Exception&) {
            return false;
        }
    }

    // Swish's message: at most 50 characters of a-ö, A-Ö, 0-9, space and :;.,?!()-" ('/' is not one).
    static bool messageOk(const std::string& m) {
        int chars = 0;
        for (std::size_t i = 0; i < m.size(); ++chars) {
            const auto b = static_cast<unsigned char>(m[i]);
            if (b < 0x80) {
                if (!std::isalnum(b) && !std::strchr(" :;.,?!()-\"", static_cast<char>(b))) return false;
                ++i;
                continue;
            }
            if (b < 0xC2 || b > 0xC3 || i + 1 >= m.size()) return false;  // only Latin-1 letters beyond ASCII
            const unsigned cp = ((b & 0x1Fu) << 6) | (static_cast<unsigned char>(m[i + 1]) & 0x3Fu);
            if (cp < 0xC0 || cp == 0xD7 || cp == 0xF7) return false;
            i += 2;
        }
        return chars <= 50;
    }

    // A payer scans the QR code (its text is "D" and the token) or opens the app switch link
    // (the token): the m-commerce request can now be paid. Empty when done, else why not.
    std::string scan(const std::string& code) {
        const std::string token = code.size() == 33 && code[0] == 'D' ? code.substr(1) : code;
        std::string id, autoStatus;
        int delay = 0;
        {
            std::lock_guard lock(state_.mu);
            for (auto& [pid, p] : state_.payments)
                if (!p.refund && !p.token.empty() && p.token == token) {
                    expireIfDue(p);
                    if (p.status != "CREATED") return "the request is " + p.status;
                    p.scanned = true;
                    id = pid;
                }
            if (id.empty()) return "no payment request has this token";
            state_.save();
            state_.record("swish", "scan " + id, code, "scanned");
            autoStatus = state_.autoSettle;
            delay = state_.autoDelayMs;
        }
        if (!autoStatus.empty()) settleLater(id, autoStatus, delay);
        return "";
    }

    // Settles a payment request as the payer would, then calls the box back. Empty when
    // done, else why not (an m-commerce request nobody has scanned cannot be paid).
    std::string settle(const std::string& id, const std::string& status) {
        {
            std::lock_guard lock(state_.mu);
            auto it = state_.payments.find(id);
            if (it != state_.payments.end()) expireIfDue(it->second);
            if (it == state_.payments.end() || it->second.status != "CREATED") return "no such request in state CREATED";
            if (status == "PAID" && !it->second.token.empty() && !it->second.scanned)
                return "an m-commerce request is paid only after its token was scanned (POST /sim/api/swish/scan)";
            it->second.status = status;
            if (status == "PAID") {
                it->second.datePaid = isoNow();
                it->second.paymentReference = randomHex(16, true);
            } else if (status == "DECLINED") {
                it->second.errorCode = "RF07";
                it->second.errorMessage = "Transaction declined";
            } else {
                it->second.errorCode = "TM01";
                it->second.errorMessage = "Swish timed out before the payment was started";
            }
            state_.save();
        }
        callbackLater(id, 0);
        return "";
    }

    void settleLater(const std::string& id, const std::string& status, int delayMs) {
        std::thread([this, id, status, delayMs] {
            pause(delayMs);
            if (!g_stop) (void)settle(id, status);
        }).detach();
    }

    void callbackLater(const std::string& id, int delayMs) {
        std::thread([this, id, delayMs] {
            pause(delayMs);
            if (g_stop) return;
            std::string url, body;
            int port = 0;
            {
                std::lock_guard lock(state_.mu);
                auto it = state_.payments.find(id);
                if (it == state_.payments.end()) return;
                url = it->second.callbackUrl;
                body = paymentJson(it->second);
                port = state_.callbackPort;
            }
            std::string outcome;
            try {
                const Poco::URI uri(url);
                Poco::Net::Context::Ptr ctx = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", boxCa_,
                                                                     boxCa_.empty() ? Poco::Net::Context::VERIFY_NONE
                                                                                    : Poco::Net::Context::VERIFY_RELAXED);
                Poco::Net::HTTPSClientSession s(uri.getHost(), port > 0 && uri.getPort() == 443 ? static_cast<Poco::UInt16>(port) : uri.getPort(), ctx);
                s.setTimeout(Poco::Timespan(5, 0));
                Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_POST, uri.getPathAndQuery(), Poco::Net::HTTPMessage::HTTP_1_1);
                req.setContentType("application/json");
                req.setContentLength(static_cast<std::streamsize>(body.size()));
                s.sendRequest(req) << body;
                Poco::Net::HTTPResponse r;
                std::istream& in = s.receiveResponse(r);
                std::string ignored;
                Poco::StreamCopier::copyToString(in, ignored);
                outcome = std::to_string(r.getStatus());
            } catch (const std::exception& e) {
                outcome = std::string("callback failed: ") + e.what();
            }
            std::lock_guard lock(state_.mu);
            state_.record("swish", "callback " + id, body, outcome);
        }).detach();
    }

    // ---- BankID ----
    void bankid(const std::string& op, const std::string& body, Poco::Net::HTTPServerResponse& res) {
        Object::Ptr in;
        try {
            Poco::JSON::Parser p;
            in = p.parse(body).extract<Object::Ptr>();
        } catch (...) {
            return reply(res, "bankid", op, body, 400, "application/json", R"({"errorCode":"invalidParameters","details":"not JSON"})");
        }
        std::unique_lock lock(state_.mu);
        if (op == "auth") {
            const std::string ref = uuid();
            BankIdOrder o;
            if (!state_.nextIdentities.empty()) {
                o.personalNumber = state_.nextIdentities.front().first;
                o.name = state_.nextIdentities.front().second;
                state_.nextIdentities.erase(state_.nextIdentities.begin());
            }
            state_.orders[ref] = o;
            Object out;
            out.set("orderRef", ref);
            out.set("autoStartToken", uuid());
            out.set("qrStartToken", uuid());
            out.set("qrStartSecret", uuid());
            lock.unlock();
            return reply(res, "bankid", op, body, 200, "application/json", json(out));
        }
        const std::string ref = in->optValue<std::string>("orderRef", "");
        auto it = state_.orders.find(ref);
        if (it == state_.orders.end()) {
            lock.unlock();
            return reply(res, "bankid", op, body, 400, "application/json", R"({"errorCode":"invalidParameters","details":"No such order"})");
        }
        if (op == "cancel") {
            state_.orders.erase(it);
            lock.unlock();
            return reply(res, "bankid", op, body, 200, "application/json", "{}");
        }
        auto& o = it->second;
        ++o.collects;
        Object out;
        out.set("orderRef", ref);
        if (o.personalNumber.empty() && o.collects >= 2) {
            o.status = "failed";
            o.hint = "userCancel";
        } else if (o.collects >= 2) {
            o.status = "complete";
        }
        out.set("status", o.status);
        if (o.status == "pending") out.set("hintCode", "outstandingTransaction");
        if (o.status == "failed") out.set("hintCode", o.hint);
        if (o.status == "complete") {
            Object user;
            user.set("personalNumber", o.personalNumber);
            user.set("name", o.name);
            const auto sp = o.name.find(' ');
            user.set("givenName", o.name.substr(0, sp));
            user.set("surname", sp == std::string::npos ? "" : o.name.substr(sp + 1));
            Object cd;
            cd.set("user", user);
            out.set("completionData", cd);
        }
        lock.unlock();
        reply(res, "bankid", op, body, 200, "application/json", json(out));
    }

    void reply(Poco::Net::HTTPServerResponse& res, const std::string& service, const std::string& op, const std::string& request,
               int status, const std::string& type, const std::string& body) {
        {
            std::lock_guard lock(state_.mu);
            state_.record(service, op, request, std::to_string(status) + " " + body);
        }
        send(res, status, type, body);
    }

    std::string boxCa_;
    std::string meetingSecret_;  // --meeting-secret: the Jitsi app secret of the /meet/ stand-in

private:
    State state_;
    int timeoutMs_;
};

class HttpsHandler : public Poco::Net::HTTPRequestHandler {
public:
    explicit HttpsHandler(Sim& sim) : sim_(sim) {}
    void handleRequest(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res) override {
        const std::string body = bodyOf(req);
        const std::string path = Poco::URI(req.getURI()).getPath();
        if (path.rfind("/efrikort/", 0) == 0 && req.getMethod() == "POST") return sim_.efrikort(path.substr(10), body, res);
        if (path.rfind("/referral/", 0) == 0 && req.getMethod() == "POST" && sim_.referral) {
            const auto r = sim_.referral->handle(path, body);
            return send(res, r.status, r.contentType, r.body);
        }
        if (req.getMethod() == "POST")
            if (auto a = sim_.npo->https(path, body)) return send(res, a->status, a->contentType, a->body);
        if (path.rfind("/swish-cpcapi/", 0) == 0) return sim_.swish(req, res, body);
        if (path.rfind("/bankid/rp/v6.0/", 0) == 0 && req.getMethod() == "POST") return sim_.bankid(path.substr(16), body, res);
        send(res, 404, "text/plain", "no such service");
    }

private:
    Sim& sim_;
};

class HttpHandler : public Poco::Net::HTTPRequestHandler {
public:
    explicit HttpHandler(Sim& sim) : sim_(sim) {}
    void handleRequest(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res) override {
        const std::string body = bodyOf(req);
        const Poco::URI uri(req.getURI());
        const std::string path = uri.getPath();
        auto& st = sim_.state();
        try {
            if (sim_.referral)
                if (auto r = sim_.referral->steer(req.getMethod(), path, body)) return send(res, r->status, r->contentType, r->body);
            if (path == "/sms/messages" && req.getMethod() == "POST") {
                const auto auth = req.get("Authorization", "");
                if (auth.rfind("Bearer ", 0) != 0 || auth.size() <= 7)
                    return sim_.reply(res, "sms", "send", body, 401, "application/json", R"({"error":"missing bearer token"})");
                Poco::JSON::Parser p;
                const auto o = p.parse(body).extract<Object::Ptr>();
                if (!o->has("to") || !o->has("text")) return sim_.reply(res, "sms", "send", body, 400, "application/json", R"({"error":"to and text are required"})");
                Object out;
                out.set("id", uuid());
                return sim_.reply(res, "sms", "send", body, 201, "application/json", json(out));
            }
            if (path == "/sim/api/received" && req.getMethod() == "GET") {
                std::string service;
                for (const auto& [k, v] : uri.getQueryParameters())
                    if (k == "service") service = v;
                Array items;
                std::lock_guard lock(st.mu);
                for (const auto& r : st.received)
                    if (service.empty() || r->getValue<std::string>("service") == service) items.add(r);
                Object o;
                o.set("items", items);
                return send(res, 200, "application/json", json(o));
            }
            if (path == "/sim/api/reset" && req.getMethod() == "POST") {
                std::lock_guard lock(st.mu);
                st.persons.clear();
                st.payments.clear();
                st.received.clear();
                st.faults.clear();
                st.orders.clear();
                st.nextIdentities.clear();
                st.autoSettle.clear();
                st.callbackPort = 0;
                st.expirySeconds = 180;
                st.save();
                sim_.npo->reset();
                if (sim_.referral) sim_.referral->reset();
                return send(res, 204, "", "");
            }
            if (path == "/sim/api/faults" && req.getMethod() == "POST") {
                Poco::JSON::Parser p;
                const auto o = p.parse(body).extract<Object::Ptr>();
                Fault f{o->getValue<std::string>("service"), o->optValue<std::string>("operation", "*"), o->getValue<std::string>("kind"),
                        o->optValue<int>("count", 1)};
                std::lock_guard lock(st.mu);
                st.faults.push_back(f);
                return send(res, 204, "", "");
            }
            static const std::regex personRe(R"(^/sim/api/efrikort/persons/([0-9]{12})$)");
            std::smatch m;
            if (std::regex_match(path, m, personRe)) {
                std::lock_guard lock(st.mu);
                auto& person = st.persons[m[1]];
                if (req.getMethod() == "PUT") {
                    Poco::JSON::Parser p;
                    const auto o = p.parse(body).extract<Object::Ptr>();
                    const auto status = o->optValue<std::string>("status", "NONE");
                    person.statusOverride = status == "NONE" ? "" : status;
                    person.ceilingOre = o->optValue<long long>("ceiling_ore", person.ceilingOre);
                    person.accumulatedOre = o->optValue<long long>("accumulated_ore", person.accumulatedOre);
                    person.optIn = o->optValue<bool>("opt_in", person.optIn);
                    if (person.cardSystemId.empty()) person.cardSystemId = uuid();
                    st.save();
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
                return send(res, 200, "application/json", json(out));
            }
            static const std::regex settleRe(R"(^/sim/api/swish/paymentrequests/([0-9A-F]{32})/settle$)");
            if (std::regex_match(path, m, settleRe) && req.getMethod() == "POST") {
                Poco::JSON::Parser p;
                const auto o = p.parse(body).extract<Object::Ptr>();
                const auto why = sim_.settle(m[1], o->optValue<std::string>("status", "PAID"));
                Object err;
                err.set("error", why);
                return send(res, why.empty() ? 204 : 409, "application/json", why.empty() ? "" : json(err));
            }
            if (path == "/sim/api/swish/scan" && req.getMethod() == "POST") {
                Poco::JSON::Parser p;
                const auto o = p.parse(body).extract<Object::Ptr>();
                const auto why = sim_.scan(o->optValue<std::string>("code", ""));
                Object err;
                err.set("error", why);
                return send(res, why.empty() ? 204 : 409, "application/json", why.empty() ? "" : json(err));
            }
            if (path == "/sim/api/swish/expiry" && req.getMethod() == "POST") {
                Poco::JSON::Parser p;
                const auto o = p.parse(body).extract<Object::Ptr>();
                std::lock_guard lock(st.mu);
                st.expirySeconds = o->getValue<int>("seconds");
                return send(res, 204, "", "");
            }
            if (path == "/sim/api/swish/callback-port" && req.getMethod() == "POST") {
                Poco::JSON::Parser p;
                const auto o = p.parse(body).extract<Object::Ptr>();
                std::lock_guard lock(st.mu);
                st.callbackPort = o->getValue<int>("port");
                return send(res, 204, "", "");
            }
            if (path == "/sim/api/swish/auto" && req.getMethod() == "POST") {
                Poco::JSON::Parser p;
                const auto o = p.parse(body).extract<Object::Ptr>();
                std::lock_guard lock(st.mu);
                st.autoSettle = o->optValue<std::string>("status", "PAID");
                st.autoDelayMs = o->optValue<int>("delay_ms", 1000);
                return send(res, 204, "", "");
            }
            if (path == "/sim/api/swish/paymentrequests" && req.getMethod() == "GET") {
                Array a;
                std::lock_guard lock(st.mu);
                for (const auto& [id, pay] : st.payments) {
                    Poco::JSON::Parser p;
                    auto o = p.parse(Sim::paymentJson(pay)).extract<Object::Ptr>();
                    o->set("refund", pay.refund);  // steering only: Swish's own answer has neither
                    if (!pay.token.empty()) {
                        o->set("scanned", pay.scanned);
                        o->set("token", pay.token);  // what the QR code shows, for a test playing a payer
                    }
                    a.add(o);
                }
                Object o;
                o.set("items", a);
                return send(res, 200, "application/json", json(o));
            }
            if (path == "/sim/api/bankid/next" && req.getMethod() == "POST") {
                Poco::JSON::Parser p;
                const auto o = p.parse(body).extract<Object::Ptr>();
                std::lock_guard lock(st.mu);
                st.nextIdentities.emplace_back(o->getValue<std::string>("personalNumber"), o->optValue<std::string>("name", "Test Testsson"));
                return send(res, 204, "", "");
            }
            if (auto a = sim_.npo->steer(req.getMethod(), path, body)) return send(res, a->status, a->contentType, a->body);
            if (path.rfind("/meet/", 0) == 0 && req.getMethod() == "GET") {
                std::string jwt;
                for (const auto& [k, v] : uri.getQueryParameters())
                    if (k == "jwt") jwt = v;
                const auto a = sim::meetingPage(path.substr(6), jwt, sim_.meetingSecret_);
                return send(res, a.status, "text/html; charset=utf-8", a.html);
            }
            if (path == "/sim/swish/scan" && req.getMethod() == "POST") {
                // The page's "scan" button (a form): the payer's Swish app reads the QR code.
                const auto at = body.find("code=");
                std::string code;
                if (at != std::string::npos) Poco::URI::decode(body.substr(at + 5, body.find('&', at) - at - 5), code, true);
                (void)sim_.scan(code);
                res.set("Location", "/");
                return send(res, 303, "text/plain", "");
            }
            if (path == "/" && req.getMethod() == "GET") return send(res, 200, "text/html; charset=utf-8", page());
            send(res, 404, "application/json", R"({"error":"not found"})");
        } catch (const std::exception& e) {
            Object o;
            o.set("error", e.what());
            send(res, 400, "application/json", json(o));
        }
    }

    std::string page() {
        auto& st = sim_.state();
        std::lock_guard lock(st.mu);
        std::string rows;
        for (auto it = st.received.rbegin(); it != st.received.rend(); ++it) {
            const auto& r = *it;
            rows += "<tr><td>" + xmlEscape(r->getValue<std::string>("at")) + "</td><td>" + xmlEscape(r->getValue<std::string>("service")) +
                    "</td><td>" + xmlEscape(r->getValue<std::string>("operation")) + "</td><td><pre>" +
                    xmlEscape(r->getValue<std::string>("response").substr(0, 400)) + "</pre></td></tr>";
        }
        std::string persons;
        for (const auto& [pnr, p] : st.persons) {
            const auto v = cardOf(p);
            persons += "<tr><td>" + pnr.substr(0, 8) + "-****</td><td>" + v.status + "</td><td>" + amountText(v.currentOre) + "</td><td>" +
                       amountText(v.toLimitOre) + "</td><td>" + std::to_string(p.transactions.size()) + "</td></tr>";
        }
        // m-commerce requests waiting for a payer: "scanning" one is what the Swish app does
        // with the QR code the kiosk shows.
        std::string swish;
        for (const auto& [id, p] : st.payments) {
            if (p.refund || p.status != "CREATED") continue;
            swish += "<tr><td>" + xmlEscape(p.payeeRef) + "</td><td>" + xmlEscape(p.amount) + " kr</td><td>" +
                     (p.token.empty() ? std::string("e-handel (betalarens nummer)")
                                      : p.scanned ? std::string("skannad")
                                                  : "<form method=\"post\" action=\"/sim/swish/scan\"><input type=\"hidden\" name=\"code\" value=\"D" +
                                                        p.token + "\"><button>Skanna QR-koden</button></form>") +
                     "</td></tr>";
        }
        return "<!doctype html><html lang=\"sv\"><head><meta charset=\"utf-8\"><title>klinikbox-sim</title></head><body>"
               "<h1>Nationella tjänster (simulator)</h1><h2>Swish: väntande betalningar</h2><table border=1><tr><th>Referens</th>"
               "<th>Belopp</th><th>Betalaren</th></tr>" + swish + "</table><h2>e-frikort</h2><table border=1><tr><th>Person</th><th>Status</th>"
               "<th>Betalt</th><th>Kvar</th><th>Transaktioner</th></tr>" + persons +
               "</table>" + (sim_.referral ? sim_.referral->pageHtml() : std::string()) + "<h2>Mottaget</h2><table border=1><tr><th>Tid</th><th>Tjänst</th><th>Anrop</th><th>Svar</th></tr>" + rows +
               "</table>" + sim_.npo->pageSection() + "</body></html>";
    }

private:
    Sim& sim_;
};

template <class H>
class Factory : public Poco::Net::HTTPRequestHandlerFactory {
public:
    explicit Factory(Sim& s) : s_(s) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override { return new H(s_); }

private:
    Sim& s_;
};

std::string arg(int argc, char** argv, const std::string& name, const std::string& def = {}) {
    for (int i = 1; i + 1 < argc; ++i)
        if (argv[i] == name) return argv[i + 1];
    return def;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string dir = arg(argc, argv, "--state-dir");
    if (dir.empty()) {
        std::cerr << "usage: klinikbox-sim --state-dir DIR [--host 127.0.0.1] [--http-port N] [--https-port N] [--box-ca FILE]"
                     " [--timeout-ms N] [--meeting-secret S]\n";
        return 2;
    }
    try {
        std::signal(SIGTERM, onSignal);
        std::signal(SIGINT, onSignal);
        std::signal(SIGPIPE, SIG_IGN);
        Poco::Net::initializeSSL();
        fs::create_directories(dir);
        const auto pki = sim::ensurePki(dir + "/pki");
        const std::string host = arg(argc, argv, "--host", "127.0.0.1");
        Sim sim(dir, std::stoi(arg(argc, argv, "--timeout-ms", "30000")));
        sim.boxCa_ = arg(argc, argv, "--box-ca");
        sim.meetingSecret_ = arg(argc, argv, "--meeting-secret");
        const char* sharedEnv = std::getenv("KB_SHARED_DIR");
        sim::ReferralSim referral(pki.clientCert, pki.clientKey, pki.caCert,
                                  arg(argc, argv, "--schemas", std::string(sharedEnv ? sharedEnv : KB_SHARED_DIR) + "/schemas"),
                                  std::stoi(arg(argc, argv, "--timeout-ms", "30000")));
        sim.referral = &referral;

        Poco::Net::ServerSocket plain(Poco::Net::SocketAddress(host, static_cast<Poco::UInt16>(std::stoi(arg(argc, argv, "--http-port", "0")))));
        Poco::Net::Context::Params params;
        params.privateKeyFile = pki.serverKey;
        params.certificateFile = pki.serverCert;
        params.caLocation = pki.caCert;
        params.verificationMode = Poco::Net::Context::VERIFY_STRICT;  // a client certificate is required
        params.loadDefaultCAs = false;
        Poco::Net::Context::Ptr ctx = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, params);
        // The client certificate is checked against the sim CA; POCO's extra host-name check
        // would compare the client's certificate name with its address, which means nothing here.
        ctx->enableExtendedCertificateVerification(false);
        Poco::Net::SecureServerSocket secure(
            Poco::Net::SocketAddress(host, static_cast<Poco::UInt16>(std::stoi(arg(argc, argv, "--https-port", "0")))), 64, ctx);
        auto* p1 = new Poco::Net::HTTPServerParams;
        p1->setMaxThreads(16);
        auto* p2 = new Poco::Net::HTTPServerParams;
        p2->setMaxThreads(16);
        Poco::Net::HTTPServer http(new Factory<HttpHandler>(sim), plain, p1);
        Poco::Net::HTTPServer https(new Factory<HttpsHandler>(sim), secure, p2);
        http.start();
        https.start();

        Object ready;
        ready.set("http", "http://" + host + ":" + std::to_string(plain.address().port()));
        ready.set("https", "https://" + host + ":" + std::to_string(secure.address().port()));
        ready.set("ca", fs::absolute(pki.caCert).string());
        ready.set("client_cert", fs::absolute(pki.clientCert).string());
        ready.set("client_key", fs::absolute(pki.clientKey).string());
        std::cout << json(ready) << std::endl;

        while (!g_stop) {
            std::unique_lock lock(g_stopMu);
            g_stopCv.wait_for(lock, milliseconds(200), [] { return g_stop.load(); });
        }
        g_stopCv.notify_all();
        http.stopAll(true);
        https.stopAll(true);
        Poco::Net::uninitializeSSL();
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "klinikbox-sim: " << e.what() << "\n";
        return 1;
    }
}
