// The HTTP listener under slow and idle clients (issue 14, slowloris), its TLS suites, large
// bodies, header fields given twice and requests it cannot read: a real HttpServer on
// loopback, raw sockets as the misbehaving clients.
#include "http/ConnectionGuard.h"
#include "http/Dispatcher.h"
#include "http/HttpServer.h"
#include "http/RouteTable.h"
#include "http/Tls.h"
#include "metrics/Metrics.h"

#include "TempDir.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace klinikbox;
using namespace klinikbox::http;
using namespace std::chrono_literals;

namespace {

// A connected TCP socket, closed at the end of its scope.
class Conn {
public:
    Conn(int port, const char* source = "127.0.0.1") {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        ::inet_pton(AF_INET, source, &a.sin_addr);
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("bind");
        a.sin_port = htons(static_cast<uint16_t>(port));
        ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("connect");
    }
    ~Conn() {
        if (fd_ >= 0) ::close(fd_);
    }
    Conn(const Conn&) = delete;
    Conn& operator=(const Conn&) = delete;
    void send(const std::string& s) const { (void)!::send(fd_, s.data(), s.size(), MSG_NOSIGNAL); }
    // Reads until `done(received)` or the peer closes or `timeout` passes.
    std::string read(std::chrono::milliseconds timeout, const std::function<bool(const std::string&)>& done) const {
        std::string got;
        const auto end = std::chrono::steady_clock::now() + timeout;
        while (!done(got) && std::chrono::steady_clock::now() < end) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0) continue;
            char buf[4096];
            const auto n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) {
                closedByPeer_ = true;
                break;
            }
            got.append(buf, static_cast<std::size_t>(n));
        }
        return got;
    }
    // Whether the server closed the connection within `timeout` (reading what it sends).
    bool closedWithin(std::chrono::milliseconds timeout) const {
        read(timeout, [](const std::string&) { return false; });
        return closedByPeer_;
    }
    [[nodiscard]] int fd() const { return fd_; }

private:
    int fd_ = -1;
    mutable bool closedByPeer_ = false;
};

// A whole response: its head and Content-Length bytes of body.
bool complete(const std::string& s) {
    const auto end = s.find("\r\n\r\n");
    if (end == std::string::npos) return false;
    const auto cl = s.find("Content-Length: ");
    if (cl == std::string::npos || cl > end) return true;
    return s.size() >= end + 4 + std::stoul(s.substr(cl + 16));
}

// GET /healthz from `source`; the status line, or "" when no answer came in time.
std::string healthz(int port, const char* source = "127.0.0.1") {
    Conn c(port, source);
    c.send("GET /healthz HTTP/1.1\r\nHost: box\r\nConnection: close\r\n\r\n");
    const auto r = c.read(60s, complete);
    return r.substr(0, r.find("\r\n"));
}

bool eventually(const std::function<bool()>& f, std::chrono::seconds timeout = 60s) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
        if (f()) return true;
        std::this_thread::sleep_for(20ms);
    }
    return f();
}

// A body larger than the response stream's buffer, every byte position recognisable.
std::string bigBody() {
    std::string b;
    for (int i = 0; b.size() < 300 * 1024; ++i) b += std::to_string(i) + ",";
    return b;
}

class Server {
public:
    explicit Server(ServerOptions o, int port = 0) : dispatcher_(routes_) {
        routes_.addCore("core", "GET", "/healthz", Access::anyone(), [](Request&) {
            return Response::text("{\"status\":\"ok\"}", "application/json");
        }, "health");
        routes_.addCore("core", "POST", "/echo", Access::anyone(), [](Request& r) {
            return Response::text(std::to_string(r.body.size()), "text/plain");
        }, "body length", RouteOptions{true, 0});
        routes_.addCore("core", "GET", "/big", Access::anyone(), [](Request&) {
            return Response::text(bigBody(), "text/plain");
        }, "a large body");
        o.listen = "127.0.0.1";
        o.port = port;
        o.accessLog = false;
        server_ = std::make_unique<HttpServer>(o, dispatcher_, metrics_);
        server_->start();
    }
    ~Server() { server_->stop(); }
    HttpServer& http() { return *server_; }
    int port() const { return server_->port(); }
    metrics::Metrics& metrics() { return metrics_; }

private:
    RouteTable routes_;
    Dispatcher dispatcher_;
    metrics::Metrics metrics_;
    std::unique_ptr<HttpServer> server_;
};

