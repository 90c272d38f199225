// The simulator's referral parties (see Referral.h). Bodies are written here from the
// published samples' shape, not with the box's code, so the test checks the box against an
// independent party.
#include "Referral.h"
#include "SimState.h"

#include <klinikbox/RivTa.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

namespace sim {

namespace {

namespace fs = std::filesystem;
using Poco::JSON::Object;

const char* kRequestCoreNs = "urn:riv:clinicalprocess:activity:request:2";

std::string esc(const std::string& s) { return klinikbox::rivta::xmlEscape(s); }

// RIV-TA's timestamp (YYYYMMDDhhmmss, UTC) on the simulator's clock (--clock-start).
std::string stampNow() {
    std::string s;
    for (const char c : isoNow())
        if (c >= '0' && c <= '9') s += c;
    return s;
}

std::string envelope(const std::string& la, const std::string& body) {
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">"
           "<soap:Header><LogicalAddress xmlns=\"urn:riv:itintegration:registry:1\">" + esc(la) +
           "</LogicalAddress></soap:Header><soap:Body>" + body + "</soap:Body></soap:Envelope>";
}

std::string fault(const std::string& text) {
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">"
           "<soap:Body><soap:Fault><faultcode>soap:Server</faultcode><faultstring>" + esc(text) +
           "</faultstring></soap:Fault></soap:Body></soap:Envelope>";
}

std::string result(const std::string& op, const std::string& code, const std::string& errorCode, const std::string& message) {
    const std::string ns = "urn:riv:clinicalprocess:activity:request:" + op + "Responder:2";
    std::string s = "<r:" + op + "Response xmlns:r=\"" + ns + "\" xmlns:core=\"" + kRequestCoreNs + "\"><r:result><core:resultCode>" + code +
                    "</core:resultCode>";
    if (!errorCode.empty()) s += "<core:errorCode>" + errorCode + "</core:errorCode>";
    if (!message.empty()) s += "<core:message>" + esc(message) + "</core:message>";
    return s + "</r:result></r:" + op + "Response>";
}

// The SOAP Body's child as text (the bodies declare their namespaces on their root).
std::string bodyChild(const std::string& env) {
    static const std::regex open(R"(<([A-Za-z0-9_]+:)?Body[^>]*>)");
    std::smatch m;
    if (!std::regex_search(env, m, open)) return {};
    const std::string prefix = m[1].str();
    const auto start = static_cast<std::size_t>(m.position(0) + m.length(0));
    const auto end = env.rfind("</" + prefix + "Body>");
    if (end == std::string::npos || end < start) return {};
    return env.substr(start, end - start);
}

std::string attrOf(const std::string& xml, const std::string& element, const std::string& attr) {
    const std::regex re("<(?:[A-Za-z0-9_]+:)?" + element + "\\b[^>]*\\b" + attr + "=\"([^\"]*)\"");
    std::smatch m;
    return std::regex_search(xml, m, re) ? m[1].str() : std::string();
}

std::string textOf(const std::string& xml, const std::string& element) {
    const std::regex re("<(?:[A-Za-z0-9_]+:)?" + element + "\\b[^>]*>([^<]*)</");
    std::smatch m;
    return std::regex_search(xml, m, re) ? m[1].str() : std::string();
}

// The inner texts of every element named `local` (any prefix), in document order. Written by
// hand: std::regex recurses per character and a base64 attachment would exhaust the stack.
std::vector<std::string> textsOf(const std::string& xml, const std::string& local) {
    std::vector<std::string> out;
    for (std::size_t p = xml.find('<'); p != std::string::npos; p = xml.find('<', p + 1)) {
        std::size_t n = p + 1;
        const auto colon = xml.find_first_of(":> /", n);
        if (colon != std::string::npos && xml[colon] == ':') n = colon + 1;
        if (xml.compare(n, local.size(), local) != 0) continue;
        const std::size_t after = n + local.size();
        if (after >= xml.size() || (xml[after] != '>' && xml[after] != ' ')) continue;
        const auto open = xml.find('>', after);
        if (open == std::string::npos || xml[open - 1] == '/') continue;
        const auto close = xml.find('<', open + 1);
        if (close == std::string::npos) break;
        out.push_back(xml.substr(open + 1, close - open - 1));
    }
    return out;
}

std::string firstText(const std::string& xml, const std::string& local) {
    const auto all = textsOf(xml, local);
    return all.empty() ? std::string() : all.front();
}

// The text of `local` inside the first element named `parent` (any prefix), or "".
std::string textIn(const std::string& xml, const std::string& parent, const std::string& local) {
    for (std::size_t p = xml.find(parent); p != std::string::npos; p = xml.find(parent, p + 1)) {
        const std::size_t after = p + parent.size();
        if (p == 0 || (xml[p - 1] != '<' && xml[p - 1] != ':') || after >= xml.size() || (xml[after] != '>' && xml[after] != ' '))
            continue;
        const auto end = xml.find(parent + ">", after);
        return end == std::string::npos ? std::string() : firstText(xml.substr(p, end - p), local);
    }
    return {};
}

}  // namespace

ReferralSim::ReferralSim(std::string clientCert, std::string clientKey, std::string simCa, std::string schemaDir, int timeoutMs)
    : clientCert_(std::move(clientCert)),
      clientKey_(std::move(clientKey)),
      simCa_(std::move(simCa)),
      schemaDir_(std::move(schemaDir)),
      timeoutMs_(timeoutMs) {
    reset();
}

void ReferralSim::reset() {
    std::lock_guard lock(mu_);
    parties_.clear();
    parties_["SE2321000016-RAD1"] = Party{"SE2321000016-RAD1", "Röntgen, Sjukhuset i Staden", "2.2"};
    parties_["SE2321000016-FYS1"] = Party{"SE2321000016-FYS1", "Fysioterapin Väster", "3.0"};
    received_.clear();
    sent_.clear();
    faults_.clear();
}

std::string ReferralSim::validate(const std::string& bodyXml, const std::string& op) {
    const std::string xsd = schemaDir_ + "/clinicalprocess-activity-request-2.2/interactions/" + op + "Interaction/" + op +
                            "Responder_2.2.xsd";
    if (!fs::exists(xsd)) return "schema not found: " + xsd;
    char tmpl[] = "/tmp/kbsim-ref-XXXXXX";
    const int fd = ::mkstemp(tmpl);
    if (fd < 0) return "mkstemp failed";
    ::close(fd);
    const std::string file = tmpl;
    std::ofstream(file) << bodyXml;
    const std::string out = file + ".out";
    const int rc = std::system(("xmllint --noout --nonet --schema '" + xsd + "' '" + file + "' >'" + out + "' 2>&1").c_str());
    std::stringstream ss;
    ss << std::ifstream(out).rdbuf();
    fs::remove(file);
    fs::remove(out);
    return rc == 0 ? "" : ss.str().substr(0, 2000);
}

ReferralSim::Reply ReferralSim::handle(const std::string& path, const std::string& env) {
    // /referral/<hsa>/<operation>
    static const std::regex re(R"(^/referral/([A-Za-z0-9-]+)/(ProcessRequest|ProcessRequestConfirmation|ProcessRequestOutcome)$)");
    std::smatch m;
    if (!std::regex_match(path, m, re)) return Reply{404, "text/plain", "no such referral endpoint"};
    const std::string hsa = m[1].str(), op = m[2].str();
    std::string kind;
    Party party;
    {
        std::lock_guard lock(mu_);
        auto it = parties_.find(hsa);
        if (it == parties_.end()) return Reply{404, "text/plain", "no such party"};
        party = it->second;
        if (!faults_.empty()) {
            kind = faults_.front().kind;
            if (--faults_.front().count <= 0) faults_.erase(faults_.begin());
        }
    }
    if (kind == "timeout") std::this_thread::sleep_for(std::chrono::milliseconds(timeoutMs_));
    if (kind == "timeout" || kind == "soap_fault") return Reply{500, "text/xml; charset=utf-8", fault("simulated failure")};
    const std::string la = textOf(env, "LogicalAddress");
    const std::string body = bodyChild(env);
    const std::string errors = validate(body, op);
    if (la != hsa) return Reply{500, "text/xml; charset=utf-8", fault("LogicalAddress " + la + " is not " + hsa)};
    // A party on another major version does not understand a 2.x body at all.
    if (party.version.rfind("2.", 0) != 0)
        return Reply{500, "text/xml; charset=utf-8", fault("this party speaks version " + party.version)};
    if (!errors.empty() || kind == "reject") {
        std::lock_guard lock(mu_);
        Received r;
        r.party = hsa;
        r.operation = op;
        r.requestId = attrOf(body, "requestId", "extension");
        r.at = isoNow();
        r.schemaErrors = errors;
        r.valid = errors.empty();
        received_.push_back(r);
        return Reply{200, "text/xml; charset=utf-8",
                     envelope("", result(op, "ERROR", "VALIDATION_ERROR", errors.empty() ? "simulated rejection" : "schema errors"))};
    }
    Received r;
    r.party = hsa;
    r.operation = op;
    r.requestId = attrOf(body, "requestId", "extension");
    r.patient = attrOf(body, "personId", "extension");
    r.sender = attrOf(body, "careUnitId", "extension");
    r.code = op == "ProcessRequest" ? "" : attrOf(body, op == "ProcessRequestConfirmation" ? "typeOfRequestConfirmation" : "typeOfRequestOutcome", "code");
    r.at = isoNow();
    if (op == "ProcessRequest") {
        r.version = std::atoi(firstText(body, "versionNumber").c_str());
        r.administrative = firstText(body, "administrativeInformation");
        r.question = textIn(body, "questionFormulation", "text");
        r.anamnesis = textIn(body, "clinicalInformation", "text");
        r.status = textIn(body, "condition", "text");
        r.requested = textIn(body, "desiredActivity", "text");
        std::size_t from = 0;
        for (;;) {
            const auto a = body.find("attachment>", from);
            if (a == std::string::npos) break;
            const auto e = body.find("attachment>", a + 11);
            if (e == std::string::npos) break;
            const std::string part = body.substr(a, e - a);
            r.attachments.push_back(Attached{firstText(part, "code"), firstText(part, "description"), firstText(part, "value")});
            from = e + 11;
        }
    }
    bool fresh = true;
    {
        std::lock_guard lock(mu_);
        for (auto& x : received_)
            if (x.party == hsa && x.operation == op && x.requestId == r.requestId && x.valid && x.code == r.code &&
                x.version == r.version) {
                ++x.deliveries;  // a redelivery: de-duplicated on the request id
                fresh = false;
            }
        if (fresh) received_.push_back(r);
    }
    if (fresh && op == "ProcessRequest") answerLater(party, r);
    // lost_answer: the referral is stored, but the caller never sees the answer.
    if (kind == "lost_answer") return Reply{502, "text/plain", "bad gateway"};
    return Reply{200, "text/xml; charset=utf-8", envelope("", result(op, "OK", "", fresh ? "" : "already received"))};
}

std::string ReferralSim::answerBody(const std::string& code, const std::string& requestId, const std::string& patient,
                                    const std::string& responder, const std::string& recipient, const std::string& text) {
    const bool confirmation = code == "BEK" || code == "VID" || code == "KOM" || code == "AVB" || code == "AVV";
    const std::string op = confirmation ? "ProcessRequestConfirmation" : "ProcessRequestOutcome";
    const std::string inner = confirmation ? "requestConfirmation" : "requestOutcome";
    std::string id;
    {
        std::lock_guard lock(mu_);
        id = responder + "#SIM-" + code + "-" + std::to_string(++seq_) + "-" + std::to_string(std::time(nullptr));
    }
    const std::string ns = "urn:riv:clinicalprocess:activity:request:" + op + "Responder:2";
    std::string s = "<x:" + op + " xmlns:x=\"" + ns + "\" xmlns:core=\"" + kRequestCoreNs + "\"><core:" + inner + ">";
    s += "<core:requestId extension=\"" + esc(requestId) + "\"/>";
    s += "<core:" + std::string(confirmation ? "requestConfirmationId" : "requestOutcomeId") + " extension=\"" + esc(id) + "\"/>";
    s += "<core:" + std::string(confirmation ? "typeOfRequestConfirmation" : "typeOfRequestOutcome") + " code=\"" + code + "\"/>";
    s += "<core:requestVersionNumber>1</core:requestVersionNumber>";
    s += "<core:" + std::string(confirmation ? "requestConfirmationTime" : "requestOutcomeTime") + " value=\"" + stampNow() + "\"/>";
    s += "<core:patient><core:personId root=\"1.2.752.129.2.1.3.1\" extension=\"" + esc(patient) + "\"/></core:patient>";
    s += "<core:" + std::string(confirmation ? "confirmingOrganisation" : "respondingOrganisation") + "><core:careUnitId extension=\"" +
         esc(responder) + "\"/></core:" + std::string(confirmation ? "confirmingOrganisation" : "respondingOrganisation") + ">";
    s += "<core:author><core:healthcareProfessional><core:name>Simulerad Mottagare</core:name></core:healthcareProfessional>"
         "<core:healthcareProfessionalOrganisation><core:careUnitId extension=\"" + esc(responder) +
         "\"/></core:healthcareProfessionalOrganisation></core:author>";
    s += "<core:recipient><core:organisation><core:careUnitId extension=\"" + esc(recipient) + "\"/></core:organisation></core:recipient>";
    s += "<core:outcome><core:outcomeText>" + esc(text) + "</core:outcomeText></core:outcome>";
    return s + "</core:" + inner + "></x:" + op + ">";
}

Object::Ptr ReferralSim::sendToBox(const std::string& op, const std::string& la, const std::string& body) {
    Object::Ptr o = new Object;
    o->set("operation", op);
    o->set("at", isoNow());
    std::string url, ca;
    {
        std::lock_guard lock(mu_);
        url = boxUrl_;
        ca = boxCa_;
    }
    if (url.empty()) {
        o->set("error", "no box_url configured (POST /sim/api/referral/config)");
        return o;
    }
    const std::string env = envelope(la, body);
    try {
        const Poco::URI uri(url + "/api/v1/referral/rivta/" + op);
        Poco::Net::Context::Ptr ctx = new Poco::Net::Context(
            Poco::Net::Context::TLS_CLIENT_USE, clientKey_, clientCert_, ca.empty() ? simCa_ : ca, Poco::Net::Context::VERIFY_RELAXED);
        Poco::Net::HTTPSClientSession s(uri.getHost(), uri.getPort(), ctx);
        s.setTimeout(Poco::Timespan(10, 0));
        Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_POST, uri.getPathAndQuery(), Poco::Net::HTTPMessage::HTTP_1_1);
        req.setContentType("text/xml; charset=utf-8");
        req.set("SOAPAction", "urn:riv:clinicalprocess:activity:request:" + op + "Responder:2:" + op);
        req.setContentLength(static_cast<std::streamsize>(env.size()));
        s.sendRequest(req) << env;
        Poco::Net::HTTPResponse r;
        std::istream& in = s.receiveResponse(r);
        std::string answer;
        Poco::StreamCopier::copyToString(in, answer);
        o->set("status", static_cast<int>(r.getStatus()));
        o->set("response", answer);
        o->set("result_code", textOf(answer, "resultCode"));
    } catch (const std::exception& e) {
        o->set("error", e.what());
    }
    {
        std::lock_guard lock(mu_);
        sent_.push_back(o);
    }
    return o;
}

