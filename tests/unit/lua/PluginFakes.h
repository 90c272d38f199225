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
    // "<user> <action> {s1,s2,...} <purpose> <details>": one record of a multi-patient view.
    void recordSubjects(const Request& by, const AuditEntry& e, const std::vector<std::string>& subjects) override {
        std::string list;
        for (const auto& s : subjects) list += (list.empty() ? "" : ",") + s;
        records.push_back((by.principal ? by.principal->username : "?") + " " + e.action + " {" + list + "} " + e.purpose + " " + e.details);
        ++by.auditRecords;
    }
    void recordSubjects(const Request& by, const AuditEntry& e, const std::vector<std::string>& subjects,
                        db::Connection&) override {
        recordSubjects(by, e, subjects);
        records.back() += " [tx]";
    }
};

using FakeContext = BasicFakeContext<FakeAudit>;

}  // namespace kbtest