ServerOptions plain(int threads) {
    ServerOptions o;
    o.tls = false;
    o.threads = threads;
    o.drainSeconds = 1;
    return o;
}

}  // namespace

// The listener takes its port alone: a second server on the same port fails to start
// instead of sharing it (SO_REUSEPORT would let the kernel split the connections between
// the two), and the first keeps answering.
TEST(HttpListener, ASecondServerOnTheSamePortFailsToStartAndTheFirstKeepsItsConnections) {
    Server first(plain(4));
    EXPECT_THROW(Server(plain(4), first.port()), std::exception);
    for (int i = 0; i < 8; ++i) EXPECT_EQ(healthz(first.port()), "HTTP/1.1 200 OK") << i;
}

TEST(SlowClients, IdleSocketsHoldNoWorkerAndHealthzIsAnswered) {
    auto o = plain(4);
    o.maxWorkersPerAddress = 0;
    o.headerTimeoutMs = 120000;  // no timeout rescues /healthz here
    Server s(o);
    std::vector<std::unique_ptr<Conn>> idle;
    for (int i = 0; i < 20; ++i) idle.push_back(std::make_unique<Conn>(s.port()));
    ASSERT_TRUE(eventually([&] { return s.http().connectionStats().waiting == 20; }));
    EXPECT_EQ(healthz(s.port()), "HTTP/1.1 200 OK");
    // The /healthz connection ends; the idle ones still hold no worker.
    EXPECT_TRUE(eventually([&] { return s.http().connectionStats().busy == 0; }));
    EXPECT_EQ(s.http().connectionStats().waiting, 20);
}

TEST(SlowClients, SlowHeadsAreShedToKeepTheReserveForHealthz) {
    auto o = plain(4);
    o.maxWorkersPerAddress = 0;
    o.reserveWorkers = 2;
    o.headerTimeoutMs = 120000;
    o.graceMs = 200;
    Server s(o);
    // More slow clients than workers, each having sent part of a request head.
    std::vector<std::unique_ptr<Conn>> slow;
    for (int i = 0; i < 20; ++i) {
        slow.push_back(std::make_unique<Conn>(s.port()));
        slow.back()->send("GET /healthz HTTP/1.1\r\nHost: box\r\n");
    }
    ASSERT_TRUE(eventually([&] { return s.http().connectionStats().busy >= 2; }));
    EXPECT_EQ(healthz(s.port()), "HTTP/1.1 200 OK");
    const auto st = s.http().connectionStats();
    EXPECT_GT(st.shed, 0);
    EXPECT_EQ(st.timedOut, 0);
    // The shed ones were closed, not answered.
    EXPECT_TRUE(slow.front()->closedWithin(60s));
}

TEST(SlowClients, OneAddressHoldsAtMostItsShareOfWorkers) {
    auto o = plain(4);
    o.maxWorkersPerAddress = 2;
    o.reserveWorkers = 0;  // only the per-address limit protects the others
    o.headerTimeoutMs = 120000;
    o.graceMs = 60000;
    Server s(o);
    std::vector<std::unique_ptr<Conn>> slow;
    for (int i = 0; i < 6; ++i) {
        slow.push_back(std::make_unique<Conn>(s.port(), "127.0.0.2"));
        slow.back()->send("GET /healthz HTTP/1.1\r\n");
    }
    ASSERT_TRUE(eventually([&] {
        const auto st = s.http().connectionStats();
        return st.busy == 2 && st.waiting == 4;
    }));
    EXPECT_EQ(healthz(s.port(), "127.0.0.1"), "HTTP/1.1 200 OK");
    EXPECT_TRUE(eventually([&] { return s.http().connectionStats().busy == 2; }));
    EXPECT_EQ(s.http().connectionStats().waiting, 4);
    // The waiting connections of the busy address are served as its workers come free.
    for (auto& c : slow) c->send("Host: box\r\nConnection: close\r\n\r\n");
    for (auto& c : slow) EXPECT_NE(c->read(60s, complete).find("200 OK"), std::string::npos);
}

