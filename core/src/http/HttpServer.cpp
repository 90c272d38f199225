#include "http/HttpServer.h"

#include <klinikbox/Personnummer.h>

#include <Poco/Logger.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/X509Certificate.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/URI.h>

#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <thread>

namespace klinikbox::http {

namespace {

std::string newRequestId() {
    unsigned char b[8];
    RAND_bytes(b, sizeof b);
    static const char* d = "0123456789abcdef";
    std::string s;
    for (unsigned char c : b) {
        s.push_back(d[c >> 4]);
        s.push_back(d[c & 15]);
    }
    return s;
}

// A client-supplied request id is kept only if it is short and harmless.
bool acceptableRequestId(const std::string& s) {
    return !s.empty() && s.size() <= 64 &&
           std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; });
}

}  // namespace

class RequestHandler final : public Poco::Net::HTTPRequestHandler {
public:
    explicit RequestHandler(HttpServer& s) : s_(s) {}

    void handleRequest(Poco::Net::HTTPServerRequest& in, Poco::Net::HTTPServerResponse& out) override {
        const auto t0 = std::chrono::steady_clock::now();
        ++s_.inFlight_;
        Request req;
        req.method = in.getMethod();
        req.remoteAddress = in.clientAddress().host().toString();
        for (const auto& [k, v] : in) {
            std::string lk = k;
            std::transform(lk.begin(), lk.end(), lk.begin(), [](unsigned char c) { return std::tolower(c); });
            req.headers[lk] = v;
        }
        const std::string given = req.header("x-request-id");
        req.requestId = acceptableRequestId(given) ? given : newRequestId();

        DispatchResult result;
        std::string rawPath = in.getURI();
        try {
            try {
                Poco::URI uri(in.getURI());
                req.path = uri.getPath();
                for (auto& [k, v] : uri.getQueryParameters()) req.query.emplace(k, v);
            } catch (const Poco::Exception&) {
                throw Problem::badRequest("/problems/malformed-uri", "the request URI cannot be parsed");
            }
            if (s_.options_.producer) req.peer = peerOf(in);
            readBody(in, req);
            result = s_.dispatcher_.dispatch(req);
        } catch (const Problem& p) {
            result.response = Dispatcher::problemResponse(p, req);
        }
        send(req, result.response, out);

        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        s_.metrics_.observeRequest(req.method, result.routePattern, result.response.status, secs);
        if (s_.options_.accessLog) {
            // The raw target may carry a personnummer (masked) or a token (redacted); never log bodies.
            Poco::Logger::get("access").information(maskPersonnummerInText(
                req.remoteAddress + " " + req.requestId + " " + (req.principal ? req.principal->username : "-") +
                " \"" + req.method + " " + s_.dispatcher_.loggableTarget(rawPath) + "\" " + std::to_string(result.response.status) + " " +
                std::to_string(static_cast<long long>(secs * 1000)) + "ms"));
        }
        --s_.inFlight_;
    }

private:
    // The verified client certificate; without one (impossible after a strict handshake)
    // the request is refused.
    static PeerCertificate peerOf(Poco::Net::HTTPServerRequest& in) {
        try {
            Poco::Net::SecureStreamSocket ss(static_cast<Poco::Net::HTTPServerRequestImpl&>(in).socket());
            if (ss.havePeerCertificate()) {
                const auto cert = ss.peerCertificate();
                PeerCertificate p;
                p.subject = cert.subjectName();
                p.hsaId = cert.subjectName(Poco::Net::X509Certificate::NID_SERIAL_NUMBER);
                if (p.hsaId.empty()) p.hsaId = cert.subjectName(Poco::Net::X509Certificate::NID_COMMON_NAME);
                return p;
            }
        } catch (const Poco::Exception&) {
        }
        throw Problem(401, "/problems/client-certificate", "Client certificate required",
                      "this listener requires a client certificate from a trusted CA");
    }

    void readBody(Poco::Net::HTTPServerRequest& in, Request& req) {
        const long long limit = s_.dispatcher_.bodyLimit(req.method, req.path, s_.options_.maxBodyBytes);
        const Problem tooLarge(413, "/problems/body-too-large", "Request body too large",
                               "the body may be at most " + std::to_string(limit) + " bytes");
        std::istream& is = in.stream();
        char buf[16384];
        // A client that sends its whole body before reading the answer only sees the 413 if
        // the body is read; read and discard a moderately oversized body, drop the rest.
        const long long drainMax = std::max<long long>(limit * 4, 8 << 20);
        auto drain = [&](long long already) {
            long long total = already;
            while (is && total <= drainMax) {
                is.read(buf, sizeof buf);
                if (is.gcount() <= 0) break;
                total += is.gcount();
            }
        };
        if (in.hasContentLength() && in.getContentLength64() > limit) {
            if (in.getContentLength64() <= drainMax) drain(0);
            throw tooLarge;
        }
        while (is) {
            is.read(buf, sizeof buf);
            const auto n = is.gcount();
            if (n <= 0) break;
            if (static_cast<long long>(req.body.size()) + n > limit) {
                drain(static_cast<long long>(req.body.size()) + n);
                throw tooLarge;
            }
            req.body.append(buf, static_cast<std::size_t>(n));
        }
    }

