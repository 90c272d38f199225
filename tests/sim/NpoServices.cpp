// Long because it holds four simulated national services and their realistic test documents;
// each service is a short function and the documents are data.
#include "NpoServices.h"

#include <klinikbox/RivTa.h>

#include <Poco/AutoPtr.h>
#include <Poco/DOM/DOMParser.h>
#include <Poco/DOM/Document.h>
#include <Poco/DOM/Element.h>
#include <Poco/DOM/NodeList.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/SAX/XMLReader.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace kbsim {
namespace {

const std::string kSys1 = "SE2321000016-SYS1", kSys2 = "SE2321000016-SYS2", kSys3 = "SE2321000016-SYS3";
const std::string kAggregator = "5565594230";
const std::string kBlockedUnit = "SE2321000016-VE12";

std::string esc(const std::string& s) { return klinikbox::rivta::xmlEscape(s); }

std::string nowXs() {
    const auto t = std::time(nullptr);
    std::tm tm{};
    localtime_r(&t, &tm);
    char b[32];
    std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S", &tm);
    return b;
}

std::string bodyChild(const std::string& env) {
    static const std::regex open(R"(<([A-Za-z0-9_]+:)?Body[^>]*>)");
    std::smatch m;
    if (!std::regex_search(env, m, open)) return {};
    const auto start = static_cast<std::size_t>(m.position(0) + m.length(0));
    const auto end = env.rfind("</" + m[1].str() + "Body>");
    if (end == std::string::npos || end < start) return {};
    return env.substr(start, end - start);
}

std::string logicalAddressOf(const std::string& env) {
    static const std::regex la(R"(<([A-Za-z0-9_]+:)?LogicalAddress[^>]*>([^<]*)<)");
    std::smatch m;
    return std::regex_search(env, m, la) ? m[2].str() : std::string();
}

Poco::AutoPtr<Poco::XML::Document> parseXml(const std::string& xml) {
    if (xml.find("<!DOCTYPE") != std::string::npos) throw std::runtime_error("DOCTYPE refused");
    Poco::XML::DOMParser p;
    p.setFeature(Poco::XML::XMLReader::FEATURE_NAMESPACES, true);
    return p.parseString(xml);
}

std::string text(Poco::XML::Node* n, const std::string& local) {
    auto* el = dynamic_cast<Poco::XML::Element*>(n);
    if (!el) return {};
    Poco::AutoPtr<Poco::XML::NodeList> l = el->getElementsByTagNameNS("*", local);
    return l->length() ? l->item(0)->innerText() : std::string();
}

std::vector<Poco::XML::Element*> all(Poco::XML::Node* n, const std::string& local) {
    std::vector<Poco::XML::Element*> out;
    auto* el = dynamic_cast<Poco::XML::Element*>(n);
    if (!el) return out;
    Poco::AutoPtr<Poco::XML::NodeList> l = el->getElementsByTagNameNS("*", local);
    for (unsigned long i = 0; i < l->length(); ++i) out.push_back(static_cast<Poco::XML::Element*>(l->item(i)));
    return out;
}

std::string envelope(const std::string& body, const std::string& header = {}) {
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">"
           "<soap:Header>" + header + "</soap:Header><soap:Body>" + body + "</soap:Body></soap:Envelope>";
}

// ---- the documents of the three source systems ----------------------------------------------

struct Doc {
    std::string id, source, unit, unitName, provider, time, title, code, codeName, author, text;
};

std::vector<Doc> notes() {
    return {
        {"sys1-001", kSys1, "SE2321000016-VE10", "Vårdcentralen Söder", "SE2321000016-VG10", "20261020101500", "Besök hos distriktsläkare",
         "utr", "Utredning", "Anna Läkare",
         "Söker för hosta sedan tre veckor.\nStatus: lungor ua. Bedömning: virusinfektion.\nPlan: åter vid försämring."},
        {"sys1-002", kSys1, "", "", "SE2321000016-VG10", "20261021090000", "Anteckning utan ansvarig vårdenhet", "ova", "Övrigt",
         "Okänd", "Denna anteckning saknar ansvarig vårdenhet och får inte visas."},
        {"sys2-001", kSys2, "SE2321000016-VE11", "Privatkliniken Ortopedi", "SE2321000016-VG11", "20260915083000", "Ortopedbesök", "bes",
         "Besöksanteckning", "Olle Ortoped",
         "<article xmlns=\"http://docbook.org/ns/docbook\" version=\"5.0\"><title>Knäsmärta</title><section><title>Anamnes</title>"
         "<para>Smärta i höger knä efter fall. <emphasis>Ingen</emphasis> svullnad.</para></section><section><title>Åtgärd</title>"
         "<para>Röntgen beställd.</para><para>&lt;img src=x onerror=alert(1)&gt;</para></section></article>"},
        {"sys2-002", kSys2, "SE2321000016-VE11", "Privatkliniken Ortopedi", "SE2321000016-VG11", "20261001140000", "Röntgensvar knä", "utr",
         "Utredning", "Olle Ortoped", "Röntgen höger knä: ingen fraktur. <script>alert('x')</script>"},
        {"sys2-003", kSys2, "SE2321000016-VE11", "Privatkliniken Ortopedi", "SE2321000016-VG11", "20261015110000", "Återbesök", "bes",
         "Besöksanteckning", "Olle Ortoped", "Knät bättre. Fysioterapi i fyra veckor."},
        {"sys3-001", kSys3, kBlockedUnit, "Psykiatriska mottagningen", "SE2321000016-VG10", "20260801100000", "Psykiatrisk bedömning",
         "utr", "Utredning", "Petra Psykiater", "Känslig anteckning från psykiatrin."},
    };
}

std::string noteXml(const Doc& d, const std::string& patient) {
    auto ii = [](const std::string& name, const std::string& root, const std::string& ext) {
        return "<c:" + name + "><c:root>" + root + "</c:root><c:extension>" + esc(ext) + "</c:extension></c:" + name + ">";
    };
    std::string h = "<c:header><c:accessControlHeader>" + ii("accountableHealthcareProvider", "1.2.752.129.2.1.4.1", d.provider);
    if (!d.unit.empty()) h += ii("accountableCareUnit", "1.2.752.129.2.1.4.1", d.unit);
    h += ii("patientId", "1.2.752.129.2.1.3.1", patient) + "<c:blockComparisonTime>" + d.time +
         "</c:blockComparisonTime><c:approvedForPatient>true</c:approvedForPatient></c:accessControlHeader>" +
         ii("sourceSystemId", "1.2.752.129.2.1.4.1", d.source) + "<c:record>" + ii("id", "1.2.752.129.2.1.2.1", d.id) + "<c:timestamp>" +
         d.time + "</c:timestamp></c:record><c:author><c:name>" + esc(d.author) + "</c:name><c:timestamp>" + d.time +
         "</c:timestamp><c:orgUnit><c:orgUnitName>" + esc(d.unitName) + "</c:orgUnitName></c:orgUnit></c:author></c:header>";
    return "<r:careDocumentation>" + h + "<c:body><c:clinicalDocumentNoteCode><c:code>" + d.code +
           "</c:code><c:codeSystem>1.2.752.129.2.2.2.11</c:codeSystem><c:displayName>" + esc(d.codeName) +
           "</c:displayName></c:clinicalDocumentNoteCode><c:clinicalDocumentNoteTitle>" + esc(d.title) +
           "</c:clinicalDocumentNoteTitle><c:clinicalDocumentNoteText>" + esc(d.text) + "</c:clinicalDocumentNoteText></c:body></r:careDocumentation>";
}

std::vector<Doc> diagnoses() {
    return {{"sys1-dx1", kSys1, "SE2321000016-VE10", "Vårdcentralen Söder", "SE2321000016-VG10", "20261020101500", "Diagnos", "J45",
             "Astma", "Anna Läkare", "Astma"},
            {"sys3-dx1", kSys3, kBlockedUnit, "Psykiatriska mottagningen", "SE2321000016-VG10", "20260801100000", "Diagnos", "F32",
             "Depressiv episod", "Petra Psykiater", "Depressiv episod"}};
}

std::vector<Doc> alerts() {
    return {{"sys2-al1", kSys2, "SE2321000016-VE11", "Privatkliniken Ortopedi", "SE2321000016-VG11", "20260915083000",
             "Uppmärksamhetsinformation", "", "Överkänslighet", "Olle Ortoped", "Överkänslighet mot penicillin (utslag)"}};
}

std::string summaryXml(const Doc& d, const std::string& patient, bool diagnosis) {
    const std::string pre = diagnosis ? "diagnosis" : "alertInformation";
    std::string h = "<c:" + pre + "Header><c:documentId>" + d.id + "</c:documentId><c:sourceSystemHSAId>" + d.source +
                    "</c:sourceSystemHSAId><c:documentTitle>" + esc(d.title) + "</c:documentTitle><c:documentTime>" + d.time +
                    "</c:documentTime><c:patientId><c:id>" + patient + "</c:id><c:type>1.2.752.129.2.1.3.1</c:type></c:patientId>"
                    "<c:accountableHealthcareProfessional><c:authorTime>" + d.time + "</c:authorTime><c:healthcareProfessionalName>" +
                    esc(d.author) + "</c:healthcareProfessionalName><c:healthcareProfessionalOrgUnit><c:orgUnitName>" + esc(d.unitName) +
                    "</c:orgUnitName></c:healthcareProfessionalOrgUnit><c:healthcareProfessionalCareUnitHSAId>" + d.unit +
                    "</c:healthcareProfessionalCareUnitHSAId><c:healthcareProfessionalCareGiverHSAId>" + d.provider +
                    "</c:healthcareProfessionalCareGiverHSAId></c:accountableHealthcareProfessional><c:approvedForPatient>true"
                    "</c:approvedForPatient></c:" + pre + "Header>";
    std::string b = diagnosis ? "<c:diagnosisBody><c:typeOfDiagnosis>Huvuddiagnos</c:typeOfDiagnosis><c:diagnosisCode><c:code>" + d.code +
                                    "</c:code><c:displayName>" + esc(d.codeName) + "</c:displayName></c:diagnosisCode></c:diagnosisBody>"
                              : "<c:alertInformationBody><c:typeOfAlertInformation><c:displayName>" + esc(d.codeName) +
                                    "</c:displayName></c:typeOfAlertInformation><c:alertInformationComment>" + esc(d.text) +
                                    "</c:alertInformationComment></c:alertInformationBody>";
    return "<r:" + pre + ">" + h + b + "</r:" + pre + ">";
}

}  // namespace

