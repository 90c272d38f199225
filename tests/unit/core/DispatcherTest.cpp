#include "http/Dispatcher.h"
#include "http/OpenApi.h"
#include "http/RouteTable.h"

#include <klinikbox/Schema.h>

#include <Poco/JSON/Parser.h>

#include <gtest/gtest.h>

using namespace klinikbox;
using namespace klinikbox::http;

namespace {

Route route(std::string method, std::string pattern, Access access, std::string owner = "core") {
    Route r;
    r.owner = std::move(owner);
    r.method = std::move(method);
    r.pattern = std::move(pattern);
    r.access = std::move(access);
    r.handler = [](Request& req) {
        Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
        for (const auto& [k, v] : req.pathParams) o->set(k, v);
        o->set("user", req.principal ? req.principal->username : "");
        return Response::json(o);
    };
    return r;
}

// Accepts "Cookie: user=<name>:<role>" and a CSRF header "ok".
class FakeAuth final : public Authenticator {
public:
    std::optional<Principal> authenticate(const Request& r) override {
        const auto c = r.header("cookie");
        if (c.rfind("user=", 0) != 0) return std::nullopt;
        const auto colon = c.find(':');
        Principal p;
        p.username = c.substr(5, colon - 5);
        p.role = *roleFromString(c.substr(colon + 1));
        return p;
    }
    bool csrfValid(const Request& r) override { return r.header("x-csrf-token") == "ok"; }
};

Request req(std::string method, std::string path, std::string cookie = {}, std::string csrf = {}) {
    Request r;
    r.method = std::move(method);
    r.path = std::move(path);
    r.requestId = "rid";
    if (!cookie.empty()) r.headers["cookie"] = cookie;
    if (!csrf.empty()) r.headers["x-csrf-token"] = csrf;
    return r;
}

std::string problemType(const Response& r) {
    Poco::JSON::Parser p;
    return p.parse(r.body).extract<Poco::JSON::Object::Ptr>()->getValue<std::string>("type");
}

}  // namespace

TEST(Router, PathParametersAreExtractedAndTheMostSpecificRouteWins) {
    RouteTable t;
    t.add(route("GET", "/api/v1/b/{id}", Access::anyone()));
    t.add(route("GET", "/api/v1/b/today", Access::anyone()));
    Match m;
    std::vector<std::string> allowed;
    ASSERT_EQ(t.match("GET", "/api/v1/b/42", m, allowed), RouteTable::Result::Found);
    EXPECT_EQ(m.params.at("id"), "42");
    ASSERT_EQ(t.match("GET", "/api/v1/b/today", m, allowed), RouteTable::Result::Found);
    EXPECT_EQ(m.route->pattern, "/api/v1/b/today");
}

TEST(Router, DuplicateAndMalformedRoutesAreRefused) {
    RouteTable t;
    t.add(route("GET", "/api/v1/b/{id}", Access::anyone()));
    EXPECT_THROW(t.add(route("GET", "/api/v1/b/{other}", Access::anyone())), std::invalid_argument);
    EXPECT_THROW(t.add(route("GET", "/api/v1/b/{x", Access::anyone())), std::invalid_argument);
    EXPECT_THROW(t.add(route("BREW", "/api/v1/c", Access::anyone())), std::invalid_argument);
    EXPECT_THROW(t.add(route("GET", "relative", Access::anyone())), std::invalid_argument);
}

TEST(Router, PluginCannotRegisterRoutesOutsideItsPrefix) {
    RouteTable t;
    PluginRouter r(t, "hello");
    auto h = [](Request&) { return Response::noContent(); };
    EXPECT_NO_THROW(r.add("GET", "/api/v1/hello/x", Access::anyone(), h));
    EXPECT_THROW(r.add("GET", "/api/v1/other/x", Access::anyone(), h), std::invalid_argument);
    EXPECT_THROW(r.add("GET", "/api/v1/hellox/x", Access::anyone(), h), std::invalid_argument);
    EXPECT_THROW(r.add("GET", "/healthz", Access::anyone(), h), std::invalid_argument);
    EXPECT_THROW(r.add("GET", "/api/v1/hello/../outbox", Access::anyone(), h), std::invalid_argument);
}

