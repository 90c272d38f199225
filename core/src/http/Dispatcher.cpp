#include "http/Dispatcher.h"

#include "http/LogRedaction.h"

#include <klinikbox/Db.h>
#include <klinikbox/Schema.h>

#include <Poco/URI.h>

#include <Poco/Logger.h>

#include <sqlite3.h>

#include <sstream>

namespace klinikbox::http {

Response Dispatcher::problemResponse(const Problem& p, const Request& req) {
    Response r = Response::json(p.toJson(req.path), p.status());
    r.contentType = "application/problem+json";
    return r;
}

namespace {
bool isStateChanging(const std::string& m) { return m == "POST" || m == "PUT" || m == "PATCH" || m == "DELETE"; }

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
}
// Whether a query parameter the route does not declare is refused rather than ignored: a
// client that sent `?status=open` to a list believes it was filtered. A route that declares
// its query parameters refuses others; the logged-in routes of the core and of native
// plugins (added with a RouteSpec) declare all they read, so they refuse any other (native
// plugins' since 2026-12-08). A Lua route that declares none (it may read req.query itself),
// a native route added with a RouteDoc (which cannot declare any) and anonymous routes
// (health checks, which monitors may decorate; patients' links, which mail filters may)
// keep their old leniency.
bool refusesUndeclaredQuery(const Route& route) {
    return !route.spec.query.empty() || route.strictQuery || (route.owner == "core" && !route.access.anonymous);
}

// The route's contract (RouteSpec): parameters and body must satisfy the schemas the OpenAPI
// document publishes, before the handler sees the request.
void checkContract(const Route& route, Request& req) {
    const RouteSpec& spec = route.spec;
    if (refusesUndeclaredQuery(route))
        for (const auto& [name, value] : req.query) {
            bool declared = false;
            for (const auto& p : spec.query) declared = declared || p.name == name;
            if (!declared)
                throw Problem(400, "/problems/unknown-parameter", "Unknown parameter",
                              "unknown query parameter '" + name + "'" +
                                  (spec.query.empty() ? std::string(": this resource takes none") : std::string()));
        }
    for (const auto& p : spec.path) {
        const auto it = req.pathParams.find(p.name);
        if (it != req.pathParams.end() && p.schema)
            if (auto problem = schema::checkParameter(p.schema, p.name, it->second)) throw *problem;
    }
    for (const auto& p : spec.query) {
        const auto v = req.queryParam(p.name);
        if (!v) {
            if (p.required)
                throw Problem(400, "/problems/invalid-parameter", "Invalid parameter", p.name + ": is required");
            continue;
        }
        if (p.schema)
            if (auto problem = schema::checkParameter(p.schema, p.name, *v)) throw *problem;
    }
    if (!spec.body) return;
    if (spec.bodyOptional && req.body.find_first_not_of(" \t\r\n") == std::string::npos) return;
    if (auto problem = schema::check(spec.body, Poco::Dynamic::Var(req.json()))) throw *problem;
}
}  // namespace

std::string Dispatcher::loggableTarget(const std::string& rawTarget) const {
    std::string path = rawTarget.substr(0, rawTarget.find('?'));
    std::set<std::size_t> secret;
    try {
        std::string decoded;
        Poco::URI::decode(path, decoded);
        // Segment numbers only line up when decoding added no '/' (%2F); else redact them all.
        if (splitPath(decoded).size() == splitPath(path).size()) {
            secret = routes_.secretSegments(decoded);
        } else {
            for (std::size_t i = 0; i < splitPath(path).size(); ++i) secret.insert(i);
        }
    } catch (const Poco::Exception&) {
    }
    return redactTarget(rawTarget, secret);
}

long long Dispatcher::bodyLimit(const std::string& method, const std::string& path, long long serverLimit) const {
    Match m;
    std::vector<std::string> allowed;
    if (routes_.match(method, path, m, allowed) == RouteTable::Result::Found && m.route->maxBodyBytes > 0)
        return m.route->maxBodyBytes;
    return serverLimit;
}

