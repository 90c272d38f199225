#include "Blocks.h"

namespace klinikbox::journal {
namespace {
using rivta::element;
}  // namespace

std::string checkBlocksBody(const Actor& a, const std::string& patient, const std::vector<BlockQuery>& entities) {
    std::string b = "<cb:CheckBlocks xmlns:cb=\"urn:riv:informationsecurity:authorization:blocking:CheckBlocksResponder:4\" "
                    "xmlns:core=\"urn:riv:informationsecurity:authorization:blocking:4\"><cb:accessingActor>" +
                    element("core:employeeId", a.employeeId) + element("core:careProviderId", a.careProviderId) +
                    element("core:careUnitId", a.careUnitId) + "</cb:accessingActor><cb:patientId>" + element("core:root", kPersonIdRoot) +
                    element("core:extension", patient) + "</cb:patientId>";
    int row = 0;
    for (const auto& q : entities) {
        b += "<cb:informationEntities>" + element("core:informationStartDate", q.time) + element("core:informationEndDate", q.time) +
             element("core:informationCareUnitId", q.careUnitId) + element("core:informationCareProviderId", q.careProviderId) +
             element("core:rowNumber", std::to_string(++row)) + "</cb:informationEntities>";
    }
    return b + "</cb:CheckBlocks>";
}

std::vector<bool> parseCheckBlocks(const Poco::XML::Element* body, std::size_t rows) {
    if (!body || body->localName() != "CheckBlocksResponse") throw ServiceError("block service: not a CheckBlocksResponse");
    const auto* res = rivta::child(body, "*", "checkBlocksResult");
    const auto* result = res ? rivta::child(res, "*", "result") : nullptr;
    const auto code = result ? rivta::childText(result, "resultCode") : std::string();
    if (code != "OK" && code != "INFO") throw ServiceError("block service: resultCode " + (code.empty() ? "missing" : code));
    std::vector<int> state(rows, -1);
    for (const auto* r : rivta::children(res, "*", "checkResults")) {
        long long row = 0;
        try {
            row = std::stoll(rivta::childText(r, "rowNumber"));
        } catch (const std::exception&) {
            throw ServiceError("block service: a result without a row number");
        }
        if (row < 1 || static_cast<std::size_t>(row) > rows) throw ServiceError("block service: row number out of range");
        const auto status = rivta::childText(r, "status");
        if (status == "OK") state[row - 1] = 0;
        else if (status == "BLOCKED") state[row - 1] = 1;
        else throw ServiceError("block service: status " + status);
    }
    std::vector<bool> blocked(rows);
    for (std::size_t i = 0; i < rows; ++i) {
        if (state[i] < 0) throw ServiceError("block service: no answer for row " + std::to_string(i + 1));
        blocked[i] = state[i] == 1;
    }
    return blocked;
}

std::vector<bool> BlockClient::check(const Actor& actor, const std::string& patient, const std::vector<BlockQuery>& entities) const {
    if (entities.empty()) return {};
    if (endpoint_.url.empty()) throw ServiceError("block service is not configured");
    auto env = callService(endpoint_, "urn:riv:informationsecurity:authorization:blocking:CheckBlocksResponder:4:CheckBlocks", address_,
                           checkBlocksBody(actor, patient, entities), "block service");
    return parseCheckBlocks(env.body, entities.size());
}

}  // namespace klinikbox::journal
