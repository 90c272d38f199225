#include "Settings.h"

#include <stdexcept>

namespace efrikort {

Settings settingsFrom(const Poco::JSON::Object::Ptr& c) {
    Settings s;
    s.party.carePrincipalId = textOf(c, "care_principal_id");
    s.party.careProviderName = textOf(c, "care_provider_name");
    s.party.careProviderId = textOf(c, "care_provider_id");
    s.party.careUnitName = textOf(c, "care_unit_name");
    s.party.careUnitId = textOf(c, "care_unit_id");
    s.party.employeeId = textOf(c, "employee_id");
    s.endpoint.urlPattern = textOf(c, "service_url");
    s.endpoint.clientCert = textOf(c, "client_cert");
    s.endpoint.clientKey = textOf(c, "client_key");
    s.endpoint.caBundle = textOf(c, "ca_bundle");
    s.endpoint.timeoutMs = c->optValue<int>("timeout_ms", s.endpoint.timeoutMs);
    if (auto a = c->getArray("ceilings"))
        for (std::size_t i = 0; i < a->size(); ++i) {
            const auto o = a->getObject(static_cast<unsigned>(i));
            const auto from = parseDate(o->getValue<std::string>("from"));
            if (!from) throw std::runtime_error("ceilings[" + std::to_string(i) + "].from is not a date");
            s.ceilings.push_back({*from, o->getValue<long long>("amount_ore")});
        }
    return s;
}

Result soap(const Settings& s, const std::string& contract, const std::string& body) {
    if (!s.configured()) throw std::runtime_error("eFrikort is not configured");
    return call(s.endpoint, contract, envelope(s.party.carePrincipalId, body));
}

}  // namespace efrikort
