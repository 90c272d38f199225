// The first-run wizard's API on the real server (issue 20, "First run"): every step with bad
// input, a wrong token, a foreign origin; the certificate for the clinic's host names served
// without a restart; what was saved survives a restart; the region's trust anchor makes a
// refused production set run without a restart; 409 once the first admin exists.
#include "BoxProcess.h"

#include <klinikbox/Db.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace kbtest;
namespace fs = std::filesystem;

namespace {

std::string readAll(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string json(const Poco::JSON::Object::Ptr& o) {
    std::ostringstream s;
    o->stringify(s);
    return s.str();
}

// The token of the last setup link in `out`.
std::string tokenIn(const std::string& out) {
    const auto at = out.rfind("#token=");
    if (at == std::string::npos) return {};
    const auto start = at + 7;
    const auto end = out.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", start);
    return out.substr(start, end - start);
}

// The token of the last setup link the box printed.
std::string setupToken(const BoxProcess& box) { return tokenIn(box.output()); }

int portOf(const std::string& url) { return std::stoi(url.substr(url.rfind(':') + 1)); }

// The SHA-256 fingerprint of the certificate the box presents on a new TLS connection (a
// fresh context, so no session is resumed).
std::string servedFingerprint(int port) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    std::string out;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
        SSL* ssl = SSL_new(ctx);
        SSL_set_fd(ssl, fd);
        if (SSL_connect(ssl) == 1) {
            if (X509* cert = SSL_get1_peer_certificate(ssl)) {
                unsigned char md[EVP_MAX_MD_SIZE];
                unsigned n = 0;
                X509_digest(cert, EVP_sha256(), md, &n);
                char buf[4];
                for (unsigned i = 0; i < n; ++i) {
                    std::snprintf(buf, sizeof buf, "%02X", md[i]);
                    if (i) out += ':';
                    out += buf;
                }
                X509_free(cert);
            }
            SSL_shutdown(ssl);
        }
        SSL_free(ssl);
    }
    ::close(fd);
    SSL_CTX_free(ctx);
    return out;
}

// POSTs a JSON body to a wizard route; `fields` are added to {"token": token}.
HttpResult post(const BoxProcess& box, const std::string& path, const std::string& token, Poco::JSON::Object::Ptr fields = {},
                const std::map<std::string, std::string>& headers = {}) {
    Poco::JSON::Object::Ptr o = fields ? fields : Poco::JSON::Object::Ptr(new Poco::JSON::Object);
    o->set("token", token);
    auto h = headers;
    h.emplace("Content-Type", "application/json");
    return box.request("POST", path, json(o), h);
}

Poco::JSON::Object::Ptr obj(std::initializer_list<std::pair<std::string, Poco::Dynamic::Var>> kv) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    for (const auto& [k, v] : kv) o->set(k, v);
    return o;
}

// The first field error's pointer and code of a 400 problem.
std::string fieldError(const HttpResult& r) {
    if (r.status != 400) return "status " + std::to_string(r.status) + ": " + r.body;
    auto errs = r.json()->getArray("errors");
    if (!errs || errs->size() == 0) return "no errors: " + r.body;
    auto e = errs->getObject(0);
    return e->getValue<std::string>("pointer") + " " + e->getValue<std::string>("code");
}

std::string makeCa(const TempDir& d, const std::string& name) {
    const auto crt = d.file(name + ".pem");
    const std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -days 30 -subj '/CN=" + name +
                            "' -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -keyout '" +
                            d.file(name + ".key") + "' -out '" + crt + "' 2>/dev/null";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("openssl failed");
    return readAll(crt);
}

}  // namespace

