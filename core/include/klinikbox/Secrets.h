// Small cryptographic helpers every plugin needs the same way: a SHA-256 in hex (store a
// token's hash, never the token) and an unguessable token from the operating system's
// randomness in URL-safe base64.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace klinikbox {

[[nodiscard]] std::string sha256Hex(std::string_view data);
// `bytes` random bytes (32 = 256 bits by default) as base64url without padding. Throws
// std::runtime_error when the system has no randomness to give.
[[nodiscard]] std::string randomToken(std::size_t bytes = 32);

}  // namespace klinikbox
