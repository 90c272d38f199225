#include "outbox/OutboxService.h"

#include <Poco/JSON/Object.h>
#include <Poco/Logger.h>

#include <algorithm>
#include <random>
#include <stdexcept>

namespace klinikbox::outbox {

struct OutboxService::Shared {
    std::mutex mu;
    std::condition_variable cv;
    bool stopping = false;
    int running = 0;  // worker threads still inside their loop
    std::map<std::string, Deliverer> channels;
};

namespace {
long long nowMs(const Clock& c) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(c.now().time_since_epoch()).count();
}
}  // namespace

OutboxService::OutboxService(store::Database& db, const Clock& clock, OutboxOptions options)
    : db_(db), clock_(clock), options_(options), shared_(std::make_shared<Shared>()) {}

OutboxService::~OutboxService() { stop(); }

long long OutboxService::enqueue(const std::string& owner, db::Connection& tx,
                                 const OutboundMessage& m) {
    if (m.channel.empty()) throw std::invalid_argument("an outbound message needs a channel");
    if (m.idempotencyKey.empty()) throw std::invalid_argument("an outbound message needs an idempotency key");
    if (!tx.inTransaction()) {
        throw std::logic_error("Outbox::enqueue must be called inside Store::write");
    }
    long long id = 0;
    store::Database::asCore(tx, [&] {
        const long long now = nowMs(clock_);
        const long long due = std::max(
            now, static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                            m.notBefore.time_since_epoch()).count()));
        auto ins = tx.prepare(
            "INSERT INTO kb_outbox(owner, channel, idempotency_key, payload, next_attempt_at, created_at, updated_at)"
            " VALUES(?,?,?,?,?,?,?) ON CONFLICT(channel, idempotency_key) DO NOTHING");
        ins.bind(1, owner).bind(2, m.channel).bind(3, m.idempotencyKey).bind(4, m.payload)
            .bind(5, due).bind(6, now).bind(7, now);
        ins.exec();
        auto sel = tx.prepare("SELECT id FROM kb_outbox WHERE channel=? AND idempotency_key=?");
        sel.bind(1, m.channel).bind(2, m.idempotencyKey);
        if (sel.step()) id = sel.getInt(0);
    });
    return id;
}

long long OutboxService::enqueueDead(const std::string& owner, db::Connection& tx, const OutboundMessage& m,
                                     const std::string& why) {
    const long long id = enqueue(owner, tx, m);
    store::Database::asCore(tx, [&] {
        auto st = tx.prepare("UPDATE kb_outbox SET state='dead', last_error=?, updated_at=? WHERE id=? AND state='pending' AND attempts=0");
        st.bind(1, why).bind(2, nowMs(clock_)).bind(3, id).exec();
    });
    return id;
}

void OutboxService::registerChannel(const std::string& channel, Deliverer d) {
    std::lock_guard lock(shared_->mu);
    shared_->channels[channel] = std::move(d);
}

void OutboxService::unregisterByPrefix(const std::string& prefix) {
    std::lock_guard lock(shared_->mu);
    for (auto it = shared_->channels.begin(); it != shared_->channels.end();) {
        if (it->first.rfind(prefix, 0) == 0)
            it = shared_->channels.erase(it);
        else
            ++it;
    }
}

long long OutboxService::backoffMs(int attempts) const {
    long long d = options_.baseDelayMs;
    for (int i = 1; i < attempts && d < options_.maxDelayMs; ++i) d *= 2;
    return std::min(d, options_.maxDelayMs);
}

