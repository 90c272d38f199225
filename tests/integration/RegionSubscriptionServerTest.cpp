// A box subscribed to its region's publication (region.subscription) picks up a new set and
// the region's CRL from a static mirror on loopback, verifies them, and stages the set for
// an admin; an unreachable mirror leaves the running set alone and shows a warning.
#include "BoxProcess.h"
#include "Eventually.h"

#include <Poco/JSON/Array.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

using namespace kbtest;
namespace fs = std::filesystem;

namespace {

std::string readBytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

// Serves a directory as static files under /region/ on loopback.
class StaticMirror {
public:
    explicit StaticMirror(std::string root) {
        Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
        port_ = socket.address().port();
        server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(std::move(root)), socket,
                                                          new Poco::Net::HTTPServerParams);
        server_->start();
    }
    ~StaticMirror() { server_->stopAll(true); }
    [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/region/"; }

private:
    struct Handler : Poco::Net::HTTPRequestHandler {
        std::string root;
        explicit Handler(std::string r) : root(std::move(r)) {}
        void handleRequest(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res) override {
            const std::string prefix = "/region/";
            const auto rel = req.getURI().rfind(prefix, 0) == 0 ? req.getURI().substr(prefix.size()) : "";
            const auto path = root + "/" + rel;
            if (rel.empty() || rel.find("..") != std::string::npos || !fs::is_regular_file(path)) {
                res.setStatus(Poco::Net::HTTPResponse::HTTP_NOT_FOUND);
                res.send() << "not found";
                return;
            }
            const auto body = readBytes(path);
            res.setContentLength(static_cast<std::streamsize>(body.size()));
            res.send() << body;
        }
    };
    struct Factory : Poco::Net::HTTPRequestHandlerFactory {
        std::string root;
        explicit Factory(std::string r) : root(std::move(r)) {}
        Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
            return new Handler(root);
        }
    };
    Poco::UInt16 port_ = 0;
    std::unique_ptr<Poco::Net::HTTPServer> server_;
};

int run(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }

// The demo region's PKI, a signed set of the hello plugin (sequence 1) for the box to run,
// and a publication holding sequence 2 and the region's CRL.
struct Region {
    TempDir dir;
    std::string pki = dir.file("pki"), set = dir.file("set"), pub = dir.file("publication");
    Region() {
        const std::string demo = std::string(KB_SOURCE_DIR) + "/config/demo-region";
        const std::string kb = BoxProcess::binary();
        if (run("sh " + demo + "/make-demo-pki.sh " + pki) != 0) throw std::runtime_error("demo PKI failed");
        if (pluginSetOf(dir, {"hello"}) != set) throw std::runtime_error("the set is not where expected");
        sign(2);
        const std::string zip = dir.file("hello-2.zip");
        if (run(kb + " pluginset pack " + set + " -o " + zip) != 0) throw std::runtime_error("pack failed");
        if (run(kb + " pluginset publish " + pub + " --region-hsa-id SE2321000016-DEMO --key " + pki +
                "/signers/infosec.key.pem --cert " + pki + "/signers/infosec.cert.pem --sets " + zip + " --crls " + pki +
                "/trust/demo-region/crl.pem --valid-hours 24") != 0)
            throw std::runtime_error("publish failed");
        sign(1);  // the box starts with sequence 1
    }
    void sign(int sequence) {
        if (run("sh " + std::string(KB_SOURCE_DIR) + "/config/demo-region/sign-demo-set.sh " + set + " " + pki + " " +
                BoxProcess::binary() + " " + std::to_string(sequence)) != 0)
            throw std::runtime_error("signing failed");
    }
    std::string config(const std::string& url) const {
        return "  trust_dir: " + pki + "/trust\nregion:\n  subscription:\n    url: " + url +
               "\n    poll_minutes: 1\n    activate: stage\n";
    }
};


}  // namespace

TEST(RegionSubscription, NewSetFromTheRegionsMirrorIsVerifiedAndStagedForTheAdmin) {
    Region r;
    StaticMirror mirror(r.pub);
    BoxProcess box(r.config(mirror.url()), r.set, "production");
    box.start();
    ASSERT_TRUE(eventually([&] {
        auto j = box.request("GET", "/readyz").json();
        return j->has("region_subscription") && j->getObject("region_subscription")->getValue<int>("index_version") == 1;
    })) << box.output();
    auto j = box.request("GET", "/readyz").json();
    EXPECT_EQ(j->getValue<std::string>("status"), "ready");
    EXPECT_EQ(j->getObject("plugin_set")->getValue<int>("sequence"), 1);  // staged, not activated
    EXPECT_TRUE(j->getObject("region_subscription")->has("staged_set_id"));
    box.loginAs("ada", "admin");
    auto sets = box.authed("GET", "/api/v1/pluginsets").json()->getArray("sets");
    ASSERT_EQ(sets->size(), 1u);
    EXPECT_EQ(sets->getObject(0)->getValue<int>("sequence"), 2);
    EXPECT_EQ(sets->getObject(0)->getValue<std::string>("state"), "stored");
    EXPECT_TRUE(fs::exists(r.pki + "/trust/demo-region/crl-mirror-crl.pem"));
    EXPECT_NE(box.request("GET", "/metrics").body.find("kb_region_index_version 1"), std::string::npos);
    const long long id = sets->getObject(0)->getValue<long long>("id");
    ASSERT_EQ(box.authed("POST", "/api/v1/pluginsets/" + std::to_string(id) + "/activate", "{}").status, 200);
    EXPECT_EQ(box.request("GET", "/readyz").json()->getObject("plugin_set")->getValue<int>("sequence"), 2);
}

TEST(RegionSubscription, UnreachableMirrorWarnsAndTheRunningSetKeepsRunning) {
    Region r;
    std::string url;
    { url = StaticMirror(r.pub).url(); }  // a port nobody listens on any more
    BoxProcess box(r.config(url), r.set, "production");
    box.start();
    ASSERT_TRUE(eventually([&] {
        auto j = box.request("GET", "/readyz").json();
        return j->has("region_subscription") && j->getObject("region_subscription")->getValue<int>("failures") >= 1;
    })) << box.output();
    auto j = box.request("GET", "/readyz").json();
    EXPECT_EQ(j->getValue<std::string>("status"), "ready");
    EXPECT_EQ(j->getObject("plugin_set")->getValue<int>("sequence"), 1);
    EXPECT_NE(j->getObject("region_subscription")->getValue<std::string>("warning").find("could not be used"),
              std::string::npos);
    EXPECT_EQ(j->getArray("plugins")->getObject(0)->getValue<std::string>("state"), "running");
    EXPECT_NE(box.request("GET", "/metrics").body.find("kb_region_poll_failures 1"), std::string::npos);
    EXPECT_NE(box.output().find("next try in 2 minutes"), std::string::npos) << box.output();
}
