#include <klinikbox/Secrets.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace klinikbox {

std::string sha256Hex(std::string_view data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr) != 1) throw std::runtime_error("SHA-256 failed");
    static const char* hex = "0123456789abcdef";
    std::string o;
    o.reserve(n * 2);
    for (unsigned i = 0; i < n; ++i) {
        o += hex[md[i] >> 4];
        o += hex[md[i] & 15];
    }
    return o;
}

std::string randomToken(std::size_t bytes) {
    std::string raw(bytes, '\0');
    if (bytes == 0 || RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1)
        throw std::runtime_error("no randomness available");
    static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string o;
    unsigned v = 0;
    int bits = 0;
    for (unsigned char c : raw) {
        v = (v << 8) | c;
        bits += 8;
        while (bits >= 6) {
            o += a[(v >> (bits - 6)) & 63];
            bits -= 6;
        }
    }
    if (bits > 0) o += a[(v << (6 - bits)) & 63];
    return o;
}

}  // namespace klinikbox
