// The certificate an HTTPS listener presents, replaceable while the listener runs (the
// first-run wizard generates one for the clinic's host names without a restart).
//
// Why a certificate callback and not SSL_CTX_use_certificate on the live context: POCO calls
// SSL_new() for each accepted connection on the listener thread, and SSL_new copies the
// context's certificate without a lock, so changing the SSL_CTX under it would race. Here the
// SSL_CTX is never changed after start: OpenSSL calls `select` (SSL_CTX_set_cert_cb) during
// each full handshake, which takes a reference to the current key pair under a mutex and sets
// it on that one connection (SSL_use_cert_and_key). A replacement swaps a shared_ptr; a
// handshake under way keeps the pair it took. Resumed TLS sessions skip the callback and keep
// the certificate of their first handshake, which is what the client already accepted.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <mutex>
#include <string>

namespace klinikbox::http {

class LiveCertificate {
public:
    // Reads a PEM private key and certificate file (the first certificate is the server's,
    // any further ones its chain). Throws std::runtime_error and keeps the current pair
    // when a file cannot be read or the key does not belong to the certificate.
    void load(const std::string& keyFile, const std::string& certFile);
    // Every later full handshake on `ctx` presents the current pair (this must outlive ctx).
    void attach(SSL_CTX* ctx);

private:
    struct Pair;
    static int select(SSL* ssl, void* self);
    std::mutex mu_;
    std::shared_ptr<const Pair> current_;
};

}  // namespace klinikbox::http