TEST(SlowClients, PostWithoutContentLengthIsAnsweredAtOnceWithAnEmptyBody) {
    auto o = plain(4);
    o.bodyTimeoutMs = 600000;  // waiting for a body would outlast the client's patience
    Server s(o);
    Conn c(s.port());
    c.send("POST /echo HTTP/1.1\r\nHost: box\r\nContent-Type: application/json\r\n\r\n");
    const auto r = c.read(60s, complete);
    ASSERT_EQ(r.substr(0, r.find("\r\n")), "HTTP/1.1 200 OK") << r;
    EXPECT_EQ(r.substr(r.find("\r\n\r\n") + 4), "0");
    // The connection stays usable: the next request on it is parsed as a request.
    c.send("GET /healthz HTTP/1.1\r\nHost: box\r\nConnection: close\r\n\r\n");
    EXPECT_NE(c.read(60s, complete).find("200 OK"), std::string::npos);
}

TEST(SlowClients, AHeadThatNeverEndsIsClosedAfterTheHeaderTimeout) {
    auto o = plain(4);
    o.headerTimeoutMs = 500;
    Server s(o);
    Conn c(s.port());
    c.send("GET /healthz HTTP/1.1\r\nHost: box\r\n");
    EXPECT_TRUE(c.closedWithin(60s));
    ASSERT_TRUE(eventually([&] { return s.http().connectionStats().timedOut >= 1; }));
    // A socket that never sends a byte is closed from the waiting room as well.
    Conn silent(s.port());
    EXPECT_TRUE(silent.closedWithin(60s));
    EXPECT_TRUE(eventually([&] { return s.http().connectionStats().timedOut >= 2; }));
}

// POCO's session closes the worker's socket before the guard hears closed(); in between, the
// listener may accept a new connection under the same descriptor number. The watchdog must cut
// off the old connection (through its own duplicate), never the new one.
TEST(SlowClients, TheWatchdogNeverShutsDownANewConnectionThatReusedTheNumber) {
    ConnectionGuard::Limits limits;
    limits.maxPerAddress = 0;
    limits.headerTimeout = 50ms;
    ConnectionGuard guard(limits);
    int old[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, old), 0);
    guard.enqueued("192.0.2.1", old[0]);
    const auto id = guard.opened(old[0]);
    const int number = old[0];
    ::close(old[0]);  // the worker's session ends its socket; closed() has not run yet
    int fresh[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fresh), 0);
    ASSERT_EQ(fresh[0], number) << "the new connection reuses the number (the case under test)";
    // The old connection's header time runs out: the watchdog acts.
    ASSERT_TRUE(eventually([&] { return guard.timedOut() >= 1; }));
    char c = 0;
    EXPECT_EQ(::send(fresh[0], "x", 1, MSG_NOSIGNAL), 1) << "the new connection was shut down: " << std::strerror(errno);
    EXPECT_EQ(::recv(fresh[1], &c, 1, MSG_DONTWAIT), 1);
    EXPECT_EQ(::recv(old[1], &c, 1, MSG_DONTWAIT), 0) << "the old connection was cut off";
    guard.closed(id);
    for (int fd : {old[1], fresh[0], fresh[1]}) ::close(fd);
}

TEST(SlowClients, MetricsShowWorkersReserveAndShedding) {
    auto o = plain(6);
    o.reserveWorkers = 3;
    Server s(o);
    std::string out;
    HttpServer::renderConnectionMetrics({{"public", &s.http()}, {"producer", nullptr}}, out);
    EXPECT_NE(out.find("kb_http_workers{listener=\"public\"} 6\n"), std::string::npos) << out;
    EXPECT_NE(out.find("kb_http_workers_reserved{listener=\"public\"} 3\n"), std::string::npos);
    EXPECT_NE(out.find("# TYPE kb_http_connections_shed_total counter\n"), std::string::npos);
    EXPECT_NE(out.find("kb_http_read_timeouts_total{listener=\"public\"} 0\n"), std::string::npos);
    EXPECT_EQ(out.find("producer"), std::string::npos);
}

// --- TLS 1.2 suites (issue 14 item 12) ---

