// The schema validator: reads schema YAML, validates documents against it with errors that
// name file:line:column, and renders the reference. Long because the Validator (one struct
// that walks every keyword with its error text) reads best as one unit with its parsers.
#include "config/Schema.h"

#include <klinikbox/HsaId.h>
#include <klinikbox/Personnummer.h>

#include <Poco/JSON/Array.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

namespace klinikbox::config {

struct SchemaNode {
    std::string type;  // object string integer number boolean array
    std::string doc;
    std::string labelSv, docSv;  // the console's Swedish label and help (optional)
    std::vector<std::pair<std::string, std::shared_ptr<SchemaNode>>> properties;  // in file order
    std::set<std::string> required;
    bool additionalProperties = false;
    std::optional<YAML::Node> defaultValue;
    std::vector<std::string> enumValues;
    std::optional<double> minimum, maximum;
    std::optional<std::size_t> minLength, maxLength, minItems, maxItems;
    std::string pattern;
    std::optional<std::regex> patternRe;
    std::shared_ptr<SchemaNode> items;
    std::string format;
    bool secret = false;  // also true for everything inside a secret object or list

    [[nodiscard]] const SchemaNode* property(const std::string& name) const {
        for (const auto& [k, v] : properties)
            if (k == name) return v.get();
        return nullptr;
    }
};

namespace {

// ---------------------------------------------------------------------------------------
// Scalars
// ---------------------------------------------------------------------------------------

enum class Parsed { Ok, NotANumber, OutOfRange };

// A YAML/JSON integer: optional sign and decimal digits, nothing else ("0x10", "1_000" and
// "1.0" are not integers here).
Parsed parseInteger(const std::string& v, long long& out) {
    std::size_t i = (!v.empty() && (v[0] == '-' || v[0] == '+')) ? 1 : 0;
    if (i >= v.size()) return Parsed::NotANumber;
    for (std::size_t k = i; k < v.size(); ++k)
        if (v[k] < '0' || v[k] > '9') return Parsed::NotANumber;
    const char* first = v.data() + i;
    const auto [end, ec] = std::from_chars(first, v.data() + v.size(), out);
    if (ec == std::errc::result_out_of_range) return Parsed::OutOfRange;
    if (ec != std::errc() || end != v.data() + v.size()) return Parsed::NotANumber;
    if (v[0] == '-')
        out = -out;  // from_chars took the digits only; |LLONG_MIN| is out of range anyway
    return Parsed::Ok;
}

// A decimal number: [-+]digits[.digits][e[-+]digits] or [-+].digits[...]; finite only
// (".inf" and ".nan" are YAML spellings we refuse).
Parsed parseNumber(const std::string& v, double& out) {
    std::size_t i = 0;
    const std::size_t n = v.size();
    auto digits = [&] {
        const std::size_t start = i;
        while (i < n && v[i] >= '0' && v[i] <= '9') ++i;
        return i - start;
    };
    if (i < n && (v[i] == '-' || v[i] == '+')) ++i;
    std::size_t mantissa = digits();
    if (i < n && v[i] == '.') {
        ++i;
        mantissa += digits();
    }
    if (mantissa == 0) return Parsed::NotANumber;
    if (i < n && (v[i] == 'e' || v[i] == 'E')) {
        ++i;
        if (i < n && (v[i] == '-' || v[i] == '+')) ++i;
        if (digits() == 0) return Parsed::NotANumber;
    }
    if (i != n) return Parsed::NotANumber;
    errno = 0;
    out = std::strtod(v.c_str(), nullptr);
    if (errno == ERANGE || !std::isfinite(out)) {
        // Underflow to zero is harmless; overflow to infinity is not a usable setting.
        if (std::isfinite(out) && std::fabs(out) < 1.0) return Parsed::Ok;
        return Parsed::OutOfRange;
    }
    return Parsed::Ok;
}

bool isNumber(const std::string& v) {
    double ignored = 0;
    return parseNumber(v, ignored) == Parsed::Ok;
}

// Characters as people count them: UTF-8 code points, not bytes ("Hej då" has 6).
std::size_t characters(const std::string& v) {
    return static_cast<std::size_t>(std::count_if(
        v.begin(), v.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// A number as a schema author wrote it: 65535, not 65535.000000.
std::string numberText(double d) {
    if (std::fabs(d) < 1e15 && d == std::floor(d)) return std::to_string(static_cast<long long>(d));
    std::ostringstream os;
    os << d;
    return os.str();
}

// ---------------------------------------------------------------------------------------
// Reading a schema
// ---------------------------------------------------------------------------------------

std::string where(const std::string& src, const YAML::Node& n) {
    const auto m = n.Mark();
    return src + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

[[noreturn]] void schemaError(const std::string& src, const YAML::Node& n, const std::string& msg) {
    throw std::invalid_argument(where(src, n) + ": schema: " + msg);
}

std::string named(const std::string& path) {
    return path.empty() ? "the root" : path;
}

const std::set<std::string> kTypes = {"object", "string", "integer", "number", "boolean", "array"};
const std::set<std::string> kFormats = {"hsa-id", "personnummer", "path", "host", "url"};
// Which keywords apply to which type: a keyword on the wrong type is a typo in the schema
// (a `maximum` on a string would otherwise silently check nothing).
const std::map<std::string, std::set<std::string>> kKeywordTypes = {
    {"type", {}},
    {"doc", {}},
    {"label_sv", {}},
    {"doc_sv", {}},
    {"default", {}},
    {"secret", {}},
    {"properties", {"object"}},
    {"required", {"object"}},
    {"additionalProperties", {"object"}},
    {"enum", {"string"}},
    {"minLength", {"string"}},
    {"maxLength", {"string"}},
    {"pattern", {"string"}},
    {"format", {"string"}},
    {"minimum", {"integer", "number"}},
    {"maximum", {"integer", "number"}},
    {"items", {"array"}},
    {"minItems", {"array"}},
    {"maxItems", {"array"}},
};

std::size_t toSize(const std::string& src, const YAML::Node& n, const std::string& kw) {
    long long v = 0;
    if (!n.IsScalar() || parseInteger(n.Scalar(), v) != Parsed::Ok || v < 0)
        schemaError(src, n, kw + " must be a non-negative integer");
    return static_cast<std::size_t>(v);
}

bool toBool(const std::string& src, const YAML::Node& n, const std::string& kw) {
    if (n.IsScalar() && (n.Scalar() == "true" || n.Scalar() == "false"))
        return n.Scalar() == "true";
    schemaError(src, n, kw + " must be true or false");
}

void checkDefault(const SchemaNode& s, const YAML::Node& def, const std::string& src,
                  const std::string& path);

std::shared_ptr<SchemaNode> parseNode(const YAML::Node& n, const std::string& src,
                                      const std::string& path, bool insideSecret,
                                      std::size_t depth) {
    // An alias used inside its own anchor (`properties: &p {a: {..., properties: *p}}`)
    // would make the schema infinite.
    if (depth > kMaxDepth)
        schemaError(src, n,
                    named(path) + " is nested more than " + std::to_string(kMaxDepth) +
                        " levels deep (a YAML alias used inside itself?)");
    if (!n.IsMap()) schemaError(src, n, named(path) + " must be a mapping");
    auto s = std::make_shared<SchemaNode>();
    std::set<std::string> seen;
    for (const auto& kv : n) {
        if (!kv.first.IsScalar())
            schemaError(src, kv.first, "keywords are plain names (at " + named(path) + ")");
        const auto k = kv.first.Scalar();
        if (!kKeywordTypes.count(k))
            schemaError(src, kv.first, "unknown keyword '" + k + "' at " + named(path));
        if (!seen.insert(k).second)
            schemaError(src, kv.first, "keyword '" + k + "' given twice at " + named(path));
    }
    const YAML::Node type = n["type"];
    if (!type || !type.IsScalar() || !kTypes.count(type.Scalar()))
        schemaError(
            src, type ? type : n,
            named(path) + " needs a type: object, string, integer, number, boolean or array");
    s->type = type.Scalar();
    for (const auto& kv : n) {
        const auto& types = kKeywordTypes.at(kv.first.Scalar());
        if (!types.empty() && !types.count(s->type))
            schemaError(src, kv.first,
                        "'" + kv.first.Scalar() + "' does not apply to " + s->type + " (at " +
                            named(path) + ")");
    }
    const YAML::Node doc = n["doc"];
    if (!doc || !doc.IsScalar() || doc.Scalar().empty())
        schemaError(src, n, named(path) + " needs a doc");
    s->doc = doc.Scalar();
    for (auto [kw, field] : {std::pair{"label_sv", &s->labelSv}, std::pair{"doc_sv", &s->docSv}}) {
        const YAML::Node t = n[kw];
        if (!t) continue;
        if (!t.IsScalar() || t.Scalar().empty()) schemaError(src, t, std::string(kw) + " must be a non-empty text at " + named(path));
        *field = t.Scalar();
    }
    if (const auto sec = n["secret"]) s->secret = toBool(src, sec, "secret");
    s->secret = s->secret || insideSecret;

    if (const auto p = n["properties"]) {
        if (!p.IsMap()) schemaError(src, p, "properties must be a mapping");
        for (const auto& kv : p) {
            if (!kv.first.IsScalar() || kv.first.Scalar().empty())
                schemaError(src, kv.first, "property names are plain, non-empty names");
            const auto name = kv.first.Scalar();
            if (s->property(name))
                schemaError(src, kv.first, "property '" + name + "' is defined twice");
            s->properties.emplace_back(
                name, parseNode(kv.second, src, path.empty() ? name : path + "." + name, s->secret,
                                depth + 1));
        }
    }
    if (const auto r = n["required"]) {
        if (!r.IsSequence()) schemaError(src, r, "required must be a list");
        for (const auto& e : r) {
            if (!e.IsScalar() || !s->property(e.Scalar()))
                schemaError(
                    src, e,
                    "required names unknown property '" + (e.IsScalar() ? e.Scalar() : "") + "'");
            if (!s->required.insert(e.Scalar()).second)
                schemaError(src, e, "'" + e.Scalar() + "' is listed twice in required");
        }
    }
    if (const auto a = n["additionalProperties"])
        s->additionalProperties = toBool(src, a, "additionalProperties");
    if (const auto e = n["enum"]) {
        if (!e.IsSequence() || e.size() == 0) schemaError(src, e, "enum must be a non-empty list");
        for (const auto& v : e) {
            if (!v.IsScalar()) schemaError(src, v, "enum values must be plain strings");
            s->enumValues.push_back(v.Scalar());
        }
    }
    for (const char* kw : {"minimum", "maximum"}) {
        if (const auto v = n[kw]) {
            double d = 0;
            if (!v.IsScalar() || parseNumber(v.Scalar(), d) != Parsed::Ok)
                schemaError(src, v, std::string(kw) + " must be a number");
            (std::string(kw) == "minimum" ? s->minimum : s->maximum) = d;
        }
    }
    if (s->minimum && s->maximum && *s->minimum > *s->maximum)
        schemaError(src, n["minimum"], "minimum is larger than maximum at " + named(path));
    if (n["minLength"]) s->minLength = toSize(src, n["minLength"], "minLength");
    if (n["maxLength"]) s->maxLength = toSize(src, n["maxLength"], "maxLength");
    if (s->minLength && s->maxLength && *s->minLength > *s->maxLength)
        schemaError(src, n["minLength"], "minLength is larger than maxLength at " + named(path));
    if (n["minItems"]) s->minItems = toSize(src, n["minItems"], "minItems");
    if (n["maxItems"]) s->maxItems = toSize(src, n["maxItems"], "maxItems");
    if (s->minItems && s->maxItems && *s->minItems > *s->maxItems)
        schemaError(src, n["minItems"], "minItems is larger than maxItems at " + named(path));
    if (const auto p = n["pattern"]) {
        if (!p.IsScalar() || p.Scalar().empty())
            schemaError(src, p, "pattern must be a non-empty string");
        s->pattern = p.Scalar();
        try {
            s->patternRe = std::regex(s->pattern, std::regex::ECMAScript);
        } catch (const std::regex_error&) {
            schemaError(src, p, "pattern is not a valid regular expression");
        }
    }
    if (const auto i = n["items"]) s->items = parseNode(i, src, path + "[]", s->secret, depth + 1);
    if (const auto f = n["format"]) {
        if (!f.IsScalar() || !kFormats.count(f.Scalar()))
            schemaError(src, f,
                        "unknown format '" + (f.IsScalar() ? f.Scalar() : "") +
                            "' (known: hsa-id, personnummer, path, host, url)");
        s->format = f.Scalar();
    }
    if (const auto d = n["default"]) {
        checkDefault(*s, d, src, path);  // first: it also refuses a cyclic default
        s->defaultValue = YAML::Clone(d);
    }
    return s;
}

// ---------------------------------------------------------------------------------------
// Validating a document
// ---------------------------------------------------------------------------------------

std::size_t editDistance(const std::string& a, const std::string& b) {
    std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j)
            cur[j] = std::min(
                {prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

YAML::Node emptyOf(const SchemaNode& s) {
    if (s.type == "object") return YAML::Node(YAML::NodeType::Map);
    if (s.type == "array") return YAML::Node(YAML::NodeType::Sequence);
    return YAML::Node();
}

struct Validator {
    std::string file;
    std::vector<ConfigError>* errors;
    // JSON input: a quoted scalar is a string and only a string ("5" is no integer, 5 no string).
    bool json = false;
    // Values still allowed to be visited. YAML aliases let a few lines expand into billions of
    // values ("billion laughs"); every visit, alias or not, spends one.
    std::size_t budget = kMaxValues;
    // Nesting of the value being visited. An alias used inside its own anchor makes a cycle;
    // real configuration is a few levels deep.
    std::size_t depth = 0;
    bool exhausted = false;

    struct Descend {
        std::size_t& depth;
        explicit Descend(std::size_t& d) : depth(++d) {}
        ~Descend() { --depth; }
        Descend(const Descend&) = delete;
        Descend& operator=(const Descend&) = delete;
    };

    void err(const YAML::Mark& m, const std::string& path, const std::string& msg) const {
        if (errors->size() == kMaxErrors) {
            errors->push_back(ConfigError{
                file, m.line + 1, m.column + 1, path,
                "too many errors; only the first " + std::to_string(kMaxErrors) + " are shown"});
        }
        if (errors->size() > kMaxErrors) return;
        errors->push_back(ConfigError{file, m.line + 1, m.column + 1, path, msg});
    }

    // Nodes made up by the validator (defaults, absent sections) have no position; their
    // errors are reported where the enclosing section is.
    static YAML::Mark markOf(const YAML::Node& n, const YAML::Mark& fallback) {
        const auto m = n.Mark();
        return m.is_null() ? fallback : m;
    }

    bool spend(const YAML::Mark& m, const std::string& path) {
        if (exhausted) return false;
        if (depth > kMaxDepth) {
            exhausted = true;
            err(m, path,
                "nested more than " + std::to_string(kMaxDepth) +
                    " levels deep (a YAML alias used inside itself?)");
            return false;
        }
        if (budget == 0) {
            exhausted = true;
            err(m, path,
                "the document is too large: more than " + std::to_string(kMaxValues) +
                    " values (YAML aliases count each time they are used)");
            return false;
        }
        --budget;
        return true;
    }

    // "string 'abc'", "number 5", "a mapping": what the document holds, for messages.
    std::string describe(const SchemaNode& s, const YAML::Node& n) const {
        if (n.IsNull()) return json ? "null" : "nothing";
        if (n.IsMap()) return "a mapping";
        if (n.IsSequence()) return "a list";
        const std::string& v = n.Scalar();
        const bool quoted = n.Tag() == "!";
        std::string kind = "string";
        if (!quoted) {
            if (v == "true" || v == "false")
                kind = "boolean";
            else if (isNumber(v))
                kind = "number";
        }
        if (s.secret) return kind + " (secret, not shown)";
        if (kind != "string") return kind + " " + v;
        std::string shown = v.size() > 40 ? v.substr(0, 40) + "..." : v;
        for (auto& c : shown)
            if (static_cast<unsigned char>(c) < 0x20) c = ' ';
        return "string '" + shown + "'";
    }

    // A value the schema does not describe (additionalProperties, a list without items):
    // copied as it is once its size is known to be within the budget.
    YAML::Node freeForm(const YAML::Node& n, const std::string& path, const YAML::Mark& at) {
        if (!countWithin(n, path, markOf(n, at))) return YAML::Node();
        return YAML::Clone(n);
    }

    bool countWithin(const YAML::Node& n, const std::string& path, const YAML::Mark& at) {
        const Descend level(depth);
        if (!spend(at, path)) return false;
        if (n.IsMap()) {
            for (const auto& kv : n)
                if (!countWithin(kv.second, path, at)) return false;
        } else if (n.IsSequence()) {
            for (const auto& e : n)
                if (!countWithin(e, path, at)) return false;
        }
        return true;
    }

    // Validates n against s and returns the defaulted copy.
    YAML::Node check(const SchemaNode& s, const YAML::Node& n, const std::string& path,
                     const YAML::Mark& outer) {
        const YAML::Mark at = markOf(n, outer);
        const Descend level(depth);
        if (!spend(at, path)) return emptyOf(s);
        if (s.type == "object") return checkObject(s, n, path, at);
        if (s.type == "array") return checkArray(s, n, path, at);
        return checkScalar(s, n, path, at);
    }

    YAML::Node checkObject(const SchemaNode& s, const YAML::Node& n, const std::string& path,
                           const YAML::Mark& at) {
        // In YAML an empty section (`tls:` with everything under it commented out) is null:
        // it means "all defaults", not "wrong type".
        const bool emptySection = !json && n.IsNull();
        if (!n.IsMap() && !emptySection) {
            err(at, path, "expected a mapping, got " + describe(s, n));
            return emptyOf(s);
        }
        YAML::Node out(YAML::NodeType::Map);
        std::map<std::string, int> seen;  // key -> line, for duplicates
        if (n.IsMap()) {
            for (const auto& kv : n) {
                if (exhausted) break;
                const YAML::Mark keyAt = markOf(kv.first, at);
                if (!kv.first.IsScalar()) {
                    err(keyAt, path, "keys must be plain names, got " + describe(s, kv.first));
                    continue;
                }
                const auto key = kv.first.Scalar();
                const std::string sub = path.empty() ? key : path + "." + key;
                if (const auto [it, fresh] = seen.emplace(key, keyAt.line + 1); !fresh) {
                    err(keyAt, sub,
                        "duplicate key '" + key + "' (first given on line " +
                            std::to_string(it->second) + ")");
                    continue;
                }
                if (const auto* ps = s.property(key)) {
                    out[key] = check(*ps, kv.second, sub, keyAt);
                } else if (s.additionalProperties) {
                    out[key] = freeForm(kv.second, sub, keyAt);
                } else {
                    err(keyAt, sub, "unknown key '" + key + "'" + suggestion(s, key));
                }
            }
        }
        for (const auto& [name, child] : s.properties) {
            if (exhausted) break;
            if (seen.count(name)) continue;
            const std::string sub = path.empty() ? name : path + "." + name;
            if (s.required.count(name)) {
                err(at, sub, "missing required " + child->type + " '" + name + "'");
            } else if (child->defaultValue) {
                // Defaults come from the YAML schema (already validated), never from the input.
                Validator fill{file, errors};
                out[name] = fill.check(*child, *child->defaultValue, sub, at);
            } else if (child->type == "object") {
                out[name] = check(*child, YAML::Node(YAML::NodeType::Map), sub, at);
            }
        }
        return out;
    }

    std::string suggestion(const SchemaNode& s, const std::string& key) const {
        std::size_t best = 3;
        std::string name;
        for (const auto& [candidate, child] : s.properties) {
            if (key.size() > candidate.size() + 2 || candidate.size() > key.size() + 2) continue;
            const auto d = editDistance(key, candidate);
            if (d < best && d < candidate.size()) {
                best = d;
                name = candidate;
            }
        }
        return name.empty() ? "" : " (did you mean '" + name + "'?)";
    }

    YAML::Node checkArray(const SchemaNode& s, const YAML::Node& n, const std::string& path,
                          const YAML::Mark& at) {
        if (!n.IsSequence()) {
            err(at, path, "expected a list, got " + describe(s, n));
            return emptyOf(s);
        }
        if (s.minItems && n.size() < *s.minItems)
            err(at, path,
                "needs at least " + std::to_string(*s.minItems) + " items (got " +
                    std::to_string(n.size()) + ")");
        if (s.maxItems && n.size() > *s.maxItems)
            err(at, path,
                "may have at most " + std::to_string(*s.maxItems) + " items (got " +
                    std::to_string(n.size()) + ")");
        YAML::Node out(YAML::NodeType::Sequence);
        std::size_t i = 0;
        for (const auto& e : n) {
            if (exhausted) break;
            const std::string sub = path + "[" + std::to_string(i++) + "]";
            out.push_back(s.items ? check(*s.items, e, sub, at) : freeForm(e, sub, at));
        }
        return out;
    }

    YAML::Node checkScalar(const SchemaNode& s, const YAML::Node& n, const std::string& path,
                           const YAML::Mark& at) {
        const std::string expected = s.type == "boolean" ? "boolean (true or false)" : s.type;
        if (!n.IsScalar()) {
            err(at, path, "expected " + expected + ", got " + describe(s, n));
            return YAML::Clone(n);
        }
        const std::string& v = n.Scalar();
        const bool quoted = n.Tag() == "!";
        if (json && (s.type == "string") != quoted) {
            err(at, path, "expected " + expected + ", got " + describe(s, n));
            return YAML::Clone(n);
        }
        if (s.type == "integer" || s.type == "number") {
            double d = 0;
            Parsed p = Parsed::NotANumber;
            if (s.type == "integer") {
                long long i = 0;
                p = parseInteger(v, i);
                d = static_cast<double>(i);
            } else {
                p = parseNumber(v, d);
            }
            if (p != Parsed::Ok) {
                err(at, path,
                    p == Parsed::OutOfRange ? s.type + " out of range"
                                            : "expected " + expected + ", got " + describe(s, n));
                return YAML::Clone(n);
            }
            const std::string got = s.secret ? "" : " (got " + v + ")";
            if (s.minimum && d < *s.minimum)
                err(at, path, "must be at least " + numberText(*s.minimum) + got);
            if (s.maximum && d > *s.maximum)
                err(at, path, "must be at most " + numberText(*s.maximum) + got);
        } else if (s.type == "boolean") {
            if (v != "true" && v != "false")
                err(at, path, "expected " + expected + ", got " + describe(s, n));
        } else {
            checkString(s, v, path, at);
        }
        if (!s.enumValues.empty() &&
            std::find(s.enumValues.begin(), s.enumValues.end(), v) == s.enumValues.end()) {
            std::string all;
            for (const auto& e : s.enumValues) all += (all.empty() ? "" : ", ") + e;
            err(at, path, "must be one of: " + all + " (got " + describe(s, n) + ")");
        }
        return YAML::Clone(n);
    }

    void checkString(const SchemaNode& s, const std::string& v, const std::string& path,
                     const YAML::Mark& at) {
        auto chars = [](std::size_t k) {
            return std::to_string(k) + (k == 1 ? " character" : " characters");
        };
        const std::size_t length = characters(v);
        if (s.minLength && length < *s.minLength)
            err(at, path, "must have at least " + chars(*s.minLength));
        if (s.maxLength && length > *s.maxLength)
            err(at, path, "must have at most " + chars(*s.maxLength));
        if (s.patternRe) {
            // std::regex recurses once per character: a long value could overflow the stack.
            if (v.size() > kMaxPatternInput)
                err(at, path,
                    "is too long to be checked against its pattern (at most " +
                        chars(kMaxPatternInput) + ")");
            else if (!std::regex_match(v, *s.patternRe))
                err(at, path, "must match " + s.pattern);
        }
        if (v.empty() || s.format.empty()) return;
        if (s.format == "hsa-id" && !HsaId::parse(v)) {
            err(at, path, "is not an HSA-id (SE + organisation number + '-' + letters/digits)");
        } else if (s.format == "personnummer") {
            const auto today =
                std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
            const auto r = Personnummer::parse(v, std::chrono::year_month_day{today});
            if (const auto* e = std::get_if<PersonnummerError>(&r))
                err(at, path, "is not a valid personnummer (" + std::string(toString(*e)) + ")");
        } else if (s.format == "url") {
            const bool scheme = v.rfind("https://", 0) == 0 || v.rfind("http://", 0) == 0;
            const auto rest = v.substr(v.find("://") == std::string::npos ? 0 : v.find("://") + 3);
            if (!scheme || rest.empty() || rest[0] == '/' ||
                std::any_of(v.begin(), v.end(),
                            [](char c) { return static_cast<unsigned char>(c) <= ' '; }))
                err(at, path, "must be an http:// or https:// URL");
        } else if (s.format == "host") {
            if (v.size() > 253 || std::any_of(v.begin(), v.end(), [](char c) {
                    return static_cast<unsigned char>(c) <= ' ' || c == '/' || c == '\\' ||
                           c == '@' || c == '?' || c == '#';
                }))
                err(at, path, "is not a host name or address");
        } else if (s.format == "path") {
            if (v.find('\0') != std::string::npos) err(at, path, "is not a path");
        }
    }
};

void checkDefault(const SchemaNode& s, const YAML::Node& def, const std::string& src,
                  const std::string& path) {
    std::vector<ConfigError> errs;
    Validator v{src, &errs};
    (void)v.check(s, def, path, def.Mark());
    if (!errs.empty())
        schemaError(src, def,
                    "the default of " + named(path) + " is invalid: " + errs.front().message);
}

// ---------------------------------------------------------------------------------------
// JSON and Markdown views
// ---------------------------------------------------------------------------------------

Poco::Dynamic::Var typed(const SchemaNode* s, const YAML::Node& n) {
    if (n.IsMap()) {
        Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
        for (const auto& kv : n)
            o->set(kv.first.Scalar(),
                   typed(s ? s->property(kv.first.Scalar()) : nullptr, kv.second));
        return o;
    }
    if (n.IsSequence()) {
        Poco::JSON::Array::Ptr a = new Poco::JSON::Array;
        for (const auto& e : n) a->add(typed(s ? s->items.get() : nullptr, e));
        return a;
    }
    if (!n.IsScalar()) return Poco::Dynamic::Var();
    const std::string& v = n.Scalar();
    const std::string t = s ? s->type : "";
    long long i = 0;
    double d = 0;
    if (t == "integer" && parseInteger(v, i) == Parsed::Ok) return static_cast<Poco::Int64>(i);
    if (t == "number" && parseNumber(v, d) == Parsed::Ok) return d;
    if (t == "boolean") return v == "true";
    if (!s && n.Tag() != "!") {  // free-form (additionalProperties): infer like YAML's core schema
        if (v == "true" || v == "false") return v == "true";
        if (parseInteger(v, i) == Parsed::Ok) return static_cast<Poco::Int64>(i);
        if (parseNumber(v, d) == Parsed::Ok) return d;
    }
    return v;
}

Poco::JSON::Object::Ptr nodeJson(const SchemaNode& s) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("type", s.type);
    o->set("description", s.doc);
    // What the console shows: a Swedish label (JSON Schema's title) and help.
    if (!s.labelSv.empty()) o->set("title", s.labelSv);
    if (!s.docSv.empty()) o->set("x-doc-sv", s.docSv);
    if (!s.properties.empty()) {
        Poco::JSON::Object::Ptr props = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
        for (const auto& [k, v] : s.properties) props->set(k, nodeJson(*v));
        o->set("properties", props);
    }
    if (!s.required.empty()) {
        Poco::JSON::Array::Ptr r = new Poco::JSON::Array;
        for (const auto& k : s.required) r->add(k);
        o->set("required", r);
    }
    if (s.type == "object") o->set("additionalProperties", s.additionalProperties);
    if (s.defaultValue && !s.secret) o->set("default", typed(&s, *s.defaultValue));
    if (!s.enumValues.empty()) {
        Poco::JSON::Array::Ptr e = new Poco::JSON::Array;
        for (const auto& v : s.enumValues) e->add(v);
        o->set("enum", e);
    }
    if (s.minimum) o->set("minimum", *s.minimum);
    if (s.maximum) o->set("maximum", *s.maximum);
    if (s.minLength) o->set("minLength", *s.minLength);
    if (s.maxLength) o->set("maxLength", *s.maxLength);
    if (s.minItems) o->set("minItems", *s.minItems);
    if (s.maxItems) o->set("maxItems", *s.maxItems);
    if (!s.pattern.empty()) o->set("pattern", s.pattern);
    if (s.items) o->set("items", nodeJson(*s.items));
    if (!s.format.empty()) o->set("format", s.format);
    if (s.secret) o->set("writeOnly", true);
    return o;
}

// Text for one Markdown table cell: a '|' would end the cell, a newline the row.
std::string cell(std::string text) {
    std::string out;
    for (char c : text) {
        if (c == '|')
            out += "\\|";
        else if (c == '\n' || c == '\r')
            out += ' ';
        else
            out += c;
    }
    return out;
}

void reference(const SchemaNode& s, const std::string& path, bool required,
               std::ostringstream& os) {
    if (!path.empty()) {
        std::string def = "—";
        if (s.secret) {
            def = "(secret)";
        } else if (s.defaultValue) {
            YAML::Emitter e;
            e << YAML::Flow << *s.defaultValue;
            def = std::string("`") + (e.c_str()[0] ? e.c_str() : "\"\"") + "`";
        } else if (required) {
            def = "required";
        } else if (s.type == "object") {
            def = "";
        }
        std::string type = s.type;
        if (!s.enumValues.empty()) {
            type.clear();
            for (const auto& v : s.enumValues) type += (type.empty() ? "" : " | ") + v;
        }
        if (s.items) type += " of " + s.items->type;
        if (s.minimum || s.maximum) {
            type += " (" + (s.minimum ? numberText(*s.minimum) : std::string("…")) + "–" +
                    (s.maximum ? numberText(*s.maximum) : std::string("…")) + ")";
        }
        os << "| `" << cell(path) << "` | " << cell(type) << " | " << cell(def) << " | "
           << cell(s.doc) << " |\n";
    }
    for (const auto& [k, v] : s.properties)
        reference(*v, path.empty() ? k : path + "." + k, s.required.count(k) > 0, os);
    // The fields of objects in a list: `plugins.routes[].path`.
    if (s.items && !s.items->properties.empty())
        for (const auto& [k, v] : s.items->properties)
            reference(*v, path + "[]." + k, s.items->required.count(k) > 0, os);
}

ValidationResult run(const SchemaNode& root, const YAML::Node& doc, const std::string& fileName,
                     bool json) {
    ValidationResult r;
    Validator v{fileName, &r.errors, json};
    // An empty file is an empty configuration: every default applies.
    const YAML::Node input = (!doc || doc.IsNull()) ? YAML::Node(YAML::NodeType::Map) : doc;
    r.document = v.check(root, input, "", YAML::Mark());
    if (v.exhausted)
        r.document = YAML::Node(YAML::NodeType::Map);  // never hand out a partial document
    return r;
}

}  // namespace

std::string ConfigError::toString() const {
    std::string s = file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
    if (!path.empty()) s += path + ": ";
    return s + message;
}

Schema Schema::fromYaml(const YAML::Node& schema, const std::string& sourceName) {
    Schema s;
    s.root_ = parseNode(schema, sourceName, "", false, 0);
    if (s.root_->type != "object")
        throw std::invalid_argument(sourceName + ": schema: the root must be an object");
    return s;
}

Schema Schema::fromYamlFile(const std::string& path) {
    YAML::Node doc;
    try {
        doc = YAML::LoadFile(path);
    } catch (const YAML::BadFile&) {
        throw std::invalid_argument(path + ": cannot read the schema file");
    } catch (const YAML::Exception& e) {
        throw std::invalid_argument(path + ":" + std::to_string(e.mark.line + 1) + ":" +
                                    std::to_string(e.mark.column + 1) +
                                    ": schema is not valid YAML: " + e.msg);
    }
    return fromYaml(doc, path);
}

ValidationResult Schema::validate(const YAML::Node& doc, const std::string& fileName) const {
    return run(*root_, doc, fileName, false);
}

ValidationResult Schema::validateJson(const std::string& jsonText,
                                      const std::string& fileName) const {
    YAML::Node doc;
    try {
        doc = YAML::Load(jsonText);
    } catch (const YAML::Exception& e) {
        ValidationResult r;
        r.errors.push_back(ConfigError{fileName, e.mark.line + 1, e.mark.column + 1, "",
                                       "not valid JSON: " + e.msg});
        return r;
    }
    return run(*root_, doc, fileName, true);
}

Poco::JSON::Object::Ptr Schema::toJson() const {
    return nodeJson(*root_);
}

std::vector<std::string> Schema::secretKeys() const {
    std::vector<std::string> out;
    for (const auto& [k, v] : root_->properties)
        if (v->secret) out.push_back(k);
    return out;
}

std::string renderMarkdownReference(const Schema& schema) {
    std::ostringstream os;
    os << "| Key | Type | Default | Description |\n|---|---|---|---|\n";
    reference(schema.root(), "", false, os);
    return os.str();
}

Poco::JSON::Object::Ptr toJsonObject(const Schema& schema, const YAML::Node& validatedDoc) {
    auto v = typed(&schema.root(), validatedDoc);
    if (v.type() == typeid(Poco::JSON::Object::Ptr)) return v.extract<Poco::JSON::Object::Ptr>();
    return new Poco::JSON::Object;
}

}  // namespace klinikbox::config
