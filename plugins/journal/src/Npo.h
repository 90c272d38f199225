// The NPÖ read contracts (clinicalprocess:healthcond:description): GetCareDocumentation 3.0,
// GetDiagnosis 2.0 and GetAlertInformation 2.0 through the national aggregator (addressed by
// Inera's HSA-id), following hasMore pages at the producer's own logical address, and the
// ProcessingStatus header that tells which source systems answered. Results live only in
// memory for the one view that asked; nothing here is stored.
#pragma once
#include "Service.h"

#include <vector>

namespace klinikbox::journal {

enum class Kind { Notes, Diagnoses, Alerts };
[[nodiscard]] std::string_view toString(Kind k);

// One record. Only the access-control fields may be looked at before the checks pass.
struct Record {
    Kind kind = Kind::Notes;
    // access-control header
    std::string accountableUnit, accountableProvider, blockTime /* xs:dateTime */;
    std::string sourceSystem;
    // content
    std::string id, time, title, author, unitName, code, text;
};

struct SourceStatus {
    std::string logicalAddress, statusCode;  // DataFromSource, NoDataSynchFailed, ...
};

struct Query {
    std::string patient;        // 12 digits
    std::string from, to;       // YYYYMMDD, both or neither
    std::string provider;       // care provider HSA-id filter, may be empty
};

struct Page {
    std::vector<Record> records;
    std::vector<SourceStatus> sources;
    std::vector<std::pair<std::string, std::string>> hasMore;  // (logicalAddress, reference)
};

// Request bodies. `sourceSystem` and `reference` are set for a follow-up page.
[[nodiscard]] std::string requestBody(Kind k, const Query& q, const std::string& sourceSystem = {},
                                      const std::string& reference = {});
// Parses an answer (the whole envelope, for the ProcessingStatus header). Throws ServiceError
// when resultCode is ERROR or the answer is of the wrong kind.
[[nodiscard]] Page parseAnswer(Kind k, const rivta::Envelope& env);

struct Fetched {
    std::vector<Record> records;
    std::vector<SourceStatus> sources;
    int pages = 0;
};

class NpoClient {
public:
    NpoClient(std::string urlPattern, rivta::Endpoint tls, std::string aggregatorAddress, int maxPages = 20)
        : urlPattern_(std::move(urlPattern)), tls_(std::move(tls)), aggregator_(std::move(aggregatorAddress)), maxPages_(maxPages) {}
    // Throws ServiceError when the aggregator cannot be asked.
    [[nodiscard]] Fetched fetch(Kind k, const Query& q) const;

private:
    [[nodiscard]] rivta::Envelope call(Kind k, const std::string& address, const std::string& body) const;
    std::string urlPattern_;  // "{contract}" is replaced by the contract name
    rivta::Endpoint tls_;
    std::string aggregator_;
    int maxPages_;
};

}  // namespace klinikbox::journal
