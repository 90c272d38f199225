// Bearer tokens never reach a log: declared secret path parameters and token-shaped
// segments and query values are redacted.
#include "http/Dispatcher.h"
#include "http/LogRedaction.h"

#include <gtest/gtest.h>

using namespace klinikbox;
using namespace klinikbox::http;

namespace {
const std::string kToken = "Qm9vS2luZ1Rva2VuLXNlY3JldC0xMjM0NTY3ODkwYWJj";  // 43 base64url characters
}

TEST(LogRedaction, DeclaredSecretPathParametersAreRedactedWhateverTheirShape) {
    RouteTable routes;
    Handler h = [](Request&) { return Response::noContent(); };
    for (const char* p : {"/api/v1/demo/arrivals/{token}/receipt", "/api/v1/demo/feeds/{feed_token}", "/api/v1/demo/bookings/{id}"})
        routes.addCore("demo", "GET", p, Access::anyone(), h, "");
    Dispatcher d(routes);
    EXPECT_EQ(d.loggableTarget("/api/v1/demo/arrivals/short/receipt"), "/api/v1/demo/arrivals/[redacted]/receipt");
    // Also for a method the route does not have (405) and with a query string.
    EXPECT_EQ(d.loggableTarget("/api/v1/demo/feeds/abc?x=1"), "/api/v1/demo/feeds/[redacted]?x=1");
    EXPECT_EQ(d.loggableTarget("/api/v1/demo/bookings/42"), "/api/v1/demo/bookings/42");
    // An encoded slash shifts the segments: then the whole path is redacted rather than a wrong one.
    EXPECT_EQ(d.loggableTarget("/api/v1/demo/arrivals/a%2Fb/receipt").find("a%2Fb"), std::string::npos);
}

TEST(LogRedaction, TokenShapedSegmentsAndQueryValuesAreRedactedEvenOnUnknownPaths) {
    RouteTable routes;
    Dispatcher d(routes);
    EXPECT_EQ(d.loggableTarget("/api/v1/booking/ical/" + kToken + ".ics"), "/api/v1/booking/ical/[redacted]");
    EXPECT_EQ(d.loggableTarget("/nothing/" + kToken + "/x?t=" + kToken + "&unit=SE2321000016-ABCD"),
              "/nothing/[redacted]/x?t=[redacted]&unit=SE2321000016-ABCD");
    EXPECT_EQ(d.loggableTarget("/x/" + std::string(64, 'a').replace(0, 10, "0123456789")), "/x/[redacted]");
}

TEST(LogRedaction, OrdinaryIdentifiersAreKept) {
    for (const char* s : {"SE2321000016-ABCDEFGHIJKLMNOPQR", "availabledates", "booking-invitation-answers-x",
                          "2026-11-22", "3f2a9c1e-8b7d-4c2a-9e1f-0a1b2c3d4e5f", "SE165565594230-E12345", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}) {
        EXPECT_FALSE(looksLikeToken(s)) << s;
    }
    EXPECT_TRUE(looksLikeToken(kToken));
}

TEST(LogRedaction, ApplicationLogLinesLoseTokensInUrlsButKeepFragments) {
    EXPECT_EQ(redactTokenSegments("GET https://box/api/v1/checkin/arrivals/" + kToken + " failed"),
              "GET https://box/api/v1/checkin/arrivals/[redacted] failed");
    // The first-start setup link is printed on purpose: its token is in the fragment.
    const std::string setup = "setup link: https://box:8443/setup.html#token=" + kToken;
    EXPECT_EQ(redactTokenSegments(setup), setup);
}
