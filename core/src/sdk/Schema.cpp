#include <klinikbox/JsonInput.h>
#include <klinikbox/Schema.h>

#include <Poco/JSON/Array.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <shared_mutex>

namespace klinikbox::schema {

using Poco::JSON::Array;
using Poco::JSON::Object;

namespace {
Ptr typed(const char* type) {
    Ptr o = new Object;
    o->set("type", type);
    return o;
}

// A route's pattern compiled once: compiling a std::regex cost more than the rest of a
// request's validation together (a booking spent 8 % of its CPU there). Bounded, since
// schemas are static in practice; past the bound a pattern is compiled per call.
std::shared_ptr<const std::regex> compiledPattern(const std::string& pattern) {
    static std::shared_mutex mu;
    static std::map<std::string, std::shared_ptr<const std::regex>, std::less<>> cache;
    constexpr std::size_t kMaxPatterns = 512;
    {
        std::shared_lock lock(mu);
        if (auto it = cache.find(pattern); it != cache.end()) return it->second;
    }
    auto re = std::make_shared<const std::regex>(pattern);
    std::unique_lock lock(mu);
    if (cache.size() < kMaxPatterns) cache.emplace(pattern, re);
    return re;
}

Problem fieldProblem(const std::string& pointer, const std::string& detail, bool unknown = false) {
    Problem p = unknown ? Problem(400, "/problems/unknown-field", "Unknown field", "the field '" + pointer.substr(1) + "' is not part of this request")
                        : Problem(400, "/problems/invalid-field", "Invalid field",
                                  (pointer.empty() ? std::string("body") : pointer.substr(1)) + ": " + detail);
    Array::Ptr errs = new Array;
    Object::Ptr e = new Object;
    e->set("pointer", pointer);
    e->set("detail", unknown ? std::string("unknown field") : detail);
    errs->add(e);
    p.with("errors", errs);
    return p;
}

std::string escapePointer(const std::string& k) {
    std::string o;
    for (char c : k) {
        if (c == '~') o += "~0";
        else if (c == '/') o += "~1";
        else o += c;
    }
    return o;
}

bool validDate(const std::string& s) {
    int y = 0;
    unsigned m = 0, d = 0;
    if (s.size() != 10 || s[4] != '-' || s[7] != '-' || std::sscanf(s.c_str(), "%4d-%2u-%2u", &y, &m, &d) != 3) return false;
    return std::chrono::year_month_day{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}}.ok();
}

std::string kindOf(const Poco::Dynamic::Var& v) {
    if (v.isEmpty()) return "null";
    if (v.isBoolean()) return "boolean";
    if (v.isInteger()) return "integer";
    if (v.isNumeric()) return "number";
    if (v.isString()) return "string";
    if (v.type() == typeid(Object::Ptr)) return "object";
    if (v.type() == typeid(Array::Ptr)) return "array";
    return "value";
}

bool typeMatches(const std::string& want, const std::string& got) {
    return want == got || (want == "number" && got == "integer");
}

std::optional<Problem> checkAt(const Ptr& s, const Poco::Dynamic::Var& v, const std::string& at) {
    if (!s) return std::nullopt;
    const std::string got = kindOf(v);
    if (s->has("type")) {
        bool ok = false;
        std::string wanted;
        if (auto list = s->getArray("type")) {
            for (std::size_t i = 0; i < list->size(); ++i) {
                const auto t = list->getElement<std::string>(static_cast<unsigned>(i));
                ok = ok || typeMatches(t, got);
                wanted += (wanted.empty() ? "" : " or ") + t;
            }
        } else {
            wanted = s->getValue<std::string>("type");
            ok = typeMatches(wanted, got);
        }
        if (!ok) return fieldProblem(at, "must be " + (wanted == "integer" ? std::string("a whole number") : wanted == "object" ? "an object" : wanted == "array" ? "an array" : "a " + wanted) + ", not " + got);
        if (got == "null") return std::nullopt;
    }
    if (auto e = s->getArray("enum")) {
        bool ok = false;
        std::string all;
        for (std::size_t i = 0; i < e->size(); ++i) {
            const auto x = e->get(static_cast<unsigned>(i));
            all += (all.empty() ? "" : ", ") + x.convert<std::string>();
            if (x.isString() == v.isString() && x.convert<std::string>() == v.convert<std::string>()) ok = true;
        }
        if (!ok) return fieldProblem(at, "must be one of " + all);
    }
    if (got == "string") {
        const auto str = v.convert<std::string>();
        const auto n = JsonInput::utf8Length(str);
        if (s->has("minLength") && n < s->getValue<std::size_t>("minLength"))
            return fieldProblem(at, s->getValue<std::size_t>("minLength") == 1 ? "must not be empty"
                                                                                : "must be at least " + s->get("minLength").toString() + " characters");
        if (s->has("maxLength") && n > s->getValue<std::size_t>("maxLength"))
            return fieldProblem(at, "must be at most " + s->get("maxLength").toString() + " characters");
        if (str.find('\0') != std::string::npos) return fieldProblem(at, "must not contain NUL characters");
        if (s->has("pattern") && !std::regex_search(str, *compiledPattern(s->getValue<std::string>("pattern"))))
            return fieldProblem(at, "has the wrong form (expected e.g. " + s->optValue<std::string>("example", s->getValue<std::string>("pattern")) + ")");
        if (s->optValue<std::string>("format", "") == "date" && !validDate(str))
            return fieldProblem(at, "must be a date YYYY-MM-DD");
    }
    if (got == "integer" || got == "number") {
        // A whole value is compared with a whole bound exactly, anything else as a double. A
        // JSON integer past the signed 64-bit range (Poco holds it unsigned) is above every
        // bound a field has: refused here, before a handler's conversion throws.
        const bool whole = got == "integer";
        long long n = 0;
        if (whole) {
            try {
                n = v.convert<long long>();
            } catch (const Poco::Exception&) {
                return fieldProblem(at, s->has("maximum") ? "must be at most " + s->get("maximum").toString()
                                                          : std::string("is out of range"));
            }
        }
        const double d = v.convert<double>();
        const auto below = [&](const Poco::Dynamic::Var& bound) {
            return whole && bound.isInteger() ? n < bound.convert<long long>() : d < bound.convert<double>();
        };
        const auto above = [&](const Poco::Dynamic::Var& bound) {
            return whole && bound.isInteger() ? n > bound.convert<long long>() : d > bound.convert<double>();
        };
        if (s->has("minimum") && below(s->get("minimum")))
            return fieldProblem(at, "must be at least " + s->get("minimum").toString());
        if (s->has("maximum") && above(s->get("maximum")))
            return fieldProblem(at, "must be at most " + s->get("maximum").toString());
    }
    if (got == "array") {
        const auto a = v.extract<Array::Ptr>();
        if (s->has("minItems") && a->size() < s->getValue<std::size_t>("minItems"))
            return fieldProblem(at, "needs at least " + s->get("minItems").toString() + " items");
        if (s->has("maxItems") && a->size() > s->getValue<std::size_t>("maxItems"))
            return fieldProblem(at, "takes at most " + s->get("maxItems").toString() + " items");
        if (auto items = s->getObject("items"))
            for (std::size_t i = 0; i < a->size(); ++i)
                if (auto p = checkAt(items, a->get(static_cast<unsigned>(i)), at + "/" + std::to_string(i))) return p;
    }
    if (got == "object") {
        const auto o = v.extract<Object::Ptr>();
        const auto props = s->getObject("properties");
        if (auto req = s->getArray("required"))
            for (std::size_t i = 0; i < req->size(); ++i) {
                const auto k = req->getElement<std::string>(static_cast<unsigned>(i));
                if (!o->has(k)) return fieldProblem(at + "/" + escapePointer(k), "is required");
            }
        const bool closed = s->has("additionalProperties") && s->get("additionalProperties").isBoolean() &&
                            !s->getValue<bool>("additionalProperties");
        const auto extra = s->getObject("additionalProperties");
        for (const auto& [k, val] : *o) {
            const std::string here = at + "/" + escapePointer(k);
            if (props && props->has(k)) {
                if (auto p = checkAt(props->getObject(k), val, here)) return p;
            } else if (closed) {
                return fieldProblem(here, "unknown field", true);
            } else if (extra) {
                if (auto p = checkAt(extra, val, here)) return p;
            }
        }
    }
    return std::nullopt;
}
}  // namespace

