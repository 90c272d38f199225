#include "Settings.h"

#include <stdexcept>

namespace efrikort {

namespace {
std::string str(const Poco::JSON::Object::Ptr& o, const std::string& k) { return o->optValue<std::string>(k, ""); }
}  // namespace

Settings settingsFrom(const Poco::JSON::Object::Ptr& c) {
    Settings s;
    s.party.carePrincipalId = str(c, "care_principal_id");
    s.party.careProviderName = str(c, "care_provider_name");
    s.party.careProviderId = str(c, "care_provider_id");
    s.party.careUnitName = str(c, "care_unit_name");
    s.party.careUnitId = str(c, "care_unit_id");
    s.party.employeeId = str(c, "employee_id");
    s.endpoint.urlPattern = str(c, "service_url");
    s.endpoint.clientCert = str(c, "client_cert");
    s.endpoint.clientKey = str(c, "client_key");
    s.endpoint.caBundle = str(c, "ca_bundle");
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