NpoServices::NpoServices(std::string schemaRoot, int timeoutMs, Recorder record, FaultTaker takeFault)
    : schemas_(std::move(schemaRoot)), timeoutMs_(timeoutMs), record_(std::move(record)), takeFault_(std::move(takeFault)) {
    seed();
}

void NpoServices::seed() {
    consents_.clear();
    blockedUnits_.clear();
    logs_.clear();
    logIds_.clear();
    downSources_.clear();
    consents_[kShared].push_back({"seed-shared", "Consent", "*", "", ""});
    consents_[kBlocked].push_back({"seed-blocked", "Consent", "*", "", ""});
    blockedUnits_[kBlocked].insert(kBlockedUnit);
}

void NpoServices::reset() {
    std::lock_guard lock(mu_);
    seed();
}

Answer NpoServices::soapFault(const std::string& text, int status) const {
    return {status, "text/xml; charset=utf-8",
            envelope("<soap:Fault><faultcode>soap:Server</faultcode><faultstring>" + esc(text) + "</faultstring></soap:Fault>")};
}

std::string NpoServices::validate(const std::string& body, const std::string& xsd) const {
    const std::string schema = schemas_ + "/" + xsd;
    if (schemas_.empty() || access(schema.c_str(), R_OK) != 0) return "schema not found: " + schema;
    char tmpl[] = "/tmp/kbsim-npo-XXXXXX";
    const int fd = mkstemp(tmpl);
    if (fd < 0) return "mkstemp failed";
    close(fd);
    const std::string file = tmpl;
    std::ofstream(file) << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>" << body;
    const std::string out = file + ".out";
    const int rc = std::system(("xmllint --noout --nonet --schema '" + schema + "' '" + file + "' >'" + out + "' 2>&1").c_str());
    std::stringstream ss;
    ss << std::ifstream(out).rdbuf();
    std::remove(file.c_str());
    std::remove(out.c_str());
    return rc == 0 ? std::string() : "schema validation failed: " + ss.str();
}

