// Prometheus metrics: counters, gauges computed at scrape time, and a latency histogram.
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace klinikbox::metrics {

class Metrics {
public:
    // Counts one HTTP request (route pattern, not the raw path, keeps cardinality bounded).
    void observeRequest(const std::string& method, const std::string& route, int status, double seconds);
    // Adds a named counter with labels, e.g. ("kb_lua_hook_errors_total", {{"script","a.lua"}}).
    void inc(const std::string& name, const std::map<std::string, std::string>& labels, long long by = 1);
    // A gauge or counter family computed when /metrics is scraped.
    using Collector = std::function<void(std::string& out)>;
    void addCollector(Collector c);

    [[nodiscard]] std::string render() const;

    static constexpr std::array<double, 11> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                        0.1,   0.25,   0.5,   1.0,  2.5};

private:
    struct Histogram {
        std::array<long long, kBuckets.size()> buckets{};
        long long count = 0;
        double sum = 0;
    };
    mutable std::mutex mu_;
    std::map<std::string, long long> requests_;  // "method|route|status"
    Histogram latency_;
    std::map<std::string, std::map<std::string, long long>> counters_;  // name -> labels -> value
    std::vector<Collector> collectors_;
};

std::string labelValue(const std::string& v);  // escapes for the exposition format

}  // namespace klinikbox::metrics