TEST(SetupWizardServer, WalksEveryStepRefusesBadInputAndServesTheNewCertificateWithoutRestart) {
    BoxProcess box;
    box.start();
    const auto token = setupToken(box);
    ASSERT_FALSE(token.empty()) << box.output();
    const int port = portOf(box.url());

    // The door: a wrong token, no token, a foreign page.
    EXPECT_EQ(post(box, "/api/v1/setup/status", "not-the-token").status, 401);
    EXPECT_EQ(box.request("POST", "/api/v1/setup/status", "{}", {{"Content-Type", "application/json"}}).status, 400);
    EXPECT_EQ(post(box, "/api/v1/setup/status", token, {}, {{"Origin", "https://evil.example"}}).status, 403);
    auto st = post(box, "/api/v1/setup/status", token);
    ASSERT_EQ(st.status, 200) << st.body;
    EXPECT_EQ(st.json()->getValue<std::string>("next"), "clinic");
    EXPECT_EQ(st.json()->getObject("hosts")->getObject("certificate")->getValue<std::string>("source"), "generated");

    // 1. The clinic.
    EXPECT_EQ(fieldError(post(box, "/api/v1/setup/clinic", token, obj({{"name", "VC Norr"}, {"hsa_id", "SE123"}}))), "/hsa_id hsa-id");
    EXPECT_EQ(fieldError(post(box, "/api/v1/setup/clinic", token, obj({{"name", "VC\nNorr"}, {"hsa_id", "SE2321000016-15CQ"}}))),
              "/name nul");
    EXPECT_EQ(post(box, "/api/v1/setup/clinic", token, obj({{"name", "VC"}, {"hsa_id", "SE2321000016-15CQ"}, {"extra", 1}})).status,
              400);
    st = post(box, "/api/v1/setup/clinic", token, obj({{"name", "Vårdcentralen Norr"}, {"hsa_id", "SE2321000016-15CQ"}}));
    ASSERT_EQ(st.status, 200) << st.body;
    EXPECT_EQ(st.json()->getValue<std::string>("next"), "hosts");

    // 2. Host names: bad ones refused, then a new certificate served by the running box.
    const auto before = servedFingerprint(port);
    ASSERT_FALSE(before.empty());
    Poco::JSON::Array::Ptr bad = new Poco::JSON::Array;
    bad->add("klinikbox.test.local");
    bad->add("kb_1.local");
    EXPECT_EQ(fieldError(post(box, "/api/v1/setup/hosts", token, obj({{"names", bad}}))), "/names/1 host");
    Poco::JSON::Array::Ptr names = new Poco::JSON::Array;
    names->add("KlinikBox.Test.Local");
    names->add("192.0.2.10");
    EXPECT_EQ(fieldError(post(box, "/api/v1/setup/hosts", token, obj({{"names", names}, {"public_url", "https://kb.local/x"}}))),
              "/public_url url");
    EXPECT_EQ(servedFingerprint(port), before) << "a refused step changes nothing";
    st = post(box, "/api/v1/setup/hosts", token, obj({{"names", names}}));
    ASSERT_EQ(st.status, 200) << st.body;
    const auto hosts = st.json()->getObject("hosts");
    EXPECT_EQ(hosts->getValue<std::string>("public_url"), "https://klinikbox.test.local:" + std::to_string(port));
    const auto renewal = st.json()->getObject("renewal");
    EXPECT_TRUE(renewal->getValue<bool>("renewed"));
    const auto fingerprint = renewal->getValue<std::string>("fingerprint_sha256");
    EXPECT_NE(fingerprint, before);
    EXPECT_EQ(servedFingerprint(port), fingerprint) << "the new certificate is served without a restart";
    EXPECT_TRUE(box.running());
    const auto certNames = hosts->getObject("certificate")->getArray("names");
    bool named = false;
    for (std::size_t i = 0; i < certNames->size(); ++i) named = named || certNames->getElement<std::string>(i) == "klinikbox.test.local";
    EXPECT_TRUE(named) << st.body;

    // 3. The trust anchor: a server certificate is no CA; a CA is installed in data_dir/trust.
    TempDir d;
    const auto leaf = readAll(box.dataDir() + "/tls/server.crt");
    EXPECT_EQ(fieldError(post(box, "/api/v1/setup/trust", token,
                              obj({{"region", "Region Test"}, {"region_hsa_id", "SE2321000016-RT01"}, {"root_pem", leaf}}))),
              "/root_pem pem-ca");
    EXPECT_EQ(fieldError(post(box, "/api/v1/setup/trust", token,
                              obj({{"region", "Region Test"}, {"region_hsa_id", "region"}, {"root_pem", makeCa(d, "Test Root")}}))),
              "/region_hsa_id hsa-id");
    EXPECT_FALSE(fs::exists(box.dataDir() + "/trust/region-test")) << "nothing half-written";
    st = post(box, "/api/v1/setup/trust", token,
              obj({{"region", "Region Test"}, {"region_hsa_id", "SE2321000016-RT01"}, {"root_pem", makeCa(d, "Test Root 2")}}));
    ASSERT_EQ(st.status, 200) << st.body;
    EXPECT_EQ(st.json()->getValue<std::string>("next"), "admin");
    EXPECT_FALSE(st.json()->getObject("plugins")->getValue<bool>("reloaded")) << "development mode";
    EXPECT_TRUE(fs::exists(box.dataDir() + "/trust/region-test/root.pem"));
    EXPECT_NE(readAll(box.dataDir() + "/trust/region-test/region.yaml").find("SE2321000016-RT01"), std::string::npos);
    EXPECT_EQ(st.json()->getObject("trust")->getArray("regions")->size(), 1u);

    // What the wizard saved survives a restart: the certificate stays, links use the public URL.
    box.stop();
    box.start();
    EXPECT_EQ(servedFingerprint(portOf(box.url())), fingerprint);
    EXPECT_NE(box.output().rfind("https://klinikbox.test.local:" + std::to_string(port) + "/setup.html#token="), std::string::npos)
        << box.output();
    std::string out;
    ASSERT_EQ(box.cli({"setup-link"}, &out), 0) << out;
    EXPECT_NE(out.find("https://klinikbox.test.local:" + std::to_string(port) + "/setup.html#token="), std::string::npos) << out;
    const auto token2 = tokenIn(out);
    EXPECT_EQ(post(box, "/api/v1/setup/status", token).status, 401) << "a new link replaces the old one";
    st = post(box, "/api/v1/setup/status", token2);
    ASSERT_EQ(st.status, 200) << st.body;
    EXPECT_EQ(st.json()->getValue<std::string>("next"), "admin");
    EXPECT_EQ(st.json()->getObject("clinic")->getValue<std::string>("name"), "Vårdcentralen Norr");
    EXPECT_EQ(st.json()->getObject("clinic")->getValue<std::string>("hsa_id"), "SE2321000016-15CQ");

    // 4. The first admin; then every wizard route answers 409.
    EXPECT_EQ(fieldError(post(box, "/api/v1/auth/setup", token2, obj({{"username", "anna"}, {"password", "kort"}}))),
              "/password password.short");
    st = post(box, "/api/v1/auth/setup", token2, obj({{"username", "anna"}, {"password", "ett långt lösenord 2026"}}));
    ASSERT_EQ(st.status, 201) << st.body;
    EXPECT_EQ(post(box, "/api/v1/setup/status", token2).status, 409);
    EXPECT_EQ(post(box, "/api/v1/setup/clinic", token2, obj({{"name", "VC"}, {"hsa_id", "SE2321000016-15CQ"}})).status, 409);
    EXPECT_EQ(post(box, "/api/v1/setup/trust", token2, obj({{"skip", true}})).status, 409);
    EXPECT_EQ(post(box, "/api/v1/auth/setup", token2, obj({{"username", "bo"}, {"password", "ett annat långt lösenord"}})).status,
              409);
    EXPECT_EQ(box.request("POST", "/api/v1/auth/login", R"({"username":"anna","password":"ett långt lösenord 2026"})",
                          {{"Content-Type", "application/json"}}).status, 200);
    box.stop();

    // Every change is in the audit log, by the setup token.
    klinikbox::db::Connection c(box.dataDir() + "/klinikbox.db");
    auto q = c.prepare("SELECT action FROM kb_audit WHERE username='setup token' ORDER BY seq");
    std::vector<std::string> actions;
    while (q.step()) actions.push_back(q.getText(0));
    EXPECT_EQ(actions, (std::vector<std::string>{"setup.clinic", "setup.hosts", "setup.trust", "user.create"}));
}

