// The PDL audit log: every read and write of patient data, every login and every admin
// change. Append-only; each record carries HMAC-SHA256(key, previous hash + record), so an
// edit, a deletion or a reordering made directly in the database is detected by verify().
#pragma once

#include <klinikbox/Audit.h>
#include <klinikbox/Clock.h>

#include "store/Database.h"

#include <optional>
#include <string>

namespace klinikbox::audit {

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

    [[nodiscard]] VerifyResult verify() const;

    // Loads the key from `path`, creating a fresh random one (mode 0600) when missing.
    static std::string loadOrCreateKey(const std::string& path);
    static Actor actorOf(const Request& r);

private:
    void appendLocked(const Actor& who, const AuditEntry& e, db::Connection& tx);
    store::Database& db_;
    const Clock& clock_;
    std::string key_;
};

// The Audit a plugin sees: actions are prefixed with the plugin id.
class PluginAudit final : public Audit {
public:
    PluginAudit(AuditLog& log, std::string owner) : log_(log), owner_(std::move(owner)) {}
    void record(const Request& by, const AuditEntry& entry) override;
    void record(const Request& by, const AuditEntry& entry, db::Connection& tx) override;
    void recordSystem(const AuditEntry& entry) override;
    void recordSystem(const AuditEntry& entry, db::Connection& tx) override;

private:
    AuditEntry scoped(const AuditEntry& e) const;
    AuditLog& log_;
    std::string owner_;
};

}  // namespace klinikbox::audit
