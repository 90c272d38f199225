// A region publishes sets and CRLs as static files with a signed, expiring index; a box
// polls a mirror on loopback and stores only what it verified. Frozen, stale, forged and
// tampered mirrors are refused and store nothing.
#include "SetFixture.h"

#include "pluginset/Certify.h"
#include "pluginset/Mirror.h"
#include "pluginset/RegionIndex.h"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>

#include <memory>
#include <mutex>

namespace kbtest {
namespace {

namespace fs = std::filesystem;

// A static file server on loopback whose root can be switched (a mirror that freezes).
class StaticMirror {
  public:
    explicit StaticMirror(std::string root) : root_(std::make_shared<Root>()) {
        root_->set(std::move(root));
        Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
        port_ = socket.address().port();
        server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(root_), socket,
                                                          new Poco::Net::HTTPServerParams);
        server_->start();
    }
    ~StaticMirror() { server_->stopAll(true); }
    void serve(std::string root) { root_->set(std::move(root)); }
    [[nodiscard]] std::string url() const {
        return "http://127.0.0.1:" + std::to_string(port_) + "/region/";
    }

  private:
    struct Root {
        std::mutex mu;
        std::string dir;
        void set(std::string d) {
            std::lock_guard l(mu);
            dir = std::move(d);
        }
        std::string get() {
            std::lock_guard l(mu);
            return dir;
        }
    };
    struct Handler : Poco::Net::HTTPRequestHandler {
        std::shared_ptr<Root> root;
        explicit Handler(std::shared_ptr<Root> r) : root(std::move(r)) {}
        void handleRequest(Poco::Net::HTTPServerRequest& req,
                           Poco::Net::HTTPServerResponse& res) override {
            const std::string prefix = "/region/";
            const auto& uri = req.getURI();
            const auto rel = uri.rfind(prefix, 0) == 0 ? uri.substr(prefix.size()) : "";
            const auto path = root->get() + "/" + rel;
            if (rel.empty() || rel.find("..") != std::string::npos || !fs::is_regular_file(path)) {
                res.setStatus(Poco::Net::HTTPResponse::HTTP_NOT_FOUND);
                res.send() << "not found";
                return;
            }
            const auto body = readFile(path);
            res.setContentLength(static_cast<std::streamsize>(body.size()));
            res.send() << body;
        }
    };
    struct Factory : Poco::Net::HTTPRequestHandlerFactory {
        std::shared_ptr<Root> root;
        explicit Factory(std::shared_ptr<Root> r) : root(std::move(r)) {}
        Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
            return new Handler(root);
        }
    };
    std::shared_ptr<Root> root_;
    Poco::UInt16 port_ = 0;
    std::unique_ptr<Poco::Net::HTTPServer> server_;
};

class Mirror : public PluginSetTest {
  protected:
    std::string pub = tmp.file("publication");
    std::string state = tmp.file("box-state");
    std::string keys = tmp.file("publisher");
    const ps::TimePoint published = *ps::parseInstant("2025-06-01T00:00:00Z");
    const ps::TimePoint soon = *ps::parseInstant("2025-06-01T06:00:00Z");

    Mirror() {
        writeFile(keys + ".key.pem", infosec.keyPem());
        writeFile(keys + ".cert.pem", infosec.certPem());
    }

    std::string zipOf(const std::string& name, long long sequence) {
        if (fs::exists(tmp.file(name + ".zip"))) return tmp.file(name + ".zip");  // made before
        const auto dir = makeSignedSet(name, options(sequence));
        const auto zip = tmp.file(name + ".zip");
        ps::packSet(dir, zip);
        return zip;
    }

    ps::RegionIndex publish(const std::vector<std::string>& sets, ps::TimePoint at) {
        ps::PublishOptions o;
        o.outDir = pub;
        o.regionHsaId = kRegionAHsa;
        o.sets = sets;
        o.crls = {trustDir() + "/region-a/crl.pem"};
        o.keyPem = keys + ".key.pem";
        o.certPem = keys + ".cert.pem";
        return ps::publishRegion(o, at);
    }

    ps::PollResult poll(const StaticMirror& m, ps::TimePoint now) {
        ps::MirrorOptions o;
        o.timeout = std::chrono::milliseconds(30000);
        return ps::pollMirror(m.url(), trust(), state, now, o);
    }

    template <class Fn>
    ps::VerifyError refusalOf(Fn fn) {
        try {
            fn();
        } catch (const ps::VerifyError& e) {
            return e;
        }
        ADD_FAILURE() << "accepted";
        return ps::VerifyError(ps::Reason::Unreadable, "accepted");
    }

    [[nodiscard]] std::string stateText() const {
        return fs::exists(state + "/state") ? readFile(state + "/state") : "";
    }
};

