// The OpenAPI document against the running box, with every shipped plugin: for every
// operation, a request generated from the documented schemas (body, path and query) and one
// the body schema forbids, and the answers compared with the document. The schemas are the
// ones the router validates with, so a route whose handler refuses what its schema allows,
// answers a status the document does not list, or refuses without a problem document fails.
#include "BoxProcess.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/URI.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>

using namespace kbtest;
namespace fs = std::filesystem;
using Poco::JSON::Array;
using Poco::JSON::Object;

namespace {

std::string stringify(const Poco::Dynamic::Var& v) {
    if (v.isEmpty()) return "null";
    std::ostringstream s;
    Poco::JSON::Stringifier::stringify(v, s);
    return s.str();
}

// A value the schema accepts: examples and enums as given, strings as long as allowed (in
// multi-byte characters, which also proves limits count characters), integers at the minimum.
Poco::Dynamic::Var sample(const Object::Ptr& s) {
    if (!s) return std::string("x");
    if (s->has("example")) return s->get("example");
    if (auto e = s->getArray("enum")) return e->get(0);
    std::string type = "object";
    if (auto types = s->getArray("type")) type = types->getElement<std::string>(0);
    else if (s->has("type")) type = s->getValue<std::string>("type");
    if (type == "string") {
        if (s->optValue<std::string>("format", "") == "date") return std::string("2026-11-25");
        const std::size_t n = std::min<std::size_t>(s->optValue<std::size_t>("maxLength", 8), 300);
        std::string out;
        for (std::size_t i = 0; i < std::max<std::size_t>(n, s->optValue<std::size_t>("minLength", 0)); ++i) out += "å";
        return out;
    }
    if (type == "integer") return s->optValue<long long>("minimum", 1);
    if (type == "number") return s->optValue<double>("minimum", 1.0);
    if (type == "boolean") return true;
    if (type == "array") {
        Array::Ptr a = new Array;
        const auto n = std::max<std::size_t>(1, s->optValue<std::size_t>("minItems", 1));
        for (std::size_t i = 0; i < n; ++i) a->add(sample(s->getObject("items")));
        return a;
    }
    Object::Ptr o = new Object;
    if (auto props = s->getObject("properties"))
        for (const auto& [k, v] : *props) o->set(k, sample(props->getObject(k)));
    return o;
}

std::string paramText(const Object::Ptr& schema) {
    if (schema && schema->optValue<std::string>("type", "") == "integer")
        return std::to_string(std::min<long long>(schema->optValue<long long>("maximum", 999999), 999999));
    const auto v = sample(schema);
    return v.isString() ? v.convert<std::string>() : stringify(v);
}

std::string encode(const std::string& s) {
    std::string out;
    Poco::URI::encode(s, "/?#&=+;", out);
    return out;
}

struct Op {
    std::string method, pattern;
    Object::Ptr op;
    std::string role;  // the role to call it with; "" = anonymous
};

}  // namespace

