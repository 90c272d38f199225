// RAII owners for the OpenSSL objects the plugin-set code uses, and OpenSSL's error queue
// as text. Every OpenSSL object in this folder lives in one of these.
#pragma once

// pem.h first: cms.h declares PEM_read_bio_CMS only when pem.h came before it.
#include <openssl/pem.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace klinikbox::pluginset::ssl {

template <auto FreeFn>
struct Deleter {
    template <class T>
    void operator()(T* p) const {
        FreeFn(p);
    }
};

using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using CrlPtr = std::unique_ptr<X509_CRL, Deleter<X509_CRL_free>>;
using CmsPtr = std::unique_ptr<CMS_ContentInfo, Deleter<CMS_ContentInfo_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;

struct X509StackFree {
    void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackFree>;

// Shared ownership of a certificate or CRL held by the trust store (copyable stores).
using SharedX509 = std::shared_ptr<X509>;
using SharedCrl = std::shared_ptr<X509_CRL>;
SharedX509 share(X509Ptr x);
SharedCrl share(CrlPtr c);

// A read-only memory BIO over `bytes`, which must outlive it.
BioPtr memoryBio(std::string_view bytes);

// Drains OpenSSL's error queue into one line ("" when empty).
std::string errorText();

// Certificates and CRLs from PEM text. Throws std::runtime_error naming `source` when the
// text holds anything but PEM blocks of that kind, or none at all.
std::vector<X509Ptr> certificatesFromPem(std::string_view pem, const std::string& source);
std::vector<CrlPtr> crlsFromPem(std::string_view pem, const std::string& source);

// What people read about a certificate.
std::string subjectOf(const X509* x);
std::string issuerOf(const X509* x);
std::string sha256Of(const X509* x);     // lower-case hex of the DER's SHA-256
// Lower-case hex SHA-256 of the certificate's SubjectPublicKeyInfo (DER): the same for every
// certificate issued over one key, as TUF identifies keys.
std::string publicKeySha256Of(const X509* x);
std::string crlIssuerOf(const X509_CRL* c);
std::string serialOf(const X509* x);     // hex
std::string notBeforeOf(const X509* x);  // 2025-01-31T12:00:00Z
std::string notAfterOf(const X509* x);
std::string asn1TimeText(const ASN1_TIME* t);

}  // namespace klinikbox::pluginset::ssl
