#include "http/HttpServer.h"

#include "http/ConnectionGuard.h"
#include "http/LiveCertificate.h"
#include "http/RequestFraming.h"

#include <klinikbox/Personnummer.h>
#include <klinikbox/Problem.h>

#include <Poco/Logger.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerResponseImpl.h>
#include <Poco/Net/HTTPServerSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Timestamp.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/X509Certificate.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/TCPServerConnectionFactory.h>
#include <Poco/URI.h>

#include <openssl/rand.h>

#include <poll.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <set>
#include <sstream>
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

// Header fields a request may carry once (RFC 9110 §5.3: only list-based fields may repeat;
// RFC 6265 §5.4: one Cookie header). Given twice, the box and a proxy in front of it could
// each act on a different one: two Content-Lengths frame the body two ways (RFC 9112 §6.3
// makes that an unrecoverable error), two CSRF tokens or sessions are two claims.
bool singleton(const std::string& lowerName) {
    static const std::set<std::string, std::less<>> names = {"authorization", "content-length", "content-type", "cookie",
                                                             "host",          "origin",         "x-csrf-token"};
    return names.count(lowerName) > 0;
}


}  // namespace

class RequestHandler final : public Poco::Net::HTTPRequestHandler {
public:
    explicit RequestHandler(HttpServer& s) : s_(s) {}

