// A JSON text written straight into a string, for the large lists a read returns (a unit's
// day view holds hundreds of slots): building a Poco::JSON object tree per slot and
// stringifying it cost more than the query. The caller writes keys and values in order;
// strings are escaped per RFC 8259 (quote, backslash and control characters; UTF-8 passes
// through unchanged).
#pragma once

#include <string>
#include <string_view>
#include <type_traits>

namespace booking {

class JsonOut {
public:
    explicit JsonOut(std::size_t reserve = 0) { s_.reserve(reserve); }

    JsonOut& beginObject() { return open('{'); }
    JsonOut& endObject() { return close('}'); }
    JsonOut& beginArray() { return open('['); }
    JsonOut& endArray() { return close(']'); }
    // The key of the next value inside an object.
    JsonOut& key(std::string_view k);
    JsonOut& value(std::string_view v);
    JsonOut& value(const char* v) { return value(std::string_view(v)); }
    JsonOut& value(bool v);
    template <class I>
        requires(std::is_integral_v<I> && !std::is_same_v<I, bool>)
    JsonOut& value(I v) {
        return integer(static_cast<long long>(v));
    }
    // key(k).value(v)
    template <class T>
    JsonOut& field(std::string_view k, const T& v) {
        return key(k).value(v);
    }

    [[nodiscard]] const std::string& str() const { return s_; }
    [[nodiscard]] std::string take() { return std::move(s_); }

    // Appends `v` as a quoted, escaped JSON string.
    static void appendString(std::string& out, std::string_view v);

private:
    JsonOut& integer(long long v);
    JsonOut& open(char c);
    JsonOut& close(char c);
    void separate();
    std::string s_;
    bool first_ = true;      // no value yet in the innermost object or array
    bool afterKey_ = false;  // a key was written and waits for its value
};

}  // namespace booking