bool OutboxService::deliverOne() {
    QueuedMessage msg;
    bool found = false;
    const long long now = nowMs(clock_);
    db_.write("core", [&](db::Connection& c) {
        auto st = c.prepare(
            "UPDATE kb_outbox SET state='delivering', attempts=attempts+1, updated_at=?1"
            " WHERE id = (SELECT id FROM kb_outbox WHERE state='pending' AND next_attempt_at<=?1"
            "             ORDER BY next_attempt_at, id LIMIT 1)"
            " RETURNING id, channel, payload, idempotency_key, attempts");
        st.bind(1, now);
        if (st.step()) {
            found = true;
            msg.id = st.getInt(0);
            msg.channel = st.getText(1);
            msg.payload = st.getText(2);
            msg.idempotencyKey = st.getText(3);
            msg.attempt = static_cast<int>(st.getInt(4));
        }
    });
    if (!found) return false;

    Deliverer d;
    {
        std::lock_guard lock(shared_->mu);
        auto it = shared_->channels.find(msg.channel);
        if (it != shared_->channels.end()) d = it->second;
    }
    DeliveryResult r;
    if (!d) {
        r = DeliveryResult::retry("no deliverer registered for channel " + msg.channel +
                                  " (is its plugin running?)");
    } else {
        try {
            r = d(msg);
        } catch (const std::exception& e) {
            r = DeliveryResult::retry(std::string("deliverer threw: ") + e.what());
        } catch (...) {
            r = DeliveryResult::retry("deliverer threw an unknown exception");
        }
    }

    const long long done = nowMs(clock_);
    db_.write("core", [&](db::Connection& c) {
        if (r.kind == DeliveryResult::Kind::Delivered) {
            // A delivered payload is no longer needed and may carry patients' links and tokens
            // (invitation SMS): only the row (idempotency key, times) stays.
            auto st = c.prepare("UPDATE kb_outbox SET state='delivered', payload='', delivered_at=?, updated_at=?, last_error=NULL WHERE id=?");
            st.bind(1, done).bind(2, done).bind(3, msg.id).exec();
        } else if (r.kind == DeliveryResult::Kind::Failed || msg.attempt >= options_.maxAttempts) {
            auto st = c.prepare("UPDATE kb_outbox SET state='dead', updated_at=?, last_error=? WHERE id=?");
            st.bind(1, done).bind(2, r.detail).bind(3, msg.id).exec();
            Poco::Logger::get("outbox").warning("message " + std::to_string(msg.id) + " on " + msg.channel +
                                                " is dead after " + std::to_string(msg.attempt) +
                                                " attempts: " + r.detail);
        } else {
            // Full jitter over the second half of the delay keeps retries of many messages apart.
            const long long base = backoffMs(msg.attempt);
            static thread_local std::mt19937_64 rng{std::random_device{}()};
            const long long jitter = std::uniform_int_distribution<long long>(0, base / 2)(rng);
            auto st = c.prepare("UPDATE kb_outbox SET state='pending', next_attempt_at=?, updated_at=?, last_error=? WHERE id=?");
            st.bind(1, done + base / 2 + jitter).bind(2, done).bind(3, r.detail).bind(4, msg.id).exec();
        }
    });
    return true;
}

int OutboxService::deliverDue() {
    int n = 0;
    while (deliverOne()) ++n;
    return n;
}

void OutboxService::start() {
    db_.write("core", [&](db::Connection& c) {
        c.exec("UPDATE kb_outbox SET state='pending' WHERE state='delivering'");
        // Messages delivered by a version that kept their payloads.
        c.exec("UPDATE kb_outbox SET payload='' WHERE state='delivered' AND payload<>''");
    });
    {
        std::lock_guard lock(shared_->mu);
        shared_->stopping = false;
    }
    for (int i = 0; i < options_.workers; ++i) {
        auto shared = shared_;
        {
            std::lock_guard lock(shared->mu);
            ++shared->running;
        }
        threads_.emplace_back([this, shared] {
            for (;;) {
                {
                    std::lock_guard lock(shared->mu);
                    if (shared->stopping) break;
                }
                bool worked = false;
                try {
                    worked = deliverOne();
                } catch (const std::exception& e) {
                    Poco::Logger::get("outbox").error(std::string("outbox worker: ") + e.what());
                }
                if (!worked) {
                    std::unique_lock lock(shared->mu);
                    shared->cv.wait_for(lock, std::chrono::milliseconds(options_.pollIntervalMs),
                                        [&] { return shared->stopping; });
                }
            }
            std::lock_guard lock(shared->mu);
            --shared->running;
            shared->cv.notify_all();
        });
    }
}

