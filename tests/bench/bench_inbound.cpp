// Inbound referrals for scripts/bench.sh: ProcessRequest posted to the box's RIV-TA producer
// listener over mutual TLS by N keep-alive clients, each referral new (its own request id), so
// every answer goes through the handshake-held connection, the XML parser, validation and a
// stored row with its audit record. Prints
// "RESULT <requests/s> <p50 ms> <p95 ms> <p99 ms> <errors>" as the wrk scripts do.
#include "Bodies.h"

#include <klinikbox/RivTa.h>

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ref = klinikbox::referral;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
    if (argc < 8) {
        std::fprintf(stderr, "usage: bench_inbound PRODUCER_URL CLIENT_CERT CLIENT_KEY CA UNIT_HSA SECONDS THREADS\n");
        return 2;
    }
    const std::string url = argv[1], cert = argv[2], key = argv[3], ca = argv[4], unit = argv[5];
    const int seconds = std::atoi(argv[6]);
    const int threads = std::max(1, std::atoi(argv[7]));
    const Poco::URI uri(url + "/api/v1/referral/rivta/ProcessRequest");
    const std::string action = ref::soapAction("ProcessRequest");

    std::atomic<long> errors{0};
    std::mutex mu;
    std::vector<double> latencies;  // ms
    std::string firstError;
    const auto deadline = Clock::now() + std::chrono::seconds(seconds);
    const auto started = Clock::now();
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) {
        ts.emplace_back([&, t] {
            std::vector<double> mine;
            Poco::Net::Context::Ptr ctx =
                new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, key, cert, ca, Poco::Net::Context::VERIFY_RELAXED);
            std::unique_ptr<Poco::Net::HTTPSClientSession> s;
            for (long n = 0; Clock::now() < deadline; ++n) {
                ref::RequestBody r;
                r.requestId = "SE2321000016-BNCH#bench-" + std::to_string(t) + "-" + std::to_string(n) + "-" +
                              std::to_string(Clock::now().time_since_epoch().count());
                r.timestamp = "20261125090000";
                r.patient = "191212121212";
                r.sender = {"SE2321000016-BNCH", "Mätsjukhuset", "SE2321000016-BNP1", "Mät Läkare"};
                r.receiverHsa = unit;
                r.priority = "normal";
                r.question = "Mätning av inkommande remisser.";
                r.anamnesis = "Ingen.";
                r.requestedActivity = "Bedömning";
                r.patientInformed = true;
                const std::string env = klinikbox::rivta::envelope(unit, ref::requestBody(r));
                const auto t0 = Clock::now();
                try {
                    if (!s) {
                        s = std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort(), ctx);
                        s->setKeepAlive(true);
                        s->setTimeout(Poco::Timespan(30, 0));
                    }
                    Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_POST, uri.getPathAndQuery(), Poco::Net::HTTPMessage::HTTP_1_1);
                    req.setContentType("text/xml; charset=utf-8");
                    req.set("SOAPAction", action);
                    req.setKeepAlive(true);
                    req.setContentLength(static_cast<std::streamsize>(env.size()));
                    s->sendRequest(req) << env;
                    Poco::Net::HTTPResponse resp;
                    std::istream& in = s->receiveResponse(resp);
                    std::string answer;
                    Poco::StreamCopier::copyToString(in, answer);
                    if (resp.getStatus() != Poco::Net::HTTPResponse::HTTP_OK || answer.find(">OK<") == std::string::npos) {
                        ++errors;
                        std::lock_guard lock(mu);
                        if (firstError.empty()) firstError = std::to_string(static_cast<int>(resp.getStatus())) + " " + answer.substr(0, 300);
                        continue;
                    }
                } catch (const std::exception& e) {
                    ++errors;
                    s.reset();
                    std::lock_guard lock(mu);
                    if (firstError.empty()) firstError = e.what();
                    continue;
                }
                mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
            }
            std::lock_guard lock(mu);
            latencies.insert(latencies.end(), mine.begin(), mine.end());
        });
    }
    for (auto& t : ts) t.join();
    const double secs = std::chrono::duration<double>(Clock::now() - started).count();
    std::sort(latencies.begin(), latencies.end());
    auto pct = [&](double p) {
        if (latencies.empty()) return 0.0;
        return latencies[std::min(latencies.size() - 1, static_cast<std::size_t>(p * static_cast<double>(latencies.size())))];
    };
    if (!firstError.empty()) std::fprintf(stderr, "bench_inbound: first error: %s\n", firstError.c_str());
    std::printf("RESULT %.0f %.2f %.2f %.2f %ld\n", static_cast<double>(latencies.size()) / secs, pct(0.50), pct(0.95), pct(0.99),
                errors.load());
    return 0;
}