void ReferralSim::answerLater(const Party& p, const Received& r) {
    if (p.confirm.empty() && p.outcome.empty()) return;
    std::thread([this, p, r] {
        if (!p.confirm.empty()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(p.confirmDelayMs));
            const std::string text = p.confirm == "AVV" ? "Remissen avvisas (simulator)." : "Remissen är mottagen (simulator).";
            (void)sendToBox(p.confirm == "BEK" || p.confirm == "VID" || p.confirm == "KOM" || p.confirm == "AVV" || p.confirm == "AVB"
                                ? "ProcessRequestConfirmation"
                                : "ProcessRequestOutcome",
                            r.sender, answerBody(p.confirm, r.requestId, r.patient, p.hsaId, r.sender, text));
        }
        if (!p.outcome.empty() && (p.confirm.empty() || p.confirm == "BEK")) {
            std::this_thread::sleep_for(std::chrono::milliseconds(p.outcomeDelayMs));
            (void)sendToBox("ProcessRequestOutcome", r.sender,
                            answerBody(p.outcome, r.requestId, r.patient, p.hsaId, r.sender, "Svar från simulatorn: utlåtande."));
        }
    }).detach();
}

std::string ReferralSim::requestBody(const Object::Ptr& in, std::string& requestId) {
    const std::string from = in->optValue<std::string>("from", "SE2321000016-RAD1");
    const std::string to = in->getValue<std::string>("to");
    std::string id;
    {
        std::lock_guard lock(mu_);
        id = from + "#SIM-REM-" + std::to_string(++seq_) + "-" + std::to_string(std::time(nullptr));
    }
    requestId = in->optValue<std::string>("request_id", id);
    const std::string stamp = stampNow();
    std::string s = "<pr:ProcessRequest xmlns:pr=\"urn:riv:clinicalprocess:activity:request:ProcessRequestResponder:2\" xmlns:core=\"" +
                    std::string(kRequestCoreNs) + "\"><core:request>";
    s += "<core:requestId extension=\"" + esc(requestId) + "\"/><core:typeOfRequest code=\"4\"/>";
    // A version above 1 completes a referral the receiver asked to be completed (KOM).
    const int version = in->optValue<int>("version", 1);
    s += "<core:versionTimeStamp value=\"" + stamp + "\"/><core:versionNumber>" + std::to_string(version) + "</core:versionNumber>";
    s += "<core:reasonForVersion><core:typeOfReason code=\"" + std::string(version == 1 ? "NR" : "AR") +
         "\"/></core:reasonForVersion>";
    s += "<core:careResponsibilityRemains>true</core:careResponsibilityRemains>";
    s += "<core:patient><core:personId root=\"1.2.752.129.2.1.3.1\" extension=\"" +
         esc(in->optValue<std::string>("patient", "191212121212")) + "\"/></core:patient>";
    s += "<core:requestOrganisation><core:careUnitId extension=\"" + esc(from) + "\"/><core:careUnitName>Sjukhuset i Staden" +
         "</core:careUnitName></core:requestOrganisation>";
    s += "<core:author><core:date value=\"" + stamp.substr(0, 8) + "\"/><core:healthcareProfessional><core:name>Sim Remittent" +
         "</core:name></core:healthcareProfessional><core:healthcareProfessionalOrganisation><core:careUnitId extension=\"" +
         esc(from) + "\"/></core:healthcareProfessionalOrganisation></core:author>";
    s += "<core:recipient><core:organisation><core:careUnitId extension=\"" + esc(to) + "\"/></core:organisation></core:recipient>";
    s += "<core:additionalInformation><core:administrativeInformation>Prioritet: " + esc(in->optValue<std::string>("priority", "normal")) +
         "; Patienten informerad: ja</core:administrativeInformation></core:additionalInformation>";
    s += "<core:questionFormulation><core:text>" + esc(in->optValue<std::string>("question", "Uppföljning efter operation.")) +
         "</core:text></core:questionFormulation>";
    return s + "</core:request></pr:ProcessRequest>";
}