TEST(Dispatcher, UnknownRouteIs404ProblemAndWrongMethodIs405WithAllow) {
    RouteTable t;
    t.add(route("GET", "/api/v1/x", Access::anyone()));
    Dispatcher d(t);
    auto r1 = req("GET", "/api/v1/nope");
    auto out = d.dispatch(r1);
    EXPECT_EQ(out.response.status, 404);
    EXPECT_EQ(out.response.contentType, "application/problem+json");
    EXPECT_EQ(problemType(out.response), "/problems/not-found");
    auto r2 = req("DELETE", "/api/v1/x");
    out = d.dispatch(r2);
    EXPECT_EQ(out.response.status, 405);
    ASSERT_FALSE(out.response.headers.empty());
    EXPECT_EQ(out.response.headers.front().second, "GET");
}

TEST(Dispatcher, AnonymousRequestToProtectedRouteIs401) {
    RouteTable t;
    t.add(route("GET", "/api/v1/x", Access::only({Role::Admin})));
    Dispatcher d(t);
    FakeAuth auth;
    d.setAuthenticator(&auth);
    auto r = req("GET", "/api/v1/x");
    EXPECT_EQ(d.dispatch(r).response.status, 401);
}

TEST(Dispatcher, WrongRoleIs403AndRightRolePasses) {
    RouteTable t;
    t.add(route("GET", "/api/v1/x", Access::only({Role::Admin})));
    Dispatcher d(t);
    FakeAuth auth;
    d.setAuthenticator(&auth);
    int denials = 0;
    d.setDenialObserver([&](const Request&, int, const std::string&) { ++denials; });
    auto r1 = req("GET", "/api/v1/x", "user=sam:staff");
    EXPECT_EQ(d.dispatch(r1).response.status, 403);
    auto r2 = req("GET", "/api/v1/x", "user=ada:admin");
    EXPECT_EQ(d.dispatch(r2).response.status, 200);
    EXPECT_EQ(denials, 1);
}

TEST(Dispatcher, StateChangingRequestWithoutCsrfTokenIsRefused) {
    RouteTable t;
    t.add(route("POST", "/api/v1/x", Access::loggedIn()));
    Dispatcher d(t);
    FakeAuth auth;
    d.setAuthenticator(&auth);
    auto r1 = req("POST", "/api/v1/x", "user=ada:admin");
    auto out = d.dispatch(r1);
    EXPECT_EQ(out.response.status, 403);
    EXPECT_EQ(problemType(out.response), "/problems/csrf");
    auto r2 = req("POST", "/api/v1/x", "user=ada:admin", "ok");
    EXPECT_EQ(d.dispatch(r2).response.status, 200);
}

TEST(Dispatcher, HandlerExceptionsBecomeProblemsWithoutLeakingDetails) {
    RouteTable t;
    Route r = route("GET", "/api/v1/boom", Access::anyone());
    r.handler = [](Request&) -> Response { throw std::runtime_error("secret internal detail"); };
    t.add(std::move(r));
    Route bad = route("GET", "/api/v1/bad", Access::anyone());
    bad.handler = [](Request& q) -> Response {
        (void)q.json();
        return Response::noContent();
    };
    t.add(std::move(bad));
    Dispatcher d(t);
    auto q1 = req("GET", "/api/v1/boom");
    auto out = d.dispatch(q1);
    EXPECT_EQ(out.response.status, 500);
    EXPECT_EQ(out.response.body.find("secret"), std::string::npos);
    EXPECT_NE(out.response.body.find("rid"), std::string::npos) << "the request id helps support find the log line";
    auto q2 = req("GET", "/api/v1/bad");
    q2.headers["content-type"] = "application/json";
    q2.body = "{not json";
    out = d.dispatch(q2);
    EXPECT_EQ(out.response.status, 400);
    EXPECT_EQ(problemType(out.response), "/problems/malformed-json");
    auto q3 = req("GET", "/api/v1/bad");
    q3.headers["content-type"] = "text/plain";
    q3.body = "{}";
    EXPECT_EQ(d.dispatch(q3).response.status, 415);
    auto q4 = req("GET", "/api/v1/bad");
    q4.headers["content-type"] = "application/json";
    q4.body = "[1,2]";
    EXPECT_EQ(d.dispatch(q4).response.status, 400);
}

