// Group commit: the single writer of the database. Concurrent write requests are run in one
// SQLite transaction, each inside its own savepoint, and committed together, so one fsync
// covers many requests. A request is answered only after its batch's COMMIT is durable.
//
// Leader/follower: the first request to arrive when no batch is running becomes the leader.
// It opens the transaction and runs its own callback, then the callback of each queued
// request in turn, all on the leader's thread, while those callers wait. Handing the
// connection to each caller's thread instead cost two thread switches per request with the
// write lock held (docs/performance.md, "2026-12-07, evening"). What a callback needs from
// its caller's thread is carried over: the caller's core privilege depth (Database::asCore),
// and its running time, which the caller's QueuedTime does not count as queued.
// Requests that arrive while the batch runs join it, up to kMaxBatch. The leader commits,
// answers every request of the batch and hands leadership to the next queued request. A lone
// writer waits for nobody: no timer holds a batch open for company.
//
// A callback that throws rolls back its own savepoint and gets its exception; the others
// commit. A failed COMMIT rolls the whole batch back and every request in it fails with the
// commit's error. See docs/architecture.md ("The write path").
#pragma once

#include "store/OwnerGuard.h"

#include <klinikbox/Db.h>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace klinikbox::store {

struct GroupCommitStats {
    std::uint64_t batches = 0;       // COMMITs (or rolled back batches) so far
    std::uint64_t requests = 0;      // requests run in them
    std::uint64_t largestBatch = 0;  // most requests in one batch
};

class GroupCommit {
public:
    using Fn = std::function<void(db::Connection&)>;
    // Opens the writer's connection; the authorizer's user data must be `guard`.
    using Opener = std::function<std::unique_ptr<db::Connection>(OwnerGuard* guard)>;

    static constexpr std::size_t kMaxBatch = 64;
    // The savepoint that holds one request's changes; callbacks may not touch it.
    static constexpr const char* kSavepoint = "kb_request";

    explicit GroupCommit(Opener open) : open_(std::move(open)) {}
    GroupCommit(const GroupCommit&) = delete;
    GroupCommit& operator=(const GroupCommit&) = delete;

    // Runs fn for `owner` inside a batch; returns when the batch is durable, rethrows fn's
    // exception or the batch's commit error. A write inside a write on the same thread
    // throws db::Error (SQLITE_MISUSE) at once instead of waiting for itself.
    void write(const std::string& owner, const Fn& fn);

    [[nodiscard]] GroupCommitStats stats() const;
    // Requests waiting for a batch (not counting one whose callback is running). For tests
    // that need several requests queued before a batch starts.
    [[nodiscard]] std::size_t queued() const;

private:
    struct Request;
    void lead(std::unique_lock<std::mutex>& lk, Request& me);
    // Runs one request's callback in its savepoint, on the calling (the leader's) thread.
    void step(Request& r);
    bool begin(Request& me);
    void finish(std::deque<Request*>& batch, Request* lost);

    Opener open_;
    OwnerGuard guard_{"core", true, false};
    std::unique_ptr<db::Connection> conn_;  // used only by the thread whose request runs

    mutable std::mutex mu_;
    std::deque<Request*> queue_;
    bool leading_ = false;
    GroupCommitStats stats_;
};

}  // namespace klinikbox::store
