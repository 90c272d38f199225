// The PDL audit log: every read and write of patient data, every login and every admin
// change. Append-only; each record carries HMAC-SHA256(key, previous hash + record), so an
// edit, a deletion or a reordering made directly in the database is detected by verify().
#pragma once

#include <klinikbox/Audit.h>
#include <klinikbox/Clock.h>

#include "store/Database.h"

#include <optional>
#include <string>
#include <vector>

namespace klinikbox::audit {

class AuditAnchor;

// The hash before the first record, and the keyed hash every record and anchor uses.
inline constexpr const char* kGenesisHash = "0000000000000000000000000000000000000000000000000000000000000000";
[[nodiscard]] std::string hmacHex(const std::string& key, const std::string& data);

// Who did something, for records not tied to an HTTP request.
struct Actor {
    long long userId = 0;
    std::string username;  // "system" for the box itself
    std::string role;
    std::string hsaId;
    std::string careUnit;
    std::string requestId;
    std::string remoteAddr;
};

struct VerifyResult {
    bool ok = true;
    long long records = 0;
    long long firstBadSeq = 0;  // 0 when ok
    std::string problem;        // what is wrong at firstBadSeq
};

class AuditLog {
public:
    // `key` is the secret HMAC key (32 bytes), kept outside the database.
    AuditLog(store::Database& db, const Clock& clock, std::string key);

    // Appends in its own transaction.
    void append(const Actor& who, const AuditEntry& e);
    // Appends inside the caller's write transaction.
    void append(const Actor& who, const AuditEntry& e, db::Connection& tx);
    // Appends ONE record of a view that showed several patients (subjects, e.g. a day's
    // booking calendar), in its own transaction. The sorted, de-duplicated subject list is
    // part of the record's keyed hash and is written to kb_audit_subjects, the index through
    // which the review and the patient's log extract find every view of a patient. One
    // subject is an ordinary record (its patient field); none writes nothing. e.patient
    // must be empty.
    void appendSubjects(const Actor& who, const AuditEntry& e, std::vector<std::string> subjects);
    // The same inside the caller's write transaction.
    void appendSubjects(const Actor& who, const AuditEntry& e, std::vector<std::string> subjects, db::Connection& tx);

    // Checks the chain, the keyed head and, when an anchor is attached, that the database
    // still holds the record anchored outside it.
    [[nodiscard]] VerifyResult verify() const;

    // Attaches the anchor outside the database: told of every append, checked by verify().
    void setAnchor(AuditAnchor* anchor) { anchor_ = anchor; }

    // Loads the key from `path`, creating a fresh random one (mode 0600) when missing.
    static std::string loadOrCreateKey(const std::string& path);
    // Loads the key from `path`; throws when it is missing or truncated (never creates one).
    static std::string loadKey(const std::string& path);
    // The key of a box's database: loaded, or created only while its audit log is empty (a new
    // box). A missing key with records present throws: a new key would break the chain.
    static std::string loadOrCreateKeyFor(store::Database& db, const std::string& path);
    static Actor actorOf(const Request& r);

private:
    void appendLocked(const Actor& who, const AuditEntry& e, db::Connection& tx,
                      const std::vector<std::string>* subjects = nullptr);
    // The first record written in the canonical form that tells NULL from 0 (format 2).
    [[nodiscard]] long long format2From(db::Connection& c, long long nextSeq);
    store::Database& db_;
    const Clock& clock_;
    std::string key_;
    AuditAnchor* anchor_ = nullptr;
};

// The Audit a plugin sees: actions are prefixed with the plugin id.
class PluginAudit final : public Audit {
public:
    PluginAudit(AuditLog& log, std::string owner) : log_(log), owner_(std::move(owner)) {}
    void record(const Request& by, const AuditEntry& entry) override;
    void record(const Request& by, const AuditEntry& entry, db::Connection& tx) override;
    void recordSystem(const AuditEntry& entry) override;
    void recordSystem(const AuditEntry& entry, db::Connection& tx) override;
    void recordSubjects(const Request& by, const AuditEntry& entry, const std::vector<std::string>& subjects) override;
    void recordSubjects(const Request& by, const AuditEntry& entry, const std::vector<std::string>& subjects,
                        db::Connection& tx) override;

private:
    AuditEntry scoped(const AuditEntry& e) const;
    AuditLog& log_;
    std::string owner_;
};

}  // namespace klinikbox::audit
