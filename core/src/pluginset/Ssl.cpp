#include "pluginset/Ssl.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <ctime>
#include <stdexcept>

namespace klinikbox::pluginset::ssl {

SharedX509 share(X509Ptr x) {
    return SharedX509(x.release(), X509_free);
}
SharedCrl share(CrlPtr c) {
    return SharedCrl(c.release(), X509_CRL_free);
}

BioPtr memoryBio(std::string_view bytes) {
    BioPtr b(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
    if (!b) throw std::runtime_error("out of memory (BIO_new_mem_buf)");
    return b;
}

std::string errorText() {
    std::string out;
    while (const unsigned long e = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        if (!out.empty()) out += "; ";
        out += buf;
    }
    return out;
}

namespace {

// PEM readers stop with PEM_R_NO_START_LINE at the end of the text; anything else after
// the last block (a broken block, garbage) is an error.
template <class Ptr, class ReadFn>
std::vector<Ptr> readPem(std::string_view pem, const std::string& source, const char* what,
                         ReadFn read) {
    ERR_clear_error();
    auto bio = memoryBio(pem);
    std::vector<Ptr> out;
    while (auto* obj = read(bio.get())) out.emplace_back(obj);
    const unsigned long err = ERR_peek_last_error();
    const bool cleanEnd =
        ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE;
    if (err != 0 && !cleanEnd)
        throw std::runtime_error(source + ": not a PEM " + what + " (" + errorText() + ")");
    ERR_clear_error();
    if (out.empty()) throw std::runtime_error(source + " holds no PEM " + what);
    return out;
}

std::string hex(const unsigned char* p, std::size_t n) {
    static const char* d = "0123456789abcdef";
    std::string s;
    s.reserve(n * 2);
    for (std::size_t i = 0; i < n; ++i) {
        s.push_back(d[p[i] >> 4]);
        s.push_back(d[p[i] & 15]);
    }
    return s;
}

std::string nameText(const X509_NAME* n) {
    if (!n) return {};
    auto bio = BioPtr(BIO_new(BIO_s_mem()));
    // RFC 2253 order reads most specific first: "CN=Infosec officer,O=Region Demo,C=SE".
    X509_NAME_print_ex(bio.get(), n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(len));
}

}  // namespace

std::vector<X509Ptr> certificatesFromPem(std::string_view pem, const std::string& source) {
    return readPem<X509Ptr>(pem, source, "certificate",
                            [](BIO* b) { return PEM_read_bio_X509(b, nullptr, nullptr, nullptr); });
}

std::vector<CrlPtr> crlsFromPem(std::string_view pem, const std::string& source) {
    return readPem<CrlPtr>(pem, source, "CRL", [](BIO* b) {
        return PEM_read_bio_X509_CRL(b, nullptr, nullptr, nullptr);
    });
}

std::string subjectOf(const X509* x) {
    return nameText(X509_get_subject_name(x));
}
std::string issuerOf(const X509* x) {
    return nameText(X509_get_issuer_name(x));
}

std::string sha256Of(const X509* x) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (X509_digest(x, EVP_sha256(), md, &n) != 1)
        throw std::runtime_error("cannot hash a certificate");
    return hex(md, n);
}

std::string crlIssuerOf(const X509_CRL* c) {
    return nameText(X509_CRL_get_issuer(c));
}

std::string publicKeySha256Of(const X509* x) {
    const X509_PUBKEY* spki = X509_get_X509_PUBKEY(x);
    unsigned char* der = nullptr;
    const int len = spki ? i2d_X509_PUBKEY(spki, &der) : -1;
    if (len <= 0) throw std::runtime_error("cannot read a certificate's public key");
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    const int ok = EVP_Digest(der, static_cast<std::size_t>(len), md, &n, EVP_sha256(), nullptr);
    OPENSSL_free(der);
    if (ok != 1) throw std::runtime_error("cannot hash a certificate's public key");
    return hex(md, n);
}

std::string serialOf(const X509* x) {
    const ASN1_INTEGER* s = X509_get0_serialNumber(x);
    return hex(s->data, static_cast<std::size_t>(s->length));
}

std::string asn1TimeText(const ASN1_TIME* t) {
    struct tm tm {};
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return "?";
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string notBeforeOf(const X509* x) {
    return asn1TimeText(X509_get0_notBefore(x));
}
std::string notAfterOf(const X509* x) {
    return asn1TimeText(X509_get0_notAfter(x));
}

}  // namespace klinikbox::pluginset::ssl