TEST(SetupWizardServer, TenWrongTokensFromAnAddressAreAnsweredWith429) {
    BoxProcess box;
    box.start();
    const auto token = setupToken(box);
    for (int i = 0; i < 10; ++i) EXPECT_EQ(post(box, "/api/v1/setup/status", "wrong-" + std::to_string(i)).status, 401);
    const auto r = post(box, "/api/v1/setup/status", token);
    EXPECT_EQ(r.status, 429);
    EXPECT_EQ(r.json()->getValue<std::string>("type"), "/problems/setup-throttled");
    EXPECT_EQ(post(box, "/api/v1/auth/setup", token, obj({{"username", "anna"}, {"password", "ett långt lösenord 2026"}})).status,
              429);
}

TEST(SetupWizardServer, SkippingTheTrustStepIsSavedAndAConfiguredCertificateIsKept) {
    TempDir own;
    const std::string key = own.file("own.key"), crt = own.file("own.crt");
    ASSERT_EQ(std::system(("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -days 30 -subj /CN=kb.own "
                           "-addext subjectAltName=DNS:kb.own,IP:127.0.0.1 -keyout '" + key + "' -out '" + crt + "' 2>/dev/null").c_str()),
              0);
    BoxProcess box;
    // The test client trusts data_dir/tls/server.crt; the box itself never reads it here.
    fs::create_directories(box.dataDir() + "/tls");
    fs::copy_file(crt, box.dataDir() + "/tls/server.crt");
    {  // server.tls.key_file and cert_file: the clinic's own certificate
        auto text = readAll(box.configFile());
        text.insert(text.find("server:\n") + 8, "  tls:\n    key_file: " + key + "\n    cert_file: " + crt + "\n");
        std::ofstream(box.configFile()) << text;
    }
    box.start();
    const auto token = setupToken(box);
    const int port = portOf(box.url());
    const auto before = servedFingerprint(port);
    Poco::JSON::Array::Ptr names = new Poco::JSON::Array;
    names->add("kb.own");
    auto st = post(box, "/api/v1/setup/hosts", token, obj({{"names", names}, {"public_url", "https://kb.own:8443"}}));
    ASSERT_EQ(st.status, 200) << st.body;
    EXPECT_FALSE(st.json()->getObject("renewal")->getValue<bool>("renewed"));
    EXPECT_EQ(st.json()->getObject("hosts")->getObject("certificate")->getValue<std::string>("source"), "configured");
    EXPECT_EQ(servedFingerprint(port), before);
    EXPECT_EQ(st.json()->getObject("hosts")->getValue<std::string>("public_url"), "https://kb.own:8443");
    st = post(box, "/api/v1/setup/trust", token, obj({{"skip", true}}));
    ASSERT_EQ(st.status, 200) << st.body;
    EXPECT_EQ(st.json()->getObject("done")->getValue<std::string>("trust"), "skipped");
    EXPECT_EQ(st.json()->getValue<std::string>("next"), "clinic") << "the clinic step is still to do";
}

