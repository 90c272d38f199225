#include "http/LogRedaction.h"

namespace klinikbox::http {

namespace {

bool urlSafe(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

bool isHsaId(std::string_view s) {
    // SE + 10 or 12 digits + '-' + suffix, at most 31 characters.
    if (s.size() > 31 || s.size() < 14 || (s.substr(0, 2) != "SE" && s.substr(0, 2) != "se")) return false;
    const auto dash = s.find('-');
    if (dash == std::string_view::npos || (dash != 12 && dash != 14)) return false;
    for (std::size_t i = 2; i < dash; ++i)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

}  // namespace

bool isSecretParamName(std::string_view name) {
    return name == "token" || (name.size() > 6 && name.substr(name.size() - 6) == "_token");
}

bool looksLikeToken(std::string_view s) {
    // A calendar client asks for <token>.ics: the extension does not hide the token.
    if (const auto dot = s.rfind('.'); dot != std::string_view::npos && s.size() - dot <= 5) s = s.substr(0, dot);
    if (s.size() < 24 || isHsaId(s)) return false;
    bool upper = false, lower = false, hexOnly = true;
    for (char c : s) {
        if (!urlSafe(c)) return false;
        upper |= c >= 'A' && c <= 'Z';
        lower |= c >= 'a' && c <= 'z';
        hexOnly &= (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    }
    return (upper && lower) || (hexOnly && s.size() >= 32);
}

std::string redactTarget(std::string_view target, const std::set<std::size_t>& secretSegments) {
    const auto q = target.find('?');
    const std::string_view path = target.substr(0, q);
    std::string out;
    std::size_t index = 0;
    for (std::size_t i = 0; i < path.size();) {
        if (path[i] == '/') {
            out.push_back('/');
            ++i;
            continue;
        }
        const auto end = std::min(path.find('/', i), path.size());
        const std::string_view seg = path.substr(i, end - i);
        out += secretSegments.count(index) || looksLikeToken(seg) ? std::string_view(kRedacted) : seg;
        ++index;
        i = end;
    }
    if (q == std::string_view::npos) return out;
    out.push_back('?');
    const std::string_view query = target.substr(q + 1);
    for (std::size_t i = 0; i <= query.size();) {
        const auto end = std::min(query.find('&', i), query.size());
        const std::string_view pair = query.substr(i, end - i);
        const auto eq = pair.find('=');
        if (eq != std::string_view::npos && looksLikeToken(pair.substr(eq + 1))) {
            out += pair.substr(0, eq + 1);
            out += kRedacted;
        } else {
            out += pair;
        }
        if (end < query.size()) out.push_back('&');
        i = end + 1;
    }
    return out;
}

std::string redactTokenSegments(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        out.push_back(text[i]);
        if (text[i++] != '/') continue;
        std::size_t j = i;
        while (j < text.size() && (urlSafe(text[j]) || text[j] == '.')) ++j;
        const std::string_view run = text.substr(i, j - i);
        if (looksLikeToken(run)) {
            out += kRedacted;
            i = j;
        }
    }
    return out;
}

}  // namespace klinikbox::http
