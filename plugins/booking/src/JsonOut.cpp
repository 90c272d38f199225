#include "JsonOut.h"

#include <charconv>

namespace booking {

void JsonOut::appendString(std::string& out, std::string_view v) {
    static const char* hex = "0123456789abcdef";
    out.push_back('"');
    std::size_t run = 0;  // start of the bytes not yet copied
    for (std::size_t i = 0; i < v.size(); ++i) {
        const auto c = static_cast<unsigned char>(v[i]);
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        out.append(v.data() + run, i - run);
        run = i + 1;
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                out += "\\u00";
                out.push_back(hex[c >> 4]);
                out.push_back(hex[c & 15]);
        }
    }
    out.append(v.data() + run, v.size() - run);
    out.push_back('"');
}

void JsonOut::separate() {
    if (afterKey_) {
        afterKey_ = false;
        return;
    }
    if (!first_) s_.push_back(',');
    first_ = false;
}

JsonOut& JsonOut::open(char c) {
    separate();
    s_.push_back(c);
    first_ = true;
    return *this;
}

JsonOut& JsonOut::close(char c) {
    s_.push_back(c);
    first_ = false;
    return *this;
}

JsonOut& JsonOut::key(std::string_view k) {
    separate();
    appendString(s_, k);
    s_.push_back(':');
    afterKey_ = true;
    return *this;
}

JsonOut& JsonOut::value(std::string_view v) {
    separate();
    appendString(s_, v);
    return *this;
}

JsonOut& JsonOut::integer(long long v) {
    separate();
    char b[24];
    const auto r = std::to_chars(b, b + sizeof b, v);
    s_.append(b, r.ptr);
    return *this;
}

JsonOut& JsonOut::value(bool v) {
    separate();
    s_ += v ? "true" : "false";
    return *this;
}

}  // namespace booking
