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

// Returns the configured files when both are set; otherwise makes sure
// <dataDir>/tls/server.key and server.crt exist (EC P-256, self-signed, SAN for the given
// host names and addresses, valid 825 days), generating them if missing.
TlsFiles ensureServerCertificate(const std::string& dataDir, const std::string& keyFile,
                                 const std::string& certFile, const std::vector<std::string>& names);

// SHA-256 fingerprint of a PEM certificate, "AB:CD:...", printed at start so an admin can
// check what the browser shows.
std::string certificateFingerprint(const std::string& certFile);

}  // namespace klinikbox::http
