// Turns a Request into a Response: routing, authentication, role checks, CSRF, and RFC 9457
// problem documents for every error. Independent of POCO's server so it can be unit-tested.
#pragma once

#include "http/RouteTable.h"

#include <klinikbox/Http.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace klinikbox::http {

// Resolves who is calling; implemented by the auth module (sessions).
class Authenticator {
public:
    virtual ~Authenticator() = default;
    // The logged-in user of the request, or nullopt.
    virtual std::optional<Principal> authenticate(const Request& req) = 0;
    // Whether a state-changing request carries the CSRF token of its session.
    virtual bool csrfValid(const Request& req) = 0;
};

// Called for every denied request (401/403) so the audit log sees refused access.
using DenialObserver = std::function<void(const Request&, int status, const std::string& why)>;

struct DispatchResult {
    Response response;
    std::string routePattern;  // for metrics; "unmatched" when no route
};

class Dispatcher {
public:
    explicit Dispatcher(RouteTable& routes) : routes_(routes) {}
    void setAuthenticator(Authenticator* a) { auth_ = a; }
    void setDenialObserver(DenialObserver o) { onDenied_ = std::move(o); }
    // Static files (the console) for GET requests outside /api/; nullopt = not found.
    using StaticHandler = std::function<std::optional<Response>(const Request&)>;
    void setStaticHandler(StaticHandler h) { static_ = std::move(h); }

    DispatchResult dispatch(Request& req);
    // The body limit of the route a request is for: its own, else `serverLimit`.
    [[nodiscard]] long long bodyLimit(const std::string& method, const std::string& path, long long serverLimit) const;

    static Response problemResponse(const Problem& p, const Request& req);
    // The raw request target as the access log may show it: secret path parameters and
    // token-shaped segments and query values redacted (see LogRedaction.h).
    [[nodiscard]] std::string loggableTarget(const std::string& rawTarget) const;
    // The logged-in user of a request to an anonymous route, if it carries a session.
    [[nodiscard]] std::optional<Principal> whoIs(const Request& req) const {
        return auth_ ? auth_->authenticate(req) : std::nullopt;
    }

private:
    RouteTable& routes_;
    Authenticator* auth_ = nullptr;
    DenialObserver onDenied_;
    StaticHandler static_;
};

}  // namespace klinikbox::http
