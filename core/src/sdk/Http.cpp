#include <klinikbox/Http.h>

#include <Poco/JSON/JSONException.h>
#include <Poco/JSON/ParseHandler.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include <algorithm>
#include <iterator>
#include <sstream>
#include <unordered_set>
#include <vector>

namespace klinikbox {

namespace {

// Poco's handler, refusing an object that names a member twice. JSON allows it (RFC 8259
// says names SHOULD be unique) but parsers disagree on which value counts, so a body one
// reader sees as booking slot 1 another could see as slot 2: the box refuses the ambiguity
// instead of keeping the last value silently.
class UniqueMembers final : public Poco::JSON::ParseHandler {
public:
    void reset() override {
        open_.clear();
        ParseHandler::reset();
    }
    void startObject() override {
        open_.push_back({true, {}, {}});
        ParseHandler::startObject();
    }
    void endObject() override {
        if (!open_.empty()) open_.pop_back();
        ParseHandler::endObject();
    }
    void startArray() override {
        open_.push_back({false, {}, {}});
        ParseHandler::startArray();
    }
    void endArray() override {
        if (!open_.empty()) open_.pop_back();
        ParseHandler::endArray();
    }
    void key(const std::string& k) override {
        if (!open_.empty() && open_.back().object) {
            auto& o = open_.back();
            // Most objects are small: a linear search. Past kLinear names a hash set, so that a
            // body of a hundred thousand members costs a look-up each, not a scan of all before
            // it (a 1.3 MB object took 18 s of CPU; the login route takes a body unauthenticated).
            const bool seen = o.set.empty() ? std::find(o.names.begin(), o.names.end(), k) != o.names.end() : o.set.count(k) > 0;
            if (seen)
                throw Problem(400, "/problems/duplicate-field", "Duplicate field",
                              "the field '" + k + "' appears more than once in one object");
            if (!o.set.empty()) {
                o.set.insert(k);
            } else if (o.names.size() < kLinear) {
                o.names.push_back(k);
            } else {
                o.set.insert(o.names.begin(), o.names.end());
                o.set.insert(k);
                o.names.clear();
            }
        }
        ParseHandler::key(k);
    }

private:
    static constexpr std::size_t kLinear = 16;
    struct Open {
        bool object;
        std::vector<std::string> names;
        std::unordered_set<std::string> set;
    };
    std::vector<Open> open_;
};

}  // namespace

Poco::Dynamic::Var parseJsonUnique(const std::string& text) {
    Poco::JSON::Parser parser(new UniqueMembers);
    return parser.parse(text);
}

std::string_view toString(Role r) {
    switch (r) {
        case Role::Admin: return "admin";
        case Role::Staff: return "staff";
        case Role::Auditor: return "auditor";
        case Role::It: return "it";
    }
    return "unknown";
}

std::optional<Role> roleFromString(std::string_view s) {
    if (s == "admin") return Role::Admin;
    if (s == "staff") return Role::Staff;
    if (s == "auditor") return Role::Auditor;
    if (s == "it") return Role::It;
    return std::nullopt;
}

std::optional<std::string> Request::queryParam(const std::string& name) const {
    auto it = query.find(name);
    if (it == query.end()) return std::nullopt;
    return it->second;
}

std::optional<std::string> Request::repeatedQueryParam() const {
    for (auto it = query.begin(); it != query.end(); ++it)
        if (std::next(it) != query.end() && std::next(it)->first == it->first) return it->first;
    return std::nullopt;
}

std::string Request::header(const std::string& lowerName) const {
    auto it = headers.find(lowerName);
    return it == headers.end() ? std::string{} : it->second;
}

namespace {
long long parseWhole(const std::string& text, const std::string& name, long long min, long long max) {
    try {
        std::size_t used = 0;
        const long long v = std::stoll(text, &used);
        if (used == text.size() && v >= min && v <= max) return v;
    } catch (const std::exception&) {
    }
    throw Problem::badRequest("/problems/invalid-parameter", name + " must be a whole number from " +
                                                                 std::to_string(min) + " to " + std::to_string(max));
}
}  // namespace

long long Request::intParam(const std::string& name, long long min, long long max) const {
    auto it = pathParams.find(name);
    if (it == pathParams.end()) throw std::logic_error("the route has no path parameter " + name);
    return parseWhole(it->second, name, min, max);
}

long long Request::intQuery(const std::string& name, long long def, long long min, long long max) const {
    auto v = queryParam(name);
    return v ? parseWhole(*v, name, min, max) : def;
}

void Request::noBody() const {
    const auto first = body.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return;
    Poco::JSON::Object::Ptr obj;
    try {
        Poco::Dynamic::Var v = parseJsonUnique(body);
        if (v.type() == typeid(Poco::JSON::Object::Ptr)) obj = v.extract<Poco::JSON::Object::Ptr>();
    } catch (const Poco::Exception&) {
    }
    if (!obj)
        throw Problem::badRequest("/problems/malformed-json", "this request takes no body (at most an empty JSON object {})");
    if (obj->size() > 0)
        throw Problem::badRequest("/problems/unknown-field",
                                  "this request takes no body; unknown field '" + obj->getNames().front() + "'");
}

Poco::JSON::Object::Ptr Request::json() const {
    const std::string ct = header("content-type");
    if (ct.rfind("application/json", 0) != 0 && ct.find("+json") == std::string::npos) {
        throw Problem(415, "/problems/unsupported-media-type", "Unsupported media type",
                      "the request body must be application/json");
    }
    if (body.empty()) {
        throw Problem::badRequest("/problems/malformed-json", "the request body is empty");
    }
    try {
        Poco::Dynamic::Var v = parseJsonUnique(body);
        if (v.type() != typeid(Poco::JSON::Object::Ptr)) {
            throw Problem::badRequest("/problems/malformed-json",
                                      "the request body must be a JSON object");
        }
        return v.extract<Poco::JSON::Object::Ptr>();
    } catch (const Problem&) {
        throw;
    } catch (const Poco::Exception& e) {
        throw Problem::badRequest("/problems/malformed-json",
                                  "the request body is not valid JSON: " + e.message());
    } catch (const std::exception& e) {
        throw Problem::badRequest("/problems/malformed-json",
                                  std::string("the request body is not valid JSON: ") + e.what());
    }
}

namespace {
template <class T>
std::string stringify(const T& v) {
    std::ostringstream os;
    Poco::JSON::Stringifier::stringify(v, os);
    return os.str();
}
}  // namespace

Response Response::json(const Poco::JSON::Object::Ptr& obj, int status) {
    Response r;
    r.status = status;
    r.body = stringify(obj);
    return r;
}

Response Response::json(const Poco::JSON::Array::Ptr& arr, int status) {
    Response r;
    r.status = status;
    r.body = stringify(arr);
    return r;
}

Response Response::text(std::string body, std::string contentType, int status) {
    Response r;
    r.status = status;
    r.contentType = std::move(contentType);
    r.body = std::move(body);
    return r;
}

Response Response::noContent() {
    Response r;
    r.status = 204;
    r.contentType.clear();
    return r;
}

}  // namespace klinikbox