TEST_F(Mirror, NewSetAndCrlArePickedUpVerifiedAndStored) {
    publish({zipOf("a", 1)}, published);
    StaticMirror mirror(pub);
    const auto r = poll(mirror, soon);
    EXPECT_TRUE(r.changed);
    EXPECT_EQ(r.index.version, 1);
    EXPECT_EQ(r.index.activate, "stage");
    ASSERT_EQ(r.newSets.size(), 1u);
    EXPECT_EQ(readFile(r.newSets[0]), readFile(pub + "/sets/a.zip"));
    ASSERT_EQ(r.crls.size(), 1u);
    EXPECT_EQ(readFile(r.crls[0]), readFile(trustDir() + "/region-a/crl.pem"));
    EXPECT_EQ(stateText().rfind("1 ", 0), 0u) << stateText();

    const auto again = poll(mirror, soon);  // nothing new
    EXPECT_FALSE(again.changed);
    EXPECT_TRUE(again.newSets.empty());

    publish({zipOf("a", 1), zipOf("b", 2)}, soon);
    const auto next = poll(mirror, soon + std::chrono::hours(1));
    EXPECT_TRUE(next.changed);
    EXPECT_EQ(next.index.version, 2);
    ASSERT_EQ(next.newSets.size(), 1u);
    EXPECT_NE(next.newSets[0].find("b.zip"), std::string::npos);
}

TEST_F(Mirror, MirrorServingAnOldIndexIsRefusedAsFrozen) {
    publish({zipOf("a", 1)}, published);
    const auto old = tmp.file("old-snapshot");
    fs::copy(pub, old, fs::copy_options::recursive);
    publish({zipOf("a", 1), zipOf("b", 2)}, published);
    StaticMirror mirror(pub);
    EXPECT_EQ(poll(mirror, soon).index.version, 2);
    mirror.serve(old);  // the mirror froze at version 1 (still within its expiry)
    const auto e = refusalOf([&] { (void)poll(mirror, soon); });
    EXPECT_EQ(e.reason(), ps::Reason::Rollback);
    EXPECT_NE(std::string(e.what()).find("version 1, older than 2"), std::string::npos) << e.what();
    EXPECT_EQ(stateText().rfind("2 ", 0), 0u);  // the box keeps what it had
}

TEST_F(Mirror, IndexPastItsExpiryIsRefusedAsStale) {
    publish({zipOf("a", 1)}, published);
    StaticMirror mirror(pub);
    const auto e = refusalOf([&] { (void)poll(mirror, published + std::chrono::hours(49)); });
    EXPECT_EQ(e.reason(), ps::Reason::Expired);
    EXPECT_NE(std::string(e.what()).find("stale or frozen"), std::string::npos) << e.what();
    EXPECT_FALSE(fs::exists(state + "/state"));
}

TEST_F(Mirror, SwappedFileIsRefusedAndNothingIsStored) {
    publish({zipOf("a", 1)}, published);
    fs::copy_file(zipOf("other", 5), pub + "/sets/a.zip", fs::copy_options::overwrite_existing);
    StaticMirror mirror(pub);
    const auto e = refusalOf([&] { (void)poll(mirror, soon); });
    EXPECT_EQ(e.reason(), ps::Reason::FileTampered);
    EXPECT_NE(std::string(e.what()).find("sets/a.zip is"), std::string::npos) << e.what();
    EXPECT_FALSE(fs::exists(state + "/state"));
    EXPECT_FALSE(fs::exists(state + "/sets"));
    EXPECT_FALSE(fs::exists(state + "/crl"));
}

TEST_F(Mirror, EditedIndexIsRefusedByItsSignature) {
    publish({zipOf("a", 1)}, published);
    auto text = readFile(pub + "/index.json");
    text.replace(text.find("\"version\": 1"), 12, "\"version\": 9");
    writeFile(pub + "/index.json", text);
    StaticMirror mirror(pub);
    EXPECT_EQ(refusalOf([&] { (void)poll(mirror, soon); }).reason(), ps::Reason::SignatureMismatch);
    EXPECT_FALSE(fs::exists(state + "/state"));
}

TEST_F(Mirror, IndexSignedByAnotherRegionsKeyIsRefused) {
    writeFile(keys + ".key.pem", signerB.keyPem());
    writeFile(keys + ".cert.pem", signerB.certPem());
    publish({zipOf("a", 1)}, published);  // names Region A, signed by Region B
    StaticMirror mirror(pub);
    EXPECT_EQ(refusalOf([&] { (void)poll(mirror, soon); }).reason(), ps::Reason::RegionMismatch);
}