DispatchResult Dispatcher::dispatch(Request& req) {
    DispatchResult out;
    out.routePattern = "unmatched";
    try {
        Match m;
        std::vector<std::string> allowed;
        const auto res = routes_.match(req.method, req.path, m, allowed);
        // The producer listener serves service routes only, and only it serves them.
        const bool producer = req.peer.has_value();
        if ((res == RouteTable::Result::Found && m.route->access.serviceOnly != producer) ||
            (producer && res == RouteTable::Result::MethodNotAllowed))
            throw Problem(404, "/problems/not-found", "Not found", "no resource at " + req.path);
        if (res == RouteTable::Result::NotFound) {
            if (!producer && (req.method == "GET" || req.method == "HEAD") && req.path.rfind("/api/", 0) != 0 && static_) {
                if (auto r = static_(req)) {
                    out.routePattern = "static";
                    out.response = std::move(*r);
                    return out;
                }
            }
            throw Problem(404, "/problems/not-found", "Not found", "no resource at " + req.path);
        }
        if (res == RouteTable::Result::MethodNotAllowed) {
            Problem p(405, "/problems/method-not-allowed", "Method not allowed",
                      req.method + " is not allowed here; allowed: " + join(allowed));
            out.response = problemResponse(p, req);
            out.response.headers.emplace_back("Allow", join(allowed));
            return out;
        }
        const Route& route = *m.route;
        out.routePattern = route.pattern;
        req.pathParams = std::move(m.params);

        if (!route.access.anonymous) {
            std::optional<Principal> who = auth_ ? auth_->authenticate(req) : std::nullopt;
            if (!who) {
                if (onDenied_) onDenied_(req, 401, "not logged in");
                throw Problem(401, "/problems/unauthenticated", "Not logged in",
                              "log in to use " + route.pattern);
            }
            req.principal = who;
            if (!route.access.roles.empty() && !route.access.roles.count(who->role)) {
                if (onDenied_) onDenied_(req, 403, "role " + std::string(toString(who->role)) + " may not use " + route.pattern);
                throw Problem(403, "/problems/forbidden", "Forbidden",
                              "your role (" + std::string(toString(who->role)) + ") may not use this resource");
            }
            if (isStateChanging(req.method) && !route.csrfExempt && !auth_->csrfValid(req)) {
                if (onDenied_) onDenied_(req, 403, "missing or wrong CSRF token");
                throw Problem(403, "/problems/csrf", "CSRF token missing or invalid",
                              "send the X-CSRF-Token header you received at login");
            } 
        }
        // A query parameter given twice is refused, as a body member named twice is: the box
        // reads the first value, a proxy in front of it or `kb.request` in a Lua plugin's
        // tests the last, so what one checked another could act on differently.
        if (const auto twice = req.repeatedQueryParam())
            throw Problem(400, "/problems/duplicate-parameter", "Duplicate parameter",
                          "the query parameter '" + *twice + "' is given more than once");
        // A route that takes no body refuses one rather than ignore it (a client that sent
        // fields believes they had an effect).
        if (route.noBody || req.method == "GET" || req.method == "HEAD" || req.method == "DELETE") req.noBody();
        checkContract(route, req);
        out.response = route.handler(req);
    } catch (const Problem& p) {
        out.response = problemResponse(p, req);
    } catch (const std::invalid_argument& e) {
        // Handlers signal bad input they did not classify further this way.
        out.response = problemResponse(Problem(400, "/problems/invalid-request", "Invalid request", e.what()), req);
    } catch (const std::exception& e) {
        // The disk is full (or the storage fails): not the request's fault and not a bug, so
        // say so in Swedish where the console shows it (the transaction was rolled back).
        const auto* dbe = dynamic_cast<const db::Error*>(&e);
        const int primary = dbe ? (dbe->code() & 0xff) : 0;
        if (primary == SQLITE_FULL || primary == SQLITE_IOERR) {
            Poco::Logger::get("http").critical("request " + req.requestId + " " + req.method + " " +
                                               out.routePattern + " could not be saved: " + e.what());
            out.response = problemResponse(
                primary == SQLITE_FULL
                    ? Problem(507, "/problems/storage-full", "Lagringsutrymmet är fullt",
                              "Boxen kunde inte spara eftersom disken är full. Ingenting sparades. Kontakta IT-support.")
                    : Problem(503, "/problems/storage-error", "Lagringsfel",
                              "Boxen kunde inte läsa eller skriva sin databas (fel på disken). Ingenting sparades. "
                              "Kontakta IT-support."),
                req);
            return out;
        }
        Poco::Logger::get("http").error("request " + req.requestId + " " + req.method + " " + out.routePattern +
                                        " failed: " + e.what());
        out.response = problemResponse(
            Problem(500, "/problems/internal-error", "Internal error",
                    "the request failed inside the box; give request id " + req.requestId + " to your IT support"),
            req);
    }
    return out;
}

}  // namespace klinikbox::http