TEST(OpenApi, DocumentListsEveryRouteWithItsRoles) {
    RouteTable t;
    t.add(route("GET", "/api/v1/x/{id}", Access::only({Role::Staff})));
    t.add(route("POST", "/api/v1/x", Access::anyone()));
    auto doc = buildOpenApi(t, "1.0");
    auto paths = doc->getObject("paths");
    ASSERT_TRUE(paths->has("/api/v1/x/{id}"));
    auto get = paths->getObject("/api/v1/x/{id}")->getObject("get");
    EXPECT_EQ(get->getArray("x-roles")->getElement<std::string>(0), "staff");
    EXPECT_EQ(get->getArray("parameters")->getObject(0)->getValue<std::string>("name"), "id");
    EXPECT_FALSE(paths->getObject("/api/v1/x")->getObject("post")->has("security"));
}

// ?unit=A&unit=B: the box reads the first value, a proxy in front of it may read the last.
// The box refuses the ambiguity.
TEST(Dispatcher, AQueryParameterGivenTwiceIsRefused) {
    RouteTable t;
    t.add(route("GET", "/api/v1/b/{id}", Access::anyone()));
    Dispatcher d(t);
    auto twice = req("GET", "/api/v1/b/1");
    twice.query = {{"unit", "SE2321000016-A001"}, {"date", "2026-12-08"}, {"unit", "SE2321000016-A002"}};
    const auto out = d.dispatch(twice);
    EXPECT_EQ(out.response.status, 400);
    EXPECT_EQ(problemType(out.response), "/problems/duplicate-parameter");
    EXPECT_NE(out.response.body.find("'unit'"), std::string::npos) << out.response.body;
    auto distinct = req("GET", "/api/v1/b/1");
    distinct.query = {{"unit", "SE2321000016-A001"}, {"date", "2026-12-08"}, {"z", ""}};
    EXPECT_EQ(d.dispatch(distinct).response.status, 200);
}

// A JSON integer past the signed 64-bit range (Poco holds it unsigned): a 400 naming the
// field, where the maximum's comparison threw and the client got a 500.
TEST(Dispatcher, AnIntegerPastTheSigned64BitRangeIsA400NotA500) {
    namespace sc = klinikbox::schema;
    for (const auto& body : {R"({"slot_id":9223372036854775808})", R"({"slot_id":18446744073709551615})",
                             R"({"slot_id":9223372036854775807})", R"({"slot_id":0})"}) {
        const auto field = sc::check(sc::object({sc::req("slot_id", sc::integer(1, 9'000'000'000'000'000'000LL))}),
                                     Poco::JSON::Parser().parse(body));
        ASSERT_TRUE(field.has_value()) << body;
        EXPECT_EQ(field->status(), 400) << body;
        EXPECT_EQ(field->type(), "/problems/invalid-field") << body;
    }
    EXPECT_FALSE(sc::check(sc::object({sc::req("slot_id", sc::integer(1, 9'000'000'000'000'000'000LL))}),
                           Poco::JSON::Parser().parse(R"({"slot_id":9000000000000000000})"))
                     .has_value());
    // A number field compares a whole value with its fractional bounds as a number.
    const auto amount = sc::object({sc::req("amount", sc::number(0.5, 1000.0))});
    EXPECT_TRUE(sc::check(amount, Poco::JSON::Parser().parse(R"({"amount":0})")).has_value());
    EXPECT_FALSE(sc::check(amount, Poco::JSON::Parser().parse(R"({"amount":1})")).has_value());
    EXPECT_FALSE(sc::check(amount, Poco::JSON::Parser().parse(R"({"amount":0.75})")).has_value());
    EXPECT_TRUE(sc::check(amount, Poco::JSON::Parser().parse(R"({"amount":9223372036854775808})")).has_value());
    // The same as a query parameter.
    for (const char* text : {"9223372036854775808", "99999999999999999999", "-9223372036854775809"}) {
        const auto param = sc::checkParameter(sc::integer(1, 7), "days", text);
        ASSERT_TRUE(param.has_value()) << text;
        EXPECT_EQ(param->status(), 400) << text;
    }
}

