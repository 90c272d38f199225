// The door of the first-run wizard (/api/v1/setup/* and /api/v1/auth/setup): no session
// exists yet, so each request carries the one-time setup token in its body. The gate refuses
// a foreign Origin (403), a caller that sent too many wrong tokens (429: `maxWrong` per
// `window` per address), every request once an account exists (409), and a wrong or
// expired token (401, counted).
#pragma once

#include "auth/Accounts.h"

#include <klinikbox/Clock.h>
#include <klinikbox/Http.h>

#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <string>

namespace klinikbox::auth {

class SetupGate {
public:
    struct Options {
        int maxWrong = 10;
        std::chrono::seconds window{15 * 60};
        std::size_t maxSources = 10000;  // beyond this, all new addresses share one bucket
    };
    SetupGate(Accounts& accounts, const Clock& clock, Options options) : accounts_(accounts), clock_(clock), options_(options) {}
    SetupGate(Accounts& accounts, const Clock& clock) : SetupGate(accounts, clock, Options{}) {}

    // Throws the Problem that refuses the request; returns when it may go on.
    void check(const Request& req, const std::string& token);

private:
    // Wrong tokens of `address` still inside the window (drops older ones).
    std::deque<std::chrono::system_clock::time_point>& recent(const std::string& address);

    Accounts& accounts_;
    const Clock& clock_;
    Options options_;
    std::mutex mu_;
    std::map<std::string, std::deque<std::chrono::system_clock::time_point>> wrong_;
};

// A state-changing request without a session must come from the box's own pages: 403 for a
// foreign Origin (login CSRF). Shared by login and the setup routes.
void checkSameOrigin(const Request& req);

}  // namespace klinikbox::auth
