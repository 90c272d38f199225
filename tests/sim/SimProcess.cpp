#include "SimProcess.h"

#include <Poco/JSON/Parser.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <chrono>
#include <cstdio>
#include <vector>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace kbtest {

namespace fs = std::filesystem;

std::string efrikortSchemaRoot() {
    std::vector<std::string> candidates;
    if (const char* env = std::getenv("KB_SHARED_DIR"); env && *env) candidates.emplace_back(env);
    candidates.emplace_back(KB_SHARED_DIR);
    candidates.emplace_back("/work/shared");
    for (const auto& c : candidates) {
        const auto root = c + "/schemas/efrikort-3.0";
        if (fs::is_directory(root + "/interactions")) return root;
    }
    return {};
}

std::string validateXml(const std::string& xml, const std::string& xsd) {
    if (!efrikortSchemasFound()) {
        static bool warned = false;
        if (!warned) std::fprintf(stderr, "SCHEMA CHECK SKIPPED: the eFrikort 3.0 schemas are not on this machine (set KB_SHARED_DIR)\n");
        warned = true;
        return {};
    }
    if (std::system("command -v xmllint >/dev/null 2>&1") != 0)
        return "xmllint is missing: install Debian's libxml2-utils (scripts/test.sh does)";
    char tmpl[] = "/tmp/kbxml-XXXXXX";
    const int fd = ::mkstemp(tmpl);
    if (fd < 0) return "mkstemp failed";
    ::close(fd);
    const std::string file = tmpl;
    std::ofstream(file) << xml;
    const std::string out = file + ".out";
    const int rc = std::system(("xmllint --noout --schema '" + xsd + "' '" + file + "' >'" + out + "' 2>&1").c_str());
    std::ifstream in(out);
    std::stringstream ss;
    ss << in.rdbuf();
    fs::remove(file);
    fs::remove(out);
    return rc == 0 ? "" : ss.str();
}

std::string efrikortXsd(const std::string& contract) {
    return efrikortSchemaRoot() + "/interactions/" + contract + "Interaction/" + contract + "Responder_3.0.xsd";
}

std::string soapBodyChild(const std::string& envelope) {
    const auto open = envelope.find("<soap:Body>");
    const auto close = envelope.rfind("</soap:Body>");
    if (open == std::string::npos || close == std::string::npos) return {};
    return envelope.substr(open + 11, close - open - 11);
}

Poco::JSON::Object::Ptr SimResult::json() const {
    Poco::JSON::Parser p;
    return p.parse(body).extract<Poco::JSON::Object::Ptr>();
}

std::string SimProcess::binary() { return std::string(KB_BUILD_DIR) + "/tests/sim/klinikbox-sim"; }

SimProcess::SimProcess(std::string stateDir, int timeoutMs) : dir_(std::move(stateDir)), timeoutMs_(timeoutMs) {
    if (dir_.empty()) {
        char tmpl[] = "/tmp/kbsim-XXXXXX";
        if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
        dir_ = tmpl;
        ownDir_ = true;
    }
}

SimProcess::~SimProcess() {
    stop();
    if (ownDir_) {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
}

void SimProcess::start() {
    fs::create_directories(dir_);
    const std::string out = dir_ + "/sim.out";
    const std::string err = dir_ + "/sim.err";
    fs::remove(out);
    pid_ = ::fork();
    if (pid_ == 0) {
        const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        ::dup2(o, 1);
        ::dup2(e, 2);
        const std::string bin = binary();
        const std::string t = std::to_string(timeoutMs_);
        if (clockStart_.empty())
            ::execl(bin.c_str(), bin.c_str(), "--state-dir", dir_.c_str(), "--timeout-ms", t.c_str(), static_cast<char*>(nullptr));
        else
            ::execl(bin.c_str(), bin.c_str(), "--state-dir", dir_.c_str(), "--timeout-ms", t.c_str(), "--clock-start",
                    clockStart_.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
        std::ifstream in(out);
        std::string line;
        if (std::getline(in, line) && !line.empty() && line.back() == '}') {
            Poco::JSON::Parser p;
            const auto o = p.parse(line).extract<Poco::JSON::Object::Ptr>();
            http_ = o->getValue<std::string>("http");
            https_ = o->getValue<std::string>("https");
            ca_ = o->getValue<std::string>("ca");
            clientCert_ = o->getValue<std::string>("client_cert");
            clientKey_ = o->getValue<std::string>("client_key");
            return;
        }
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            std::ifstream e(err);
            std::stringstream ss;
            ss << e.rdbuf();
            throw std::runtime_error("klinikbox-sim exited early: " + ss.str());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("klinikbox-sim did not start in time");
}

void SimProcess::stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
}

namespace {
SimResult exchange(Poco::Net::HTTPClientSession& s, const std::string& method, const std::string& path, const std::string& body,
                   const std::string& contentType) {
    s.setTimeout(Poco::Timespan(20, 0));
    Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
        req.setContentType(contentType);
        req.setContentLength(static_cast<std::streamsize>(body.size()));
        s.sendRequest(req) << body;
    } else {
        s.sendRequest(req);
    }
    Poco::Net::HTTPResponse res;
    std::istream& in = s.receiveResponse(res);
    SimResult r;
    r.status = res.getStatus();
    for (const auto& [k, v] : res) r.headers[k] = v;
    Poco::StreamCopier::copyToString(in, r.body);
    return r;
}
}  // namespace

SimResult SimProcess::steer(const std::string& method, const std::string& path, const std::string& body) const {
    const Poco::URI u(http_);
    Poco::Net::HTTPClientSession s(u.getHost(), u.getPort());
    return exchange(s, method, path, body, "application/json");
}

SimResult SimProcess::call(const std::string& method, const std::string& path, const std::string& body,
                           const std::string& contentType, bool withCert) const {
    const Poco::URI u(https_);
    Poco::Net::Context::Params params;
    if (withCert) {
        params.certificateFile = clientCert_;
        params.privateKeyFile = clientKey_;
    }
    params.caLocation = ca_;
    params.verificationMode = Poco::Net::Context::VERIFY_RELAXED;
    params.loadDefaultCAs = false;
    Poco::Net::Context::Ptr ctx = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
    Poco::Net::HTTPSClientSession s(u.getHost(), u.getPort(), ctx);
    return exchange(s, method, path, body, contentType);
}

}  // namespace kbtest
