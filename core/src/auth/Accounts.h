// Staff accounts, logins with throttling, and sessions.
#pragma once

#include <klinikbox/Clock.h>
#include <klinikbox/Http.h>

#include "auth/Passwords.h"
#include "store/Database.h"

#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace klinikbox::auth {

struct User {
    long long id = 0;
    std::string username, displayName;
    Role role = Role::Staff;
    std::string hsaId, careUnit;
    bool disabled = false;
    long long createdAt = 0;
};

struct AccountsOptions {
    int idleMinutes = 30;
    int absoluteHours = 10;
    int maxFailures = 5;          // per account name, then locked for lockoutMinutes
    int lockoutMinutes = 15;
    int addressMaxFailures = 20;  // per client address within lockoutMinutes
    // The cost of new hashes (security.password_hash_log2n); a login re-hashes a password
    // stored with less, and an unknown account name is checked against a hash of this cost.
    ScryptParams passwordHash;
};

struct NewUser {
    std::string username, displayName;
    Role role = Role::Staff;
    std::string hsaId, careUnit;
    std::string password;
};

struct LoginOutcome {
    bool ok = false;
    std::string message;  // Swedish, never says whether the account exists
    std::optional<User> user;
    std::string token, csrf;
};

struct SessionInfo {
    Principal principal;
    std::string csrf;
    long long createdAt = 0, lastSeen = 0;
};

class Accounts {
public:
    Accounts(store::Database& db, const Clock& clock, AccountsOptions options);

    // Throws std::invalid_argument with a Swedish message for invalid input.
    User create(const NewUser& u);
    void setPassword(long long userId, const std::string& password);
    void setDisabled(long long userId, bool disabled);  // disabling ends the user's sessions
    void update(long long userId, Role role, const std::string& displayName, const std::string& hsaId,
                const std::string& careUnit);
    [[nodiscard]] std::optional<User> find(const std::string& username) const;
    [[nodiscard]] std::optional<User> get(long long id) const;
    [[nodiscard]] std::vector<User> list() const;
    [[nodiscard]] long long count() const;

    LoginOutcome login(const std::string& username, const std::string& password, const std::string& remoteAddr);
    // The session of a token, renewing its idle timer; nullopt when unknown or expired.
    std::optional<SessionInfo> session(const std::string& token);
    void logout(const std::string& token);
    int logoutEverywhere(long long userId);

    // One-time link for creating the first admin. Returns the token (only its hash is stored).
    std::string createSetupToken(int validHours);
    // True while `token` is the current setup token and has not expired.
    [[nodiscard]] bool setupTokenValid(const std::string& token) const;
    // Creates the first admin if the token is valid and no user exists yet.
    User completeSetup(const std::string& token, const NewUser& admin);

    [[nodiscard]] const AccountsOptions& options() const { return options_; }

private:
    long long nowMs() const;
    // What a login for an account name that does not exist is checked against, so it takes
    // as long as a real account's: a hash of a random password, at options_.passwordHash's
    // cost, made at the first such login.
    const std::string& decoyHash();
    store::Database& db_;
    const Clock& clock_;
    AccountsOptions options_;
    std::once_flag decoyOnce_;
    std::string decoyHash_;
};

// Validation of account fields; empty when fine, else a Swedish message.
std::string usernameProblem(const std::string& username);

}  // namespace klinikbox::auth