namespace {

// A TLS listener with a certificate made in `d`.
ServerOptions tlsOptions(const kbtest::TempDir& d) {
    const auto files = ensureServerCertificate(d.path(), "", "", {"localhost", "127.0.0.1"});
    auto o = plain(4);
    o.tls = true;
    o.keyFile = files.keyFile;
    o.certFile = files.certFile;
    return o;
}

// A TLS 1.2 handshake offering only `ciphers`; true when it completes.
bool tls12Handshake(int port, const char* ciphers) {
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
    SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx.get(), TLS1_2_VERSION);
    SSL_CTX_set_security_level(ctx.get(), 0);
    if (SSL_CTX_set_cipher_list(ctx.get(), ciphers) != 1) throw std::runtime_error("client cipher list");
    Conn c(port);
    std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
    SSL_set_fd(ssl.get(), c.fd());
    const bool ok = SSL_connect(ssl.get()) == 1;
    ERR_clear_error();
    return ok;
}

}  // namespace

TEST(TlsSuites, Tls12OffersOnlyEcdheWithAesGcmOrChaCha20) {
    kbtest::TempDir d;
    Server s(tlsOptions(d));
    EXPECT_TRUE(tls12Handshake(s.port(), "ECDHE-ECDSA-AES128-GCM-SHA256"));
    EXPECT_TRUE(tls12Handshake(s.port(), "ECDHE-ECDSA-CHACHA20-POLY1305"));
    EXPECT_TRUE(tls12Handshake(s.port(), "ECDHE-ECDSA-AES256-GCM-SHA384"));
    // CBC (with and without SHA-2), CCM, CCM8, Camellia, ARIA: refused.
    EXPECT_FALSE(tls12Handshake(s.port(),
                                "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-ECDSA-AES128-SHA256:"
                                "ECDHE-ECDSA-AES256-SHA384"));
    EXPECT_FALSE(tls12Handshake(s.port(), "ECDHE-ECDSA-AES128-CCM:ECDHE-ECDSA-AES128-CCM8:ECDHE-ECDSA-AES256-CCM8"));
    EXPECT_FALSE(tls12Handshake(s.port(), "ECDHE-ECDSA-CAMELLIA128-SHA256:ECDHE-ECDSA-ARIA128-GCM-SHA256"));
}

// --- large bodies (written to the socket in one call, not through the response stream) ---

namespace {

// A TLS client connection to the listener on `port` (the test's certificate is not checked).
class TlsClient {
public:
    explicit TlsClient(int port) : conn_(port) {
        SSL_set_fd(ssl_.get(), conn_.fd());
        if (SSL_connect(ssl_.get()) != 1) throw std::runtime_error("TLS handshake");
    }
    void send(const std::string& s) {
        if (SSL_write(ssl_.get(), s.data(), static_cast<int>(s.size())) != static_cast<int>(s.size()))
            throw std::runtime_error("TLS write");
    }
    // One whole response (head and Content-Length bytes of body), or what came before the
    // peer closed; `atMost` stops after that many bytes.
    std::string read(std::size_t atMost = std::string::npos) {
        std::string got;
        char buf[16384];
        while (!complete(got) && got.size() < atMost) {
            const int n = SSL_read(ssl_.get(), buf, sizeof buf);
            if (n <= 0) break;
            got.append(buf, static_cast<std::size_t>(n));
        }
        ERR_clear_error();
        return got;
    }

private:
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx_{SSL_CTX_new(TLS_client_method()), SSL_CTX_free};
    Conn conn_;
    std::unique_ptr<SSL, decltype(&SSL_free)> ssl_{SSL_new(ctx_.get()), SSL_free};
};

std::string statusOf(const std::string& response) { return response.substr(0, response.find("\r\n")); }
std::string bodyOf(const std::string& response) { return response.substr(response.find("\r\n\r\n") + 4); }

const char* const kGetBig = "GET /big HTTP/1.1\r\nHost: box\r\n\r\n";

}  // namespace