    void handleRequest(Poco::Net::HTTPServerRequest& in, Poco::Net::HTTPServerResponse& out) override {
        const auto t0 = std::chrono::steady_clock::now();
        ConnectionGuard::handling();
        ++s_.inFlight_;
        Request req;
        req.method = in.getMethod();
        req.remoteAddress = in.clientAddress().host().toString();
        std::string twice;  // a singleton header field given more than once
        for (const auto& [k, v] : in) {
            std::string lk = k;
            std::transform(lk.begin(), lk.end(), lk.begin(), [](unsigned char c) { return std::tolower(c); });
            if (twice.empty() && singleton(lk) && req.headers.count(lk)) twice = lk;
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
            if (!twice.empty())
                throw Problem(400, "/problems/duplicate-header", "Duplicate header",
                              "the header field '" + twice + "' is given more than once");
            if (s_.options_.producer) req.peer = peerOf(in);
            readBody(in, req);
            result = s_.dispatcher_.dispatch(req);
        } catch (const Problem& p) {
            result.response = Dispatcher::problemResponse(p, req);
        }
        // A body framed two ways cannot be read to its end: what follows on the connection is
        // not a request, so it is closed after the answer.
        if (!twice.empty()) out.setKeepAlive(false);
        // POCO 1.11 reads a malformed chunk as the body's end, leaving the rest on the
        // connection: after a chunked body the connection ends, so that rest is never a request.
        if (in.getChunkedTransferEncoding()) out.setKeepAlive(false);
        send(in, req, result.response, out);

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
        ConnectionGuard::awaitingNext();
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
        // RFC 9112 §6.3: a request with neither Content-Length nor chunked transfer coding has
        // no body. POCO would read "until the end", holding the worker until the client gives up.
        if (!in.hasContentLength() && !in.getChunkedTransferEncoding()) return;
        if (in.hasContentLength() && in.getContentLength64() == 0) return;
        ConnectionGuard::readingBody();
        struct BackToHandling {
            ~BackToHandling() { ConnectionGuard::handling(); }
        } backToHandling;
        if (in.hasContentLength() && in.getContentLength64() > limit) {
            if (in.getContentLength64() <= drainMax) drain(0);
            throw tooLarge;
        }
        // A chunked body is decoded strictly by the connection's session (RequestFraming.h).
        if (in.getChunkedTransferEncoding())
            if (auto* strict = dynamic_cast<StrictSession*>(&static_cast<Poco::Net::HTTPServerRequestImpl&>(in).session())) {
                if (!strict->readChunkedBody(req.body, limit, drainMax)) throw tooLarge;
                return;
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

    void send(Poco::Net::HTTPServerRequest& in, const Request& req, const Response& r, Poco::Net::HTTPServerResponse& out) {
        out.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(r.status));
        if (r.status == 413) out.setKeepAlive(false);
        out.set("X-Request-Id", req.requestId);
        setSecurityHeaders(out, s_.options_.tls);
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
        if (req.method == "HEAD") return;
        if (r.body.size() <= kStreamedBodyMax) {
            os.write(r.body.data(), static_cast<std::streamsize>(r.body.size()));
            return;
        }
        // A large body (a day view is hundreds of KiB) goes to the socket in one call: through
        // the response stream it went in 4 KiB pieces (POCO's buffer), each its own TLS record
        // and system call, after one more copy. The header goes first, from the stream.
        os.flush();
        auto& socket = static_cast<Poco::Net::HTTPServerRequestImpl&>(in).socket();
        std::size_t sent = 0;
        try {
            while (os.good() && sent < r.body.size()) {
                const auto chunk = static_cast<int>(std::min<std::size_t>(r.body.size() - sent, 1u << 30));
                const int n = socket.sendBytes(r.body.data() + sent, chunk);
                if (n <= 0) break;
                sent += static_cast<std::size_t>(n);
            }
        } catch (const Poco::Exception&) {
            // The client went away or stopped reading (the send timeout): as with the stream,
            // which swallows the error, the connection ends below.
        }
        if (sent < r.body.size()) {
            // A half-sent body must not be followed by another answer on this connection.
            out.setKeepAlive(false);
            try {
                socket.shutdown();
            } catch (const Poco::Exception&) {
            }
        }
    }

    // Bodies up to this size are written through POCO's response stream.
    static constexpr std::size_t kStreamedBodyMax = 16 * 1024;

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

// An HTTP connection: POCO's HTTPServerConnection::run (1.11) with two changes: a request it
// cannot read, and one whose framing a proxy could read another way (RequestFraming.h), are
// answered with a problem document and end the connection; registered with the guard for its
// lifetime (on the worker thread). Stopping is the guard's: it shuts the socket down (abortAll).
class GuardedConnection final : public Poco::Net::TCPServerConnection {
public:
    GuardedConnection(const Poco::Net::StreamSocket& socket, Poco::Net::HTTPServerParams::Ptr params,
                      Poco::Net::HTTPRequestHandlerFactory::Ptr factory, ConnectionGuard& guard, bool tls)
        : TCPServerConnection(socket), params_(std::move(params)), factory_(std::move(factory)), guard_(guard), tls_(tls) {}
    void run() override {
        struct Close {
            ConnectionGuard& g;
            std::uint64_t id;
            ~Close() { g.closed(id); }
        } close{guard_, guard_.opened(socket().impl()->sockfd())};
        try {
            serve();
        } catch (const Poco::Exception&) {
            // a reset, a timed-out or shed connection, a failed handshake: the client's end
        } catch (const std::exception&) {
        }
    }

private:
    void serve() {
        StrictSession session(socket(), params_);
        while (session.hasMoreRequests()) {
            bool reading = true;  // an exception here is the request's, unless the network's
            try {
                Poco::Net::HTTPServerResponseImpl response(session);
                Poco::Net::HTTPServerRequestImpl request(response, session, params_);
                reading = false;
                if (auto refused = framingProblem(request)) {
                    sendRefusal(session, *refused, tls_);
                    break;
                }
                response.setDate(Poco::Timestamp());
                response.setVersion(request.getVersion());
                response.setKeepAlive(params_->getKeepAlive() && request.getKeepAlive() && session.canKeepAlive());
                try {
                    std::unique_ptr<Poco::Net::HTTPRequestHandler> handler(factory_->createRequestHandler(request));
                    if (request.getExpectContinue() && response.getStatus() == Poco::Net::HTTPResponse::HTTP_OK)
                        response.sendContinue();
                    handler->handleRequest(request, response);
                    session.setKeepAlive(params_->getKeepAlive() && response.getKeepAlive() && session.canKeepAlive());
                } catch (const Poco::Exception&) {
                    if (!response.sent()) {
                        try {
                            Poco::Net::HTTPServerResponseImpl failed(session);
                            failed.setVersion(Poco::Net::HTTPMessage::HTTP_1_1);
                            failed.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_INTERNAL_SERVER_ERROR);
                            failed.setKeepAlive(false);
                            failed.send();
                            session.setKeepAlive(false);
                        } catch (...) {
                        }
                    }
                    throw;
                }
            } catch (const Poco::Net::NoMessageException&) {
                break;
            } catch (const Poco::Net::MessageException& e) {
                sendRefusal(session, unreadableRequest(e.message()), tls_);
            } catch (const Poco::Exception& e) {
                if (session.networkException()) session.networkException()->rethrow();
                // e.g. a Content-Length POCO cannot parse as a number ("1e3", 20 digits)
                if (reading) {
                    sendRefusal(session, unreadableRequest(e.displayText()), tls_);
                    break;
                }
                throw;
            }
        }
    }

    Poco::Net::HTTPServerParams::Ptr params_;
    Poco::Net::HTTPRequestHandlerFactory::Ptr factory_;
    ConnectionGuard& guard_;
    bool tls_;
};

class ConnectionFactory final : public Poco::Net::TCPServerConnectionFactory {
public:
    ConnectionFactory(Poco::Net::HTTPServerParams::Ptr params, Poco::Net::HTTPRequestHandlerFactory::Ptr factory,
                      ConnectionGuard& guard, bool tls)
        : params_(std::move(params)), factory_(std::move(factory)), guard_(guard), tls_(tls) {}
    Poco::Net::TCPServerConnection* createConnection(const Poco::Net::StreamSocket& socket) override {
        return new GuardedConnection(socket, params_, factory_, guard_, tls_);
    }

private:
    Poco::Net::HTTPServerParams::Ptr params_;
    Poco::Net::HTTPRequestHandlerFactory::Ptr factory_;
    ConnectionGuard& guard_;
    bool tls_;
};

// The waiting room: accepted sockets that have sent nothing yet hold a descriptor, no worker.
constexpr std::size_t kMaxWaiting = 512;
constexpr int kMaxWaitingPerAddress = 64;

}  // namespace

