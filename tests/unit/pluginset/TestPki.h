// A throw-away PKI for the plugin-set tests, made with OpenSSL's C API in milliseconds:
// roots, intermediates and signing certificates with chosen extensions and dates, CRLs.
// Dates are fixed (2020-2040) and verification times are injected, so nothing expires.
#pragma once

#include "pluginset/Ssl.h"

#include <string>
#include <vector>

namespace kbtest {

namespace ssl = klinikbox::pluginset::ssl;

// What to put in a certificate: CertSpec("Officer").eku("codeSigning").validity(...).
struct CertSpec {
    std::string cn;
    bool isCa = false;
    std::string keyUsage = "critical,digitalSignature";  // "" leaves the extension out
    std::string extKeyUsage;                             // e.g. "codeSigning"; "" leaves it out
    std::string notBefore = "2020-01-01T00:00:00Z";
    std::string notAfter = "2040-01-01T00:00:00Z";
    bool version1 = false;                // an X.509 v1 certificate: no extensions at all
    int rsaBits = 0;                      // 0: an EC P-256 key; else an RSA key of this size
    std::string issuerDigest = "SHA256";  // what the issuer signs the certificate with

    CertSpec(std::string name) : cn(std::move(name)) {}  // NOLINT: implicit from a name on purpose
    CertSpec& ca(std::string usage = "critical,keyCertSign,cRLSign") {
        isCa = true;
        keyUsage = std::move(usage);
        return *this;
    }
    CertSpec& ku(std::string usage) {
        keyUsage = std::move(usage);
        return *this;
    }
    CertSpec& eku(std::string usage) {
        extKeyUsage = std::move(usage);
        return *this;
    }
    CertSpec& v1() {
        version1 = true;
        return *this;
    }
    CertSpec& rsa(int bits) {
        rsaBits = bits;
        return *this;
    }
    CertSpec& signedWith(std::string digest) {
        issuerDigest = std::move(digest);
        return *this;
    }
    CertSpec& validity(std::string from, std::string to) {
        notBefore = std::move(from);
        notAfter = std::move(to);
        return *this;
    }
};

struct Identity {
    ssl::PkeyPtr key;
    ssl::X509Ptr cert;
    std::string keyPem() const;
    std::string certPem() const;
};

// A self-signed root CA (keyCertSign, cRLSign) named "CN=<cn>,O=Test".
Identity makeRoot(const std::string& cn);
// A certificate issued by `issuer` per `spec`, with a fresh EC P-256 key.
Identity issue(const Identity& issuer, const CertSpec& spec);
// A certificate issued by `issuer` per `spec` over the key of `sameKey` (a renewal from the
// same CSR).
Identity reissue(const Identity& issuer, const CertSpec& spec, const Identity& sameKey);
// A self-signed certificate with a fresh key (for a look-alike root).
Identity selfSigned(const CertSpec& spec);

// A CRL by `issuer` revoking `revoked`, valid from lastUpdate to nextUpdate.
std::string makeCrlPem(const Identity& issuer, const std::vector<const Identity*>& revoked,
                       const std::string& lastUpdate = "2024-01-01T00:00:00Z",
                       const std::string& nextUpdate = "2039-01-01T00:00:00Z");

void writeFile(const std::string& path, const std::string& bytes);
std::string readFile(const std::string& path);

// A zip archive built entry by entry (stored, no compression), for archives no honest tool
// would make: zip-slip names, symlink entries, duplicate names.
class ZipWriter {
  public:
    void add(const std::string& name, const std::string& data, unsigned unixMode = 0100644);
    [[nodiscard]] std::string finish() const;

  private:
    struct Entry {
        std::string name, data;
        unsigned mode;
        std::uint32_t crc, offset;
    };
    std::string body_;
    std::vector<Entry> entries_;
};

}  // namespace kbtest
