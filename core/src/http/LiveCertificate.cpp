#include "http/LiveCertificate.h"

#include <openssl/pem.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include <cstdio>
#include <stdexcept>

namespace klinikbox::http {

struct LiveCertificate::Pair {
    X509* cert = nullptr;
    EVP_PKEY* key = nullptr;
    STACK_OF(X509)* chain = nullptr;
    Pair() = default;
    Pair(const Pair&) = delete;
    Pair& operator=(const Pair&) = delete;
    ~Pair() {
        X509_free(cert);
        EVP_PKEY_free(key);
        sk_X509_pop_free(chain, X509_free);
    }
};

namespace {

struct File {
    explicit File(const std::string& path) : f(std::fopen(path.c_str(), "r")) {
        if (!f) throw std::runtime_error("cannot read " + path);
    }
    ~File() { std::fclose(f); }
    File(const File&) = delete;
    File& operator=(const File&) = delete;
    FILE* f;
};

}  // namespace

void LiveCertificate::load(const std::string& keyFile, const std::string& certFile) {
    auto p = std::make_shared<Pair>();
    {
        File f(certFile);
        p->cert = PEM_read_X509(f.f, nullptr, nullptr, nullptr);
        if (!p->cert) throw std::runtime_error(certFile + " holds no PEM certificate");
        p->chain = sk_X509_new_null();
        while (X509* extra = PEM_read_X509(f.f, nullptr, nullptr, nullptr)) sk_X509_push(p->chain, extra);
        ERR_clear_error();  // the loop ends on "no start line"
    }
    {
        File f(keyFile);
        p->key = PEM_read_PrivateKey(f.f, nullptr, nullptr, nullptr);
        if (!p->key) throw std::runtime_error(keyFile + " holds no PEM private key");
    }
    if (X509_check_private_key(p->cert, p->key) != 1)
        throw std::runtime_error(keyFile + " is not the key of " + certFile);
    std::lock_guard lock(mu_);
    current_ = std::move(p);
}

void LiveCertificate::attach(SSL_CTX* ctx) { SSL_CTX_set_cert_cb(ctx, &LiveCertificate::select, this); }

int LiveCertificate::select(SSL* ssl, void* self) {
    auto* live = static_cast<LiveCertificate*>(self);
    std::shared_ptr<const Pair> p;
    {
        std::lock_guard lock(live->mu_);
        p = live->current_;
    }
    if (!p) return 1;  // nothing loaded: the context's own certificate
    // Takes its own references to the certificate, key and chain.
    return SSL_use_cert_and_key(ssl, p->cert, p->key, p->chain, 1) == 1 ? 1 : 0;
}

}  // namespace klinikbox::http
