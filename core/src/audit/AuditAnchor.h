// The audit chain's anchor outside the database. The keyed head in kb_meta catches the
// deletion of the newest records, but not someone who wipes every record and the head, swaps
// the database file or restores an older backup: the database then holds a chain that is
// intact, only shorter or another one. So the newest anchored record's number and hash are
// also kept, keyed with the audit key, in `data_dir/audit.head` (0600, next to audit.key),
// and a signed checkpoint line goes to the log (journald or logging.file) every few minutes.
// The database's chain must contain the anchored record; checkpoints copied off the box
// (syslog forwarding, a log collector) can be checked the same way with
// `klinikbox audit verify --checkpoints FILE`.
#pragma once

#include "store/Database.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <istream>
#include <mutex>
#include <string>
#include <thread>

namespace klinikbox::audit {

struct AnchorCheck {
    bool ok = true;
    std::string problem;        // why the database does not match, when !ok
    long long anchoredSeq = 0;  // the record the anchor names (0: none yet)
    long long databaseSeq = 0;  // the newest record in the database
    int checkpoints = 0;        // checkpoint lines checked (checkCheckpoints)
    int unreadable = 0;         // lines that looked like checkpoints but whose MAC is wrong
};

class AuditAnchor {
public:
    // `key` is the audit key; `path` the anchor file (data_dir/audit.head).
    AuditAnchor(store::Database& db, std::string key, std::string path);
    ~AuditAnchor();
    AuditAnchor(const AuditAnchor&) = delete;
    AuditAnchor& operator=(const AuditAnchor&) = delete;

    // Compares the anchor with the database: the anchored record must be in the database's
    // chain with the anchored hash. A missing file is fine for a database never anchored (a
    // new box, or one upgraded from a version without anchors), not for one that was.
    [[nodiscard]] AnchorCheck check() const;
    // Moves the anchor to the database's committed head when the anchor still matches; when
    // it does not, leaves the file alone (the evidence), logs it once and returns false.
    bool advance();
    // Writes the anchor from the database's head, whatever it held before: the operator's
    // explicit re-anchoring after a deliberate restore (`klinikbox audit re-anchor`).
    void reset();
    // True once a mismatch was found: the anchor no longer moves until reset().
    [[nodiscard]] bool mismatched() const { return mismatched_.load(); }
    [[nodiscard]] std::string mismatch() const;

    // The signed checkpoint line of the database's head: "audit checkpoint seq=N hash=H mac=M".
    [[nodiscard]] std::string checkpointLine() const;
    // Checks every checkpoint line in `log` (other lines are ignored) against the database:
    // each checkpointed record must be there with its hash.
    [[nodiscard]] AnchorCheck checkCheckpoints(std::istream& log) const;

    // Background work for a running box: advance soon after notify() (coalesced), and log a
    // checkpoint every `checkpointEvery` when the head moved. stop() advances a last time.
    void start(std::chrono::milliseconds checkpointEvery = std::chrono::minutes(5));
    void notify();
    void stop();

private:
    struct Head {
        long long seq = 0;
        std::string hash;
    };
    [[nodiscard]] Head databaseHead() const;
    void write(const Head& h);
    void logCheckpoint();

    store::Database& db_;
    std::string key_;
    std::string path_;
    std::atomic<bool> mismatched_{false};
    mutable std::mutex mu_;  // the file, mismatch_ and the worker's state
    std::string mismatch_;
    std::condition_variable cv_;
    bool dirty_ = false;
    bool stopping_ = false;
    long long lastCheckpointSeq_ = -1;
    std::thread worker_;
};

}  // namespace klinikbox::audit
