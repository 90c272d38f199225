// Password hashing with scrypt (OpenSSL), stored with its parameters so costs can rise:
// "scrypt$<log2 N>$<r>$<p>$<salt base64>$<hash base64>".
#pragma once

#include <string>
#include <string_view>

namespace klinikbox::auth {

struct ScryptParams {
    int log2N = 16;  // N = 65536: 64 MiB and roughly 0.1-0.2 s per hash on the appliance
    int r = 8;
    int p = 1;
};

// Each scrypt derivation holds 128·r·N bytes while it runs (64 MiB with the defaults), so
// at most `n` run at once in this process and further callers wait their turn
// (memory.password_hashes_at_once; 2 unless set). Logins are rare; their memory must not
// add up when many staff log in at the same moment.
void setPasswordHashesAtOnce(int n);
// The most derivations that have run at once since the last setPasswordHashesAtOnce.
[[nodiscard]] int passwordHashesPeak();

[[nodiscard]] std::string hashPassword(std::string_view password, const ScryptParams& params = {});
// Constant-time comparison of the derived key. False for malformed stored hashes.
[[nodiscard]] bool verifyPassword(std::string_view password, const std::string& stored);
// True when the stored hash uses weaker parameters than `current` (re-hash at next login).
[[nodiscard]] bool needsRehash(const std::string& stored, const ScryptParams& current = {});

// Swedish reason why a new password is not acceptable, or empty when it is.
[[nodiscard]] std::string passwordProblem(std::string_view password, std::string_view username);

// Random bytes as base64url without padding.
[[nodiscard]] std::string randomToken(std::size_t bytes = 32);
[[nodiscard]] std::string sha256Hex(std::string_view s);
[[nodiscard]] bool constantTimeEquals(std::string_view a, std::string_view b);

}  // namespace klinikbox::auth
