#include "auth/SetupGate.h"

#include <klinikbox/Problem.h>

namespace klinikbox::auth {

void checkSameOrigin(const Request& req) {
    const auto origin = req.header("origin");
    if (origin.empty() || origin == "null") return;
    const auto host = req.header("host");
    const auto pos = origin.find("://");
    if (pos == std::string::npos || origin.substr(pos + 3) != host)
        throw Problem(403, "/problems/foreign-origin", "Foreign origin", "this request must come from the box's own pages");
}

std::deque<std::chrono::system_clock::time_point>& SetupGate::recent(const std::string& address) {
    const auto now = clock_.now();
    static const std::string kShared(1, '*');  // the bucket of new addresses once the map is full
    const bool shared = !wrong_.count(address) && wrong_.size() >= options_.maxSources;
    auto& q = wrong_[shared ? kShared : address];
    while (!q.empty() && now - q.front() >= options_.window) q.pop_front();
    return q;
}

void SetupGate::check(const Request& req, const std::string& token) {
    checkSameOrigin(req);
    {
        std::lock_guard lock(mu_);
        if (static_cast<int>(recent(req.remoteAddress).size()) >= options_.maxWrong)
            throw Problem(429, "/problems/setup-throttled", "Too many wrong setup links",
                          "För många försök med en felaktig länk. Vänta en kvart och försök igen.");
    }
    if (accounts_.count() > 0)
        throw Problem::conflict("/problems/setup-done",
                                "Det finns redan ett administratörskonto. Logga in i konsolen i stället.");
    if (!accounts_.setupTokenValid(token)) {
        std::lock_guard lock(mu_);
        recent(req.remoteAddress).push_back(clock_.now());
        throw Problem(401, "/problems/setup-token-invalid", "Invalid setup link",
                      "Länken är ogiltig eller har gått ut. Skapa en ny med: klinikbox setup-link --host NAMN");
    }
}

}  // namespace klinikbox::auth
