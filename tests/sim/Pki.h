// The simulator's own PKI: a CA, a server certificate for 127.0.0.1/localhost and a client
// certificate for the box (EC P-256, PEM), made with OpenSSL 3 on first start.
#pragma once

#include <string>

namespace sim {

struct PkiFiles {
    std::string caCert, caKey, serverCert, serverKey, clientCert, clientKey;
};

// Creates the files under `dir` unless they exist; returns their paths.
PkiFiles ensurePki(const std::string& dir);

}  // namespace sim