// A large body arrives whole over TLS and plain HTTP, the connection stays usable for the next
// request, and clients that leave in the middle of one cost the server nothing.
TEST(LargeBodies, ArriveWholeOnAKeptAliveConnectionOverTlsAndPlainAndAClientLeavingHalfwayHarmsNothing) {
    kbtest::TempDir d;
    Server s(tlsOptions(d));
    const std::string expected = bigBody();
    {
        TlsClient c(s.port());
        for (int i = 0; i < 2; ++i) {
            c.send(kGetBig);
            const auto r = c.read();
            ASSERT_EQ(statusOf(r), "HTTP/1.1 200 OK") << i;
            EXPECT_NE(r.find("Content-Type: text/plain"), std::string::npos) << i;
            EXPECT_NE(r.find("X-Content-Type-Options: nosniff"), std::string::npos) << i;
            EXPECT_NE(r.find("Content-Length: " + std::to_string(expected.size()) + "\r\n"), std::string::npos) << i;
            EXPECT_TRUE(bodyOf(r) == expected) << i << ": " << bodyOf(r).size() << " bytes";
        }
        // A small answer after the large ones, on the same connection.
        c.send("GET /healthz HTTP/1.1\r\nHost: box\r\n\r\n");
        EXPECT_EQ(bodyOf(c.read()), "{\"status\":\"ok\"}");
    }
    // Clients that ask for the large body and close after its first bytes.
    for (int i = 0; i < 8; ++i) {
        TlsClient c(s.port());
        c.send(kGetBig);
        EXPECT_EQ(statusOf(c.read(1)), "HTTP/1.1 200 OK") << i;
    }
    {
        TlsClient c(s.port());
        c.send(kGetBig);
        EXPECT_TRUE(bodyOf(c.read()) == expected) << "still serving over TLS after the clients that left";
    }
    Server p(plain(4));
    Conn c(p.port());
    for (int i = 0; i < 2; ++i) {
        c.send(kGetBig);
        const auto r = c.read(60s, complete);
        ASSERT_EQ(statusOf(r), "HTTP/1.1 200 OK") << i;
        EXPECT_TRUE(bodyOf(r) == expected) << i << ": " << bodyOf(r).size() << " bytes";
    }
}