std::optional<Answer> NpoServices::https(const std::string& path, const std::string& env) {
    std::string service, op;
    if (path.rfind("/npo/", 0) == 0) {
        service = "npo";
        op = path.substr(5);
    } else if (path == "/consent" || path == "/blocks" || path == "/log") {
        service = path.substr(1);
        static const std::regex first(R"(<([A-Za-z0-9_]+:)?([A-Za-z]+)[\s>])");
        std::smatch m;
        const auto body = bodyChild(env);
        op = std::regex_search(body, m, first) ? m[2].str() : "?";
    } else {
        return std::nullopt;
    }
    const auto fault = takeFault_(service, op);
    Answer a;
    if (fault == "timeout") std::this_thread::sleep_for(std::chrono::milliseconds(timeoutMs_));
    if (fault == "fail" || fault == "timeout") a = soapFault("simulated failure of " + service + " " + op);
    else if (fault == "http500") a = {500, "text/plain", "internal error"};
    else {
        try {
            if (service == "npo") a = npo(op, env, bodyChild(env));
            else if (service == "consent") a = consent(bodyChild(env));
            else if (service == "blocks") a = blocks(bodyChild(env));
            else a = log(bodyChild(env));
        } catch (const std::exception& e) {
            a = soapFault(std::string("cannot process the request: ") + e.what());
        }
    }
    record_(service, op, env, std::to_string(a.status) + " " + a.body);
    return a;
}

