#include "config/Schema.h"

#include <klinikbox/HsaId.h>
#include <klinikbox/Personnummer.h>

#include <Poco/JSON/Array.h>

#include <algorithm>
#include <fstream>
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
    bool secret = false;

    [[nodiscard]] const SchemaNode* property(const std::string& name) const {
        for (const auto& [k, v] : properties)
            if (k == name) return v.get();
        return nullptr;
    }
};

namespace {

std::string where(const std::string& src, const YAML::Node& n) {
    const auto m = n.Mark();
    return src + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

[[noreturn]] void schemaError(const std::string& src, const YAML::Node& n, const std::string& msg) {
    throw std::invalid_argument(where(src, n) + ": schema: " + msg);
}

const std::set<std::string> kTypes = {"object", "string", "integer", "number", "boolean", "array"};
const std::set<std::string> kKeywords = {"type", "doc", "properties", "required", "additionalProperties", "default",
                                         "enum", "minimum", "maximum", "minLength", "maxLength", "pattern", "items",
                                         "minItems", "maxItems", "format", "secret"};
const std::set<std::string> kFormats = {"hsa-id", "personnummer", "path", "host", "url"};

std::size_t toSize(const std::string& src, const YAML::Node& n, const std::string& kw) {
    try {
        const long long v = n.as<long long>();
        if (v < 0) throw YAML::Exception(n.Mark(), "negative");
        return static_cast<std::size_t>(v);
    } catch (const YAML::Exception&) {
        schemaError(src, n, kw + " must be a non-negative integer");
    }
}

std::shared_ptr<SchemaNode> parseNode(const YAML::Node& n, const std::string& src, const std::string& path);

void checkDefault(const SchemaNode& s, const YAML::Node& def, const std::string& src, const std::string& path);

std::shared_ptr<SchemaNode> parseNode(const YAML::Node& n, const std::string& src, const std::string& path) {
    if (!n.IsMap()) schemaError(src, n, (path.empty() ? "the root" : path) + " must be a mapping");
    auto s = std::make_shared<SchemaNode>();
    for (const auto& kv : n) {
        const auto k = kv.first.Scalar();
        if (!kKeywords.count(k)) schemaError(src, kv.first, "unknown keyword '" + k + "' at " + (path.empty() ? "the root" : path));
    }
    if (!n["type"] || !kTypes.count(n["type"].Scalar()))
        schemaError(src, n, (path.empty() ? "the root" : path) + " needs a type: object, string, integer, number, boolean or array");
    s->type = n["type"].Scalar();
    if (!n["doc"] || n["doc"].Scalar().empty()) schemaError(src, n, (path.empty() ? "the root" : path) + " needs a doc");
    s->doc = n["doc"].Scalar();
    if (const auto p = n["properties"]) {
        if (s->type != "object" || !p.IsMap()) schemaError(src, p, "properties belong to an object and must be a mapping");
        for (const auto& kv : p) {
            const auto name = kv.first.Scalar();
            s->properties.emplace_back(name, parseNode(kv.second, src, path.empty() ? name : path + "." + name));
        }
    }
    if (const auto r = n["required"]) {
        if (!r.IsSequence()) schemaError(src, r, "required must be a list");
        for (const auto& e : r) {
            if (!s->property(e.Scalar())) schemaError(src, e, "required names unknown property '" + e.Scalar() + "'");
            s->required.insert(e.Scalar());
        }
    }
    if (const auto a = n["additionalProperties"]) {
        try {
            s->additionalProperties = a.as<bool>();
        } catch (const YAML::Exception&) {
            schemaError(src, a, "additionalProperties must be true or false");
        }
    }
    if (const auto e = n["enum"]) {
        if (!e.IsSequence()) schemaError(src, e, "enum must be a list");
        for (const auto& v : e) s->enumValues.push_back(v.Scalar());
    }
    for (const char* kw : {"minimum", "maximum"}) {
        if (const auto v = n[kw]) {
            try {
                (std::string(kw) == "minimum" ? s->minimum : s->maximum) = v.as<double>();
            } catch (const YAML::Exception&) {
                schemaError(src, v, std::string(kw) + " must be a number");
            }
        }
    }
    if (n["minLength"]) s->minLength = toSize(src, n["minLength"], "minLength");
    if (n["maxLength"]) s->maxLength = toSize(src, n["maxLength"], "maxLength");
    if (n["minItems"]) s->minItems = toSize(src, n["minItems"], "minItems");
    if (n["maxItems"]) s->maxItems = toSize(src, n["maxItems"], "maxItems");
    if (const auto p = n["pattern"]) {
        s->pattern = p.Scalar();
        try {
            s->patternRe = std::regex(s->pattern, std::regex::ECMAScript);
        } catch (const std::regex_error&) {
            schemaError(src, p, "pattern is not a valid regular expression");
        }
    }
    if (const auto i = n["items"]) {
        if (s->type != "array") schemaError(src, i, "items belong to an array");
        s->items = parseNode(i, src, path + "[]");
    }
    if (const auto f = n["format"]) {
        if (!kFormats.count(f.Scalar())) schemaError(src, f, "unknown format '" + f.Scalar() + "'");
        s->format = f.Scalar();
    }
    if (const auto sec = n["secret"]) {
        try {
            s->secret = sec.as<bool>();
        } catch (const YAML::Exception&) {
            schemaError(src, sec, "secret must be true or false");
        }
    }
    if (const auto d = n["default"]) {
        s->defaultValue = YAML::Clone(d);
        checkDefault(*s, d, src, path);
    }
    return s;
}

std::string shown(const SchemaNode& s, const YAML::Node& n) {
    if (s.secret) return "(secret)";
    if (!n.IsScalar()) return n.IsMap() ? "a mapping" : n.IsSequence() ? "a list" : "nothing";
    std::string v = n.Scalar();
    if (v.size() > 40) v = v.substr(0, 40) + "...";
    return "'" + v + "'";
}

bool isInteger(const std::string& v) {
    std::size_t i = (!v.empty() && (v[0] == '-' || v[0] == '+')) ? 1 : 0;
    if (i >= v.size() || v.size() - i > 18) return false;
    return std::all_of(v.begin() + static_cast<long>(i), v.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool isNumber(const std::string& v) {
    static const std::regex re("^[-+]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][-+]?[0-9]+)?$");
    return std::regex_match(v, re);
}

std::size_t editDistance(const std::string& a, const std::string& b) {
    std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j)
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

struct Validator {
    std::string file;
    std::vector<ConfigError>* errors;
    // JSON input: a quoted scalar is a string and only a string ("5" is no integer, 5 no string).
    bool json = false;

    void err(const YAML::Node& n, const std::string& path, const std::string& msg) const {
        const auto m = n.Mark();
        errors->push_back(ConfigError{file, m.line + 1, m.column + 1, path, msg});
    }

    // Validates n against s and returns the defaulted copy.
    YAML::Node check(const SchemaNode& s, const YAML::Node& n, const std::string& path) const {
        if (s.type == "object") {
            if (!n.IsMap()) {
                err(n, path, "expected a mapping, got " + shown(s, n));
                return YAML::Node(YAML::NodeType::Map);
            }
            YAML::Node out(YAML::NodeType::Map);
            for (const auto& kv : n) {
                const auto key = kv.first.Scalar();
                const std::string sub = path.empty() ? key : path + "." + key;
                if (const auto* ps = s.property(key)) {
                    out[key] = check(*ps, kv.second, sub);
                } else if (s.additionalProperties) {
                    out[key] = YAML::Clone(kv.second);
                } else {
                    std::string msg = "unknown key '" + key + "'";
                    std::size_t best = 3;
                    std::string suggestion;
                    for (const auto& [name, child] : s.properties) {
                        const auto d = editDistance(key, name);
                        if (d < best) {
                            best = d;
                            suggestion = name;
                        }
                    }
                    if (!suggestion.empty()) msg += " (did you mean '" + suggestion + "'?)";
                    err(kv.first, sub, msg);
                }
            }
            for (const auto& [name, child] : s.properties) {
                if (out[name]) continue;
                const std::string sub = path.empty() ? name : path + "." + name;
                if (s.required.count(name)) {
                    err(n, sub, "missing required " + child->type + " '" + name + "'");
                } else if (child->defaultValue) {
                    // Defaults come from the YAML schema, not from the (maybe JSON) input.
                    out[name] = Validator{file, errors, false}.check(*child, *child->defaultValue, sub);
                } else if (child->type == "object") {
                    YAML::Node empty(YAML::NodeType::Map);
                    out[name] = Validator{file, errors, false}.check(*child, empty, sub);
                }
            }
            return out;
        }
        if (s.type == "array") {
            if (!n.IsSequence()) {
                err(n, path, "expected a list, got " + shown(s, n));
                return YAML::Node(YAML::NodeType::Sequence);
            }
            if (s.minItems && n.size() < *s.minItems) err(n, path, "needs at least " + std::to_string(*s.minItems) + " items");
            if (s.maxItems && n.size() > *s.maxItems) err(n, path, "may have at most " + std::to_string(*s.maxItems) + " items");
            YAML::Node out(YAML::NodeType::Sequence);
            std::size_t i = 0;
            for (const auto& e : n) out.push_back(s.items ? check(*s.items, e, path + "[" + std::to_string(i++) + "]") : YAML::Clone(e));
            return out;
        }
        // Scalars.
        if (!n.IsScalar()) {
            err(n, path, "expected " + s.type + ", got " + shown(s, n));
            return YAML::Clone(n);
        }
        const std::string v = n.Scalar();
        if (json) {
            const bool quoted = n.Tag() == "!";
            if ((s.type == "string") != quoted) {
                err(n, path, "expected " + s.type + ", got " + (quoted ? "a string" : "a " + std::string(v == "true" || v == "false" ? "boolean" : v == "null" ? "null" : "number")));
                return YAML::Clone(n);
            }
        }
        if (s.type == "integer" || s.type == "number") {
            const bool ok = s.type == "integer" ? isInteger(v) : isNumber(v);
            if (!ok) {
                err(n, path, "expected " + s.type + ", got " + shown(s, n));
                return YAML::Clone(n);
            }
            const double d = std::stod(v);
            if (s.minimum && d < *s.minimum) err(n, path, "must be at least " + YAML::Node(*s.minimum).Scalar());
            if (s.maximum && d > *s.maximum) err(n, path, "must be at most " + YAML::Node(*s.maximum).Scalar());
        } else if (s.type == "boolean") {
            if (v != "true" && v != "false") err(n, path, "expected true or false, got " + shown(s, n));
        } else {  // string
            auto chars = [](std::size_t k) { return std::to_string(k) + (k == 1 ? " character" : " characters"); };
            if (s.minLength && v.size() < *s.minLength) err(n, path, "must have at least " + chars(*s.minLength));
            if (s.maxLength && v.size() > *s.maxLength) err(n, path, "must have at most " + chars(*s.maxLength));
            if (s.patternRe && !std::regex_match(v, *s.patternRe)) err(n, path, "must match " + s.pattern);
            if (!v.empty()) {
                if (s.format == "hsa-id" && !HsaId::parse(v)) err(n, path, "is not an HSA-id (SE + organisation number + '-' + letters/digits)");
                if (s.format == "personnummer") {
                    const auto t = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
                    if (std::holds_alternative<PersonnummerError>(Personnummer::parse(v, std::chrono::year_month_day{t})))
                        err(n, path, "is not a valid personnummer");
                }
                if (s.format == "url" && v.rfind("https://", 0) != 0 && v.rfind("http://", 0) != 0)
                    err(n, path, "must be an http:// or https:// URL");
                if (s.format == "host" && v.find_first_of(" /\\") != std::string::npos) err(n, path, "is not a host name");
                if (s.format == "path" && v.find('\0') != std::string::npos) err(n, path, "is not a path");
            }
        }
        if (!s.enumValues.empty() && std::find(s.enumValues.begin(), s.enumValues.end(), v) == s.enumValues.end()) {
            std::string all;
            for (const auto& e : s.enumValues) all += (all.empty() ? "" : ", ") + e;
            err(n, path, "must be one of: " + all + " (got " + shown(s, n) + ")");
        }
        return YAML::Clone(n);
    }
};

void checkDefault(const SchemaNode& s, const YAML::Node& def, const std::string& src, const std::string& path) {
    std::vector<ConfigError> errs;
    Validator v{src, &errs};
    (void)v.check(s, def, path);
    if (!errs.empty()) schemaError(src, def, "the default of " + path + " is invalid: " + errs.front().message);
}

Poco::Dynamic::Var typed(const SchemaNode* s, const YAML::Node& n) {
    if (n.IsMap()) {
        Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
        for (const auto& kv : n) o->set(kv.first.Scalar(), typed(s ? s->property(kv.first.Scalar()) : nullptr, kv.second));
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
    if (t == "integer" && isInteger(v)) return static_cast<Poco::Int64>(std::stoll(v));
    if (t == "number" && isNumber(v)) return std::stod(v);
    if (t == "boolean") return v == "true";
    if (!s) {  // free-form (additionalProperties): infer like YAML's core schema
        if (v == "true" || v == "false") return v == "true";
        if (isInteger(v)) return static_cast<Poco::Int64>(std::stoll(v));
        if (n.Tag() != "!" && isNumber(v)) return std::stod(v);
    }
    return v;
}

Poco::JSON::Object::Ptr nodeJson(const SchemaNode& s) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("type", s.type);
    o->set("description", s.doc);
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

void reference(const SchemaNode& s, const std::string& path, std::ostringstream& os) {
    if (!path.empty()) {
        std::string def = "—";
        if (s.secret) {
            def = "(secret)";
        } else if (s.defaultValue) {
            YAML::Emitter e;
            e << YAML::Flow << *s.defaultValue;
            def = std::string("`") + (e.c_str()[0] ? e.c_str() : "\"\"") + "`";
        } else if (s.type == "object") {
            def = "";
        }
        std::string type = s.type;
        if (!s.enumValues.empty()) {
            type.clear();
            for (const auto& v : s.enumValues) type += (type.empty() ? "" : " \\| ") + v;
        }
        if (s.minimum || s.maximum) {
            type += " (" + (s.minimum ? YAML::Node(*s.minimum).Scalar() : std::string("…")) + "–" +
                    (s.maximum ? YAML::Node(*s.maximum).Scalar() : std::string("…")) + ")";
        }
        std::string doc = s.doc;
        std::replace(doc.begin(), doc.end(), '\n', ' ');
        os << "| `" << path << "` | " << type << " | " << def << " | " << doc << " |\n";
    }
    for (const auto& [k, v] : s.properties) reference(*v, path.empty() ? k : path + "." + k, os);
}

}  // namespace

std::string ConfigError::toString() const {
    std::string s = file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
    if (!path.empty()) s += path + ": ";
    return s + message;
}

Schema Schema::fromYaml(const YAML::Node& schema, const std::string& sourceName) {
    Schema s;
    s.root_ = parseNode(schema, sourceName, "");
    if (s.root_->type != "object") throw std::invalid_argument(sourceName + ": schema: the root must be an object");
    return s;
}

Schema Schema::fromYamlFile(const std::string& path) {
    try {
        return fromYaml(YAML::LoadFile(path), path);
    } catch (const YAML::BadFile&) {
        throw std::invalid_argument(path + ": cannot read the schema file");
    } catch (const YAML::Exception& e) {
        throw std::invalid_argument(path + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                                    ": schema is not valid YAML: " + e.msg);
    }
}

namespace {
ValidationResult run(const SchemaNode& root, const YAML::Node& doc, const std::string& fileName, bool json) {
    ValidationResult r;
    Validator v{fileName, &r.errors, json};
    YAML::Node input = doc;
    if (!doc || doc.IsNull()) input = YAML::Node(YAML::NodeType::Map);
    r.document = v.check(root, input, "");
    return r;
}
}  // namespace

ValidationResult Schema::validate(const YAML::Node& doc, const std::string& fileName) const {
    return run(*root_, doc, fileName, false);
}

ValidationResult Schema::validateJson(const std::string& jsonText, const std::string& fileName) const {
    try {
        return run(*root_, YAML::Load(jsonText), fileName, true);
    } catch (const YAML::Exception& e) {
        ValidationResult r;
        r.errors.push_back(ConfigError{fileName, e.mark.line + 1, e.mark.column + 1, "", "not valid JSON: " + e.msg});
        return r;
    }
}

Poco::JSON::Object::Ptr Schema::toJson() const { return nodeJson(*root_); }

std::vector<std::string> Schema::secretKeys() const {
    std::vector<std::string> out;
    for (const auto& [k, v] : root_->properties)
        if (v->secret) out.push_back(k);
    return out;
}

std::string renderMarkdownReference(const Schema& schema) {
    std::ostringstream os;
    os << "| Key | Type | Default | Description |\n|---|---|---|---|\n";
    reference(schema.root(), "", os);
    return os.str();
}

Poco::JSON::Object::Ptr toJsonObject(const Schema& schema, const YAML::Node& validatedDoc) {
    auto v = typed(&schema.root(), validatedDoc);
    if (v.type() == typeid(Poco::JSON::Object::Ptr)) return v.extract<Poco::JSON::Object::Ptr>();
    return new Poco::JSON::Object;
}

}  // namespace klinikbox::config
