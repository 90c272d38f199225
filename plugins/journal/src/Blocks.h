// The block service (informationsecurity:authorization:blocking 4.0): CheckBlocks for the
// records fetched, each described only by its access-control header (accountable care unit
// and provider, block comparison time). Inner and outer blocks (spärr) both answer BLOCKED.
#pragma once
#include "Service.h"

#include <vector>

namespace klinikbox::journal {

// One information entity: what the block check may see of a record.
struct BlockQuery {
    std::string careUnitId, careProviderId;
    std::string time;  // xs:dateTime of blockComparisonTime
};

[[nodiscard]] std::string checkBlocksBody(const Actor& actor, const std::string& patient, const std::vector<BlockQuery>& entities);
// For each entity (by rowNumber, 1-based), true when BLOCKED. Throws ServiceError when the
// result is not OK, a row is missing or its status is anything but OK/BLOCKED.
[[nodiscard]] std::vector<bool> parseCheckBlocks(const Poco::XML::Element* body, std::size_t rows);

class BlockClient {
public:
    BlockClient(rivta::Endpoint endpoint, std::string logicalAddress)
        : endpoint_(std::move(endpoint)), address_(std::move(logicalAddress)) {}
    // Throws ServiceError when the check cannot be made (the caller fails closed).
    [[nodiscard]] std::vector<bool> check(const Actor& actor, const std::string& patient,
                                          const std::vector<BlockQuery>& entities) const;

private:
    rivta::Endpoint endpoint_;
    std::string address_;
};

}  // namespace klinikbox::journal
