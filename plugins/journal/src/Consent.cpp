#include "Consent.h"

namespace klinikbox::journal {
namespace {
const std::string kCore = "urn:riv:informationsecurity:authorization:consent:2";
using rivta::element;
std::string patientId(const std::string& prefix, const std::string& patient) {
    return "<" + prefix + ":patientId>" + element("core:root", kPersonIdRoot) + element("core:extension", patient) + "</" + prefix + ":patientId>";
}
std::string resultCode(const Poco::XML::Element* body) { return rivta::descendantText(body, "resultCode"); }
}  // namespace

std::string checkConsentBody(const Actor& a, const std::string& patient) {
    return "<cc:CheckConsent xmlns:cc=\"urn:riv:informationsecurity:authorization:consent:CheckConsentResponder:2\" xmlns:core=\"" +
           kCore + "\"><cc:accessingActor>" + element("core:employeeId", a.employeeId) + element("core:careProviderId", a.careProviderId) +
           element("core:careUnitId", a.careUnitId) + "</cc:accessingActor>" + patientId("cc", patient) + "</cc:CheckConsent>";
}

std::string registerConsentBody(const ConsentRegistration& r) {
    std::string b = "<rec:RegisterExtendedConsent "
                    "xmlns:rec=\"urn:riv:informationsecurity:authorization:consent:RegisterExtendedConsentResponder:2\" "
                    "xmlns:core=\"" + kCore + "\">" +
                    element("rec:assertionId", r.assertionId) + element("rec:assertionType", r.emergency ? "Emergency" : "Consent") +
                    element("rec:scope", "NationalLevel") + patientId("rec", r.patient) + element("rec:careProviderId", r.actor.careProviderId) +
                    element("rec:careUnitId", r.actor.careUnitId);
    // Emergency access is personal: it covers the one staff member who asserted it.
    if (r.emergency) b += element("rec:employeeId", r.actor.employeeId);
    if (!r.startDate.empty()) b += element("rec:startDate", r.startDate);
    if (!r.endDate.empty()) b += element("rec:endDate", r.endDate);
    b += "<rec:registrationAction>" + element("core:requestDate", r.registeredAt) + "<core:requestedBy>" +
         element("core:employeeId", r.actor.employeeId) + "</core:requestedBy>" + element("core:registrationDate", r.registeredAt) +
         "<core:registeredBy>" + element("core:employeeId", r.actor.employeeId) + "</core:registeredBy>";
    if (!r.reason.empty()) b += element("core:reasonText", r.reason);
    b += "</rec:registrationAction></rec:RegisterExtendedConsent>";
    return b;
}

Consent parseCheckConsent(const Poco::XML::Element* body) {
    if (!body || body->localName() != "CheckConsentResponse") throw ServiceError("consent service: not a CheckConsentResponse");
    const auto code = resultCode(body);
    if (code != "OK" && code != "INFO") throw ServiceError("consent service: resultCode " + (code.empty() ? "missing" : code));
    const auto has = rivta::descendantText(body, "hasConsent");
    if (has != "true" && has != "false" && has != "1" && has != "0") throw ServiceError("consent service: no hasConsent");
    if (has == "false" || has == "0") return Consent::None;
    return rivta::descendantText(body, "assertionType") == "Emergency" ? Consent::Emergency : Consent::Consent;
}

void parseRegisterConsent(const Poco::XML::Element* body) {
    if (!body || body->localName() != "RegisterExtendedConsentResponse")
        throw ServiceError("consent service: not a RegisterExtendedConsentResponse");
    const auto code = resultCode(body);
    if (code != "OK" && code != "INFO")
        throw ServiceError("consent service refused the registration: " + code + " " + rivta::descendantText(body, "resultText"));
}

Consent ConsentClient::check(const Actor& actor, const std::string& patient, std::string& why) const {
    if (!configured()) {
        why = "consent service is not configured";
        return Consent::Unavailable;
    }
    try {
        auto env = callService(endpoint_, "urn:riv:informationsecurity:authorization:consent:CheckConsentResponder:2:CheckConsent",
                               address_, checkConsentBody(actor, patient), "consent service");
        return parseCheckConsent(env.body);
    } catch (const std::exception& ex) {
        why = ex.what();
        return Consent::Unavailable;
    }
}

void ConsentClient::registerConsent(const ConsentRegistration& r) const {
    if (!configured()) throw ServiceError("consent service is not configured");
    auto env = callService(endpoint_,
                           "urn:riv:informationsecurity:authorization:consent:RegisterExtendedConsentResponder:2:RegisterExtendedConsent",
                           address_, registerConsentBody(r), "consent service");
    parseRegisterConsent(env.body);
}

}  // namespace klinikbox::journal
