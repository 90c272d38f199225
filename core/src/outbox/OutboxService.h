// Delivers queued outbound messages: workers claim due messages, call the channel's
// deliverer, and record success, a retry with exponential backoff and jitter, or a dead
// letter after the last attempt. At-least-once: a message claimed when the box died is
// delivered again after restart, with the same idempotency key.
#pragma once

#include <klinikbox/Clock.h>
#include <klinikbox/Outbox.h>

#include "store/Database.h"

#include <Poco/JSON/Array.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace klinikbox::outbox {

struct OutboxOptions {
    int workers = 2;
    int maxAttempts = 12;
    long long baseDelayMs = 1000;
    long long maxDelayMs = 3600000;
    long long pollIntervalMs = 500;
    long long stopWaitMs = 5000;  // stop waits this long for a delivery in progress, no longer
};

struct OutboxCounts {
    long long pending = 0, delivering = 0, delivered = 0, dead = 0;
};

class OutboxService {
public:
    OutboxService(store::Database& db, const Clock& clock, OutboxOptions options);
    ~OutboxService();

    // Queues a message of `owner` inside the caller's transaction.
    long long enqueue(const std::string& owner, db::Connection& tx, const OutboundMessage& m);
    // Queues a message straight into the dead letters with the reason (a Lua script's send
    // the box refused): nothing is lost, and an admin's retry sends it once the channel
    // exists. Same idempotency rule as enqueue.
    long long enqueueDead(const std::string& owner, db::Connection& tx, const OutboundMessage& m, const std::string& why);
    void registerChannel(const std::string& channel, Deliverer d);
    void unregisterByPrefix(const std::string& prefix);

    // Resets messages left 'delivering' by a crash, then starts the workers.
    void start();
    // Stops taking messages; waits for deliveries in progress at most stopWaitMs.
    void stop();
    // Worker threads still inside their loop; after a stop that left a hung delivery behind,
    // the detached ones until they finish (the service must outlive them).
    [[nodiscard]] int workersRunning() const;

    // Runs one pass over due messages on the calling thread (tests, `outbox run`).
    int deliverDue();

    // Admin operations (console and API).
    [[nodiscard]] Poco::JSON::Array::Ptr list(const std::string& state, int limit) const;
    bool retry(long long id);    // dead or pending -> pending now
    bool discard(long long id);  // dead or pending -> removed
    [[nodiscard]] OutboxCounts counts() const;

    // The delay before attempt n+1 after n failed attempts (without jitter), exposed for tests.
    [[nodiscard]] long long backoffMs(int attempts) const;

private:
    struct Shared;
    bool deliverOne();
    store::Database& db_;
    const Clock& clock_;
    OutboxOptions options_;
    std::shared_ptr<Shared> shared_;
    std::vector<std::thread> threads_;
};

// The Outbox a plugin sees: its messages are tagged with its id, and it may only use
// channels named "<plugin-id>." ....
class PluginOutbox final : public Outbox {
public:
    PluginOutbox(OutboxService& svc, std::string owner) : svc_(svc), owner_(std::move(owner)) {}
    long long enqueue(db::Connection& tx, const OutboundMessage& message) override;
    void registerChannel(const std::string& channel, Deliverer deliverer) override;

private:
    void checkChannel(const std::string& channel) const;
    OutboxService& svc_;
    std::string owner_;
};

}  // namespace klinikbox::outbox
