// The HTTPS listener: a listener thread that hands a connection to a worker only once its
// first bytes have arrived (the waiting room), POCO's HTTP connections on a thread pool under
// slow-client limits (ConnectionGuard), body limits, request ids, security headers, access
// log and metrics around the Dispatcher.
#pragma once

#include "http/Dispatcher.h"
#include "metrics/Metrics.h"

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/TCPServerDispatcher.h>
#include <Poco/ThreadPool.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace klinikbox::http {

class ConnectionGuard;

// TLS 1.2 suites the listeners offer: forward secrecy (ECDHE) with an AEAD cipher only; no CBC,
// CCM(8), Camellia or ARIA.
inline constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

struct ServerOptions {
    std::string listen = "127.0.0.1";
    int port = 8443;  // 0: an ephemeral port, see HttpServer::port()
    bool tls = true;
    std::string keyFile, certFile;
    // When set, handshakes present its current certificate (replaceable while running).
    std::shared_ptr<class LiveCertificate> liveCertificate;
    long long maxBodyBytes = 1 << 20;
    int threads = 16;
    int maxQueued = 100;
    int drainSeconds = 10;
    bool accessLog = true;
    // The producer listener: requires a client certificate issued by a CA in clientCaFile
    // (the TLS handshake fails without one) and puts it into Request::peer.
    bool producer = false;
    std::string clientCaFile;
    // Slow-client limits (http/ConnectionGuard.h; server.slow_clients in the configuration).
    int maxWorkersPerAddress = 8;  // 0: no limit
    int reserveWorkers = 4;
    int headerTimeoutMs = 10000;
    int bodyTimeoutMs = 30000;
    int keepAliveMs = 5000;
    int graceMs = 1000;
};

// What /metrics shows about one listener's connections.
struct ConnectionStats {
    int workers = 0, busy = 0, waiting = 0, reserve = 0, maxPerAddress = 0;
    long long refused = 0, timedOut = 0, shed = 0;
};

class HttpServer {
public:
    HttpServer(ServerOptions options, Dispatcher& dispatcher, metrics::Metrics& metrics);
    ~HttpServer();

    void start();
    [[nodiscard]] int port() const { return port_; }
    [[nodiscard]] bool tls() const { return options_.tls; }
    [[nodiscard]] int inFlight() const { return inFlight_.load(); }
    [[nodiscard]] ConnectionStats connectionStats() const;
    // Stops accepting, waits for in-flight requests at most drainSeconds, then closes.
    void stop();

    // The kb_http_connection_* families for the named listeners, one HELP/TYPE per family.
    static void renderConnectionMetrics(const std::vector<std::pair<std::string, const HttpServer*>>& listeners,
                                        std::string& out);

private:
    void listen();  // the listener thread: accept, waiting room, hand over to the dispatcher
    void shutDown(bool drain);

    ServerOptions options_;
    Dispatcher& dispatcher_;
    metrics::Metrics& metrics_;
    std::unique_ptr<Poco::ThreadPool> pool_;
    std::unique_ptr<Poco::Net::ServerSocket> socket_;
    std::shared_ptr<ConnectionGuard> guard_;
    Poco::Net::TCPServerDispatcher* connections_ = nullptr;  // reference-counted by POCO
    std::thread listener_;
    std::atomic<bool> stopping_{false};
    std::atomic<int> waiting_{0};
    std::atomic<long long> refused_{0};
    std::atomic<int> inFlight_{0};
    int port_ = 0;
    friend class RequestHandler;
};

}  // namespace klinikbox::http