Answer NpoServices::npo(const std::string& contract, const std::string& env, const std::string& body) {
    const std::string hd = "clinicalprocess-healthcond-description-3.0/interactions/";
    std::string xsd;
    if (contract == "GetCareDocumentation") xsd = hd + "GetCareDocumentationInteraction/GetCareDocumentationResponder_3.0.xsd";
    else if (contract == "GetDiagnosis") xsd = hd + "GetDiagnosisInteraction/GetDiagnosisResponder_2.0.xsd";
    else if (contract == "GetAlertInformation") xsd = hd + "GetAlertInformationInteraction/GetAlertInformationResponder_2.0.xsd";
    else return {404, "text/plain", "no such contract"};
    if (auto err = validate(body, xsd); !err.empty()) return soapFault(err);
    const auto address = logicalAddressOf(env);
    auto doc = parseXml(body);
    auto* root = doc->documentElement();
    const bool notesCall = contract == "GetCareDocumentation";
    std::string patient, from, to, provider, reference, sourceSystem;
    if (notesCall) {
        patient = text(all(root, "patientId").front(), "extension");
        if (auto p = all(root, "datePeriod"); !p.empty()) from = text(p[0], "start"), to = text(p[0], "end");
        if (auto p = all(root, "healthcareProvider"); !p.empty()) provider = text(p[0], "extension");
        reference = text(root, "hasMoreReference");
        if (auto s = all(root, "sourceSystemId"); !s.empty()) sourceSystem = text(s[0], "extension");
    } else {
        patient = text(all(root, "patientId").front(), "id");
        if (auto p = all(root, "timePeriod"); !p.empty()) from = text(p[0], "start"), to = text(p[0], "end");
        sourceSystem = text(root, "sourceSystemHSAId");
    }
    // Only the aggregator and the three producers answer; follow-ups go to the producer.
    if (address != kAggregator && address != kSys1 && address != kSys2 && address != kSys3)
        return soapFault("unknown logical address " + address, 500);
    if (!reference.empty() && address == kAggregator) return soapFault("hasMoreReference sent to the aggregator; address the producer");
    if (address != kAggregator && sourceSystem != address) return soapFault("sourceSystemId must equal the logical address");
    std::set<std::string> down;
    {
        std::lock_guard lock(mu_);
        down = downSources_;
    }
    auto wanted = [&](const Doc& d) {
        const auto day = d.time.substr(0, 8);
        if (!from.empty() && (day < from || day > to)) return false;
        if (!provider.empty() && d.provider != provider) return false;
        if (down.count(d.source)) return false;
        return address == kAggregator || d.source == address;
    };
    std::string items, more;
    const std::string prefix = notesCall ? "GetCareDocumentation" : contract;
    if (notesCall) {
        // Source system 2 answers one document per page: the first through the aggregator,
        // the rest at its own address with hasMoreReference sys2-p2, sys2-p3.
        std::vector<Doc> sys2;
        for (const auto& d : notes()) {
            if (!wanted(d)) continue;
            if (d.source == kSys2) sys2.push_back(d);
            else if (reference.empty()) items += noteXml(d, patient);
        }
        std::size_t page = 0;
        if (reference == "sys2-p2") page = 1;
        else if (reference == "sys2-p3") page = 2;
        else if (!reference.empty()) return soapFault("unknown hasMoreReference");
        if (page < sys2.size()) items += noteXml(sys2[page], patient);
        if (page + 1 < sys2.size())
            more = "<r:hasMore><r:logicalAddress>" + kSys2 + "</r:logicalAddress><r:reference>sys2-p" + std::to_string(page + 2) +
                   "</r:reference></r:hasMore>";
    } else {
        for (const auto& d : contract == "GetDiagnosis" ? diagnoses() : alerts())
            if (wanted(d)) items += summaryXml(d, patient, contract == "GetDiagnosis");
    }
    const std::string ns = notesCall ? "urn:riv:clinicalprocess:healthcond:description:GetCareDocumentationResponder:3"
                                     : "urn:riv:clinicalprocess:healthcond:description:" + contract + "Responder:2";
    const std::string core = notesCall ? "urn:riv:clinicalprocess:healthcond:description:3" : "urn:riv:clinicalprocess:healthcond:description:2";
    std::string header;
    if (address == kAggregator) {
        header = "<ih:ProcessingStatus xmlns:ih=\"urn:riv:interoperability:headers:1\">";
        for (const auto& s : {kSys1, kSys2, kSys3})
            header += "<ih:ProcessingStatusList><ih:logicalAddress>" + s + "</ih:logicalAddress><ih:statusCode>" +
                      (down.count(s) ? "NoDataSynchFailed" : "DataFromSource") + "</ih:statusCode><ih:isResponseFromCache>false"
                      "</ih:isResponseFromCache><ih:isResponseInSynch>" + (down.count(s) ? "false" : "true") +
                      "</ih:isResponseInSynch><ih:lastSuccessfulSynch>" + nowXs() + "</ih:lastSuccessfulSynch></ih:ProcessingStatusList>";
        header += "</ih:ProcessingStatus>";
    }
    return {200, "text/xml; charset=utf-8",
            envelope("<r:" + prefix + "Response xmlns:r=\"" + ns + "\" xmlns:c=\"" + core + "\">" + items + more +
                         "<r:result><c:resultCode>OK</c:resultCode></r:result></r:" + prefix + "Response>",
                     header)};
}

