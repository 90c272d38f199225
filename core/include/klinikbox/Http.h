// What a route handler sees and returns. Plugins never touch POCO's server classes.
#pragma once

#include <klinikbox/Problem.h>

#include <Poco/JSON/Object.h>

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace klinikbox {

// The roles a staff account can hold. `Kiosk` is the unauthenticated check-in terminal
// and `Anonymous` anyone at all; routes open to them say so explicitly.
enum class Role { Admin, Staff, Auditor, It };
[[nodiscard]] std::string_view toString(Role r);
[[nodiscard]] std::optional<Role> roleFromString(std::string_view s);

// JSON text as the box reads a request body: Poco's parser, and a member named twice in one
// object is a Problem (400 /problems/duplicate-field) instead of the last value winning.
// Throws Poco::Exception for text that is not JSON. kb.json.decode reads the same way.
[[nodiscard]] Poco::Dynamic::Var parseJsonUnique(const std::string& text);

// The authenticated caller of a request.
struct Principal {
    long long userId = 0;
    std::string username;
    Role role = Role::Staff;
    std::string hsaId;     // may be empty
    std::string careUnit;  // HSA-id of the care unit the user works for, may be empty
};

// The verified client certificate of a request on the producer listener (mutual TLS).
struct PeerCertificate {
    std::string subject;  // the full subject name, e.g. "/C=SE/O=Region/CN=..."
    std::string hsaId;    // the subject's serialNumber, else its CN when that is an HSA-id
};

struct Request {
    std::string method;
    std::string path;                               // without query string
    std::map<std::string, std::string> pathParams;  // from {name} segments
    std::multimap<std::string, std::string> query;
    std::map<std::string, std::string> headers;     // lower-case names
    std::string body;
    std::string requestId;
    std::string remoteAddress;
    std::optional<Principal> principal;  // set when the route requires a role
    // Set only on the producer listener, whose TLS handshake already verified the client
    // certificate against the configured CA bundle. Routes with Access::service() see it.
    std::optional<PeerCertificate> peer;
    // Audit records written for this request (counted by the SDK's Audit). For plugins
    // that declare patient data, the core logs requests whose handler wrote none.
    mutable int auditRecords = 0;

    [[nodiscard]] std::optional<std::string> queryParam(const std::string& name) const;
    // The name of a query parameter given more than once, if any: the dispatcher refuses such
    // a request (400 /problems/duplicate-parameter), since readers disagree on which value
    // counts (queryParam reads the first).
    [[nodiscard]] std::optional<std::string> repeatedQueryParam() const;
    [[nodiscard]] std::string header(const std::string& lowerName) const;
    // A path parameter that must be a whole number in [min, max]; anything else is a 400
    // problem naming the parameter.
    [[nodiscard]] long long intParam(const std::string& name, long long min = 1,
                                     long long max = 9'000'000'000'000'000'000LL) const;
    // The same for a query parameter; `def` when it is absent.
    [[nodiscard]] long long intQuery(const std::string& name, long long def, long long min, long long max) const;
    // Parses the body as a JSON object; throws Problem 400 /problems/malformed-json,
    // 400 /problems/duplicate-field when one object names a member twice (parsers disagree on
    // which value counts), or 415 when the content type is not JSON.
    [[nodiscard]] Poco::JSON::Object::Ptr json() const;
    // For a route that takes no body: accepts none (or an empty JSON object `{}`, which
    // browsers' helpers send), refuses anything else with 400 (malformed JSON, unknown or
    // duplicate field).
    // The dispatcher applies it to every GET, HEAD and DELETE and to core routes declared
    // without a body; a plugin's POST route that takes none calls it first.
    void noBody() const;
};

struct Response {
    int status = 200;
    std::string contentType = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;

    static Response json(const Poco::JSON::Object::Ptr& obj, int status = 200);
    static Response json(const Poco::JSON::Array::Ptr& arr, int status = 200);
    static Response text(std::string body, std::string contentType, int status = 200);
    static Response noContent();
};

using Handler = std::function<Response(Request&)>;

// Who may call a route. An empty role set with `anonymous` false means any logged-in user.
struct Access {
    std::set<Role> roles;
    bool anonymous = false;  // no login needed (health checks, kiosk, login itself)
    // A machine-to-machine service (e.g. a RIV-TA producer): served only on the producer
    // listener, where the client certificate authenticates the caller; the normal listener
    // answers 404 for it, and the producer listener answers 404 for every other route.
    bool serviceOnly = false;
    static Access anyone() { return Access{{}, true}; }
    static Access loggedIn() { return Access{{}, false}; }
    static Access only(std::set<Role> r) { return Access{std::move(r), false}; }
    static Access service() { return Access{{}, true, true}; }
};

// Documentation of a route for the generated OpenAPI document.
struct RouteDoc {
    std::string summary;
    std::string tag;
    Poco::JSON::Object::Ptr requestSchema;   // JSON Schema of the body, may be null
    Poco::JSON::Object::Ptr responseSchema;  // JSON Schema of a 2xx body, may be null
};

// A query or path parameter of a route: its JSON Schema (klinikbox/Schema.h) and whether it
// must be present. Integer and boolean schemas are parsed from the text first.
struct ParamSpec {
    std::string name{};
    Poco::JSON::Object::Ptr schema{}; // null: any string
    bool required = false;
    std::string description{};
};

// The full contract of a route: RouteDoc's text plus what the router enforces and the OpenAPI
// document publishes from the same objects (one source of truth):
// - `body`: the JSON Schema of the request body. The router refuses a body that does not
//   satisfy it with a 400 problem before the handler runs (415 when it is not JSON).
// - `query`, `path`: the parameters, validated the same way (a missing required query
//   parameter, a path id that is not a number where an integer is declared: 400).
// - `status`: the success status the handler answers (200, 201, 204, ...).
// - `problems`: further statuses the handler itself answers (404, 409, 422, 502, ...); the
//   router's own (400 for a body or parameters, 401/403 for access, 413, 415) are added.
struct RouteSpec {
    std::string summary{};
    std::string tag{};
    Poco::JSON::Object::Ptr body{};      // null: the route takes no body
    bool bodyOptional = false;         // an empty body is accepted as well
    Poco::JSON::Object::Ptr response{};  // JSON Schema of the success body, may be null
    std::string responseType{};          // when not JSON: e.g. "text/csv", "text/calendar"
    int status = 200;
    std::vector<ParamSpec> query{};
    std::vector<ParamSpec> path{};      // {name} segments without an entry are strings
    std::vector<int> problems{};
    // A body that is not JSON (e.g. "application/zip"): documented, not validated by the router.
    std::string bodyType{};
};

class Router {
public:
    virtual ~Router() = default;
    // `pattern` uses {name} for a path segment, e.g. "/api/v1/booking/bookings/{id}".
    // A plugin's router only accepts patterns under /api/v1/<plugin-id>/ and throws
    // std::invalid_argument otherwise.
    virtual void add(std::string method, std::string pattern, Access access, Handler handler,
                     RouteDoc doc = {}) = 0;
    // The same with the route's full contract, which the router validates requests against.
    // (Added within API 1: a router that predates it keeps only the RouteDoc part.)
    virtual void add(std::string method, std::string pattern, Access access, Handler handler, RouteSpec spec) {
        add(std::move(method), std::move(pattern), std::move(access), std::move(handler),
            RouteDoc{spec.summary, spec.tag, spec.body, spec.response});
    }
};

}  // namespace klinikbox
