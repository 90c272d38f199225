// What an owner may touch: the user data of a connection's SQLite authorizer.
#pragma once

#include <string>

namespace klinikbox::store {

// The core may touch everything; a plugin only its own tables ("<owner>_...").
struct OwnerGuard {
    std::string owner;  // "core" or a plugin id
    bool core = false;
    // Set on the group-commit connection while one request's callback runs: the callback
    // may not begin, commit or roll back the batch's transaction nor touch its request's
    // savepoint, whatever its privileges (store/GroupCommit.h).
    bool inRequest = false;
};

}  // namespace klinikbox::store