Ptr text(std::size_t maxLen, std::size_t minLen) {
    auto o = typed("string");
    o->set("minLength", minLen);
    o->set("maxLength", maxLen);
    return o;
}

Ptr pattern(const std::string& regex, std::size_t maxLen, const std::string& example) {
    auto o = typed("string");
    o->set("pattern", regex);
    o->set("maxLength", maxLen);
    o->set("example", example);
    return o;
}

Ptr oneOf(const std::vector<std::string>& values) {
    auto o = typed("string");
    Array::Ptr e = new Array;
    for (const auto& v : values) e->add(v);
    o->set("enum", e);
    return o;
}
Ptr oneOf(std::initializer_list<std::string> values) { return oneOf(std::vector<std::string>(values)); }

Ptr integer(long long min, long long max) {
    auto o = typed("integer");
    o->set("minimum", min);
    o->set("maximum", max);
    return o;
}

Ptr number(double min, double max) {
    auto o = typed("number");
    o->set("minimum", min);
    o->set("maximum", max);
    return o;
}

Ptr boolean() { return typed("boolean"); }

Ptr date() {
    auto o = typed("string");
    o->set("format", "date");
    o->set("example", "2026-11-25");
    return o;
}

Ptr clockTime() { return pattern("^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$", 5, "08:00"); }