TEST(OpenApiRoundTrip, EveryRouteAnswersWhatItsDocumentSays) {
    TempDir d;
    std::vector<std::string> ids;
    const std::string set = shippedPluginSet(d, &ids);
    BoxProcess box(kShippedSetConfig, set);
    box.start();
    const auto docRes = box.request("GET", "/api/v1/openapi.json");
    ASSERT_EQ(docRes.status, 200);
    const auto doc = docRes.json();
    const auto paths = doc->getObject("paths");

    std::vector<Op> ops;
    std::set<std::string> tags;
    for (const auto& [pattern, item] : *paths) {
        for (const auto& [method, o] : *paths->getObject(pattern)) {
            const auto op = paths->getObject(pattern)->getObject(method);
            tags.insert(op->getArray("tags")->getElement<std::string>(0));
            if (op->has("x-listener")) continue;  // producer listener (mutual TLS) only
            std::string role;
            if (op->has("security")) {
                const auto roles = op->getArray("x-roles");
                role = "admin";
                bool admin = roles->size() == 0;
                for (std::size_t i = 0; i < roles->size(); ++i) admin = admin || roles->getElement<std::string>(static_cast<unsigned>(i)) == "admin";
                if (!admin) role = roles->getElement<std::string>(0);
            }
            std::string m = method;
            std::transform(m.begin(), m.end(), m.begin(), ::toupper);
            ops.push_back({m, pattern, op, role});
        }
    }
    // Every plugin started and documented its routes (a plugin that failed would be missing).
    for (const auto& id : ids) EXPECT_TRUE(tags.count(id)) << "no routes of plugin " << id << " in the document\n" << box.output();
    EXPECT_GT(ops.size(), 80u);
    // Calls that end the session go last; one role's calls together.
    auto rank = [](const Op& o) { return o.pattern.find("/auth/logout") != std::string::npos ? 1 : 0; };
    std::stable_sort(ops.begin(), ops.end(), [&](const Op& a, const Op& b) {
        return std::pair(rank(a), a.role) < std::pair(rank(b), b.role);
    });

    int bodies = 0, refused = 0, checked = 0, succeeded = 0;
    std::string loggedIn;
    int logins = 0;
    for (const auto& o : ops) {
        SCOPED_TRACE(o.method + " " + o.pattern);
        if (!o.role.empty() && o.role != loggedIn) {
            // A role already used (the logout calls come last) gets a user of its own again.
            box.loginAs("rt-" + o.role + "-" + std::to_string(++logins), o.role);
            loggedIn = o.role;
        }
        // The path and query from the documented parameters.
        std::string path = o.pattern, query;
        if (auto params = o.op->getArray("parameters"))
            for (std::size_t i = 0; i < params->size(); ++i) {
                const auto p = params->getObject(static_cast<unsigned>(i));
                const auto name = p->getValue<std::string>("name");
                const auto value = encode(paramText(p->getObject("schema")));
                if (p->getValue<std::string>("in") == "path") path.replace(path.find("{" + name + "}"), name.size() + 2, value);
                else if (p->getValue<bool>("required")) query += (query.empty() ? "?" : "&") + name + "=" + value;
            }
        const auto responses = o.op->getObject("responses");
        // A route without a declared contract (a Lua plugin's kb.route) is documented as "some
        // 2xx" and "default" (any problem document); every other route lists its statuses.
        const bool undeclared = responses->has("2XX");
        auto documented = [&](int status) {
            return responses->has(std::to_string(status)) || (status / 100 == 2 && undeclared) ||
                   (status >= 400 && undeclared && responses->has("default"));
        };
        const auto rb = o.op->getObject("requestBody");
        Object::Ptr media = rb ? rb->getObject("content")->getObject("application/json") : nullptr;
        if (rb && !media) continue;  // a non-JSON body (a zip upload, RIV-TA XML): not generated here
        const Object::Ptr schema = media ? media->getObject("schema") : nullptr;
        const std::string body = schema ? stringify(sample(schema)) : std::string();
        auto call = [&](const std::string& b) {
            return o.role.empty() ? box.request(o.method, path + query, b, b.empty() ? std::map<std::string, std::string>{}
                                                                                  : std::map<std::string, std::string>{{"Content-Type", "application/json"}})
                                  : box.authed(o.method, path + query, b);
        };
        const auto r = call(body);
        ++checked;
        if (r.status / 100 == 2) ++succeeded;
        EXPECT_TRUE(documented(r.status)) << "answered " << r.status << ", not in the document: " << r.body.substr(0, 400)
                                          << "\nbody sent: " << body.substr(0, 400);
        EXPECT_LT(r.status, 500 + (documented(r.status) ? 100 : 0)) << r.body.substr(0, 400);
        if (r.status >= 400) {
            EXPECT_EQ(r.contentType.rfind("application/problem+json", 0), 0u) << r.status << " " << r.contentType;
            if (r.status == 400 && schema) {
                // Domain refusals ("no care unit ...", "not a phone number") are the handler's to
                // make; a refusal of the kind the schema expresses (type, length, range, presence,
                // unknown member) means the handler and the document disagree.
                const auto type = r.json() ? r.json()->optValue<std::string>("type", "") : "";
                const auto detail = r.json() ? r.json()->optValue<std::string>("detail", "") : "";
                bool schemaKind = type == "/problems/unknown-field" || type == "/problems/malformed-json";
                for (const char* w : {"characters", "must be a", "is required", "must be between", "must be one of", "must be at",
                                      "must be true or false", "expected an array", "items"})
                    schemaKind = schemaKind || (type == "/problems/invalid-field" && detail.find(w) != std::string::npos);
                EXPECT_FALSE(schemaKind) << "the handler refused a body its schema allows: " << r.body.substr(0, 400)
                                         << "\nbody sent: " << body.substr(0, 400);
            }
        }
        if (!schema) continue;
        ++bodies;
        // A body the schema forbids: an undeclared member (closed objects) or not an object.
        std::string bad = "[]";
        if (schema->has("additionalProperties") && schema->get("additionalProperties").isBoolean()) {
            auto v = sample(schema).extract<Object::Ptr>();
            v->set("not_in_the_schema", true);
            bad = stringify(v);
        }
        const auto f = call(bad);
        EXPECT_EQ(f.status, 400) << f.body.substr(0, 400);
        EXPECT_TRUE(documented(f.status));
        EXPECT_EQ(f.contentType.rfind("application/problem+json", 0), 0u) << f.contentType;
        if (f.status == 400) ++refused;
    }
    EXPECT_GT(bodies, 40);
    // Generated requests mostly name nothing that exists (404), but a good share must succeed,
    // or the generator (or the router) refuses what the document allows.
    EXPECT_GT(succeeded, checked / 3);
    EXPECT_EQ(refused, bodies);
    std::cout << "[ round trip ] " << checked << " operations (" << succeeded << " answered 2xx to the generated request), " << bodies << " with a body schema, " << refused
              << " forbidden bodies refused\n";
}