    void send(const Request& req, const Response& r, Poco::Net::HTTPServerResponse& out) {
        out.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(r.status));
        if (r.status == 413) out.setKeepAlive(false);
        out.set("X-Request-Id", req.requestId);
        out.set("X-Content-Type-Options", "nosniff");
        out.set("X-Frame-Options", "DENY");
        out.set("Referrer-Policy", "no-referrer");
        out.set("Content-Security-Policy",
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
        if (s_.options_.tls) out.set("Strict-Transport-Security", "max-age=31536000");
        bool cacheSet = false;
        for (const auto& [k, v] : r.headers) {
            if (k == "Set-Cookie") {
                out.add(k, v);  // several cookies may be set
            } else {
                out.set(k, v);
            }
            if (k == "Cache-Control") cacheSet = true;
        }
        if (!cacheSet) out.set("Cache-Control", "no-store");
        if (r.status == 204 || r.status == 304) {
            out.setContentLength(0);
            out.send();
            return;
        }
        if (!r.contentType.empty()) out.setContentType(r.contentType);
        out.setContentLength64(static_cast<Poco::Int64>(r.body.size()));
        auto& os = out.send();
        if (req.method != "HEAD") os.write(r.body.data(), static_cast<std::streamsize>(r.body.size()));
    }

    HttpServer& s_;
};

namespace {
class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
public:
    explicit Factory(HttpServer& s) : s_(s) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
        return new RequestHandler(s_);
    }

private:
    HttpServer& s_;
};
}  // namespace

HttpServer::HttpServer(ServerOptions options, Dispatcher& dispatcher, metrics::Metrics& metrics)
    : options_(std::move(options)), dispatcher_(dispatcher), metrics_(metrics) {}

HttpServer::~HttpServer() {
    if (server_) server_->stopAll(true);
    if (pool_) pool_->joinAll();
}

void HttpServer::start() {
    Poco::Net::SocketAddress addr(options_.listen, static_cast<Poco::UInt16>(options_.port));
    std::unique_ptr<Poco::Net::ServerSocket> sock;
    if (options_.tls) {
        Poco::Net::Context::Params p;
        p.privateKeyFile = options_.keyFile;
        p.certificateFile = options_.certFile;
        p.verificationMode = Poco::Net::Context::VERIFY_NONE;
        p.loadDefaultCAs = false;
        if (options_.producer) {
            // Mutual TLS: the handshake fails unless the client presents a certificate
            // issued by a CA in clientCaFile.
            p.verificationMode = Poco::Net::Context::VERIFY_STRICT;
            p.caLocation = options_.clientCaFile;
            p.verificationDepth = 5;
        }
        p.cipherList = "HIGH:!aNULL:!eNULL:!MD5:!RC4:!3DES:!SHA1";
        Poco::Net::Context::Ptr ctx = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, p);
        ctx->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
        ctx->enableSessionCache(true, options_.producer ? "klinikbox-producer" : "klinikbox");
        // The client certificate is checked against the CA bundle; POCO's extra host-name check
        // would compare the caller's certificate name with its address, which means nothing here.
        if (options_.producer) ctx->enableExtendedCertificateVerification(false);
        sock = std::make_unique<Poco::Net::SecureServerSocket>(addr, 64, ctx);
    } else {
        sock = std::make_unique<Poco::Net::ServerSocket>(addr, 64);
    }
    port_ = sock->address().port();
    auto* params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(options_.threads);
    params->setMaxQueued(options_.maxQueued);
    params->setKeepAlive(true);
    params->setKeepAliveTimeout(Poco::Timespan(5, 0));
    params->setTimeout(Poco::Timespan(30, 0));
    params->setServerName("klinikbox");
    params->setSoftwareVersion("klinikbox");
    pool_ = std::make_unique<Poco::ThreadPool>(2, options_.threads + 1);
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(*this), *pool_, *sock, params);
    server_->start();
}

void HttpServer::stop() {
    if (!server_) return;
    server_->stop();  // no new connections; running requests go on
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(options_.drainSeconds);
    while (inFlight_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    server_->stopAll(true);
    pool_->joinAll();
    server_.reset();
}

}  // namespace klinikbox::http
