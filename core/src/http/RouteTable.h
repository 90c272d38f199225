// All routes of the box: core routes and those plugins register, with the roles each needs.
#pragma once

#include <klinikbox/Http.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <vector>

namespace klinikbox::http {

struct Route {
    std::string owner;     // "core" or a plugin id
    std::string method;    // GET, POST, PUT, PATCH, DELETE
    std::string pattern;   // /api/v1/x/{id}
    std::vector<std::string> segments;
    Access access;
    Handler handler;
    RouteDoc doc;
    // The contract the dispatcher validates and the OpenAPI document publishes. Routes added
    // with a RouteDoc only get one without a body schema and with status 0 ("some 2xx").
    RouteSpec spec;
    bool csrfExempt = false;  // only for login itself and the unauthenticated kiosk
    long long maxBodyBytes = 0;  // 0: the server's limit (server.max_body_bytes)
    bool noBody = false;         // takes no body: any but {} is refused before the handler
    // Whether a query parameter the route does not declare is refused (400) rather than
    // ignored; a route that declares some always refuses others. See the Dispatcher.
    bool strictQuery = false;
};

struct Match {
    std::shared_ptr<const Route> route;
    std::map<std::string, std::string> params;
};

// Settings a core route may need beyond method, pattern, roles and handler.
struct RouteOptions {
    bool csrfExempt = false;
    long long maxBodyBytes = 0;
    bool noBody = false;  // a POST/PUT/PATCH that takes no body (logout, retry, activate)
};

class RouteTable {
public:
    // Throws std::invalid_argument on a malformed pattern or a duplicate method+pattern.
    void add(Route r);
    // A route of the box itself (owner "core"), documented under `tag`.
    void addCore(std::string tag, std::string method, std::string pattern, Access access, Handler handler,
                 std::string summary, RouteOptions options = {});
    // A route of the box itself with its full contract (spec.tag documents it).
    void addCore(std::string method, std::string pattern, Access access, Handler handler, RouteSpec spec,
                 RouteOptions options = {});
    void removeOwner(const std::string& owner);

    enum class Result { Found, NotFound, MethodNotAllowed };
    // Finds the route for a method and path. With MethodNotAllowed, `allowed` lists the
    // methods the path does have.
    Result match(const std::string& method, const std::string& path, Match& out,
                 std::vector<std::string>& allowed) const;

    [[nodiscard]] std::vector<std::shared_ptr<const Route>> all() const;
    // The 0-based segments of `path` that some route (any method) declares a secret path
    // parameter ({token}, {..._token}): they never reach a log.
    [[nodiscard]] std::set<std::size_t> secretSegments(const std::string& path) const;

private:
    mutable std::shared_mutex mu_;
    std::vector<std::shared_ptr<const Route>> routes_;
};

// The Router a plugin gets: patterns must lie under /api/v1/<plugin-id>/.
class PluginRouter final : public Router {
public:
    // Wraps every handler the plugin registers (the core's safety net around plugin code).
    using Wrapper = std::function<Handler(const std::string& method, const std::string& pattern, Handler)>;
    // `strictQuery`: the plugin's logged-in routes with a contract (RouteSpec) refuse query
    // parameters they do not declare, as the core's do. Native plugins declare every
    // parameter they read; a Lua route that declares none may read req.query itself, and
    // a route added with a RouteDoc cannot declare any, so those keep the old leniency.
    PluginRouter(RouteTable& table, std::string owner, Wrapper wrap = {}, bool strictQuery = false)
        : table_(table), owner_(std::move(owner)), wrap_(std::move(wrap)), strictQuery_(strictQuery) {}
    void add(std::string method, std::string pattern, Access access, Handler handler,
             RouteDoc doc = {}) override;
    void add(std::string method, std::string pattern, Access access, Handler handler, RouteSpec spec) override;

private:
    void addRoute(std::string method, std::string pattern, Access access, Handler handler, RouteDoc doc, RouteSpec spec,
                  bool strictQuery);
    RouteTable& table_;
    std::string owner_;
    Wrapper wrap_;
    bool strictQuery_ = false;
};

std::vector<std::string> splitPath(const std::string& path);

}  // namespace klinikbox::http
