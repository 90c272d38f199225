// A plain-HTTP server on loopback for tests: records every request (method, path, selected
// headers, body) and answers with a configurable status. Stands in for an SMS gateway or a
// webhook receiver.
#pragma once

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace kbtest {

class HttpSink {
public:
    struct Item {
        std::string method, path, authorization, idempotencyKey, body;
    };

    HttpSink() : socket_(Poco::Net::SocketAddress("127.0.0.1", 0)) {
        server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(*this), socket_, new Poco::Net::HTTPServerParams);
        server_->start();
    }
    ~HttpSink() { server_->stopAll(true); }

    [[nodiscard]] std::string url(const std::string& path = "/") const {
        return "http://127.0.0.1:" + std::to_string(socket_.address().port()) + path;
    }
    void setStatus(int s) { status_ = s; }
    // Waits until at least n requests arrived (or the timeout passed); returns a copy.
    std::vector<Item> waitFor(std::size_t n, std::chrono::seconds timeout = std::chrono::seconds(20)) {
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, timeout, [&] { return items_.size() >= n; });
        return items_;
    }
    std::vector<Item> items() {
        std::lock_guard lock(mu_);
        return items_;
    }

private:
    class Handler : public Poco::Net::HTTPRequestHandler {
    public:
        explicit Handler(HttpSink& s) : s_(s) {}
        void handleRequest(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res) override {
            Item it{req.getMethod(), req.getURI(), req.get("Authorization", ""), req.get("Idempotency-Key", ""), {}};
            Poco::StreamCopier::copyToString(req.stream(), it.body);
            {
                std::lock_guard lock(s_.mu_);
                s_.items_.push_back(std::move(it));
            }
            s_.cv_.notify_all();
            res.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(s_.status_.load()));
            res.setContentType("application/json");
            res.send() << "{}";
        }

    private:
        HttpSink& s_;
    };
    class Factory : public Poco::Net::HTTPRequestHandlerFactory {
    public:
        explicit Factory(HttpSink& s) : s_(s) {}
        Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
            return new Handler(s_);
        }

    private:
        HttpSink& s_;
    };

    Poco::Net::ServerSocket socket_;
    std::unique_ptr<Poco::Net::HTTPServer> server_;
    std::atomic<int> status_{201};
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<Item> items_;
};

}  // namespace kbtest
