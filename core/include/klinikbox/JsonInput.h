// Strict reading of a JSON request body: unknown fields, wrong types, missing and
// oversized values all become 400 problem documents naming the field (RFC 6901 pointer).
#pragma once

#include <klinikbox/Problem.h>

#include <Poco/JSON/Object.h>

#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace klinikbox {

class JsonInput {
public:
    // Refuses any field not in `allowed` (type /problems/unknown-field).
    JsonInput(Poco::JSON::Object::Ptr obj, std::initializer_list<std::string> allowed);

    [[nodiscard]] bool has(const std::string& name) const;
    // A required string of 1..maxLen characters (Unicode code points, not UTF-8 bytes).
    [[nodiscard]] std::string str(const std::string& name, std::size_t maxLen = 1000) const;
    [[nodiscard]] std::optional<std::string> optStr(const std::string& name, std::size_t maxLen = 1000) const;
    [[nodiscard]] long long integer(const std::string& name, long long min, long long max) const;
    [[nodiscard]] std::optional<long long> optInteger(const std::string& name, long long min, long long max) const;
    [[nodiscard]] bool boolean(const std::string& name) const;
    [[nodiscard]] std::optional<bool> optBoolean(const std::string& name) const;
    [[nodiscard]] Poco::JSON::Object::Ptr object() const { return obj_; }

    // The length of UTF-8 text in code points.
    [[nodiscard]] static std::size_t utf8Length(std::string_view s);
    // A 400 problem about one field. Its error carries a machine-readable `code` that the
    // console looks up in its string catalogue (required, type, range, length, nul,
    // unknown-field, hsa-id, pnr.<reason>, ...; "invalid" when none is given).
    [[nodiscard]] static Problem invalid(const std::string& name, const std::string& detail);
    [[nodiscard]] static Problem invalid(const std::string& name, const std::string& detail, const std::string& code);

private:
    Poco::JSON::Object::Ptr obj_;
};

}  // namespace klinikbox
