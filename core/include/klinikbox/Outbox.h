// The durable queue for every call to an outside service. A message is written in the
// same transaction as the change that causes it and delivered later by a worker with
// exponential backoff, so nothing is lost when the peer is down or the box is killed.
#pragma once

#include <klinikbox/Db.h>

#include <chrono>
#include <functional>
#include <string>

namespace klinikbox {

struct OutboundMessage {
    std::string channel;         // "<plugin-id>.<name>", registered with registerChannel
    std::string payload;         // usually JSON text; never logged
    std::string idempotencyKey;  // unique per channel; a second enqueue with it is a no-op
    // Not delivered before this time (the box's clock); the default means "now". Used for
    // reminders: the message survives restarts and goes out when it is due.
    std::chrono::system_clock::time_point notBefore{};
};

// What a deliverer sees of a queued message.
struct QueuedMessage {
    long long id = 0;
    std::string channel;
    std::string payload;
    std::string idempotencyKey;
    int attempt = 1;  // 1 for the first delivery attempt
};

struct DeliveryResult {
    enum class Kind { Delivered, Retry, Failed };
    Kind kind = Kind::Delivered;
    std::string detail;  // why it must be retried or failed; shown in the console
    static DeliveryResult delivered(std::string d = {}) { return {Kind::Delivered, std::move(d)}; }
    static DeliveryResult retry(std::string why) { return {Kind::Retry, std::move(why)}; }
    // Permanent failure: goes straight to the dead letters.
    static DeliveryResult failed(std::string why) { return {Kind::Failed, std::move(why)}; }
};

// Delivers one message. Must bound its own I/O with timeouts; an exception counts as Retry.
using Deliverer = std::function<DeliveryResult(const QueuedMessage&)>;

class Outbox {
public:
    virtual ~Outbox() = default;
    // Queues a message inside the caller's write transaction (Store::write). Returns the
    // message id; with an idempotency key already queued, returns the existing id.
    virtual long long enqueue(db::Connection& tx, const OutboundMessage& message) = 0;
    // Registers the deliverer for a channel this plugin owns.
    virtual void registerChannel(const std::string& channel, Deliverer deliverer) = 0;
};

}  // namespace klinikbox
