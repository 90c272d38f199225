// The Lua plugin tests' fakes: the shared fake context with an audit that records lines.
#pragma once

#include "FakePluginContext.h"

namespace kbtest {

using namespace klinikbox;

struct FakeAudit : Audit {
    std::vector<std::string> records;  // "<user> <action> <patient> <purpose> <details> [tx]"
    void record(const Request& by, const AuditEntry& e) override {
        records.push_back((by.principal ? by.principal->username : "?") + " " + e.action + " " + e.patient + " " + e.purpose + " " + e.details);
        ++by.auditRecords;
    }
    void record(const Request& by, const AuditEntry& e, db::Connection&) override {
        record(by, e);
        records.back() += " [tx]";
    }
    void recordSystem(const AuditEntry& e) override { records.push_back("system " + e.action + " " + e.purpose + " " + e.details); }
    void recordSystem(const AuditEntry& e, db::Connection&) override {
        recordSystem(e);
        records.back() += " [tx]";
    }
};

using FakeContext = BasicFakeContext<FakeAudit>;

}  // namespace kbtest
