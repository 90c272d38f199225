// The shared helpers of the booking resources (see Support.h).
#include "Support.h"

#include <klinikbox/HsaId.h>

#include <openssl/rand.h>

#include <cctype>
#include <stdexcept>

namespace booking {

// A VIP code a patient can type: 10 characters without look-alikes (0/O, 1/I/L).
std::string vipCode() {
    static const char* a = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    unsigned char raw[10];
    if (RAND_bytes(raw, sizeof raw) != 1) throw std::runtime_error("no randomness available");
    std::string o;
    for (unsigned char c : raw) o += a[c % 31];
    return o.substr(0, 5) + "-" + o.substr(5);
}

std::string normaliseCode(const std::string& s) {
    std::string o;
    for (char c : s) {
        if (c == '-' || c == ' ') continue;
        o += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return o;
}

std::string joinInts(const std::set<int>& v) {
    std::string o;
    for (int i : v) o += (o.empty() ? "" : ",") + std::to_string(i);
    return o;
}

std::vector<std::string> splitList(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : s) {
        if (c == sep) {
            if (!cur.empty()) out.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    if (!cur.empty()) out.push_back(cur);
    return out;
}

std::string requireHsa(const JsonInput& in, const std::string& field) {
    const auto text = in.str(field, 64);
    if (!HsaId::parse(text)) throw invalid(field, "'" + text + "' is not an HSA-id (e.g. SE2321000016-A1B2)", "hsa-id");
    return text;
}

std::string queryHsa(const Request& req, const std::string& name, bool required) {
    const auto v = req.queryParam(name);
    if (!v || v->empty()) {
        if (!required) return {};
        throw Problem::badRequest("/problems/missing-parameter", "the query parameter '" + name + "' is required");
    }
    if (!HsaId::parse(*v)) throw Problem::badRequest("/problems/invalid-parameter", "'" + name + "' is not an HSA-id");
    return *v;
}

year_month_day queryDate(const Request& req, const std::string& name, std::optional<year_month_day> def) {
    const auto v = req.queryParam(name);
    if (!v || v->empty()) {
        if (def) return *def;
        throw Problem::badRequest("/problems/missing-parameter", "the query parameter '" + name + "' is required (YYYY-MM-DD)");
    }
    const auto d = booking::parseDate(*v);
    if (!d) throw Problem::badRequest("/problems/invalid-parameter", "'" + name + "' must be a date YYYY-MM-DD");
    return *d;
}

Array::Ptr stringArray(const std::vector<std::string>& v) {
    Array::Ptr a = new Array;
    for (const auto& s : v) a->add(s);
    return a;
}

std::vector<std::string> readStringArray(const JsonInput& in, const std::string& field, std::size_t maxItems,
                                         std::size_t maxLen, bool required) {
    std::vector<std::string> out;
    if (!in.has(field)) {
        if (required) throw invalid(field, "is required", "required");
        return out;
    }
    const auto v = in.object()->get(field);
    if (v.type() != typeid(Array::Ptr)) throw invalid(field, "expected an array of strings");
    const auto arr = v.extract<Array::Ptr>();
    if (arr->size() > maxItems) throw invalid(field, "at most " + std::to_string(maxItems) + " items");
    for (std::size_t i = 0; i < arr->size(); ++i) {
        const auto e = arr->get(static_cast<unsigned>(i));
        if (!e.isString()) throw invalid(field, "item " + std::to_string(i) + " must be a string");
        const auto s = e.convert<std::string>();
        if (s.empty() || JsonInput::utf8Length(s) > maxLen)
            throw invalid(field, "item " + std::to_string(i) + " must be 1.." + std::to_string(maxLen) + " characters");
        out.push_back(s);
    }
    return out;
}

}  // namespace booking
