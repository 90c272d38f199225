#include "http/RouteTable.h"

#include "http/LogRedaction.h"

#include <algorithm>
#include <mutex>
#include <set>
#include <stdexcept>

namespace klinikbox::http {

std::vector<std::string> splitPath(const std::string& path) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < path.size()) {
        while (i < path.size() && path[i] == '/') ++i;
        const std::size_t j = path.find('/', i);
        const std::size_t end = j == std::string::npos ? path.size() : j;
        if (end > i) out.push_back(path.substr(i, end - i));
        i = end;
    }
    return out;
}

namespace {
bool isParam(const std::string& s) { return s.size() > 2 && s.front() == '{' && s.back() == '}'; }

const std::set<std::string> kMethods = {"GET", "POST", "PUT", "PATCH", "DELETE"};
}  // namespace

void RouteTable::add(Route r) {
    if (!kMethods.count(r.method)) throw std::invalid_argument("unsupported HTTP method " + r.method);
    if (r.pattern.empty() || r.pattern[0] != '/') throw std::invalid_argument("a route pattern must start with /: " + r.pattern);
    if (!r.handler) throw std::invalid_argument("route " + r.pattern + " has no handler");
    r.segments = splitPath(r.pattern);
    std::set<std::string> names;
    for (const auto& s : r.segments) {
        if (s.find_first_of("{}") != std::string::npos && !isParam(s))
            throw std::invalid_argument("malformed path parameter in " + r.pattern);
        if (isParam(s) && !names.insert(s).second)
            throw std::invalid_argument("duplicate path parameter " + s + " in " + r.pattern);
    }
    std::unique_lock lock(mu_);
    for (const auto& o : routes_) {
        if (o->method != r.method || o->segments.size() != r.segments.size()) continue;
        bool same = true;
        for (std::size_t i = 0; i < r.segments.size() && same; ++i) {
            same = (isParam(o->segments[i]) && isParam(r.segments[i])) || o->segments[i] == r.segments[i];
        }
        if (same) throw std::invalid_argument("route " + r.method + " " + r.pattern + " is already registered");
    }
    routes_.push_back(std::make_shared<const Route>(std::move(r)));
}

void RouteTable::addCore(std::string tag, std::string method, std::string pattern, Access access, Handler handler,
                         std::string summary, RouteOptions options) {
    Route r;
    r.owner = "core";
    r.method = std::move(method);
    r.pattern = std::move(pattern);
    r.access = std::move(access);
    r.handler = std::move(handler);
    r.doc.summary = std::move(summary);
    r.doc.tag = std::move(tag);
    r.spec = RouteSpec{r.doc.summary, r.doc.tag, nullptr, false, nullptr, {}, 0, {}, {}, {}, {}};
    r.csrfExempt = options.csrfExempt;
    r.maxBodyBytes = options.maxBodyBytes;
    add(std::move(r));
}

void RouteTable::addCore(std::string method, std::string pattern, Access access, Handler handler, RouteSpec spec,
                         RouteOptions options) {
    Route r;
    r.owner = "core";
    r.method = std::move(method);
    r.pattern = std::move(pattern);
    r.access = std::move(access);
    r.handler = std::move(handler);
    r.doc = RouteDoc{spec.summary, spec.tag, spec.body, spec.response};
    r.spec = std::move(spec);
    r.csrfExempt = options.csrfExempt;
    r.maxBodyBytes = options.maxBodyBytes;
    r.noBody = options.noBody;
    add(std::move(r));
}

void RouteTable::removeOwner(const std::string& owner) {
    std::unique_lock lock(mu_);
    routes_.erase(std::remove_if(routes_.begin(), routes_.end(),
                                 [&](const auto& r) { return r->owner == owner; }),
                  routes_.end());
}