TEST(SetupWizardServer, TheRegionsTrustAnchorLetsARefusedProductionSetRunWithoutRestart) {
    // The demo region's PKI and the hello plugin certified with it (DEMO ONLY keys).
    TempDir d;
    const std::string demo = std::string(KB_SOURCE_DIR) + "/config/demo-region";
    const auto pki = d.file("pki"), set = d.file("set");
    ASSERT_EQ(std::system(("sh " + demo + "/make-demo-pki.sh " + pki + " >/dev/null").c_str()), 0);
    if (pluginSetOf(d, {"hello"}) != set) throw std::runtime_error("the set is not where expected");
    ASSERT_EQ(std::system(("sh " + demo + "/sign-demo-set.sh " + set + " " + pki + " " + BoxProcess::binary() + " 1 >/dev/null").c_str()),
              0);

    BoxProcess box({}, set, "production");  // no plugins.trust_dir: the set is refused
    box.start();
    auto ready = box.request("GET", "/readyz").json();
    ASSERT_FALSE(ready->getObject("plugin_set")->getValue<std::string>("refusal").empty()) << box.output();
    EXPECT_EQ(ready->getArray("plugins")->size(), 0u);

    const auto token = setupToken(box);
    const auto trust = pki + "/trust/demo-region/";
    auto st = post(box, "/api/v1/setup/trust", token,
                   obj({{"region", "Demoregionen (DEMO)"}, {"region_hsa_id", "SE2321000016-DEMO"},
                        {"root_pem", readAll(trust + "root.pem")}, {"crl_pem", readAll(trust + "crl.pem")}}));
    ASSERT_EQ(st.status, 200) << st.body;
    const auto plugins = st.json()->getObject("plugins");
    EXPECT_TRUE(plugins->getValue<bool>("reloaded"));
    EXPECT_EQ(plugins->getValue<std::string>("refusal"), "") << st.body;
    EXPECT_EQ(plugins->getValue<int>("running"), 1);
    ready = box.request("GET", "/readyz").json();
    EXPECT_EQ(ready->getValue<std::string>("status"), "ready") << box.output();
    EXPECT_TRUE(fs::exists(box.dataDir() + "/trust/demoregionen-demo/crl.pem"));
    // A CRL file that is not one is refused next to its field.
    EXPECT_EQ(fieldError(post(box, "/api/v1/setup/trust", token,
                              obj({{"region", "Demoregionen (DEMO)"}, {"region_hsa_id", "SE2321000016-DEMO"},
                                   {"root_pem", readAll(trust + "root.pem")}, {"crl_pem", readAll(trust + "root.pem")}}))),
              "/crl_pem pem-crl");
}