Answer NpoServices::consent(const std::string& body) {
    const std::string cs = "informationsecurity-authorization-consent-2.0/interactions/";
    auto doc = parseXml(body);
    auto* root = doc->documentElement();
    const std::string op = root->localName();
    const std::string core = "urn:riv:informationsecurity:authorization:consent:2";
    if (op == "CheckConsent") {
        if (auto err = validate(body, cs + "CheckConsentInteraction/CheckConsentResponder_2.0.xsd"); !err.empty()) return soapFault(err);
        const auto patient = text(all(root, "patientId").front(), "extension");
        const auto unit = text(root, "careUnitId"), employee = text(root, "employeeId");
        std::string type;
        {
            std::lock_guard lock(mu_);
            const auto now = nowXs();
            for (const auto& a : consents_[patient]) {
                if (a.careUnit != "*" && a.careUnit != unit) continue;
                if (!a.employeeId.empty() && a.employeeId != employee) continue;
                if (!a.endDate.empty() && a.endDate <= now) continue;
                if (type.empty() || a.type == "Consent") type = a.type;
            }
        }
        return {200, "text/xml; charset=utf-8",
                envelope("<r:CheckConsentResponse xmlns:r=\"urn:riv:informationsecurity:authorization:consent:CheckConsentResponder:2\" "
                         "xmlns:c=\"" + core + "\"><r:checkResult><c:result><c:resultCode>OK</c:resultCode></c:result><c:hasConsent>" +
                         (type.empty() ? "false" : "true") + "</c:hasConsent>" + (type.empty() ? "" : "<c:assertionType>" + type + "</c:assertionType>") +
                         "</r:checkResult></r:CheckConsentResponse>")};
    }
    if (op == "RegisterExtendedConsent") {
        if (auto err = validate(body, cs + "RegisterExtendedConsentInteraction/RegisterExtendedConsentResponder_2.0.xsd"); !err.empty())
            return soapFault(err);
        Assertion a{text(root, "assertionId"), text(root, "assertionType"), text(root, "careUnitId"), "", text(root, "endDate")};
        // employeeId of the assertion itself (a direct child), not the registrationAction's.
        for (auto* n = root->firstChild(); n; n = n->nextSibling())
            if (n->localName() == "employeeId") a.employeeId = n->innerText();
        const auto patient = text(all(root, "patientId").front(), "extension");
        std::string code = "OK", why;
        if (a.type == "Emergency" && (text(root, "reasonText").empty() || a.endDate.empty())) {
            code = "ERROR";
            why = "Emergency needs reasonText and endDate";
        }
        {
            std::lock_guard lock(mu_);
            for (const auto& [p, list] : consents_)
                for (const auto& x : list)
                    if (x.id == a.id) code = "ERROR", why = "assertionId already registered";
            if (code == "OK") consents_[patient].push_back(a);
        }
        return {200, "text/xml; charset=utf-8",
                envelope("<r:RegisterExtendedConsentResponse xmlns:r=\"urn:riv:informationsecurity:authorization:consent:"
                         "RegisterExtendedConsentResponder:2\" xmlns:c=\"" + core + "\"><r:result><c:resultCode>" + code +
                         "</c:resultCode><c:resultText>" + esc(why) + "</c:resultText></r:result></r:RegisterExtendedConsentResponse>")};
    }
    return soapFault("unsupported consent operation " + op);
}

