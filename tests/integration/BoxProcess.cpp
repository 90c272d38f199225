#include "BoxProcess.h"

#include <Poco/JSON/Parser.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace kbtest {

Poco::JSON::Object::Ptr HttpResult::json() const {
    Poco::JSON::Parser p;
    return p.parse(body).extract<Poco::JSON::Object::Ptr>();
}

std::string HttpResult::header(const std::string& lower) const {
    auto it = headers.find(lower);
    return it == headers.end() ? std::string{} : it->second;
}

std::string BoxProcess::binary() { return std::string(KB_BUILD_DIR) + "/bin/klinikbox"; }

BoxProcess::BoxProcess(std::string extraConfig, std::string pluginSetDir, std::string mode) {
    dataDir_ = dir_.file("data");
    config_ = dir_.file("klinikbox.yaml");
    logFile_ = dir_.file("box.log");
    if (pluginSetDir.empty()) {
        pluginSetDir = dir_.file("plugins");
        std::filesystem::create_directories(pluginSetDir);
    }
    std::ofstream(config_) << "box:\n  mode: " << mode << "\n  data_dir: " << dataDir_
                           << "\nserver:\n  listen: 127.0.0.1\n  port: 0\n  drain_seconds: 5\n"
                           << "outbox:\n  poll_interval_ms: 50\n  base_delay_ms: 200\n"
                           << "plugins:\n  set: " << pluginSetDir << "\n" << extraConfig;
    // Every test logs in, and a password hash at the default cost holds 64 MiB for 0.1-0.2 s
    // (far longer under the sanitizers); a development box may use 1 MiB. Production boxes
    // keep the default, which production mode requires, and the unit tests check it; so does
    // a box whose extra configuration has a security section of its own.
    const bool ownSecurity = extraConfig.rfind("security:", 0) == 0 || extraConfig.find("\nsecurity:") != std::string::npos;
    if (mode != "production" && !ownSecurity)
        std::ofstream(config_, std::ios::app) << "\nsecurity:\n  password_hash_log2n: 10\n";
}

BoxProcess::~BoxProcess() {
    if (running()) stop(SIGKILL);
}

bool BoxProcess::running() const { return pid_ > 0 && exitCode_ < 0 && ::kill(pid_, 0) == 0; }

