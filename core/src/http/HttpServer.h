// The HTTPS listener: POCO's HTTPServer with a thread pool, body limits, request ids,
// security headers, access log and metrics around the Dispatcher.
#pragma once

#include "http/Dispatcher.h"
#include "metrics/Metrics.h"

#include <Poco/Net/HTTPServer.h>
#include <Poco/ThreadPool.h>

#include <atomic>
#include <memory>
#include <string>

namespace klinikbox::http {

struct ServerOptions {
    std::string listen = "127.0.0.1";
    int port = 8443;  // 0: an ephemeral port, see HttpServer::port()
    bool tls = true;
    std::string keyFile, certFile;
    long long maxBodyBytes = 1 << 20;
    int threads = 16;
    int maxQueued = 100;
    int drainSeconds = 10;
    bool accessLog = true;
    // The producer listener: requires a client certificate issued by a CA in clientCaFile
    // (the TLS handshake fails without one) and puts it into Request::peer.
    bool producer = false;
    std::string clientCaFile;
};

class HttpServer {
public:
    HttpServer(ServerOptions options, Dispatcher& dispatcher, metrics::Metrics& metrics);
    ~HttpServer();

    void start();
    [[nodiscard]] int port() const { return port_; }
    [[nodiscard]] bool tls() const { return options_.tls; }
    [[nodiscard]] int inFlight() const { return inFlight_.load(); }
    // Stops accepting, waits for in-flight requests at most drainSeconds, then closes.
    void stop();

private:
    ServerOptions options_;
    Dispatcher& dispatcher_;
    metrics::Metrics& metrics_;
    std::unique_ptr<Poco::ThreadPool> pool_;
    std::unique_ptr<Poco::Net::HTTPServer> server_;
    std::atomic<int> inFlight_{0};
    int port_ = 0;
    friend class RequestHandler;
};

}  // namespace klinikbox::http