void OutboxService::stop() {
    {
        std::unique_lock lock(shared_->mu);
        shared_->stopping = true;
        shared_->cv.notify_all();
        // Never wait on a hung peer for longer than the configured time.
        shared_->cv.wait_for(lock, std::chrono::milliseconds(options_.stopWaitMs),
                             [&] { return shared_->running == 0; });
    }
    bool allDone;
    {
        std::lock_guard lock(shared_->mu);
        allDone = shared_->running == 0;
    }
    for (auto& t : threads_) {
        if (!t.joinable()) continue;
        if (allDone) {
            t.join();
        } else {
            // A deliverer is stuck in I/O past its own timeout; the process is ending, so
            // leave the thread: its message stays 'delivering' and is retried after restart.
            t.detach();
        }
    }
    threads_.clear();
}

int OutboxService::workersRunning() const {
    std::lock_guard lock(shared_->mu);
    return shared_->running;
}

Poco::JSON::Array::Ptr OutboxService::list(const std::string& state, int limit) const {
    Poco::JSON::Array::Ptr arr = new Poco::JSON::Array;
    db_.read("core", [&](db::Connection& c) {
        auto st = c.prepare(
            "SELECT id, owner, channel, idempotency_key, state, attempts, next_attempt_at, last_error,"
            " created_at, updated_at, delivered_at FROM kb_outbox WHERE (?1='' OR state=?1)"
            " ORDER BY id DESC LIMIT ?2");
        st.bind(1, state).bind(2, limit);
        while (st.step()) {
            Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
            o->set("id", st.getInt(0));
            o->set("owner", st.getText(1));
            o->set("channel", st.getText(2));
            o->set("idempotency_key", st.getText(3));
            o->set("state", st.getText(4));
            o->set("attempts", st.getInt(5));
            o->set("next_attempt_at", st.getInt(6));
            o->set("last_error", st.isNull(7) ? Poco::Dynamic::Var() : Poco::Dynamic::Var(st.getText(7)));
            o->set("created_at", st.getInt(8));
            o->set("updated_at", st.getInt(9));
            o->set("delivered_at", st.isNull(10) ? Poco::Dynamic::Var() : Poco::Dynamic::Var(st.getInt(10)));
            arr->add(o);
        }
    });
    return arr;
}

bool OutboxService::retry(long long id) {
    bool changed = false;
    db_.write("core", [&](db::Connection& c) {
        auto st = c.prepare("UPDATE kb_outbox SET state='pending', next_attempt_at=?, attempts=0, updated_at=? WHERE id=? AND state IN ('dead','pending')");
        const long long now = nowMs(clock_);
        st.bind(1, now).bind(2, now).bind(3, id).exec();
        changed = c.changes() > 0;
    });
    if (changed) shared_->cv.notify_all();
    return changed;
}

bool OutboxService::discard(long long id) {
    bool changed = false;
    db_.write("core", [&](db::Connection& c) {
        auto st = c.prepare("DELETE FROM kb_outbox WHERE id=? AND state IN ('dead','pending')");
        st.bind(1, id).exec();
        changed = c.changes() > 0;
    });
    return changed;
}

OutboxCounts OutboxService::counts() const {
    OutboxCounts out;
    db_.read("core", [&](db::Connection& c) {
        auto st = c.prepare("SELECT state, COUNT(*) FROM kb_outbox GROUP BY state");
        while (st.step()) {
            const auto s = st.getText(0);
            const auto n = st.getInt(1);
            if (s == "pending") out.pending = n;
            else if (s == "delivering") out.delivering = n;
            else if (s == "delivered") out.delivered = n;
            else if (s == "dead") out.dead = n;
        }
    });
    return out;
}

void PluginOutbox::checkChannel(const std::string& channel) const {
    if (channel.rfind(owner_ + ".", 0) != 0 || channel.size() <= owner_.size() + 1) {
        throw std::invalid_argument("plugin " + owner_ + " may only use outbox channels named " +
                                    owner_ + ".<name>, not " + channel);
    }
}

long long PluginOutbox::enqueue(db::Connection& tx, const OutboundMessage& message) {
    checkChannel(message.channel);
    return svc_.enqueue(owner_, tx, message);
}

void PluginOutbox::registerChannel(const std::string& channel, Deliverer deliverer) {
    checkChannel(channel);
    svc_.registerChannel(channel, std::move(deliverer));
}

}  // namespace klinikbox::outbox
