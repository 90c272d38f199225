// Accounts in the running box: the session Authenticator, the login/logout/setup routes,
// user administration, and audit records for every login and account change.
#pragma once

#include "auth/Accounts.h"
#include "http/Dispatcher.h"
#include "server/Box.h"

#include <memory>

namespace klinikbox::auth {

class SessionAuthenticator final : public http::Authenticator {
public:
    explicit SessionAuthenticator(Accounts& a) : accounts_(a) {}
    std::optional<Principal> authenticate(const Request& req) override;
    bool csrfValid(const Request& req) override;

    // The value of the kb_session cookie, or empty.
    static std::string sessionToken(const Request& req);

private:
    Accounts& accounts_;
};

// The account options a box's configuration sets (sessions, lock-outs, the password hash's
// cost); the CLI's user commands hash with the same cost as the running box.
[[nodiscard]] AccountsOptions accountsOptions(const server::BoxConfig& cfg);

// Adds accounts to a box: call before Box::start(). The returned object lives as long as
// the box (it is owned by the module closure).
void install(server::Box& box);

}  // namespace klinikbox::auth