Ptr personnummer() {
    return described(pattern("^([0-9]{6}|[0-9]{8})[-+]?[0-9]{4}$", 13, "199001012385"),
                     "Swedish personal identity number (personnummer or samordningsnummer), 12 digits");
}

Ptr hsaId() { return described(pattern("^SE[0-9]{10,12}-[A-Za-z0-9]+$", 31, "SE2321000016-U001"), "HSA-id"); }

Ptr arrayOf(Ptr items, std::size_t maxItems, std::size_t minItems) {
    auto o = typed("array");
    o->set("items", items);
    if (minItems) o->set("minItems", minItems);
    o->set("maxItems", maxItems);
    return o;
}

Ptr anyObject() { return typed("object"); }

Field req(std::string name, Ptr s) { return Field{std::move(name), std::move(s), true}; }
Field opt(std::string name, Ptr s) { return Field{std::move(name), std::move(s), false}; }

Ptr object(const std::vector<Field>& fields) {
    auto o = typed("object");
    Ptr props = new Object;
    Array::Ptr required = new Array;
    for (const auto& f : fields) {
        props->set(f.name, f.schema);
        if (f.required) required->add(f.name);
    }
    o->set("properties", props);
    if (required->size()) o->set("required", required);
    o->set("additionalProperties", false);
    return o;
}
Ptr object(std::initializer_list<Field> fields) { return object(std::vector<Field>(fields)); }

Ptr nullable(Ptr s) {
    Ptr o = new Object(*s);
    Array::Ptr types = new Array;
    types->add(s->getValue<std::string>("type"));
    types->add("null");
    o->set("type", types);
    return o;
}

Ptr described(Ptr s, const std::string& text) {
    Ptr o = new Object(*s);
    o->set("description", text);
    return o;
}

std::optional<Problem> check(const Ptr& s, const Poco::Dynamic::Var& value) { return checkAt(s, value, ""); }

std::optional<Problem> checkParameter(const Ptr& s, const std::string& name, const std::string& text) {
    const std::string type = s && s->has("type") && !s->getArray("type") ? s->getValue<std::string>("type") : "string";
    Poco::Dynamic::Var v = text;
    if (type == "integer") {
        long long n = 0;
        std::size_t used = 0;
        try {
            n = std::stoll(text, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (text.empty() || used != text.size() || !(std::isdigit(static_cast<unsigned char>(text[0])) || text[0] == '-'))
            return JsonInput::invalid(name, "must be a whole number");
        v = n;
    } else if (type == "boolean") {
        if (text != "true" && text != "false") return JsonInput::invalid(name, "must be true or false");
        v = text == "true";
    }
    if (auto p = checkAt(s, v, "/" + escapePointer(name))) {
        Problem q(400, "/problems/invalid-parameter", "Invalid parameter", p->detail());
        Array::Ptr errs = new Array;
        Object::Ptr e = new Object;
        e->set("parameter", name);
        e->set("detail", p->detail());
        errs->add(e);
        q.with("errors", errs);
        return q;
    }
    return std::nullopt;
}

}  // namespace klinikbox::schema
