#include "store/GroupCommit.h"

#include "events/QueuedTime.h"
#include "store/Database.h"

#include <sqlite3.h>

#include <exception>

namespace klinikbox::store {

namespace {

// True while this thread is inside GroupCommit::write: a nested write would wait for its own
// batch to commit, so it fails at once instead.
thread_local bool tlWriting = false;

}  // namespace

struct GroupCommit::Request {
    Request(const std::string& o, const Fn& f) : owner(o), fn(f), coreDepth(Database::coreDepth()) {}
    enum class State { Queued, Lead, Done };

    const std::string& owner;
    const Fn& fn;
    // The caller's core privilege depth (Database::asCore), which its callback runs with on
    // whichever thread runs it.
    const int coreDepth;
    State state = State::Queued;  // guarded by mu_
    std::exception_ptr error;
    // The callback's failure ended the batch's transaction (SQLite rolls a transaction back
    // by itself after some storage errors): every request of the batch is lost with it.
    bool lost = false;
    // How long the leader's thread ran this request's callback: the caller's own work, which
    // its wait does not count as queued time.
    events::QueuedTime::Clock::duration ran{};
    std::condition_variable cv;
};

void GroupCommit::write(const std::string& owner, const Fn& fn) {
    using State = Request::State;
    if (tlWriting)
        throw db::Error(SQLITE_MISUSE, "Database::write inside another write on the same thread (owner " + owner +
                                           "): use the connection the outer write passed in");
    struct Writing {
        Writing() { tlWriting = true; }
        ~Writing() { tlWriting = false; }
        Writing(const Writing&) = delete;
        Writing& operator=(const Writing&) = delete;
    } writing;

    Request me(owner, fn);
    std::unique_lock lk(mu_);
    queue_.push_back(&me);
    if (!leading_) {
        leading_ = true;
        me.state = State::Lead;
    }
    for (;;) {
        switch (me.state) {
            case State::Lead:
                lead(lk, me);
                break;
            case State::Done:
                lk.unlock();
                if (me.error) std::rethrow_exception(me.error);
                return;
            case State::Queued: {
                // Waiting for the batch (other requests' callbacks, the commit) is load on the
                // box, not this caller's work; its own callback, which the leader ran meanwhile,
                // is.
                events::QueuedTime::Scope queued;
                me.cv.wait(lk, [&] { return me.state != State::Queued; });
                queued.exclude(me.ran);
                break;
            }
        }
    }
}

void GroupCommit::lead(std::unique_lock<std::mutex>& lk, Request& me) {
    using State = Request::State;
    // The leader is always the queue's head: the first writer, or the one handed leadership.
    queue_.pop_front();
    std::deque<Request*> batch{&me};
    Request* lost = nullptr;
    lk.unlock();
    const bool begun = begin(me);
    if (begun) {
        step(me);
        lk.lock();
        if (me.lost) lost = &me;
        // Requests that arrive while the batch runs join it.
        while (!lost && batch.size() < kMaxBatch && !queue_.empty()) {
            Request* r = queue_.front();
            queue_.pop_front();
            batch.push_back(r);
            lk.unlock();
            {
                // Running the others' callbacks is load on the box, not this caller's work.
                events::QueuedTime::Scope others;
                const auto t0 = events::QueuedTime::Clock::now();
                step(*r);
                r->ran = events::QueuedTime::Clock::now() - t0;
            }
            lk.lock();
            if (r->lost) lost = r;
        }
        lk.unlock();
        finish(batch, lost);  // the fsync runs without the lock: new requests keep queueing
    }
    lk.lock();
    if (begun) {
        ++stats_.batches;
        stats_.requests += batch.size();
        if (batch.size() > stats_.largestBatch) stats_.largestBatch = batch.size();
    }
    for (Request* r : batch) {
        r->state = State::Done;
        r->cv.notify_all();
    }
    if (queue_.empty()) {
        leading_ = false;
    } else {
        queue_.front()->state = State::Lead;
        queue_.front()->cv.notify_all();
    }
}

bool GroupCommit::begin(Request& me) {
    try {
        if (!conn_) conn_ = open_(&guard_);
        guard_ = OwnerGuard{"core", true, false};
        Database::asCore(*conn_, [&] { conn_->exec("BEGIN IMMEDIATE"); });
        return true;
    } catch (...) {
        me.error = std::current_exception();
        return false;
    }
}

void GroupCommit::step(Request& r) {
    db::Connection& c = *conn_;
    const std::string savepoint = std::string("SAVEPOINT ") + kSavepoint;
    const std::string release = std::string("RELEASE ") + kSavepoint;
    const std::string undo = std::string("ROLLBACK TO ") + kSavepoint + "; " + release;
    try {
        Database::asCore(c, [&] { c.exec(savepoint); });
    } catch (...) {
        r.error = std::current_exception();
        r.lost = true;
        return;
    }
    // The authorizer confines the callback to its owner's tables on this shared connection.
    guard_ = OwnerGuard{r.owner, r.owner == "core", true};
    {
        const Database::CoreDepthAs callers(r.coreDepth);
        try {
            r.fn(c);
        } catch (...) {
            r.error = std::current_exception();
        }
    }
    guard_ = OwnerGuard{"core", true, false};
    if (!c.inTransaction()) {
        r.lost = true;
        if (!r.error)
            r.error = std::make_exception_ptr(
                db::Error(SQLITE_MISUSE, "the write's callback ended its transaction; nothing of it was kept"));
        return;
    }
    try {
        Database::asCore(c, [&] { c.exec(r.error ? undo : release); });
    } catch (...) {
        // The request's changes can neither be kept nor undone alone: the batch goes with it.
        if (!r.error) r.error = std::current_exception();
        r.lost = true;
    }
}

void GroupCommit::finish(std::deque<Request*>& batch, Request* lost) {
    int code = SQLITE_ABORT;
    std::string why;
    bool failed = false;
    if (lost) {
        failed = true;
        why = "rolled back with its batch after another request's failure";
        try {
            if (lost->error) std::rethrow_exception(lost->error);
        } catch (const db::Error& e) {
            code = e.code();
            why += ": " + std::string(e.what());
        } catch (const std::exception& e) {
            why += ": " + std::string(e.what());
        } catch (...) {
        }
    } else {
        try {
            Database::asCore(*conn_, [&] { conn_->exec("COMMIT"); });
        } catch (const db::Error& e) {
            failed = true;
            code = e.code();
            why = std::string("the batch's COMMIT failed: ") + e.what();
        } catch (const std::exception& e) {
            failed = true;
            why = std::string("the batch's COMMIT failed: ") + e.what();
        }
    }
    if (!failed) return;
    // A failed COMMIT (disk full, I/O error) leaves the transaction open: nothing of the batch
    // may remain.
    try {
        if (conn_->inTransaction()) Database::asCore(*conn_, [&] { conn_->exec("ROLLBACK"); });
    } catch (...) {
    }
    // A connection whose transaction cannot be ended is not used again.
    if (conn_->inTransaction()) conn_.reset();
    for (Request* r : batch)
        if (!r->error) r->error = std::make_exception_ptr(db::Error(code, why));
}

GroupCommitStats GroupCommit::stats() const {
    std::lock_guard lk(mu_);
    return stats_;
}

std::size_t GroupCommit::queued() const {
    std::lock_guard lk(mu_);
    return queue_.size();
}

}  // namespace klinikbox::store