// A query parameter a route does not declare is refused, not ignored (a client that sent
// `?status=open` believes the list was filtered): on a route that declares its parameters, and
// on the logged-in routes of the core and of native plugins, which declare all they read.
TEST(Dispatcher, AQueryParameterTheRouteDoesNotDeclareIsRefused) {
    RouteTable t;
    auto declared = route("GET", "/api/v1/p/list", Access::loggedIn(), "p");
    declared.spec.query = {ParamSpec{"unit", nullptr, false, ""}};
    t.add(declared);
    t.add(route("GET", "/api/v1/p/free", Access::loggedIn(), "p"));
    t.add(route("GET", "/api/v1/users", Access::loggedIn()));
    t.add(route("GET", "/healthz", Access::anyone()));
    // A native plugin's logged-in routes with a contract declare every parameter they read,
    // so they refuse others as the core's do; a Lua plugin's route that declares none (it may
    // read req.query itself), a route added with a RouteDoc (which cannot declare any) and
    // anonymous routes (patients' links, which mail filters may decorate) stay lenient.
    const auto ok = [](Request&) { return Response::json(Poco::JSON::Object::Ptr(new Poco::JSON::Object)); };
    PluginRouter native(t, "nat", {}, true);
    native.add("GET", "/api/v1/nat/setup", Access::loggedIn(), ok, RouteSpec{.summary = "setup"});
    native.add("GET", "/api/v1/nat/link", Access::anyone(), ok, RouteSpec{.summary = "a patient's link"});
    native.add("GET", "/api/v1/nat/old", Access::loggedIn(), ok, RouteDoc{"an API 1 route without a contract", "nat", nullptr, nullptr});
    PluginRouter lua(t, "lua", {}, false);
    lua.add("GET", "/api/v1/lua/report", Access::loggedIn(), ok, RouteSpec{.summary = "reads req.query itself"});
    Dispatcher d(t);
    FakeAuth auth;
    d.setAuthenticator(&auth);
    auto ask = [&](const std::string& path, std::multimap<std::string, std::string> query) {
        auto r = req("GET", path, "user=sam:staff");
        r.query = std::move(query);
        return d.dispatch(r).response;
    };
    EXPECT_EQ(ask("/api/v1/nat/setup", {}).status, 200);
    const auto nativeRefused = ask("/api/v1/nat/setup", {{"unit", "A"}});
    EXPECT_EQ(nativeRefused.status, 400);
    EXPECT_EQ(problemType(nativeRefused), "/problems/unknown-parameter");
    EXPECT_EQ(ask("/api/v1/nat/link", {{"utm_source", "sms"}}).status, 200);
    EXPECT_EQ(ask("/api/v1/nat/old", {{"unit", "A"}}).status, 200);
    EXPECT_EQ(ask("/api/v1/lua/report", {{"month", "2026-11"}}).status, 200);
    EXPECT_EQ(ask("/api/v1/p/list", {{"unit", "A"}}).status, 200);
    const auto refused = ask("/api/v1/p/list", {{"unit", "A"}, {"status", "open"}});
    EXPECT_EQ(refused.status, 400);
    EXPECT_EQ(problemType(refused), "/problems/unknown-parameter");
    EXPECT_NE(refused.body.find("'status'"), std::string::npos) << refused.body;
    const auto core = ask("/api/v1/users", {{"role", "admin"}});
    EXPECT_EQ(core.status, 400);
    EXPECT_NE(core.body.find("takes none"), std::string::npos) << core.body;
    EXPECT_EQ(ask("/api/v1/users", {}).status, 200);
    EXPECT_EQ(ask("/api/v1/p/free", {{"anything", "1"}}).status, 200);
    EXPECT_EQ(ask("/healthz", {{"probe", "lb"}}).status, 200);
}
