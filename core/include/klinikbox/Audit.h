// The PDL audit log as plugins see it: append-only, hash-chained, written by the core.
#pragma once

#include <klinikbox/Db.h>
#include <klinikbox/Http.h>

#include <set>
#include <string>
#include <vector>

namespace klinikbox {

struct AuditEntry {
    std::string action;   // "<plugin-id>.<verb>", e.g. "booking.read", "booking.create"
    std::string patient;  // 12-digit personnummer (or reserve id) when patient data is touched
    std::string purpose;  // "vård" (care), "administration", "loggkontroll", ...
    std::string outcome = "ok";  // "ok", "denied", "failed"
    std::string details;  // short, never health information
};

class Audit {
public:
    virtual ~Audit() = default;
    // Records on behalf of the request's principal, in its own transaction.
    virtual void record(const Request& by, const AuditEntry& entry) = 0;
    // Records inside the caller's write transaction, so the record and the change commit
    // together.
    virtual void record(const Request& by, const AuditEntry& entry, db::Connection& tx) = 0;
    // Records an action of the box itself (workers, timers), in its own transaction.
    virtual void recordSystem(const AuditEntry& entry) = 0;
    // Records an action of the box itself inside the caller's write transaction (an event
    // handler's or timer's own transaction), so the record and the change commit together
    // and the call never waits for a second writer. Added after the others (API version 1
    // plugins keep their vtable); the default, for test doubles, records on its own.
    virtual void recordSystem(const AuditEntry& entry, db::Connection& tx) {
        (void)tx;
        recordSystem(entry);
    }
    // Records ONE view that showed several patients at once (a day's booking calendar, a
    // list): `subjects` are their personnummer (12 digits), `entry.patient` stays empty. The
    // record lists every subject, its keyed hash covers the list, and the review and each
    // patient's log extract find it under every subject. Duplicates are dropped; one subject
    // is an ordinary record; an empty list records nothing. In its own transaction. Added
    // after the others (API version 1 plugins keep their vtable); the default, for test
    // doubles, writes one record per subject.
    virtual void recordSubjects(const Request& by, const AuditEntry& entry, const std::vector<std::string>& subjects) {
        for (const auto& s : std::set<std::string>(subjects.begin(), subjects.end())) {
            AuditEntry e = entry;
            e.patient = s;
            record(by, e);
        }
    }
    // The same inside the caller's write transaction.
    virtual void recordSubjects(const Request& by, const AuditEntry& entry, const std::vector<std::string>& subjects,
                                db::Connection& tx) {
        for (const auto& s : std::set<std::string>(subjects.begin(), subjects.end())) {
            AuditEntry e = entry;
            e.patient = s;
            record(by, e, tx);
        }
    }
};

}  // namespace klinikbox
