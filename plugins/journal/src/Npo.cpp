#include "Npo.h"

namespace klinikbox::journal {
namespace {

const std::string kNs3 = "urn:riv:clinicalprocess:healthcond:description:3";
const std::string kNs2 = "urn:riv:clinicalprocess:healthcond:description:2";

using rivta::element;

std::string contract(Kind k) {
    switch (k) {
        case Kind::Notes: return "GetCareDocumentation";
        case Kind::Diagnoses: return "GetDiagnosis";
        case Kind::Alerts: return "GetAlertInformation";
    }
    return {};
}
std::string responder(Kind k) {
    return "urn:riv:clinicalprocess:healthcond:description:" + contract(k) + "Responder:" + (k == Kind::Notes ? "3" : "2");
}
std::string text(const Poco::XML::Element* el, std::string_view local) { return el ? rivta::descendantText(el, local) : std::string(); }
const Poco::XML::Element* sub(const Poco::XML::Element* el, std::string_view local) { return el ? rivta::child(el, "*", local) : nullptr; }

}  // namespace

std::string_view toString(Kind k) {
    switch (k) {
        case Kind::Notes: return "notes";
        case Kind::Diagnoses: return "diagnoses";
        case Kind::Alerts: return "alerts";
    }
    return "notes";
}

std::string requestBody(Kind k, const Query& q, const std::string& sourceSystem, const std::string& reference) {
    const auto op = contract(k);
    std::string b = "<r:" + op + " xmlns:r=\"" + responder(k) + "\" xmlns:core=\"" + (k == Kind::Notes ? kNs3 : kNs2) + "\">";
    if (k == Kind::Notes) {
        if (!q.provider.empty()) b += "<r:healthcareProvider>" + element("core:root", kHsaRoot) + element("core:extension", q.provider) + "</r:healthcareProvider>";
        b += "<r:patientId>" + element("core:root", kPersonIdRoot) + element("core:extension", q.patient) + "</r:patientId>";
        if (!q.from.empty()) b += "<r:datePeriod>" + element("core:start", q.from) + element("core:end", q.to) + "</r:datePeriod>";
        if (!sourceSystem.empty()) b += "<r:sourceSystemId>" + element("core:root", kHsaRoot) + element("core:extension", sourceSystem) + "</r:sourceSystemId>";
        if (!reference.empty()) b += element("r:hasMoreReference", reference);
    } else {
        b += "<r:patientId>" + element("core:id", q.patient) + element("core:type", kPersonIdRoot) + "</r:patientId>";
        if (!q.from.empty()) b += "<r:timePeriod>" + element("core:start", q.from) + element("core:end", q.to) + "</r:timePeriod>";
        if (!sourceSystem.empty()) b += element("r:sourceSystemHSAId", sourceSystem);
    }
    return b + "</r:" + op + ">";
}

Page parseAnswer(Kind k, const rivta::Envelope& env) {
    const auto* body = env.body;
    if (!body || body->localName() != contract(k) + "Response") throw ServiceError("aggregator: not a " + contract(k) + "Response");
    const auto* result = sub(body, "result");
    const auto code = result ? rivta::childText(result, "resultCode") : std::string("OK");
    if (code == "ERROR") throw ServiceError("aggregator: " + contract(k) + " answered ERROR " + text(result, "resultText"));
    Page p;
    // ProcessingStatus (urn:riv:interoperability:headers:1) in the SOAP header.
    auto* root = env.doc->documentElement();
    if (const auto* header = rivta::child(root, std::string(rivta::kSoapNs), "Header")) {
        if (const auto* ps = rivta::child(header, "*", "ProcessingStatus"))
            for (const auto* r : rivta::children(ps, "*", "ProcessingStatusList"))
                p.sources.push_back({rivta::childText(r, "logicalAddress"), rivta::childText(r, "statusCode")});
    }
    if (k == Kind::Notes) {
        for (const auto* d : rivta::children(body, "*", "careDocumentation")) {
            Record r;
            r.kind = k;
            const auto* h = sub(d, "header");
            const auto* ach = sub(h, "accessControlHeader");
            r.accountableUnit = text(sub(ach, "accountableCareUnit"), "extension");
            r.accountableProvider = text(sub(ach, "accountableHealthcareProvider"), "extension");
            r.blockTime = timestampToXs(text(ach, "blockComparisonTime"));
            r.sourceSystem = text(sub(h, "sourceSystemId"), "extension");
            r.id = text(sub(sub(h, "record"), "id"), "extension");
            r.time = text(sub(h, "record"), "timestamp");
            const auto* author = sub(h, "author");
            r.author = text(author, "name");
            r.unitName = text(sub(author, "orgUnit"), "orgUnitName");
            const auto* b = sub(d, "body");
            r.code = text(sub(b, "clinicalDocumentNoteCode"), "displayName");
            r.title = text(b, "clinicalDocumentNoteTitle");
            r.text = text(b, "clinicalDocumentNoteText");
            p.records.push_back(std::move(r));
        }
        for (const auto* m : rivta::children(body, "*", "hasMore"))
            p.hasMore.emplace_back(rivta::childText(m, "logicalAddress"), rivta::childText(m, "reference"));
        return p;
    }
    const bool diag = k == Kind::Diagnoses;
    for (const auto* d : rivta::children(body, "*", diag ? "diagnosis" : "alertInformation")) {
        Record r;
        r.kind = k;
        const auto* h = sub(d, diag ? "diagnosisHeader" : "alertInformationHeader");
        const auto* prof = sub(h, "accountableHealthcareProfessional");
        r.accountableUnit = text(prof, "healthcareProfessionalCareUnitHSAId");
        r.accountableProvider = text(prof, "healthcareProfessionalCareGiverHSAId");
        r.blockTime = timestampToXs(text(h, "documentTime"));
        if (r.blockTime.empty()) r.blockTime = timestampToXs(text(prof, "authorTime"));
        r.sourceSystem = rivta::childText(h, "sourceSystemHSAId");
        r.id = rivta::childText(h, "documentId");
        r.time = rivta::childText(h, "documentTime");
        r.title = rivta::childText(h, "documentTitle");
        r.author = text(prof, "healthcareProfessionalName");
        r.unitName = text(sub(prof, "healthcareProfessionalOrgUnit"), "orgUnitName");
        const auto* b = sub(d, diag ? "diagnosisBody" : "alertInformationBody");
        if (diag) {
            r.code = text(sub(b, "diagnosisCode"), "code");
            r.text = text(sub(b, "diagnosisCode"), "displayName");
        } else {
            r.code = text(sub(b, "typeOfAlertInformation"), "displayName");
            r.text = rivta::childText(b, "alertInformationComment");
        }
        p.records.push_back(std::move(r));
    }
    return p;
}

rivta::Envelope NpoClient::call(Kind k, const std::string& address, const std::string& body) const {
    auto ep = tls_;
    ep.url = urlPattern_;
    if (const auto at = ep.url.find("{contract}"); at != std::string::npos) ep.url.replace(at, 10, contract(k));
    return callService(ep, responder(k) + ":" + contract(k), address, body, "NPÖ " + contract(k));
}

Fetched NpoClient::fetch(Kind k, const Query& q) const {
    if (urlPattern_.empty()) throw ServiceError("the NPÖ aggregator is not configured");
    Fetched f;
    auto first = parseAnswer(k, call(k, aggregator_, requestBody(k, q)));
    f.pages = 1;
    f.records = std::move(first.records);
    f.sources = std::move(first.sources);
    // Follow-up pages go to the producer's own logical address, never to the aggregator,
    // with every other parameter unchanged.
    auto pending = std::move(first.hasMore);
    while (!pending.empty()) {
        if (f.pages >= maxPages_) throw ServiceError("NPÖ: more than " + std::to_string(maxPages_) + " pages; narrow the period");
        const auto [address, ref] = pending.back();
        pending.pop_back();
        if (address.empty() || address == aggregator_) throw ServiceError("NPÖ: a hasMore without the producer's address");
        auto page = parseAnswer(k, call(k, address, requestBody(k, q, address, ref)));
        ++f.pages;
        for (auto& r : page.records) f.records.push_back(std::move(r));
        for (auto& m : page.hasMore) pending.push_back(std::move(m));
    }
    return f;
}

}  // namespace klinikbox::journal