Object::Ptr ReferralSim::toJson(const Received& r) const {
    Object::Ptr o = new Object;
    o->set("party", r.party);
    o->set("operation", r.operation);
    o->set("request_id", r.requestId);
    o->set("patient", r.patient);
    o->set("sender", r.sender);
    o->set("code", r.code);
    o->set("at", r.at);
    o->set("deliveries", r.deliveries);
    o->set("valid", r.valid);
    o->set("schema_errors", r.schemaErrors);
    if (r.operation == "ProcessRequest" && r.valid) {
        o->set("version", r.version);
        o->set("administrative", r.administrative);
        o->set("question", r.question);
        o->set("anamnesis", r.anamnesis);
        o->set("status", r.status);
        o->set("requested", r.requested);
        Poco::JSON::Array::Ptr atts = new Poco::JSON::Array;
        for (const auto& a : r.attachments) {
            Object::Ptr x = new Object;
            x->set("media_type", a.mediaType);
            x->set("name", a.name);
            x->set("base64", a.base64);
            atts->add(x);
        }
        o->set("attachments", atts);
    }
    return o;
}

std::optional<ReferralSim::Reply> ReferralSim::steer(const std::string& method, const std::string& path, const std::string& body) {
    if (path.rfind("/sim/api/referral/", 0) != 0) return std::nullopt;
    auto jsonReply = [](const Object::Ptr& o, int status = 200) {
        std::ostringstream ss;
        o->stringify(ss);
        return Reply{status, "application/json", ss.str()};
    };
    Object::Ptr in = new Object;
    if (method == "POST" && !body.empty()) in = Poco::JSON::Parser().parse(body).extract<Object::Ptr>();
    const std::string what = path.substr(18);
    if (what == "config" && method == "POST") {
        std::lock_guard lock(mu_);
        if (in->has("box_url")) boxUrl_ = in->getValue<std::string>("box_url");
        if (in->has("box_ca")) boxCa_ = in->getValue<std::string>("box_ca");
        if (auto ps = in->getObject("parties")) {
            for (const auto& [hsa, v] : *ps) {
                auto it = parties_.find(hsa);
                if (it == parties_.end()) return Reply{404, "application/json", R"({"error":"no such party"})"};
                auto o = v.extract<Object::Ptr>();
                it->second.confirm = o->optValue<std::string>("confirm", it->second.confirm);
                it->second.confirmDelayMs = o->optValue<int>("confirm_delay_ms", it->second.confirmDelayMs);
                it->second.outcome = o->optValue<std::string>("outcome", it->second.outcome);
                it->second.outcomeDelayMs = o->optValue<int>("outcome_delay_ms", it->second.outcomeDelayMs);
                it->second.version = o->optValue<std::string>("version", it->second.version);
            }
        }
        return Reply{204, "", ""};
    }
    if (what == "faults" && method == "POST") {
        std::lock_guard lock(mu_);
        const auto kind = in->getValue<std::string>("kind");
        if (kind == "clear") faults_.clear();
        else if (kind == "timeout" || kind == "lost_answer" || kind == "soap_fault" || kind == "reject")
            faults_.push_back(Fault{kind, in->optValue<int>("count", 1)});
        else return Reply{400, "application/json", R"({"error":"kind: timeout, lost_answer, soap_fault, reject or clear"})"};
        return Reply{204, "", ""};
    }
    if (what == "received" && method == "GET") {
        Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
        Poco::JSON::Array::Ptr sent = new Poco::JSON::Array;
        Poco::JSON::Array::Ptr parties = new Poco::JSON::Array;
        std::lock_guard lock(mu_);
        for (const auto& r : received_) items->add(toJson(r));
        for (const auto& s : sent_) sent->add(s);
        for (const auto& [hsa, p] : parties_) {
            Object::Ptr o = new Object;
            o->set("hsa_id", hsa);
            o->set("name", p.name);
            o->set("version", p.version);
            parties->add(o);
        }
        Object::Ptr o = new Object;
        o->set("items", items);
        o->set("sent", sent);
        o->set("parties", parties);
        return jsonReply(o);
    }
    if (what == "send" && method == "POST") {
        std::string requestId;
        const auto b = requestBody(in, requestId);
        auto o = sendToBox("ProcessRequest", in->getValue<std::string>("to"), b);
        o->set("request_id", requestId);
        return jsonReply(o);
    }
    if (what == "answer" && method == "POST") {
        const auto code = in->getValue<std::string>("code");
        const bool confirmation = code == "BEK" || code == "VID" || code == "KOM" || code == "AVB" || code == "AVV";
        const auto from = in->optValue<std::string>("from", "SE2321000016-RAD1");
        const auto to = in->getValue<std::string>("to");
        auto o = sendToBox(confirmation ? "ProcessRequestConfirmation" : "ProcessRequestOutcome", to,
                           answerBody(code, in->getValue<std::string>("request_id"), in->optValue<std::string>("patient", "191212121212"),
                                      from, to, in->optValue<std::string>("text", "Svar från simulatorn.")));
        return jsonReply(o);
    }
    if (what == "raw" && method == "POST") {
        // Sends any text as a request body (hostile XML tests).
        auto o = sendToBox(in->optValue<std::string>("operation", "ProcessRequest"), in->optValue<std::string>("logical_address", ""),
                           in->getValue<std::string>("body"));
        return jsonReply(o);
    }
    return Reply{404, "application/json", R"({"error":"no such referral steering call"})"};
}

std::string ReferralSim::pageHtml() {
    std::lock_guard lock(mu_);
    std::string rows;
    for (auto it = received_.rbegin(); it != received_.rend(); ++it)
        rows += "<tr><td>" + esc(it->at) + "</td><td>" + esc(it->party) + "</td><td>" + esc(it->operation) + " " + esc(it->code) +
                "</td><td>" + esc(it->requestId) + "</td><td>" + std::to_string(it->deliveries) + "</td><td>" +
                (it->valid ? "giltig" : "ogiltig") + "</td></tr>";
    return "<h2>Remisser</h2><table border=1><tr><th>Tid</th><th>Mottagare</th><th>Meddelande</th><th>Remiss-id</th>"
           "<th>Leveranser</th><th>XSD</th></tr>" + rows + "</table>";
}

}  // namespace sim
