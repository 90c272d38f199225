// Builders and parsers of the activity:request 2.2 bodies; element order follows the XSD.
#include "Bodies.h"

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/DOM/NodeList.h>

#include <map>
#include <set>
#include <sstream>
#include <vector>

namespace klinikbox::referral {

using rivta::element;
using rivta::xmlEscape;

namespace {

constexpr std::string_view kPersonnummerRoot = "1.2.752.129.2.1.3.1";
constexpr std::string_view kSamordningsnummerRoot = "1.2.752.129.2.1.3.3";

std::string ext(std::string_view name, std::string_view extension) {
    return "<core:" + std::string(name) + " extension=\"" + xmlEscape(extension) + "\"/>";
}
std::string val(std::string_view name, std::string_view value) {
    return "<core:" + std::string(name) + " value=\"" + xmlEscape(value) + "\"/>";
}
std::string tag(std::string_view name, std::string_view text) { return element("core:" + std::string(name), text); }
std::string unit(std::string_view name, std::string_view hsa) {
    return "<core:" + std::string(name) + ">" + ext("careUnitId", hsa) + "</core:" + std::string(name) + ">";
}
std::string fullUnit(std::string_view name, const Party& p) {
    std::string s = "<core:" + std::string(name) + ">" + ext("careUnitId", p.unitHsa);
    if (!p.unitName.empty()) s += tag("careUnitName", p.unitName.substr(0, 64));
    return s + "</core:" + std::string(name) + ">";
}
std::string patient(std::string_view pnr, bool coordination) {
    return "<core:patient><core:personId root=\"" +
           std::string(coordination ? kSamordningsnummerRoot : kPersonnummerRoot) + "\" extension=\"" + xmlEscape(pnr) +
           "\"/></core:patient>";
}
std::string professional(const Party& p) {
    std::string s = "<core:healthcareProfessional>";
    if (!p.practitionerHsa.empty()) s += ext("id", p.practitionerHsa);
    return s + tag("name", p.practitionerName.substr(0, 64)) + "</core:healthcareProfessional>";
}
std::string base64(const std::string& bytes) {
    std::ostringstream out;
    Poco::Base64Encoder enc(out);
    enc.rdbuf()->setLineLength(0);
    enc << bytes;
    enc.close();
    return out.str();
}
std::string unbase64(const std::string& text) {
    std::istringstream in(text);
    Poco::Base64Decoder dec(in);
    std::string out((std::istreambuf_iterator<char>(dec)), std::istreambuf_iterator<char>());
    return out;
}
std::string attr(const Poco::XML::Element* parent, std::string_view local, const std::string& name) {
    if (parent == nullptr) return {};
    const auto* e = rivta::child(parent, "*", local);
    return e ? e->getAttribute(name) : std::string();
}
int intText(const Poco::XML::Element* parent, std::string_view local) {
    const auto t = rivta::childText(parent, local);
    try {
        return t.empty() ? 0 : std::stoi(t);
    } catch (const std::exception&) {
        throw BodyError("the version number is not a number");
    }
}
Poco::XML::Element* need(const Poco::XML::Element* parent, std::string_view local) {
    auto* e = rivta::child(parent, kCoreNs, local);
    if (e == nullptr) throw BodyError("the message has no " + std::string(local));
    return e;
}
std::string unitOf(const Poco::XML::Element* parent, std::string_view local) {
    return attr(rivta::child(parent, kCoreNs, local), "careUnitId", "extension");
}

// The contract's elements (activity:request 2.2) that may repeat; every other element of the
// contract's namespaces appears at most once where it appears (maxOccurs 1, the default).
bool repeatable(const std::string& local) {
    static const std::set<std::string, std::less<>> names = {"accomplishedActivity", "attachment", "condition",
                                                             "desiredActivity", "intermediaryParticipant", "telecom"};
    return names.count(local) > 0;
}

// Refuses a message that names an element twice where the contract allows one: the box read
// the first <patient> and a schema-validating sender or its audit the whole message, so a
// referral could be filed under another patient than the one its sender meant. Elements of
// other namespaces (the contract's xs:any ##other extensions) are not the contract's.
void checkOnce(const Poco::XML::Element* root) {
    // A list of elements still to look into, not recursion: an outside message may nest
    // elements as deep as its size allows.
    std::vector<const Poco::XML::Element*> pending{root};
    while (!pending.empty()) {
        const auto* e = pending.back();
        pending.pop_back();
        std::map<std::pair<std::string, std::string>, int> seen;
        for (auto* n = e->firstChild(); n; n = n->nextSibling()) {
            if (n->nodeType() != Poco::XML::Node::ELEMENT_NODE) continue;
            const auto* c = static_cast<const Poco::XML::Element*>(n);
            const std::string ns = c->namespaceURI();
            if (ns != kCoreNs && ns != kRequestNs && ns != kConfirmationNs && ns != kOutcomeNs) continue;
            if (++seen[{ns, c->localName()}] == 2 && !repeatable(c->localName()))
                throw BodyError("the contract allows one " + c->localName() + " in " + e->localName() + "; the message has more");
            pending.push_back(c);
        }
    }
}

// The texts of every repeatable element of `local` under `parent`, one paragraph each: a
// second <condition> is the sender's as much as the first.
std::string allTexts(const Poco::XML::Element* parent, std::string_view local) {
    std::string out;
    for (const auto* e : rivta::children(parent, kCoreNs, local)) {
        const auto t = rivta::childText(e, "text");
        if (t.empty()) continue;
        out += (out.empty() ? "" : "\n\n") + t;
    }
    return out;
}

}  // namespace

std::string soapAction(std::string_view operation) {
    const std::string_view ns = operation == "ProcessRequest"               ? kRequestNs
                                : operation == "ProcessRequestConfirmation" ? kConfirmationNs
                                                                            : kOutcomeNs;
    return std::string(ns) + ":" + std::string(operation);
}

bool isConfirmationCode(std::string_view c) { return c == "BEK" || c == "VID" || c == "KOM" || c == "AVB" || c == "AVV"; }
bool isOutcomeCode(std::string_view c) { return c == "DSV" || c == "PSV" || c == "SSV"; }

std::string requestBody(const RequestBody& r) {
    std::string s = "<pr:ProcessRequest xmlns:pr=\"" + std::string(kRequestNs) + "\" xmlns:core=\"" + std::string(kCoreNs) +
                    "\"><core:request>";
    s += ext("requestId", r.requestId);
    s += "<core:typeOfRequest code=\"4\"/>";
    s += val("versionTimeStamp", r.timestamp);
    s += tag("versionNumber", std::to_string(r.version));
    s += "<core:reasonForVersion><core:typeOfReason code=\"" + std::string(r.version == 1 ? "NR" : "AR") +
         "\"/></core:reasonForVersion>";
    s += "<core:careResponsibilityRemains>true</core:careResponsibilityRemains>";
    s += patient(r.patient, r.coordinationNumber);
    s += fullUnit("requestOrganisation", r.sender);
    s += "<core:author>" + val("date", r.timestamp.substr(0, 8)) + professional(r.sender) +
         unit("healthcareProfessionalOrganisation", r.sender.unitHsa) + "</core:author>";
    s += "<core:recipient>" + unit("organisation", r.receiverHsa) + "</core:recipient>";
    s += "<core:additionalInformation>" +
         tag("administrativeInformation", "Prioritet: " + r.priority +
                                              "; Patienten informerad: " + (r.patientInformed ? "ja" : "nej")) +
         "</core:additionalInformation>";
    s += "<core:questionFormulation>" + tag("text", r.question);
    if (!r.anamnesis.empty()) s += "<core:clinicalInformation>" + tag("text", r.anamnesis) + "</core:clinicalInformation>";
    if (!r.status.empty()) s += "<core:condition>" + tag("text", r.status) + "</core:condition>";
    if (!r.requestedActivity.empty()) s += "<core:desiredActivity>" + tag("text", r.requestedActivity) + "</core:desiredActivity>";
    s += "</core:questionFormulation>";
    for (const auto& a : r.attachments) {
        s += "<core:attachment><core:mediaType>" + tag("code", a.mediaType) + tag("codeSystem", "urn:ietf:rfc:2046") +
             tag("displayName", a.mediaType) + "</core:mediaType>" + tag("value", base64(a.bytes)) +
             tag("description", a.name) + "</core:attachment>";
    }
    return s + "</core:request></pr:ProcessRequest>";
}

std::string answerBody(const AnswerBody& a) {
    const bool confirmation = isConfirmationCode(a.code);
    if (!confirmation && !isOutcomeCode(a.code)) throw BodyError("unknown answer code " + a.code);
    const std::string op = confirmation ? "ProcessRequestConfirmation" : "ProcessRequestOutcome";
    const std::string inner = confirmation ? "requestConfirmation" : "requestOutcome";
    const std::string ns(confirmation ? kConfirmationNs : kOutcomeNs);
    std::string s = "<x:" + op + " xmlns:x=\"" + ns + "\" xmlns:core=\"" + std::string(kCoreNs) + "\"><core:" + inner + ">";
    s += ext("requestId", a.requestId);
    s += ext(confirmation ? "requestConfirmationId" : "requestOutcomeId", a.answerId);
    s += "<core:" + std::string(confirmation ? "typeOfRequestConfirmation" : "typeOfRequestOutcome") + " code=\"" + a.code +
         "\"/>";
    s += tag("requestVersionNumber", std::to_string(a.requestVersion));
    s += val(confirmation ? "requestConfirmationTime" : "requestOutcomeTime", a.timestamp);
    s += patient(a.patient, a.coordinationNumber);
    s += fullUnit(confirmation ? "confirmingOrganisation" : "respondingOrganisation", a.responder);
    s += "<core:author>" + professional(a.responder) + unit("healthcareProfessionalOrganisation", a.responder.unitHsa) +
         "</core:author>";
    s += "<core:recipient>" + unit("organisation", a.recipientHsa) + "</core:recipient>";
    if (confirmation && a.code == "VID" && !a.forwardToHsa.empty())
        s += "<core:forwardingRecipient>" + unit("organisation", a.forwardToHsa) + "</core:forwardingRecipient>";
    s += "<core:outcome>" + tag("outcomeText", a.text.empty() ? a.code : a.text) + "</core:outcome>";
    return s + "</core:" + inner + "></x:" + op + ">";
}

std::string resultBody(std::string_view operation, std::string_view resultCode, std::string_view errorCode,
                       std::string_view message) {
    const std::string op(operation);
    std::string ns = soapAction(operation);
    ns = ns.substr(0, ns.rfind(':'));
    std::string s = "<x:" + op + "Response xmlns:x=\"" + ns + "\" xmlns:core=\"" + std::string(kCoreNs) +
                    "\"><x:result>" + tag("resultCode", resultCode);
    if (!errorCode.empty()) s += tag("errorCode", errorCode);
    if (!message.empty()) s += tag("message", message);
    return s + "</x:result></x:" + op + "Response>";
}

Inbound parseInbound(const std::string& envelopeXml, std::size_t maxBytes) {
    auto env = rivta::parseEnvelope(envelopeXml, maxBytes);
    Inbound in;
    in.logicalAddress = env.logicalAddress;
    const auto* body = env.body;
    checkOnce(body);
    const std::string ns = body->namespaceURI();
    const std::string local = body->localName();
    auto personOf = [](const Poco::XML::Element* parent, std::string& pnr, bool& coordination) {
        const auto* p = need(parent, "patient");
        const auto* id = rivta::child(p, kCoreNs, "personId");
        if (id == nullptr) throw BodyError("the message has no personId");
        pnr = id->getAttribute("extension");
        coordination = id->getAttribute("root") == kSamordningsnummerRoot;
    };
    auto professionalOf = [](const Poco::XML::Element* parent, Party& p) {
        const auto* a = need(parent, "author");
        const auto* hp = rivta::child(a, kCoreNs, "healthcareProfessional");
        if (hp != nullptr) {
            p.practitionerName = rivta::childText(hp, "name");
            p.practitionerHsa = attr(hp, "id", "extension");
        }
    };
    if (local == "ProcessRequest" && ns == kRequestNs) {
        in.operation = local;
        const auto* r = need(body, "request");
        auto& q = in.request;
        q.requestId = attr(r, "requestId", "extension");
        q.timestamp = attr(r, "versionTimeStamp", "value");
        q.version = intText(r, "versionNumber");
        personOf(r, q.patient, q.coordinationNumber);
        q.sender.unitHsa = unitOf(r, "requestOrganisation");
        q.sender.unitName = rivta::childText(need(r, "requestOrganisation"), "careUnitName");
        professionalOf(r, q.sender);
        q.receiverHsa = attr(rivta::child(need(r, "recipient"), kCoreNs, "organisation"), "careUnitId", "extension");
        const auto* qf = need(r, "questionFormulation");
        q.question = rivta::childText(qf, "text");
        if (const auto* ci = rivta::child(qf, kCoreNs, "clinicalInformation")) q.anamnesis = rivta::childText(ci, "text");
        q.status = allTexts(qf, "condition");
        q.requestedActivity = allTexts(qf, "desiredActivity");
        if (const auto* ai = rivta::child(r, kCoreNs, "additionalInformation")) {
            const auto admin = rivta::childText(ai, "administrativeInformation");
            q.priority = admin.find("Prioritet: akut") != std::string::npos ? "akut" : "normal";
            q.patientInformed = admin.find("informerad: ja") != std::string::npos;
        } else {
            q.priority = "normal";
        }
        for (const auto* a : rivta::children(r, kCoreNs, "attachment")) {
            Attachment at;
            if (const auto* mt = rivta::child(a, kCoreNs, "mediaType")) at.mediaType = rivta::childText(mt, "code");
            at.name = rivta::childText(a, "description");
            at.bytes = unbase64(rivta::childText(a, "value"));
            q.attachments.push_back(std::move(at));
        }
    } else if ((local == "ProcessRequestConfirmation" && ns == kConfirmationNs) ||
               (local == "ProcessRequestOutcome" && ns == kOutcomeNs)) {
        in.operation = local;
        const bool confirmation = local == "ProcessRequestConfirmation";
        const auto* r = need(body, confirmation ? "requestConfirmation" : "requestOutcome");
        auto& a = in.answer;
        a.requestId = attr(r, "requestId", "extension");
        a.answerId = attr(r, confirmation ? "requestConfirmationId" : "requestOutcomeId", "extension");
        a.code = attr(r, confirmation ? "typeOfRequestConfirmation" : "typeOfRequestOutcome", "code");
        a.requestVersion = intText(r, "requestVersionNumber");
        a.timestamp = attr(r, confirmation ? "requestConfirmationTime" : "requestOutcomeTime", "value");
        personOf(r, a.patient, a.coordinationNumber);
        a.responder.unitHsa = unitOf(r, confirmation ? "confirmingOrganisation" : "respondingOrganisation");
        professionalOf(r, a.responder);
        a.recipientHsa = attr(rivta::child(need(r, "recipient"), kCoreNs, "organisation"), "careUnitId", "extension");
        if (const auto* f = rivta::child(r, kCoreNs, "forwardingRecipient"))
            a.forwardToHsa = attr(rivta::child(f, kCoreNs, "organisation"), "careUnitId", "extension");
        a.text = rivta::childText(need(r, "outcome"), "outcomeText");
        if (confirmation ? !isConfirmationCode(a.code) : !isOutcomeCode(a.code))
            throw BodyError("unknown answer code '" + a.code + "'");
    } else {
        throw BodyError("not an activity:request 2.2 operation: {" + ns + "}" + local);
    }
    const auto& id = in.operation == "ProcessRequest" ? in.request.requestId : in.answer.requestId;
    if (id.empty() || id.find('#') == std::string::npos || id.size() > 256) throw BodyError("the requestId is missing or malformed");
    return in;
}

Result parseResult(const std::string& envelopeXml) {
    auto env = rivta::parseEnvelope(envelopeXml, 1u << 20);
    const auto* res = rivta::child(env.body, "*", "result");
    if (res == nullptr) throw BodyError("the answer has no result");
    return Result{rivta::childText(res, "resultCode"), rivta::childText(res, "errorCode"), rivta::childText(res, "message")};
}

}  // namespace klinikbox::referral