Answer NpoServices::blocks(const std::string& body) {
    if (auto err = validate(body, "informationsecurity-authorization-blocking-4.0/interactions/CheckBlocksInteraction/CheckBlocksResponder_4.0.xsd");
        !err.empty())
        return soapFault(err);
    auto doc = parseXml(body);
    auto* root = doc->documentElement();
    const auto patient = text(all(root, "patientId").front(), "extension");
    std::string rows;
    std::set<std::string> blocked;
    {
        std::lock_guard lock(mu_);
        blocked = blockedUnits_[patient];
    }
    for (auto* e : all(root, "informationEntities"))
        rows += "<c:checkResults><c:status>" + std::string(blocked.count(text(e, "informationCareUnitId")) ? "BLOCKED" : "OK") +
                "</c:status><c:rowNumber>" + text(e, "rowNumber") + "</c:rowNumber></c:checkResults>";
    return {200, "text/xml; charset=utf-8",
            envelope("<r:CheckBlocksResponse xmlns:r=\"urn:riv:informationsecurity:authorization:blocking:CheckBlocksResponder:4\" "
                     "xmlns:c=\"urn:riv:informationsecurity:authorization:blocking:4\"><r:checkBlocksResult><c:result><c:resultCode>OK"
                     "</c:resultCode></c:result>" + rows + "</r:checkBlocksResult></r:CheckBlocksResponse>")};
}

Answer NpoServices::log(const std::string& body) {
    if (auto err = validate(body, "informationsecurity-auditing-log-2.0/interactions/StoreLogInteraction/StoreLogResponder_2.0.xsd");
        !err.empty())
        return soapFault(err);
    auto doc = parseXml(body);
    const auto logs = all(doc->documentElement(), "log");
    std::string code = "OK", why;
    std::vector<LogEntry> got;
    {
        std::lock_guard lock(mu_);
        std::set<std::string> ids;
        for (auto* l : logs) {
            LogEntry e{text(l, "logId"), text(l, "userId"), text(l, "careUnitId"), text(all(l, "patientId").front(), "extension"),
                       text(l, "purpose"), text(l, "activityType"), text(l, "resourceType")};
            if (logIds_.count(e.logId) || !ids.insert(e.logId).second) code = "VALIDATION_ERROR", why = "logId not unique: " + e.logId;
            got.push_back(e);
        }
        if (logs.size() > 500) code = "VALIDATION_ERROR", why = "more than 500 log records in one call";
        if (code == "OK")
            for (auto& e : got) {
                logIds_.insert(e.logId);
                logs_.push_back(e);
            }
    }
    return {200, "text/xml; charset=utf-8",
            envelope("<r:StoreLogResponse xmlns:r=\"urn:riv:informationsecurity:auditing:log:StoreLogResponder:2\" "
                     "xmlns:c=\"urn:riv:informationsecurity:auditing:log:2\"><r:result><c:resultCode>" + code + "</c:resultCode><c:resultText>" +
                     esc(why) + "</c:resultText></r:result></r:StoreLogResponse>")};
}

