#include "metrics/Metrics.h"

#include <sstream>

namespace klinikbox::metrics {

std::string labelValue(const std::string& v) {
    std::string o;
    for (char c : v) {
        if (c == '\\' || c == '"') o.push_back('\\');
        if (c == '\n') {
            o += "\\n";
            continue;
        }
        o.push_back(c);
    }
    return o;
}

void Metrics::observeRequest(const std::string& method, const std::string& route, int status, double seconds) {
    std::lock_guard lock(mu_);
    ++requests_[method + "|" + route + "|" + std::to_string(status)];
    for (std::size_t i = 0; i < kBuckets.size(); ++i)
        if (seconds <= kBuckets[i]) ++latency_.buckets[i];
    ++latency_.count;
    latency_.sum += seconds;
}

void Metrics::inc(const std::string& name, const std::map<std::string, std::string>& labels, long long by) {
    std::string key;
    for (const auto& [k, v] : labels) key += (key.empty() ? "" : ",") + k + "=\"" + labelValue(v) + "\"";
    std::lock_guard lock(mu_);
    counters_[name][key] += by;
}

void Metrics::addCollector(Collector c) {
    std::lock_guard lock(mu_);
    collectors_.push_back(std::move(c));
}

std::string Metrics::render() const {
    std::ostringstream os;
    std::vector<Collector> cols;
    {
        std::lock_guard lock(mu_);
        os << "# HELP kb_http_requests_total HTTP requests by method, route and status.\n"
              "# TYPE kb_http_requests_total counter\n";
        for (const auto& [k, v] : requests_) {
            const auto a = k.find('|'), b = k.rfind('|');
            os << "kb_http_requests_total{method=\"" << k.substr(0, a) << "\",route=\""
               << labelValue(k.substr(a + 1, b - a - 1)) << "\",status=\"" << k.substr(b + 1) << "\"} " << v << "\n";
        }
        os << "# HELP kb_http_request_duration_seconds Time from request to response.\n"
              "# TYPE kb_http_request_duration_seconds histogram\n";
        for (std::size_t i = 0; i < kBuckets.size(); ++i)
            os << "kb_http_request_duration_seconds_bucket{le=\"" << kBuckets[i] << "\"} " << latency_.buckets[i] << "\n";
        os << "kb_http_request_duration_seconds_bucket{le=\"+Inf\"} " << latency_.count << "\n"
           << "kb_http_request_duration_seconds_sum " << latency_.sum << "\n"
           << "kb_http_request_duration_seconds_count " << latency_.count << "\n";
        for (const auto& [name, series] : counters_) {
            os << "# TYPE " << name << " counter\n";
            for (const auto& [labels, v] : series) os << name << "{" << labels << "} " << v << "\n";
        }
        cols = collectors_;
    }
    std::string extra;
    for (const auto& c : cols) c(extra);
    return os.str() + extra;
}

}  // namespace klinikbox::metrics