TEST_F(Mirror, UnreachableMirrorFailsWithoutTouchingTheState) {
    publish({zipOf("a", 1)}, published);
    std::string url;
    {
        StaticMirror gone(pub);
        EXPECT_TRUE(poll(gone, soon).changed);
        url = gone.url();
    }  // the mirror is down now
    const auto before = stateText();
    ps::MirrorOptions o;
    o.timeout = std::chrono::milliseconds(5000);
    EXPECT_THROW((void)ps::pollMirror(url, trust(), state, soon, o), std::exception);
    EXPECT_EQ(stateText(), before);
    EXPECT_EQ(ps::backoff(std::chrono::minutes(60), 0), std::chrono::minutes(60));
    EXPECT_EQ(ps::backoff(std::chrono::minutes(60), 1), std::chrono::minutes(120));
    EXPECT_EQ(ps::backoff(std::chrono::minutes(60), 10), std::chrono::minutes(480));
    EXPECT_EQ(ps::backoff(std::chrono::minutes(600), 10), std::chrono::minutes(1440));
}

TEST_F(Mirror, PublishingNeverLowersTheVersion) {
    publish({zipOf("a", 1)}, published);
    ps::PublishOptions o;
    o.outDir = pub;
    o.regionHsaId = kRegionAHsa;
    o.version = 1;
    o.keyPem = keys + ".key.pem";
    o.certPem = keys + ".cert.pem";
    EXPECT_THROW((void)ps::publishRegion(o, soon), std::invalid_argument);
    o.version = 0;
    EXPECT_EQ(ps::publishRegion(o, soon).version, 2);
}

}  // namespace
}  // namespace kbtest

namespace kbtest {
namespace {

TEST_F(Mirror, NewRootAnnouncedUnderTheCurrentRootIsAddedToTheTrustEntry) {
    const auto newRoot = makeRoot("Region A Plugin Root 2030");
    writeFile(tmp.file("new-root.pem"), newRoot.certPem());
    ps::PublishOptions o;
    o.outDir = pub;
    o.regionHsaId = kRegionAHsa;
    o.roots = {tmp.file("new-root.pem")};
    o.keyPem = keys + ".key.pem";
    o.certPem = keys + ".cert.pem";
    (void)ps::publishRegion(o, published);
    StaticMirror mirror(pub);
    const auto r = poll(mirror, soon);
    ASSERT_EQ(r.roots.size(), 1u);
    const auto before = trust();
    const auto& region = before.regions()[0];
    EXPECT_EQ(ps::installAnnouncedRoots(trustDir(), region, r.roots), 1);
    EXPECT_EQ(ps::installAnnouncedRoots(trustDir(), region, r.roots), 0);  // once
    const auto after = trust();
    ASSERT_EQ(after.regions()[0].roots.size(), 2u);  // the old root stays for the changeover
    // A set signed under the new root now verifies, once the new root's CRL is installed too
    // (a box installs the CRLs the index lists, as the subscription does).
    writeFile(trustDir() + "/region-a/crl-2030.pem", makeCrlPem(newRoot, {}));
    const auto officer = issue(newRoot, CertSpec("Region A officer 2030").eku("codeSigning"));
    const auto officer2 = issue(newRoot, CertSpec("Region A second officer 2030"));
    const auto dir = makeSet("new");
    signRaw(dir, officer);
    signRaw(dir, officer2);
    EXPECT_EQ(verify(dir).signers.size(), 2u);
}

TEST_F(Mirror, RootAnnouncedUnderAnotherRootIsNeverFetched) {
    // An index signed by an impostor root's key is refused before any root is looked at.
    const auto impostor = makeRoot("Region A Plugin Root");  // same name, other key
    const auto signer = issue(impostor, CertSpec("Impostor").eku("codeSigning"));
    writeFile(keys + ".key.pem", signer.keyPem());
    writeFile(keys + ".cert.pem", signer.certPem());
    writeFile(tmp.file("impostor-root.pem"), impostor.certPem());
    ps::PublishOptions o;
    o.outDir = pub;
    o.regionHsaId = kRegionAHsa;
    o.roots = {tmp.file("impostor-root.pem")};
    o.keyPem = keys + ".key.pem";
    o.certPem = keys + ".cert.pem";
    (void)ps::publishRegion(o, published);
    StaticMirror mirror(pub);
    EXPECT_EQ(refusalOf([&] { (void)poll(mirror, soon); }).reason(), ps::Reason::UntrustedSigner);
    EXPECT_EQ(trust().regions()[0].roots.size(), 1u);
    EXPECT_FALSE(fs::exists(state + "/root"));
}

TEST_F(Mirror, LeafCertificateIsNeverInstalledAsARoot) {
    writeFile(tmp.file("leaf.pem"), medinfo.certPem());
    const auto store = trust();
    EXPECT_THROW((void)ps::installAnnouncedRoots(trustDir(), store.regions()[0], {tmp.file("leaf.pem")}),
                 std::runtime_error);
    EXPECT_EQ(trust().regions()[0].roots.size(), 1u);
}

}  // namespace
}  // namespace kbtest
