// Who may read /metrics and the details of /readyz (server.monitoring): the operator's
// scraper on loopback or with the scrape token, not every caller on the clinic's network.
#pragma once

#include <klinikbox/Http.h>

#include <string>

namespace klinikbox::server {

struct MonitoringAccess {
    std::string access = "loopback";  // loopback | token | anyone
    std::string scrapeToken;
};

// True for a caller on loopback, for one with "Authorization: Bearer <scrapeToken>" when
// access is "token" (compared in constant time), and for everyone when access is "anyone".
[[nodiscard]] bool monitoringAllowed(const MonitoringAccess& m, const Request& req);

}  // namespace klinikbox::server