HttpServer::HttpServer(ServerOptions options, Dispatcher& dispatcher, metrics::Metrics& metrics)
    : options_(std::move(options)), dispatcher_(dispatcher), metrics_(metrics) {}

HttpServer::~HttpServer() { shutDown(false); }

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
        p.cipherList = kTls12Ciphers;  // TLS 1.3 keeps OpenSSL's default suites (AEAD only)
        Poco::Net::Context::Ptr ctx = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, p);
        ctx->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
        ctx->enableSessionCache(true, options_.producer ? "klinikbox-producer" : "klinikbox");
        // The client certificate is checked against the CA bundle; POCO's extra host-name check
        // would compare the caller's certificate name with its address, which means nothing here.
        if (options_.producer) ctx->enableExtendedCertificateVerification(false);
        if (options_.liveCertificate) options_.liveCertificate->attach(ctx->sslContext());
        sock = std::make_unique<Poco::Net::SecureServerSocket>(ctx);
    } else {
        sock = std::make_unique<Poco::Net::ServerSocket>();
    }
    // SO_REUSEADDR (a restarted box binds while its old connections linger), never
    // SO_REUSEPORT, which POCO's (address, backlog) constructors also set: with it a second
    // box, or any process of the same user, could listen on this port too and the kernel
    // would split the connections between them; two boxes started with different data
    // directories answered alternately from two databases. A port in use is an error.
    sock->bind(addr, true, false);
    sock->listen(64);
    port_ = sock->address().port();
    socket_ = std::move(sock);
    auto* params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(options_.threads);
    params->setMaxQueued(options_.maxQueued);
    params->setKeepAlive(true);
    params->setKeepAliveTimeout(Poco::Timespan(static_cast<long>(options_.keepAliveMs) * 1000));
    params->setTimeout(Poco::Timespan(30, 0));  // one read; the guard bounds the whole phase
    params->setServerName("klinikbox");
    params->setSoftwareVersion("klinikbox");
    Poco::Net::HTTPServerParams::Ptr paramsPtr(params);
    ConnectionGuard::Limits limits;
    limits.maxPerAddress = options_.maxWorkersPerAddress;
    limits.workers = options_.threads;
    limits.reserve = std::min(options_.reserveWorkers, options_.threads - 1);
    limits.headerTimeout = std::chrono::milliseconds(options_.headerTimeoutMs);
    limits.bodyTimeout = std::chrono::milliseconds(options_.bodyTimeoutMs);
    // POCO waits keepAliveMs for the next request, then its head is due like any other.
    limits.idleTimeout = std::chrono::milliseconds(options_.keepAliveMs + options_.headerTimeoutMs);
    limits.grace = std::chrono::milliseconds(options_.graceMs);
    guard_ = std::make_shared<ConnectionGuard>(limits);
    pool_ = std::make_unique<Poco::ThreadPool>(2, options_.threads + 1);
    connections_ = new Poco::Net::TCPServerDispatcher(new ConnectionFactory(paramsPtr, new Factory(*this), *guard_, options_.tls),
                                                      *pool_, paramsPtr);
    stopping_ = false;
    listener_ = std::thread([this] { listen(); });
}