// A header field that may appear once, given twice: the box and a proxy in front of it could
// each act on another one. Refused with 400, and after two Content-Lengths the connection is
// closed, since its next bytes cannot be told from the body. Fields that may repeat pass.
TEST(DuplicateHeaders, ASingletonFieldGivenTwiceIsRefusedAndTwoContentLengthsCloseTheConnection) {
    Server s(plain(4));
    const auto status = [](const std::string& r) { return r.substr(0, r.find("\r\n")); };
    {
        Conn c(s.port());
        c.send("POST /echo HTTP/1.1\r\nHost: box\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
               "Content-Length: 7\r\n\r\n{}GET /healthz HTTP/1.1\r\nHost: box\r\n\r\n");
        const auto r = c.read(60s, complete);
        EXPECT_EQ(status(r), "HTTP/1.1 400 Bad Request") << r;
        EXPECT_NE(r.find("/problems/duplicate-header"), std::string::npos) << r;
        EXPECT_NE(r.find("content-length"), std::string::npos) << r;
        EXPECT_TRUE(c.closedWithin(60s)) << "the smuggled GET must not be answered";
    }
    for (const char* twice : {"Cookie: kb_session=a\r\ncookie: kb_session=b\r\n", "X-CSRF-Token: a\r\nX-CSRF-Token: a\r\n",
                              "Host: other\r\n", "Origin: https://a\r\nOrigin: https://b\r\n"}) {
        Conn c(s.port());
        c.send(std::string("GET /healthz HTTP/1.1\r\nHost: box\r\n") + twice + "\r\n");
        const auto r = c.read(60s, complete);
        EXPECT_EQ(status(r), "HTTP/1.1 400 Bad Request") << twice << r;
        EXPECT_NE(r.find("/problems/duplicate-header"), std::string::npos) << r;
    }
    Conn c(s.port());
    c.send("GET /healthz HTTP/1.1\r\nHost: box\r\nAccept: text/html\r\nAccept: application/json\r\nX-Trace: 1\r\n"
           "X-Trace: 2\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(status(c.read(60s, complete)), "HTTP/1.1 200 OK");
}

// A request POCO cannot read gets a problem document with the status that says why (POCO's
// own loop sent a bare 400), and the connection is closed.
TEST(UnreadableRequests, AreAnsweredWithAProblemDocumentAndTheirOwnStatus) {
    Server s(plain(4));
    const auto ask = [&](const std::string& raw) {
        Conn c(s.port());
        c.send(raw);
        auto r = c.read(60s, complete);
        EXPECT_TRUE(c.closedWithin(60s)) << raw.substr(0, 40);
        return r;
    };
    const std::string longUri = "GET /healthz?x=" + std::string(20000, 'a') + " HTTP/1.1\r\nHost: box\r\n\r\n";
    std::string manyFields = "GET /healthz HTTP/1.1\r\nHost: box\r\n";
    for (int i = 0; i < 150; ++i) manyFields += "X-F" + std::to_string(i) + ": v\r\n";
    manyFields += "\r\n";
    const struct {
        std::string raw, status, type;
    } cases[] = {
        {longUri, "HTTP/1.1 414", "/problems/uri-too-long"},
        {"GET /healthz HTTP/1.1\r\nHost: box\r\nX-Big: " + std::string(20000, 'b') + "\r\n\r\n", "HTTP/1.1 431", "/problems/headers-too-large"},
        {manyFields, "HTTP/1.1 431", "/problems/headers-too-large"},
        {std::string(40, 'G') + " /healthz HTTP/1.1\r\nHost: box\r\n\r\n", "HTTP/1.1 400 Bad Request", "/problems/malformed-request"},
    };
    for (const auto& c : cases) {
        const auto r = ask(c.raw);
        EXPECT_EQ(r.substr(0, c.status.size()), c.status) << r.substr(0, 200);
        EXPECT_NE(r.find("Content-Type: application/problem+json"), std::string::npos) << r.substr(0, 300);
        EXPECT_NE(r.find("\"type\":\"" + c.type + "\""), std::string::npos) << r.substr(0, 400);
        EXPECT_NE(r.find("X-Frame-Options: DENY"), std::string::npos) << "every response carries the security headers";
    }
    // A well-formed request on a new connection is still answered.
    EXPECT_EQ(healthz(s.port()), "HTTP/1.1 200 OK");
}

// Framing a proxy in front of the box could read another way (RFC 9112) is refused with a
// problem document before any route runs, and the connection is closed, so bytes after it
// are never read as a request: a transfer coding POCO does not decode left the body on the
// connection, and "Content-Length :" was another field to POCO.
TEST(RequestFraming, AmbiguousFramingIsRefusedAndWhatFollowsIsNeverARequest) {
    Server s(plain(4));
    const std::string smuggled = "GET /healthz HTTP/1.1\r\nHost: box\r\n\r\n";
    const struct {
        std::string raw, status, type;
    } cases[] = {
        {"POST /echo HTTP/1.1\r\nHost: box\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" + smuggled,
         "HTTP/1.1 501", "/problems/unsupported-transfer-encoding"},
        {"POST /echo HTTP/1.1\r\nHost: box\r\nContent-Type: application/json\r\nTransfer-Encoding: identity\r\n\r\n" + smuggled,
         "HTTP/1.1 501", "/problems/unsupported-transfer-encoding"},
        {"POST /echo HTTP/1.1\r\nHost: box\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled,
         "HTTP/1.1 501", "/problems/unsupported-transfer-encoding"},
        {"POST /echo HTTP/1.1\r\nHost: box\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n" + smuggled,
         "HTTP/1.1 400", "/problems/malformed-request"},
        {"POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled, "HTTP/1.1 400", "/problems/malformed-request"},
        {"POST /echo HTTP/1.1\r\nHost: box\r\nContent-Length : 2\r\n\r\n{}" + smuggled, "HTTP/1.1 400", "/problems/malformed-request"},
        {"POST /echo HTTP/1.1\r\nHost: box\r\nContent-Length: +2\r\n\r\n{}" + smuggled, "HTTP/1.1 400", "/problems/malformed-request"},
        {"POST /echo HTTP/1.1\r\nHost: box\r\nContent-Length: -1\r\n\r\n" + smuggled, "HTTP/1.1 400", "/problems/malformed-request"},
        {"POST /echo HTTP/1.1\r\nHost: box\r\nContent-Length: 1e3\r\n\r\n" + smuggled, "HTTP/1.1 400", "/problems/malformed-request"},
        {"POST /echo HTTP/1.1\r\nHost: box\r\nContent-Length: 99999999999999999999\r\n\r\n" + smuggled, "HTTP/1.1 400",
         "/problems/malformed-request"},
        {"GET /healthz HTTP/1.1\r\n\r\n" + smuggled, "HTTP/1.1 400", "/problems/malformed-request"},
        {"GET /healthz HTTP/2.0\r\nHost: box\r\n\r\n" + smuggled, "HTTP/1.1 505", "/problems/http-version-not-supported"},
    };
    for (const auto& c : cases) {
        Conn conn(s.port());
        conn.send(c.raw);
        const auto r = conn.read(60s, complete);
        EXPECT_EQ(r.substr(0, c.status.size()), c.status) << c.raw.substr(0, 120) << "\n" << r.substr(0, 300);
        EXPECT_NE(r.find("Content-Type: application/problem+json"), std::string::npos) << r.substr(0, 300);
        EXPECT_NE(r.find("\"type\":\"" + c.type + "\""), std::string::npos) << r.substr(0, 400);
        EXPECT_NE(r.find("X-Frame-Options: DENY"), std::string::npos) << "every response carries the security headers";
        EXPECT_TRUE(conn.closedWithin(60s)) << "the request after it must not be answered: " << c.raw.substr(0, 120);
    }
    // A chunked body is read, answered, and the connection then ends: POCO reads a malformed
    // chunk as the body's end, so what follows a chunked body is never taken as a request.
    Conn conn(s.port());
    conn.send("POST /echo HTTP/1.1\r\nHost: box\r\nContent-Type: application/json\r\nTransfer-Encoding: Chunked\r\n\r\n"
              "2\r\n{}\r\n0\r\n\r\n" + smuggled);
    const auto r = conn.read(60s, complete);
    EXPECT_EQ(r.substr(0, 12), "HTTP/1.1 200") << r.substr(0, 300);
    EXPECT_TRUE(conn.closedWithin(60s));
    // HTTP/1.0 needs no Host; plain requests on a new connection are still answered.
    Conn old(s.port());
    old.send("GET /healthz HTTP/1.0\r\n\r\n");
    EXPECT_EQ(old.read(60s, complete).substr(0, 12), "HTTP/1.0 200");
    EXPECT_EQ(healthz(s.port()), "HTTP/1.1 200 OK");
}

// A chunked body is decoded by RFC 9112 §7.1: POCO 1.11 read a malformed chunk as the body's
// end, so a body cut at a chunk boundary was taken whole. Now the request is refused.
TEST(RequestFraming, AChunkedBodyIsReadStrictly) {
    Server s(plain(4));
    const auto post = [&](const std::string& chunks) {
        Conn c(s.port());
        c.send("POST /echo HTTP/1.1\r\nHost: box\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks);
        auto r = c.read(60s, complete);
        EXPECT_TRUE(c.closedWithin(60s)) << chunks.substr(0, 40);
        return r;
    };
    // Chunks with an extension and a trailer: read whole (2 + 11 bytes).
    auto ok = post("2;name=x\r\n{}\r\nb\r\n\"more data\"\r\n0\r\nX-Checksum: 1\r\n\r\n");
    EXPECT_EQ(ok.substr(0, 12), "HTTP/1.1 200") << ok;
    EXPECT_EQ(ok.substr(ok.size() - 2), "13") << ok;
    for (const std::string bad : {"2\r\n{}\r\nzz\r\n{}\r\n0\r\n\r\n",   // a size that is no number after a whole chunk
                                  "2\r\n{}XX\r\n0\r\n\r\n",             // more data than the size says
                                  "-2\r\n{}\r\n0\r\n\r\n", "ffffffffffffffff0\r\n{}\r\n0\r\n\r\n"}) {
        const auto r = post(bad);
        EXPECT_EQ(r.substr(0, 12), "HTTP/1.1 400") << bad << "\n" << r;
        EXPECT_NE(r.find("/problems/malformed-request"), std::string::npos) << r;
    }
}
