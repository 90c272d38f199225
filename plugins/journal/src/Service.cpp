#include "Service.h"

#include <klinikbox/Secrets.h>

#include <cctype>
#include <ctime>

namespace klinikbox::journal {

rivta::Envelope callService(const rivta::Endpoint& endpoint, const std::string& soapAction,
                            const std::string& logicalAddress, const std::string& body, const std::string& service) {
    rivta::HttpAnswer a;
    try {
        a = rivta::post(endpoint, soapAction, rivta::envelope(logicalAddress, body));
    } catch (const std::exception& e) {
        throw ServiceError(service + ": " + e.what());
    }
    try {
        auto env = rivta::parseEnvelope(a.body);
        if (a.status != 200) throw ServiceError(service + " answered HTTP " + std::to_string(a.status));
        return env;
    } catch (const rivta::SoapFault& f) {
        throw ServiceError(service + " answered a SOAP fault: " + f.what());
    } catch (const rivta::XmlError& e) {
        throw ServiceError(service + " answered HTTP " + std::to_string(a.status) + " without a usable envelope: " + e.what());
    }
}

std::string newUuid() {
    // 128 bits of the system's randomness (randomToken), spread to hex through SHA-256.
    auto h = sha256Hex(randomToken(16)).substr(0, 32);
    h[12] = '4';                                         // version 4
    h[16] = "89ab"[std::stoi(h.substr(16, 1), nullptr, 16) & 3];  // RFC 4122 variant
    return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20, 12);
}

std::string xsDateTime(std::chrono::system_clock::time_point t) {
    const auto tt = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    localtime_r(&tt, &tm);
    char b[32];
    std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S", &tm);
    return b;
}

std::string timestampToXs(const std::string& s) {
    if (s.size() != 14) return {};
    for (char c : s)
        if (!std::isdigit(static_cast<unsigned char>(c))) return {};
    return s.substr(0, 4) + "-" + s.substr(4, 2) + "-" + s.substr(6, 2) + "T" + s.substr(8, 2) + ":" + s.substr(10, 2) + ":" +
           s.substr(12, 2);
}

}  // namespace klinikbox::journal