TEST(OpenApiRoundTrip, TheDocumentDescribesRequestsAndStatuses) {
    TempDir d;
    std::vector<std::string> ids;
    BoxProcess box(kShippedSetConfig, shippedPluginSet(d, &ids));
    box.start();
    const auto doc = box.request("GET", "/api/v1/openapi.json").json();
    const auto paths = doc->getObject("paths");
    const auto login = paths->getObject("/api/v1/auth/login")->getObject("post");
    EXPECT_TRUE(login->getObject("responses")->has("200")) << "login answers 200, not 201";
    EXPECT_FALSE(login->getObject("responses")->has("201"));
    const auto props = login->getObject("requestBody")->getObject("content")->getObject("application/json")->getObject("schema")->getObject("properties");
    EXPECT_TRUE(props->has("username") && props->has("password"));
    EXPECT_TRUE(paths->getObject("/api/v1/auth/logout")->getObject("post")->getObject("responses")->has("204"));
    const auto timeslots = paths->getObject("/api/v1/booking/timeslots")->getObject("get")->getArray("parameters");
    std::set<std::string> names;
    for (std::size_t i = 0; i < timeslots->size(); ++i) names.insert(timeslots->getObject(static_cast<unsigned>(i))->getValue<std::string>("name"));
    EXPECT_TRUE(names.count("unit") && names.count("date") && names.count("visit_type"));
    // A Lua plugin's route publishes the contract its kb.route options declare.
    const auto entries = paths->getObject("/api/v1/vantelista/entries")->getObject("post");
    EXPECT_TRUE(entries->getObject("responses")->has("201"));
    EXPECT_FALSE(entries->getObject("responses")->has("2XX"));
    const auto entry = entries->getObject("requestBody")->getObject("content")->getObject("application/json")->getObject("schema");
    EXPECT_TRUE(entry->getObject("properties")->has("care_unit"));
    EXPECT_EQ(entry->getArray("required")->size(), 3u);
    EXPECT_TRUE(paths->getObject("/api/v1/vantelista/offers/{id}/accept")->getObject("post")->getObject("responses")->has("409"));
    // A query parameter the schema refuses is a 400 problem before the handler runs.
    box.loginAs("rt", "staff");
    const auto bad = box.authed("GET", "/api/v1/booking/timeslots?unit=SE2321000016-U001&date=2026-02-30");
    EXPECT_EQ(bad.status, 400) << bad.body;
    EXPECT_NE(bad.body.find("date"), std::string::npos);
}
