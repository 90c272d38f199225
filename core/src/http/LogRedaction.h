// Keeps bearer tokens out of logs. A route declares a path parameter a secret by its name
// ({token}, or any name ending in _token); the access log shows such a segment as
// "[redacted]". As a second line, any path segment or query value that looks like a random
// token (24+ URL-safe characters in both letter cases, or 32+ hex digits) is redacted in the
// access log and in every application log line, whoever wrote it.
#pragma once

#include <set>
#include <string>
#include <string_view>

namespace klinikbox::http {

inline constexpr const char* kRedacted = "[redacted]";

// Whether a path parameter with this name carries a secret.
[[nodiscard]] bool isSecretParamName(std::string_view name);
// Whether a path segment or value has the shape of a random token (not an HSA-id).
[[nodiscard]] bool looksLikeToken(std::string_view s);
// The request target (path and query) for the access log: the path segments numbered in
// `secretSegments` (0-based, empty segments skipped) and token-shaped segments and query
// values become "[redacted]".
[[nodiscard]] std::string redactTarget(std::string_view target, const std::set<std::size_t>& secretSegments);
// Free text (an application log line): every token-shaped run right after a '/' becomes
// "[redacted]" (a URL path in an error message).
[[nodiscard]] std::string redactTokenSegments(std::string_view text);

}  // namespace klinikbox::http