void HttpServer::listen() {
    using Clock = std::chrono::steady_clock;
    struct Waiting {
        Poco::Net::StreamSocket socket;
        std::string address;
        Clock::time_point since;
    };
    std::vector<Waiting> waiting;
    const auto headerTimeout = std::chrono::milliseconds(options_.headerTimeoutMs);
    while (!stopping_) {
        // Poll a waiting socket only while its address may take a worker and the queue has
        // room: a ready socket that cannot be handed over would make poll() spin.
        int queueRoom = options_.maxQueued - connections_->queuedConnections();
        std::vector<pollfd> fds{{socket_->impl()->sockfd(), POLLIN, 0}};
        std::vector<std::size_t> polled;
        for (std::size_t i = 0; i < waiting.size() && queueRoom > 0; ++i) {
            if (!guard_->hasRoom(waiting[i].address)) continue;
            fds.push_back({waiting[i].socket.impl()->sockfd(), POLLIN, 0});
            polled.push_back(i);
        }
        const int n = ::poll(fds.data(), fds.size(), 100);
        if (n < 0) {
            if (errno == EINTR) continue;
            Poco::Logger::get("http").error("poll failed: " + std::string(std::strerror(errno)));
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            continue;
        }
        const auto now = Clock::now();
        std::vector<bool> ready(waiting.size(), false);
        for (std::size_t k = 0; k < polled.size(); ++k)
            if (fds[k + 1].revents != 0) ready[polled[k]] = true;
        std::vector<Waiting> still;
        still.reserve(waiting.size());
        for (std::size_t i = 0; i < waiting.size(); ++i) {
            auto& w = waiting[i];
            if (ready[i] && queueRoom > 0 && guard_->hasRoom(w.address)) {
                guard_->enqueued(w.address, w.socket.impl()->sockfd());
                connections_->enqueue(w.socket);
                --queueRoom;
            } else if (now - w.since >= headerTimeout) {
                w.socket.close();
                guard_->countWaitingTimeout();
            } else {
                still.push_back(std::move(w));
            }
        }
        waiting.swap(still);
        if (fds[0].revents & POLLIN) {
            try {
                Poco::Net::StreamSocket ss = socket_->acceptConnection();
                ss.setNoDelay(true);
                std::string address = ss.peerAddress().host().toString();
                const auto sameAddress = std::count_if(waiting.begin(), waiting.end(),
                                                       [&](const Waiting& w) { return w.address == address; });
                if (waiting.size() >= kMaxWaiting || sameAddress >= kMaxWaitingPerAddress) {
                    ++refused_;
                    ss.close();
                } else {
                    waiting.push_back({ss, std::move(address), now});
                }
            } catch (const Poco::Exception&) {
                // the peer left before it was accepted
            }
        }
        waiting_ = static_cast<int>(waiting.size());
    }
    for (auto& w : waiting) w.socket.close();
    waiting_ = 0;
}

ConnectionStats HttpServer::connectionStats() const {
    ConnectionStats s;
    s.workers = options_.threads;
    if (!guard_) return s;
    s.busy = guard_->busy();
    s.waiting = waiting_.load();
    s.reserve = guard_->limits().reserve;
    s.maxPerAddress = guard_->limits().maxPerAddress;
    s.refused = refused_.load();
    s.timedOut = guard_->timedOut();
    s.shed = guard_->shed();
    return s;
}

void HttpServer::renderConnectionMetrics(const std::vector<std::pair<std::string, const HttpServer*>>& listeners,
                                         std::string& out) {
    std::vector<std::pair<std::string, ConnectionStats>> stats;
    for (const auto& [name, server] : listeners)
        if (server) stats.emplace_back(name, server->connectionStats());
    auto family = [&](const char* name, const char* type, const char* help, auto value) {
        out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
        for (const auto& [listener, st] : stats)
            out += std::string(name) + "{listener=\"" + listener + "\"} " + std::to_string(value(st)) + "\n";
    };
    family("kb_http_workers", "gauge", "Worker threads of the listener.", [](const ConnectionStats& s) { return s.workers; });
    family("kb_http_workers_busy", "gauge", "Connections on a worker (reading, handling or kept alive).",
           [](const ConnectionStats& s) { return s.busy; });
    family("kb_http_workers_reserved", "gauge",
           "Workers kept free for requests that arrive whole (health, kiosk): slow clients are shed to keep them.",
           [](const ConnectionStats& s) { return s.reserve; });
    family("kb_http_workers_per_address_max", "gauge", "The most workers one address may hold (0: no limit).",
           [](const ConnectionStats& s) { return s.maxPerAddress; });
    family("kb_http_connections_waiting", "gauge", "Accepted connections that have sent nothing yet (no worker held).",
           [](const ConnectionStats& s) { return s.waiting; });
    family("kb_http_connections_refused_total", "counter", "Connections closed at once: the waiting room was full.",
           [](const ConnectionStats& s) { return s.refused; });
    family("kb_http_read_timeouts_total", "counter",
           "Connections closed because a handshake, request head or body came too slowly.",
           [](const ConnectionStats& s) { return s.timedOut; });
    family("kb_http_connections_shed_total", "counter",
           "Slow or idle connections closed to keep the reserved workers free.",
           [](const ConnectionStats& s) { return s.shed; });
}

void HttpServer::stop() { shutDown(true); }

void HttpServer::shutDown(bool drain) {
    if (!listener_.joinable()) return;
    stopping_ = true;  // no new connections; running requests go on
    listener_.join();
    socket_->close();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(drain ? options_.drainSeconds : 0);
    while (inFlight_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    connections_->stop();  // drops queued connections
    guard_->abortAll();    // ends kept-alive and slow ones
    pool_->joinAll();
    connections_->release();
    connections_ = nullptr;
}

}  // namespace klinikbox::http