std::string BoxProcess::output() const {
    std::ifstream in(logFile_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void BoxProcess::start() {
    exitCode_ = -1;
    url_.clear();
    // Only output of this start counts (the log keeps earlier runs).
    const std::size_t from = output().size();
    const int fd = ::open(logFile_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    pid_ = ::fork();
    if (pid_ == 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        const std::string bin = binary();
        ::execl(bin.c_str(), bin.c_str(), "serve", "--config", config_.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    ::close(fd);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
        const auto out = output();
        const auto p = out.find("listening on ", from);
        if (p != std::string::npos) {
            auto e = out.find('\n', p);
            if (e != std::string::npos) {
                url_ = out.substr(p + 13, e - p - 13);
                while (!url_.empty() && url_.back() == '/') url_.pop_back();
                return;
            }
        }
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            exitCode_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            throw std::runtime_error("klinikbox exited early (" + std::to_string(exitCode_) + "):\n" + output());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("klinikbox did not print its URL in time:\n" + output());
}

void BoxProcess::stop(int signal) {
    if (pid_ <= 0 || exitCode_ >= 0) return;
    ::kill(pid_, signal);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    exitCode_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int BoxProcess::cli(const std::vector<std::string>& args, std::string* out, const std::string& stdinText) const {
    const std::string outFile = dir_.file("cli.out");
    const std::string inFile = dir_.file("cli.in");
    std::ofstream(inFile) << stdinText;
    const pid_t pid = ::fork();
    if (pid == 0) {
        const int o = ::open(outFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        const int i = ::open(inFile.c_str(), O_RDONLY);
        ::dup2(o, 1);
        ::dup2(o, 2);
        ::dup2(i, 0);
        std::vector<std::string> all = {binary()};
        all.insert(all.end(), args.begin(), args.end());
        // pluginset commands take no box configuration.
        if (std::find(args.begin(), args.end(), "--config") == args.end() && (args.empty() || args[0] != "pluginset")) {
            all.push_back("--config");
            all.push_back(config_);
        }
        std::vector<char*> argv;
        for (auto& a : all) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (out) {
        std::ifstream in(outFile);
        std::stringstream ss;
        ss << in.rdbuf();
        *out = ss.str();
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

HttpResult BoxProcess::request(const std::string& method, const std::string& path, const std::string& body,
                               const std::map<std::string, std::string>& headers) const {
    Poco::URI uri(url_);
    // Trust exactly the certificate the box generated for itself (a new one when the box
    // replaced it while running: the first-run wizard does).
    Poco::Net::Context::Params params;
    params.caLocation = dataDir_ + "/tls/server.crt";
    params.verificationMode = Poco::Net::Context::VERIFY_RELAXED;
    params.loadDefaultCAs = false;
    static thread_local Poco::Net::Context::Ptr ctx;
    static thread_local std::string ctxFor;
    std::string certificate;
    {
        std::ifstream in(params.caLocation, std::ios::binary);
        std::ostringstream ss;
        ss << in.rdbuf();
        certificate = ss.str();
    }
    if (!ctx || ctxFor != params.caLocation + "\n" + certificate) {
        ctx = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
        ctxFor = params.caLocation + "\n" + certificate;
    }
    Poco::Net::HTTPSClientSession s(uri.getHost(), uri.getPort(), ctx);
    s.setTimeout(Poco::Timespan(30, 0));
    Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    for (const auto& [k, v] : headers) req.set(k, v);
    if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
        if (!req.has("Content-Type")) req.setContentType("application/json");
        req.setContentLength(static_cast<std::streamsize>(body.size()));
    }
    auto& os = s.sendRequest(req);
    os << body;
    Poco::Net::HTTPResponse resp;
    auto& is = s.receiveResponse(resp);
    HttpResult r;
    r.status = resp.getStatus();
    r.contentType = resp.getContentType();
    for (const auto& [k, v] : resp) {
        std::string lk = k;
        for (auto& c : lk) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        r.headers.emplace(lk, v);
    }
    Poco::StreamCopier::copyToString(is, r.body);
    return r;
}

void BoxProcess::loginAs(const std::string& username, const std::string& role, const std::vector<std::string>& extraArgs) {
    const std::string pw = "correct horse battery staple";
    std::string out;
    std::vector<std::string> args = {"user", "add", "--username", username, "--role", role, "--password-stdin"};
    args.insert(args.end(), extraArgs.begin(), extraArgs.end());
    if (cli(args, &out, pw + "\n") != 0)
        throw std::runtime_error("user add failed: " + out);
    auto r = request("POST", "/api/v1/auth/login",
                     R"({"username":")" + username + R"(","password":")" + pw + R"("})");
    if (r.status != 200) throw std::runtime_error("login failed: " + r.body);
    const auto sc = r.header("set-cookie");
    cookie_ = sc.substr(0, sc.find(';'));
    csrf_ = r.json()->getValue<std::string>("csrf_token");
}

HttpResult BoxProcess::authed(const std::string& method, const std::string& path, const std::string& body,
                              bool withCsrf) const {
    std::map<std::string, std::string> h = {{"Cookie", cookie_}};
    if (withCsrf) h["X-CSRF-Token"] = csrf_;
    return request(method, path, body, h);
}

HttpResult BoxProcess::authedRaw(const std::string& method, const std::string& path, const std::string& body,
                                 const std::string& contentType) const {
    return request(method, path, body, {{"Cookie", cookie_}, {"X-CSRF-Token", csrf_}, {"Content-Type", contentType}});
}

namespace {
// Copies plugins/<id> (all but its sources) into set/<id>, with its built library stripped of
// debug information; false when a native plugin's library is not built.
bool copyShippedPlugin(const std::filesystem::path& set, const std::string& id) {
    namespace fs = std::filesystem;
    const fs::path src = fs::path(KB_SOURCE_DIR) / "plugins" / id;
    const fs::path lib = fs::path(KB_BUILD_DIR) / "plugins" / id / ("lib" + id + ".so");
    const bool lua = fs::exists(src / "main.lua");
    if (!lua && !fs::exists(lib)) return false;
    fs::create_directories(set / id);
    for (const auto& f : fs::directory_iterator(src)) {
        const auto name = f.path().filename().string();
        if (name == "src" || name == "CMakeLists.txt" || name == "tests") continue;
        fs::copy(f.path(), set / id / name, fs::copy_options::recursive);
    }
    if (!lua) {
        const fs::path copy = set / id / lib.filename();
        fs::copy_file(lib, copy);
        if (std::system(("strip --strip-debug '" + copy.string() + "'").c_str()) != 0)
            throw std::runtime_error("strip --strip-debug " + copy.string() + " failed");
    }
    return true;
}
}  // namespace

std::string shippedPluginSet(const TempDir& dir, std::vector<std::string>* ids) {
    namespace fs = std::filesystem;
    const fs::path set = fs::path(dir.path()) / "set";
    for (const auto& e : fs::directory_iterator(fs::path(KB_SOURCE_DIR) / "plugins")) {
        if (!fs::exists(e.path() / "plugin.yaml")) continue;
        const std::string id = e.path().filename().string();
        if (copyShippedPlugin(set, id) && ids) ids->push_back(id);
    }
    return set.string();
}

std::string pluginSetOf(const TempDir& dir, const std::vector<std::string>& ids) {
    const std::filesystem::path set = std::filesystem::path(dir.path()) / "set";
    for (const auto& id : ids)
        if (!copyShippedPlugin(set, id)) throw std::runtime_error("plugin " + id + " is not built");
    return set.string();
}

}  // namespace kbtest
