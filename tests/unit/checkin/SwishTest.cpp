// The pure Swish rules of the check-in plugin: the reconciler's backoff schedule, the message's
// character set, the payer's mobile number, the callback URL, the app switch link and the QR
// code the kiosk shows.
#include "QrCode.h"
#include "Swish.h"

#include <gtest/gtest.h>

#include <regex>

using namespace checkin;

TEST(SwishBackoff, TheReconcilerAsksAfter2_4_8_16_32SecondsThenEveryMinute) {
    const long long expected[] = {2, 4, 8, 16, 32, 60, 60, 60};
    for (int i = 0; i < 8; ++i) EXPECT_EQ(checkDelaySeconds(i), expected[i]) << "after " << i << " checks";
    EXPECT_EQ(checkDelaySeconds(1000), 60) << "never more than a minute: a paid fee is settled soon";
    EXPECT_EQ(checkDelaySeconds(-1), 2);
    // The schedule reaches Swish's own limit (a payer has about 3 minutes) within 8 checks.
    long long total = 0;
    for (int i = 0; i < 8; ++i) total += checkDelaySeconds(i);
    EXPECT_GE(total, 180);
    EXPECT_LE(total, 300);
}

TEST(SwishMessage, KeepsSwishsCharacterSetAndFiftyCharacters) {
    EXPECT_EQ(swishMessage("Besök 25/11"), "Besök 25-11") << "'/' is outside Swish's set";
    EXPECT_EQ(swishMessage("Åsa & Örjan <b>"), "Åsa  Örjan b");
    EXPECT_EQ(swishMessage("Tack! (kvitto: 12;3,4?) \"ok\""), "Tack! (kvitto: 12;3,4?) \"ok\"");
    std::string longText;
    for (int i = 0; i < 60; ++i) longText += "ä";
    const auto cut = swishMessage(longText);
    EXPECT_EQ(cut.size(), 100u) << "50 characters, not 50 bytes";
    EXPECT_EQ(swishMessage("€ 😀 ×"), "  ") << "no symbols beyond the letters";
}

TEST(SwishPayer, ASwedishMobileNumberBecomesThePayerAlias) {
    EXPECT_EQ(payerAliasFromMobile("070-123 45 67"), "46701234567");
    EXPECT_EQ(payerAliasFromMobile("+46 70 123 45 67"), "46701234567");
    EXPECT_EQ(payerAliasFromMobile("0046701234567"), "46701234567");
    EXPECT_EQ(payerAliasFromMobile("46701234567"), "46701234567");
    EXPECT_FALSE(payerAliasFromMobile("08-123 456 78")) << "a landline has no Swish";
    EXPECT_FALSE(payerAliasFromMobile("0701234"));
    EXPECT_FALSE(payerAliasFromMobile("0701234567x"));
    EXPECT_FALSE(payerAliasFromMobile(""));
}

TEST(SwishCallback, OnlyHttpsOnPort443IsAccepted) {
    EXPECT_EQ(callbackUrlProblem("https://box.vc.example.se/api/v1/checkin/swish/callback"), "");
    EXPECT_EQ(callbackUrlProblem("https://box.vc.example.se:443/api/v1/checkin/swish/callback"), "");
    EXPECT_NE(callbackUrlProblem("https://box.vc.example.se:8443/api/v1/checkin/swish/callback"), "");
    EXPECT_NE(callbackUrlProblem("http://box.vc.example.se/api/v1/checkin/swish/callback"), "");
    EXPECT_NE(callbackUrlProblem(""), "");
}

TEST(SwishAppSwitch, TheLinkCarriesTheTokenAndTheEncodedReturnPage) {
    EXPECT_EQ(appSwitchUrl("c28a4061470f4af48973bd2a4642b4fa", "https://box.example.se/plugins/checkin/receipt.html#ab_c"),
              "swish://paymentrequest?token=c28a4061470f4af48973bd2a4642b4fa"
              "&callbackurl=https%3A%2F%2Fbox.example.se%2Fplugins%2Fcheckin%2Freceipt.html%23ab_c");
    EXPECT_EQ(qrPayload("c28a4061470f4af48973bd2a4642b4fa"), "Dc28a4061470f4af48973bd2a4642b4fa");
}

TEST(SwishQr, TheTokenIsDrawnAsAQrCodeWithFinderPatternsInThreeCorners) {
    const auto m = qrEncode(qrPayload("c28a4061470f4af48973bd2a4642b4fa"));
    // 33 bytes at level M need version 3 (29 modules).
    EXPECT_EQ(m.size, 29);
    auto finder = [&](int x0, int y0) {
        for (int y = 0; y < 7; ++y)
            for (int x = 0; x < 7; ++x) {
                const bool ring = x == 0 || y == 0 || x == 6 || y == 6;
                const bool core = x >= 2 && x <= 4 && y >= 2 && y <= 4;
                if (m.at(x0 + x, y0 + y) != (ring || core)) return false;
            }
        return true;
    };
    EXPECT_TRUE(finder(0, 0));
    EXPECT_TRUE(finder(m.size - 7, 0));
    EXPECT_TRUE(finder(0, m.size - 7));
    EXPECT_FALSE(finder(m.size - 7, m.size - 7));
    // Timing pattern: alternating modules on row 6 between the finders.
    for (int x = 8; x < m.size - 8; ++x) EXPECT_EQ(m.at(x, 6), x % 2 == 0);
    // Another token, another code.
    EXPECT_NE(qrEncode(qrPayload("00000000000000000000000000000000")).dark, m.dark);
}

TEST(SwishQr, TheSvgDrawsExactlyTheDarkModulesInsideAQuietZone) {
    const auto m = qrEncode("Dc28a4061470f4af48973bd2a4642b4fa");
    const auto svg = qrSvg(m, "Swish <QR>");
    EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 37 37\"", 0), 0u) << svg.substr(0, 80);
    EXPECT_NE(svg.find("<title>Swish &lt;QR&gt;</title>"), std::string::npos);
    EXPECT_EQ(svg.find("<script"), std::string::npos);
    // Paint the path's runs back into a matrix: it must be the code, shifted by 4.
    std::vector<bool> painted(static_cast<std::size_t>(m.size * m.size), false);
    static const std::regex run(R"(M(\d+) (\d+)h(\d+)v1h-(\d+)z)");
    const auto d = svg.substr(svg.find(" d=\"") + 4);
    for (std::sregex_iterator it(d.begin(), d.end(), run), end; it != end; ++it) {
        const int x = std::stoi((*it)[1]) - 4, y = std::stoi((*it)[2]) - 4, n = std::stoi((*it)[3]);
        ASSERT_EQ(n, std::stoi((*it)[4]));
        ASSERT_GE(x, 0);
        ASSERT_LE(x + n, m.size);
        for (int i = 0; i < n; ++i) painted[static_cast<std::size_t>(y * m.size + x + i)] = true;
    }
    EXPECT_EQ(painted, m.dark);
}
