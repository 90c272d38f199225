// rivta::post uses the kept TLS client context of its files (klinikbox/TlsClient.h: the
// certificate, key and CAs loaded once) and a new one when one of those files changes,
// against the simulator's mutual-TLS listener.
#include <klinikbox/RivTa.h>
#include <klinikbox/TlsClient.h>

#include "SimProcess.h"
#include "TempDir.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

using namespace klinikbox::rivta;
using klinikbox::tls::clientContextsMade;
namespace fs = std::filesystem;

TEST(RivTaClient, TheTlsContextIsKeptPerEndpointAndMadeAgainWhenItsCertificateFileChanges) {
    kbtest::SimProcess sim;
    sim.start();
    kbtest::TempDir dir;
    const auto cert = dir.file("client.pem");
    fs::copy_file(sim.clientCert(), cert);
    const Endpoint e{sim.https() + "/efrikort/GetFrikort", cert, sim.clientKey(), sim.ca(), 10000};
    const auto before = clientContextsMade();
    for (int i = 0; i < 3; ++i) EXPECT_GT(post(e, "urn:test", "<x/>").status, 0) << i;
    EXPECT_EQ(clientContextsMade() - before, 1u) << "one context for three calls";

    // A renewed certificate file (here: the same one, written again later) is loaded anew.
    fs::last_write_time(cert, fs::last_write_time(cert) + std::chrono::seconds(10));
    EXPECT_GT(post(e, "urn:test", "<x/>").status, 0);
    EXPECT_EQ(clientContextsMade() - before, 2u);
    EXPECT_GT(post(e, "urn:test", "<x/>").status, 0);
    EXPECT_EQ(clientContextsMade() - before, 2u);

    // A kept context still checks the peer: with a bundle that did not issue the simulator's
    // certificate the call fails, every time.
    const Endpoint wrongCa{e.url, cert, sim.clientKey(), cert, 10000};
    for (int i = 0; i < 2; ++i) EXPECT_THROW((void)post(wrongCa, "urn:test", "<x/>"), TransportError) << i;
}
