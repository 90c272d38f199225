// The demo keeps video on loopback: the demo configuration names no internet host, its
// meeting server is the simulator's /meet/ stand-in, and that stand-in checks the box's token.
#include "../Meeting.h"

#include <Poco/JWT/Signer.h>
#include <Poco/JWT/Token.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace fs = std::filesystem;

namespace {
std::string readFile(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string token(const std::string& secret, const std::string& room, long long fromNow = -60, long long untilNow = 600) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    Poco::JWT::Token t;
    t.setType("JWT");
    t.payload().set("aud", "jitsi");
    t.payload().set("room", room);
    t.payload().set("nbf", now + fromNow);
    t.payload().set("exp", now + untilNow);
    Poco::JSON::Object::Ptr user = new Poco::JSON::Object;
    user->set("name", "Patient");
    user->set("moderator", false);
    Poco::JSON::Object::Ptr ctx = new Poco::JSON::Object;
    ctx->set("user", user);
    t.payload().set("context", ctx);
    Poco::JWT::Signer s(secret);
    return s.sign(t, Poco::JWT::Signer::ALGO_HS256);
}
}  // namespace

TEST(DemoLoopback, TheDemoNamesNoInternetHost) {
    const fs::path root = KB_SOURCE_DIR;
    std::vector<fs::path> files = {root / "config/demo/klinikbox.yaml.in", root / "scripts/demo.sh"};
    for (const auto& e : fs::directory_iterator(root / "scripts/lib"))
        if (e.path().filename().string().rfind("demo", 0) == 0) files.push_back(e.path());
    const std::regex url(R"(([a-z][a-z0-9+.-]*)://([^/:"'\s)}]+))");
    int seen = 0;
    for (const auto& f : files) {
        const std::string text = readFile(f);
        ASSERT_FALSE(text.empty()) << f;
        for (std::sregex_iterator it(text.begin(), text.end(), url), end; it != end; ++it) {
            const std::string host = (*it)[2].str();
            ++seen;
            const bool loopback = host == "127.0.0.1" || host == "localhost" || host == "[::1]" || host.find('$') != std::string::npos ||
                                  host.find('@') != std::string::npos;
            EXPECT_TRUE(loopback) << f.filename() << ": " << (*it)[0].str();
        }
    }
    EXPECT_GT(seen, 0);
    const std::string config = readFile(root / "config/demo/klinikbox.yaml.in");
    EXPECT_EQ(config.find("jit.si"), std::string::npos);
    EXPECT_NE(config.find("server_url: \"@SIM_HTTP@/meet\""), std::string::npos) << "video goes to the simulator's stand-in";
}

TEST(DemoLoopback, TheStandInMeetingServerAdmitsOnlyTheBoxsTokenForItsRoom) {
    const std::string secret = "DEMO-ONLY-test-secret";
    auto ok = sim::meetingPage("room-abc", token(secret, "room-abc"), secret);
    EXPECT_EQ(ok.status, 200) << ok.html;
    EXPECT_NE(ok.html.find("room-abc"), std::string::npos);
    EXPECT_EQ(ok.html.find("http"), std::string::npos) << "the page loads nothing from anywhere";
    EXPECT_EQ(sim::meetingPage("room-abc", token("another-secret", "room-abc"), secret).status, 401);
    EXPECT_EQ(sim::meetingPage("room-xyz", token(secret, "room-abc"), secret).status, 403);
    EXPECT_EQ(sim::meetingPage("room-abc", token(secret, "room-abc", -600, -60), secret).status, 403) << "expired";
    EXPECT_EQ(sim::meetingPage("room-abc", "", secret).status, 401);
    EXPECT_EQ(sim::meetingPage("room-abc", "not.a.token", secret).status, 401);
    EXPECT_EQ(sim::meetingPage("room-abc", token(secret, "room-abc"), "").status, 401);
}