RouteTable::Result RouteTable::match(const std::string& method, const std::string& path, Match& out,
                                     std::vector<std::string>& allowed) const {
    const auto segs = splitPath(path);
    std::shared_lock lock(mu_);
    std::shared_ptr<const Route> best;
    std::map<std::string, std::string> bestParams;
    int bestLiterals = -1;
    std::set<std::string> methods;
    for (const auto& r : routes_) {
        if (r->segments.size() != segs.size()) continue;
        std::map<std::string, std::string> params;
        int literals = 0;
        bool ok = true;
        for (std::size_t i = 0; i < segs.size() && ok; ++i) {
            if (isParam(r->segments[i])) {
                params[r->segments[i].substr(1, r->segments[i].size() - 2)] = segs[i];
            } else if (r->segments[i] == segs[i]) {
                ++literals;
            } else {
                ok = false;
            }
        }
        if (!ok) continue;
        methods.insert(r->method);
        // The most specific route (most literal segments) wins.
        if (r->method == method && literals > bestLiterals) {
            best = r;
            bestParams = std::move(params);
            bestLiterals = literals;
        }
    }
    if (best) {
        out.route = best;
        out.params = std::move(bestParams);
        return Result::Found;
    }
    if (methods.empty()) return Result::NotFound;
    allowed.assign(methods.begin(), methods.end());
    return Result::MethodNotAllowed;
}

std::set<std::size_t> RouteTable::secretSegments(const std::string& path) const {
    const auto segs = splitPath(path);
    std::set<std::size_t> out;
    std::shared_lock lock(mu_);
    for (const auto& r : routes_) {
        if (r->segments.size() != segs.size()) continue;
        bool ok = true;
        for (std::size_t i = 0; i < segs.size() && ok; ++i) ok = isParam(r->segments[i]) || r->segments[i] == segs[i];
        if (!ok) continue;
        for (std::size_t i = 0; i < segs.size(); ++i)
            if (isParam(r->segments[i]) && isSecretParamName(r->segments[i].substr(1, r->segments[i].size() - 2)))
                out.insert(i);
    }
    return out;
}

std::vector<std::shared_ptr<const Route>> RouteTable::all() const {
    std::shared_lock lock(mu_);
    return routes_;
}

void PluginRouter::add(std::string method, std::string pattern, Access access, Handler handler,
                       RouteDoc doc) {
    RouteSpec spec{doc.summary, doc.tag, nullptr, false, doc.responseSchema, {}, 0, {}, {}, {}, {}};
    // A RouteDoc's request schema is documentation only (the router does not enforce it).
    addRoute(std::move(method), std::move(pattern), std::move(access), std::move(handler), std::move(doc),
             std::move(spec), false);
}

void PluginRouter::add(std::string method, std::string pattern, Access access, Handler handler, RouteSpec spec) {
    RouteDoc doc{spec.summary, spec.tag, spec.body, spec.response};
    const bool strict = strictQuery_ && !access.anonymous;
    addRoute(std::move(method), std::move(pattern), std::move(access), std::move(handler), std::move(doc),
             std::move(spec), strict);
}

void PluginRouter::addRoute(std::string method, std::string pattern, Access access, Handler handler, RouteDoc doc,
                            RouteSpec spec, bool strictQuery) {
    const std::string prefix = "/api/v1/" + owner_ + "/";
    if (pattern.rfind(prefix, 0) != 0 && pattern != "/api/v1/" + owner_) {
        throw std::invalid_argument("plugin " + owner_ + " may only register routes under " + prefix +
                                    ", not " + pattern);
    }
    if (pattern.find("..") != std::string::npos) throw std::invalid_argument("'..' in route " + pattern);
    Route r;
    r.owner = owner_;
    r.method = std::move(method);
    r.pattern = std::move(pattern);
    r.access = std::move(access);
    r.handler = wrap_ ? wrap_(r.method, r.pattern, std::move(handler)) : std::move(handler);
    r.doc = std::move(doc);
    if (r.doc.tag.empty()) r.doc.tag = owner_;
    r.spec = std::move(spec);
    if (r.spec.tag.empty()) r.spec.tag = owner_;
    if (!r.doc.requestSchema && r.spec.body) r.doc.requestSchema = r.spec.body;
    r.strictQuery = strictQuery;
    table_.add(std::move(r));
}

}  // namespace klinikbox::http
