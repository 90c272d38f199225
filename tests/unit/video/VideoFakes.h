// The video plugin tests' fakes: the shared fake context with an audit that keeps whole
// records (who, entry, in a transaction or not).
#pragma once

#include "FakePluginContext.h"

#include <fstream>
#include <set>
#include <sstream>

namespace kbtest {

using namespace klinikbox;

struct FakeAudit : Audit {
    struct Rec {
        std::string by;  // username, "anonymous" or "system"
        AuditEntry entry;
        bool inTx = false;
    };
    std::vector<Rec> records;
    void record(const Request& by, const AuditEntry& e) override {
        records.push_back({by.principal ? by.principal->username : "anonymous", e, false});
        ++by.auditRecords;
    }
    void record(const Request& by, const AuditEntry& e, db::Connection&) override {
        record(by, e);
        records.back().inTx = true;
    }
    void recordSystem(const AuditEntry& e) override { records.push_back({"system", e, false}); }
    // Records of one action, in order.
    std::vector<Rec> of(const std::string& action) const {
        std::vector<Rec> out;
        for (const auto& r : records)
            if (r.entry.action == action) out.push_back(r);
        return out;
    }
};

using FakeContext = BasicFakeContext<FakeAudit>;

}  // namespace kbtest
