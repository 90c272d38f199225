#include "server/Monitoring.h"

#include <openssl/crypto.h>

namespace klinikbox::server {

bool monitoringAllowed(const MonitoringAccess& m, const Request& req) {
    if (m.access == "anyone") return true;
    const auto& a = req.remoteAddress;
    if (a == "::1" || a.rfind("127.", 0) == 0 || a.rfind("::ffff:127.", 0) == 0) return true;
    if (m.access != "token" || m.scrapeToken.empty()) return false;
    const std::string given = req.header("authorization");
    const std::string want = "Bearer " + m.scrapeToken;
    return given.size() == want.size() && CRYPTO_memcmp(given.data(), want.data(), want.size()) == 0;
}

}  // namespace klinikbox::server
