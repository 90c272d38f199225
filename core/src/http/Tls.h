// TLS material for the HTTPS listener: a configured key and certificate, or a
// self-signed pair generated on first start into the data directory.
#pragma once

#include <string>
#include <vector>

namespace klinikbox::http {

struct TlsFiles {
    std::string keyFile;
    std::string certFile;
    bool generated = false;
};

// Returns the configured files when both are set (the clinic's own certificate or one from
// an internal CA; cert_file may hold the chain); otherwise makes sure <dataDir>/tls/server.key
// and server.crt exist (EC P-256, self-signed, SAN for the given host names and addresses,
// valid 825 days), generating them if missing or if they do not name every one of `names`.
TlsFiles ensureServerCertificate(const std::string& dataDir, const std::string& keyFile,
                                 const std::string& certFile, const std::vector<std::string>& names);
// Generates <dataDir>/tls/server.key and server.crt anew (`klinikbox tls renew`).
TlsFiles generateServerCertificate(const std::string& dataDir, const std::vector<std::string>& names);

// What the console and `klinikbox tls show` tell about a certificate (the first in the file).
struct CertificateInfo {
    std::string fingerprintSha256;  // "AB:CD:..."
    std::string subject, issuer;
    std::vector<std::string> names;  // subjectAltName DNS names and IP addresses
    std::string notAfter;            // ISO 8601, UTC
    bool selfSigned = false;
};
// Throws std::runtime_error when the file holds no PEM certificate.
CertificateInfo describeCertificate(const std::string& certFile);

// SHA-256 fingerprint of a PEM certificate, "AB:CD:...", printed at start so an admin can
// check what the browser shows.
std::string certificateFingerprint(const std::string& certFile);

}  // namespace klinikbox::http
