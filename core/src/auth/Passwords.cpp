#include "auth/Passwords.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace klinikbox::auth {

namespace {

constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kKeyBytes = 32;

std::string b64(const unsigned char* p, std::size_t n) {
    std::ostringstream os;
    Poco::Base64Encoder enc(os, Poco::BASE64_URL_ENCODING | Poco::BASE64_NO_PADDING);
    enc.rdbuf()->setLineLength(0);
    enc.write(reinterpret_cast<const char*>(p), static_cast<std::streamsize>(n));
    enc.close();
    return os.str();
}

std::string unb64(const std::string& s) {
    std::istringstream is(s);
    Poco::Base64Decoder dec(is, Poco::BASE64_URL_ENCODING | Poco::BASE64_NO_PADDING);
    std::string out((std::istreambuf_iterator<char>(dec)), std::istreambuf_iterator<char>());
    return out;
}

// Admits at most `limit` derivations at once (setPasswordHashesAtOnce).
struct HashGate {
    std::mutex mu;
    std::condition_variable cv;
    int limit = 2;
    int running = 0;
    int peak = 0;
};

HashGate& gate() {
    static HashGate g;
    return g;
}

std::string derive(std::string_view pw, const std::string& salt, int log2N, int r, int p) {
    struct Turn {
        HashGate& g = gate();
        Turn() {
            std::unique_lock lock(g.mu);
            g.cv.wait(lock, [&] { return g.running < g.limit; });
            ++g.running;
            g.peak = std::max(g.peak, g.running);
        }
        ~Turn() {
            {
                std::lock_guard lock(g.mu);
                --g.running;
            }
            g.cv.notify_one();
        }
    } turn;
    unsigned char key[kKeyBytes];
    const std::uint64_t N = 1ULL << log2N;
    const std::uint64_t maxmem = 128ULL * static_cast<std::uint64_t>(r) * (N + static_cast<std::uint64_t>(p) + 2) + (1 << 20);
    if (EVP_PBE_scrypt(pw.data(), pw.size(), reinterpret_cast<const unsigned char*>(salt.data()), salt.size(), N,
                       static_cast<std::uint64_t>(r), static_cast<std::uint64_t>(p), maxmem, key, sizeof key) != 1) {
        throw std::runtime_error("scrypt failed");
    }
    return std::string(reinterpret_cast<char*>(key), sizeof key);
}

struct Parsed {
    int log2N = 0, r = 0, p = 0;
    std::string salt, hash;
};

bool parse(const std::string& stored, Parsed& out) {
    std::vector<std::string> parts;
    std::size_t i = 0;
    while (true) {
        const auto j = stored.find('$', i);
        parts.push_back(stored.substr(i, j == std::string::npos ? std::string::npos : j - i));
        if (j == std::string::npos) break;
        i = j + 1;
    }
    if (parts.size() != 6 || parts[0] != "scrypt") return false;
    try {
        out.log2N = std::stoi(parts[1]);
        out.r = std::stoi(parts[2]);
        out.p = std::stoi(parts[3]);
    } catch (const std::exception&) {
        return false;
    }
    if (out.log2N < 10 || out.log2N > 22 || out.r < 1 || out.r > 32 || out.p < 1 || out.p > 16) return false;
    out.salt = unb64(parts[4]);
    out.hash = unb64(parts[5]);
    return out.salt.size() == kSaltBytes && out.hash.size() == kKeyBytes;
}

}  // namespace

void setPasswordHashesAtOnce(int n) {
    auto& g = gate();
    {
        std::lock_guard lock(g.mu);
        g.limit = std::max(n, 1);
        g.peak = g.running;
    }
    g.cv.notify_all();
}

int passwordHashesPeak() {
    auto& g = gate();
    std::lock_guard lock(g.mu);
    return g.peak;
}

std::string randomToken(std::size_t bytes) {
    std::vector<unsigned char> b(bytes);
    if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) throw std::runtime_error("no randomness");
    return b64(b.data(), b.size());
}

std::string sha256Hex(std::string_view s) {
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), md);
    static const char* d = "0123456789abcdef";
    std::string out;
    for (unsigned char c : md) {
        out.push_back(d[c >> 4]);
        out.push_back(d[c & 15]);
    }
    return out;
}

bool constantTimeEquals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string hashPassword(std::string_view password, const ScryptParams& params) {
    unsigned char salt[kSaltBytes];
    if (RAND_bytes(salt, sizeof salt) != 1) throw std::runtime_error("no randomness");
    const std::string s(reinterpret_cast<char*>(salt), sizeof salt);
    const std::string key = derive(password, s, params.log2N, params.r, params.p);
    return "scrypt$" + std::to_string(params.log2N) + "$" + std::to_string(params.r) + "$" + std::to_string(params.p) +
           "$" + b64(salt, sizeof salt) + "$" + b64(reinterpret_cast<const unsigned char*>(key.data()), key.size());
}

bool verifyPassword(std::string_view password, const std::string& stored) {
    Parsed p;
    if (!parse(stored, p)) return false;
    return constantTimeEquals(derive(password, p.salt, p.log2N, p.r, p.p), p.hash);
}

bool needsRehash(const std::string& stored, const ScryptParams& current) {
    Parsed p;
    if (!parse(stored, p)) return true;
    return p.log2N < current.log2N || p.r < current.r || p.p < current.p;
}

std::string passwordProblem(std::string_view password, std::string_view username) {
    // Length matters most (NIST SP 800-63B); no composition rules.
    std::size_t chars = 0;
    for (unsigned char c : password)
        if ((c & 0xC0) != 0x80) ++chars;
    if (chars < 12) return "Lösenordet måste ha minst 12 tecken.";
    if (password.size() > 256) return "Lösenordet får ha högst 256 tecken.";
    if (!username.empty() && password.find(username) != std::string_view::npos)
        return "Lösenordet får inte innehålla användarnamnet.";
    bool allSame = true;
    for (char c : password) allSame = allSame && c == password[0];
    if (allSame) return "Lösenordet får inte bestå av ett och samma tecken.";
    return {};
}

}  // namespace klinikbox::auth
