#include <klinikbox/JsonInput.h>

#include <Poco/JSON/Array.h>

namespace klinikbox {

std::size_t JsonInput::utf8Length(std::string_view s) {
    // Characters, not bytes: "Läkarbesök" is 10 long. Every byte but a continuation byte
    // (10xxxxxx) starts a code point; the JSON parser has already refused invalid UTF-8.
    std::size_t n = 0;
    for (unsigned char c : s)
        if ((c & 0xC0) != 0x80) ++n;
    return n;
}

Problem JsonInput::invalid(const std::string& name, const std::string& detail) { return invalid(name, detail, "invalid"); }

Problem JsonInput::invalid(const std::string& name, const std::string& detail, const std::string& code) {
    Problem p(400, "/problems/invalid-field", "Invalid field", name + ": " + detail);
    Poco::JSON::Array::Ptr errs = new Poco::JSON::Array;
    Poco::JSON::Object::Ptr e = new Poco::JSON::Object;
    e->set("pointer", "/" + name);
    e->set("detail", detail);
    e->set("code", code);
    errs->add(e);
    p.with("errors", errs);
    return p;
}

JsonInput::JsonInput(Poco::JSON::Object::Ptr obj, std::initializer_list<std::string> allowed) : obj_(std::move(obj)) {
    const std::set<std::string> ok(allowed);
    for (const auto& [k, v] : *obj_) {
        if (!ok.count(k)) {
            Problem p(400, "/problems/unknown-field", "Unknown field", "the field '" + k + "' is not part of this request");
            Poco::JSON::Array::Ptr errs = new Poco::JSON::Array;
            Poco::JSON::Object::Ptr e = new Poco::JSON::Object;
            e->set("pointer", "/" + k);
            e->set("detail", "unknown field");
            e->set("code", "unknown-field");
            errs->add(e);
            p.with("errors", errs);
            throw p;
        }
    }
}

bool JsonInput::has(const std::string& name) const { return obj_->has(name) && !obj_->isNull(name); }

std::optional<std::string> JsonInput::optStr(const std::string& name, std::size_t maxLen) const {
    if (!has(name)) return std::nullopt;
    const auto v = obj_->get(name);
    if (!v.isString()) throw invalid(name, "must be a string", "type");
    auto s = v.convert<std::string>();
    if (utf8Length(s) > maxLen) throw invalid(name, "must be at most " + std::to_string(maxLen) + " characters", "length");
    if (s.find('\0') != std::string::npos) throw invalid(name, "must not contain NUL characters", "nul");
    return s;
}

std::string JsonInput::str(const std::string& name, std::size_t maxLen) const {
    auto s = optStr(name, maxLen);
    if (!s || s->empty()) throw invalid(name, "is required", "required");
    return *s;
}

std::optional<long long> JsonInput::optInteger(const std::string& name, long long min, long long max) const {
    if (!has(name)) return std::nullopt;
    const auto v = obj_->get(name);
    if (!v.isInteger() || v.isBoolean()) throw invalid(name, "must be a whole number", "type");
    long long n;
    try {
        n = v.convert<long long>();
    } catch (const Poco::Exception&) {
        throw invalid(name, "is out of range", "range");
    }
    if (n < min || n > max)
        throw invalid(name, "must be between " + std::to_string(min) + " and " + std::to_string(max), "range");
    return n;
}

long long JsonInput::integer(const std::string& name, long long min, long long max) const {
    auto n = optInteger(name, min, max);
    if (!n) throw invalid(name, "is required", "required");
    return *n;
}

std::optional<bool> JsonInput::optBoolean(const std::string& name) const {
    if (!has(name)) return std::nullopt;
    const auto v = obj_->get(name);
    if (!v.isBoolean()) throw invalid(name, "must be true or false", "type");
    return v.convert<bool>();
}

bool JsonInput::boolean(const std::string& name) const {
    auto b = optBoolean(name);
    if (!b) throw invalid(name, "is required", "required");
    return *b;
}

}  // namespace klinikbox
