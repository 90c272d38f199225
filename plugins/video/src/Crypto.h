// The few cryptographic primitives the video plugin needs, over OpenSSL: random bytes,
// HMAC-SHA256, SHA-256, base64url and constant-time comparison.
#pragma once

#include <string>
#include <string_view>

namespace klinikbox::video {

// `n` bytes from OpenSSL's CSPRNG (RAND_bytes); throws when it fails.
[[nodiscard]] std::string randomBytes(std::size_t n);
// `n` random bytes as lower-case hex (2n characters).
[[nodiscard]] std::string randomHex(std::size_t n);
[[nodiscard]] std::string hmacSha256(std::string_view key, std::string_view data);
[[nodiscard]] std::string sha256Hex(std::string_view data);
[[nodiscard]] std::string toHex(std::string_view bytes);
// RFC 4648 section 5 without padding.
[[nodiscard]] std::string base64UrlEncode(std::string_view bytes);
// Returns false on any character outside the alphabet or an impossible length.
[[nodiscard]] bool base64UrlDecode(std::string_view text, std::string& out);
[[nodiscard]] bool constantTimeEquals(std::string_view a, std::string_view b);

}  // namespace klinikbox::video
