// Log review (loggkontroll, PDL 4 kap. 3 §) for the auditor: accesses without a booking,
// emergency accesses and a random sample of the rest for a period, each markable as
// reviewed with a comment; and the patient's log extract (PDL 8 kap. 5 §): which care units
// read the patient's shared records and when, as JSON and as a printable page.
#pragma once
#include <klinikbox/PluginContext.h>

#include <Poco/JSON/Object.h>

#include <string>

namespace klinikbox::journal {

struct Period {
    long long from = 0, until = 0;  // Unix seconds, [from, until)
    std::string fromText, toText;   // YYYY-MM-DD as given
};
// Parses from/to query parameters (YYYY-MM-DD, both required, from <= to, at most 2 years),
// the days in the box's time zone: [00:00 of from, 00:00 of the day after to);
// 400 problems otherwise.
[[nodiscard]] Period periodParam(const Request& req);

class LogReview {
public:
    LogReview(PluginContext& ctx, int sampleSize) : ctx_(ctx), sample_(sampleSize) {}
    [[nodiscard]] Poco::JSON::Object::Ptr review(Request& req, const Period& p);
    [[nodiscard]] Poco::JSON::Object::Ptr markReviewed(Request& req, long long accessId, const std::string& comment);
    [[nodiscard]] Poco::JSON::Object::Ptr extract(Request& req, const std::string& patient, const Period& p);
    [[nodiscard]] std::string extractHtml(Request& req, const std::string& patient, const Period& p);

private:
    PluginContext& ctx_;
    int sample_;
};

}  // namespace klinikbox::journal
