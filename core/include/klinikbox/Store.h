// A plugin's access to the database: transactions on connections that can only touch
// the plugin's own tables (named <plugin-id>_...).
#pragma once

#include <klinikbox/Db.h>

#include <functional>

namespace klinikbox {

class Store {
public:
    virtual ~Store() = default;
    // Runs `fn` in one write transaction (BEGIN IMMEDIATE); commits when it returns,
    // rolls back when it throws (and rethrows). Outbox messages and audit records written
    // with the same connection commit or roll back with it. Concurrent writes share one
    // commit, and `fn` may run on another of the box's threads while the calling thread waits
    // for it: keep thread-local state and locks held by the caller out of `fn`.
    virtual void write(const std::function<void(db::Connection&)>& fn) = 0;
    // Runs `fn` in a read transaction that sees one consistent snapshot.
    virtual void read(const std::function<void(db::Connection&)>& fn) = 0;
};

}  // namespace klinikbox