std::optional<Answer> NpoServices::steer(const std::string& method, const std::string& path, const std::string& body) {
    static const std::regex consentRe(R"(^/sim/api/journal/consents/([0-9]{12})$)");
    static const std::regex blockRe(R"(^/sim/api/journal/blocks/([0-9]{12})$)");
    std::smatch m;
    auto obj = [&]() {
        Poco::JSON::Parser p;
        return p.parse(body.empty() ? "{}" : body).extract<Poco::JSON::Object::Ptr>();
    };
    auto json = [](const Poco::JSON::Object& o) {
        std::ostringstream s;
        o.stringify(s);
        return Answer{200, "application/json", s.str()};
    };
    std::lock_guard lock(mu_);
    if (path == "/sim/api/journal/logs" && method == "GET") {
        Poco::JSON::Array items;
        for (const auto& l : logs_) {
            Poco::JSON::Object x;
            x.set("logId", l.logId);
            x.set("userId", l.userId);
            x.set("careUnitId", l.careUnitId);
            x.set("patient", l.patient);
            x.set("purpose", l.purpose);
            x.set("activity", l.activity);
            x.set("resourceType", l.resourceType);
            items.add(x);
        }
        Poco::JSON::Object o;
        o.set("items", items);
        return json(o);
    }
    if (std::regex_match(path, m, consentRe)) {
        if (method == "PUT") {  // {"consent": true|false}: a seeded consent for any unit, or none at all
            const bool on = obj()->optValue<bool>("consent", true);
            consents_[m[1]].clear();
            if (on) consents_[m[1]].push_back({"seed-" + m[1].str(), "Consent", "*", "", ""});
        }
        Poco::JSON::Array items;
        for (const auto& a : consents_[m[1]]) {
            Poco::JSON::Object x;
            x.set("assertion_id", a.id);
            x.set("type", a.type);
            x.set("care_unit", a.careUnit);
            x.set("employee_id", a.employeeId);
            x.set("end_date", a.endDate);
            items.add(x);
        }
        Poco::JSON::Object o;
        o.set("items", items);
        return json(o);
    }
    if (std::regex_match(path, m, blockRe) && method == "PUT") {  // {"units": [...]}
        auto& set = blockedUnits_[m[1]];
        set.clear();
        if (auto a = obj()->getArray("units"))
            for (std::size_t i = 0; i < a->size(); ++i) set.insert(a->getElement<std::string>(static_cast<unsigned>(i)));
        return Answer{204, "", ""};
    }
    if (path == "/sim/api/journal/sources" && method == "PUT") {  // {"down": ["SE...-SYS3"]}
        downSources_.clear();
        if (auto a = obj()->getArray("down"))
            for (std::size_t i = 0; i < a->size(); ++i) downSources_.insert(a->getElement<std::string>(static_cast<unsigned>(i)));
        return Answer{204, "", ""};
    }
    return std::nullopt;
}

std::string NpoServices::pageSection() {
    std::lock_guard lock(mu_);
    std::string rows;
    for (const auto& [p, list] : consents_)
        for (const auto& a : list)
            rows += "<tr><td>" + p.substr(0, 8) + "-****</td><td>" + esc(a.type) + "</td><td>" + esc(a.careUnit) + "</td><td>" +
                    esc(a.endDate) + "</td></tr>";
    return "<h2>Sammanhållen journal</h2><p>Samtycken</p><table border=1><tr><th>Patient</th><th>Typ</th><th>Vårdenhet</th><th>Slut</th></tr>" +
           rows + "</table><p>Nationell logg: " + std::to_string(logs_.size()) + " poster</p>";
}

}  // namespace kbsim
