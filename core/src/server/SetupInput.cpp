#include "server/SetupInput.h"

#include <klinikbox/JsonInput.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <memory>

namespace klinikbox::server::setup {

namespace {

bool isIp(const std::string& s) {
    unsigned char buf[16];
    return ::inet_pton(AF_INET, s.c_str(), buf) == 1 || ::inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

bool isDnsName(const std::string& s) {
    if (s.empty() || s.size() > 253) return false;
    std::size_t start = 0;
    bool allDigitsAndDots = true;
    while (start <= s.size()) {
        const auto dot = s.find('.', start);
        const auto label = s.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
        for (const char c : label) {
            const auto u = static_cast<unsigned char>(c);
            if (!std::isalnum(u) && c != '-') return false;
            if (!std::isdigit(u)) allDigitsAndDots = false;
        }
        if (dot == std::string::npos) break;
        start = dot + 1;
    }
    return !allDigitsAndDots;  // 192.168.1.300 is a broken address, not a name
}

// True when `pem` holds nothing but PEM blocks and whitespace (OpenSSL's reader skips any
// text between blocks, so a file with something else in it would pass unnoticed).
bool onlyPemBlocks(const std::string& pem) {
    std::size_t at = 0;
    while (true) {
        const auto begin = pem.find("-----BEGIN ", at);
        const auto gap = pem.substr(at, begin == std::string::npos ? std::string::npos : begin - at);
        if (gap.find_first_not_of(" \t\r\n") != std::string::npos) return false;
        if (begin == std::string::npos) return true;
        const auto end = pem.find("-----END ", begin);
        if (end == std::string::npos) return false;
        const auto close = pem.find("-----", end + 9);
        if (close == std::string::npos) return false;
        at = close + 5;
    }
}

struct BioDeleter {
    void operator()(BIO* b) const { BIO_free(b); }
};

// Every PEM block of `pem` read by `read`; false when there is none or anything else.
template <class T, class Read, class Free>
bool eachPem(const std::string& pem, Read read, Free free, const std::function<bool(T*)>& ok) {
    if (!onlyPemBlocks(pem)) return false;
    std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    int n = 0;
    while (T* x = read(bio.get(), nullptr, nullptr, nullptr)) {
        const bool good = ok(x);
        free(x);
        if (!good) return false;
        ++n;
    }
    ERR_clear_error();
    return n > 0;
}

}  // namespace

std::string clinicNameProblem(const std::string& name) {
    const auto len = JsonInput::utf8Length(name);
    if (len == 0 || name.find_first_not_of(" \t") == std::string::npos) return "required";
    if (len > 100) return "length";
    for (const char c : name)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return "nul";
    return {};
}

std::string normalizeHost(std::string name) {
    if (name.size() > 2 && name.front() == '[' && name.back() == ']') name = name.substr(1, name.size() - 2);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    return name;
}

std::string hostNameProblem(const std::string& name) {
    const auto n = normalizeHost(name);
    if (n.empty()) return "required";
    return isIp(n) || isDnsName(n) ? std::string{} : std::string("host");
}

std::string publicUrlProblem(const std::string& url, bool tls) {
    const std::string scheme = tls ? "https://" : "http://";
    if (url.rfind(scheme, 0) != 0) return "url";
    std::string rest = url.substr(scheme.size());
    if (!rest.empty() && rest.back() == '/') rest.pop_back();
    if (rest.empty() || rest.find_first_of("/?#@ ") != std::string::npos) return "url";
    std::string host, port;
    bool hasPort = false;
    if (rest.front() == '[') {
        const auto close = rest.find(']');
        if (close == std::string::npos) return "url";
        host = rest.substr(1, close - 1);
        const auto after = rest.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return "url";
            hasPort = true;
            port = after.substr(1);
        }
        unsigned char buf[16];
        if (::inet_pton(AF_INET6, host.c_str(), buf) != 1) return "url";
    } else {
        const auto colon = rest.find(':');
        host = rest.substr(0, colon);
        if (colon != std::string::npos) {
            hasPort = true;
            port = rest.substr(colon + 1);
        }
        if (!hostNameProblem(host).empty()) return "url";
    }
    if (hasPort) {
        if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return "url";
        const int p = std::stoi(port);
        if (p < 1 || p > 65535) return "url";
    }
    return {};
}

std::string publicUrlFor(const std::string& host, int port, bool tls) {
    const auto h = normalizeHost(host);
    std::string url = tls ? "https://" : "http://";
    if (h.find(':') != std::string::npos) {
        url += '[';
        url += h;
        url += ']';
    } else {
        url += h;
    }
    if (port > 0 && port != (tls ? 443 : 80)) {
        url += ':';
        url += std::to_string(port);
    }
    return url;
}

std::string regionDirName(const std::string& regionName) {
    std::string out;
    for (std::size_t i = 0; i < regionName.size(); ++i) {
        const auto c = static_cast<unsigned char>(regionName[i]);
        if (c == 0xC3 && i + 1 < regionName.size()) {  // å ä ö é ü Å Ä Ö É Ü in UTF-8
            const auto d = static_cast<unsigned char>(regionName[++i]);
            const char* plain = nullptr;
            switch (d) {
                case 0xA5: case 0xA4: case 0x85: case 0x84: plain = "a"; break;
                case 0xB6: case 0x96: plain = "o"; break;
                case 0xA9: case 0x89: plain = "e"; break;
                case 0xBC: case 0x9C: plain = "u"; break;
                default: break;
            }
            if (plain) out += plain;
            else if (!out.empty() && out.back() != '-') out += '-';
        } else if (std::isalnum(c) && c < 0x80) {
            out += static_cast<char>(std::tolower(c));
        } else if (!out.empty() && out.back() != '-') {
            out += '-';
        }
    }
    while (!out.empty() && out.back() == '-') out.pop_back();
    if (out.size() > 60) out.resize(60);
    return out;
}

std::string rootPemProblem(const std::string& pem) {
    const bool ok = eachPem<X509>(pem, PEM_read_bio_X509, X509_free, [](X509* x) {
        return X509_check_ca(x) == 1 && X509_check_issued(x, x) == X509_V_OK;
    });
    return ok ? std::string{} : std::string("pem-ca");
}

std::string crlPemProblem(const std::string& pem) {
    if (pem.find_first_not_of(" \t\r\n") == std::string::npos) return {};
    const bool ok = eachPem<X509_CRL>(pem, PEM_read_bio_X509_CRL, X509_CRL_free, [](X509_CRL*) { return true; });
    return ok ? std::string{} : std::string("pem-crl");
}

}  // namespace klinikbox::server::setup
