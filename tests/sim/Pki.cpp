#include "Pki.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>

namespace sim {

namespace fs = std::filesystem;

namespace {

using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using Cert = std::unique_ptr<X509, decltype(&X509_free)>;

Key newKey() {
    EVP_PKEY* k = EVP_EC_gen("P-256");
    if (!k) throw std::runtime_error("EC key generation failed");
    return Key(k, EVP_PKEY_free);
}

void addExt(X509* cert, X509* issuer, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (!ext) throw std::runtime_error("bad certificate extension");
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

Cert makeCert(EVP_PKEY* key, const std::string& cn, X509* issuer, EVP_PKEY* issuerKey, bool ca, const char* eku,
              const char* san) {
    Cert c(X509_new(), X509_free);
    X509_set_version(c.get(), 2);
    unsigned char serial[16];
    RAND_bytes(serial, sizeof serial);
    serial[0] &= 0x7f;
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c.get()));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(c.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(c.get()), 60L * 60 * 24 * 825);
    X509_set_pubkey(c.get(), key);
    X509_NAME* name = X509_get_subject_name(c.get());
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("klinikbox-sim"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509_set_issuer_name(c.get(), issuer ? X509_get_subject_name(issuer) : name);
    X509* iss = issuer ? issuer : c.get();
    addExt(c.get(), iss, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    addExt(c.get(), iss, NID_key_usage, ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature,keyAgreement");
    addExt(c.get(), iss, NID_subject_key_identifier, "hash");
    if (eku) addExt(c.get(), iss, NID_ext_key_usage, eku);
    if (san) addExt(c.get(), iss, NID_subject_alt_name, san);
    if (!X509_sign(c.get(), issuerKey ? issuerKey : key, EVP_sha256())) throw std::runtime_error("signing failed");
    return c;
}

void writeKey(const std::string& path, EVP_PKEY* k) {
    FILE* f = std::fopen(path.c_str(), "w");
    if (!f) throw std::runtime_error("cannot write " + path);
    PEM_write_PrivateKey(f, k, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
}

void writeCert(const std::string& path, X509* c) {
    FILE* f = std::fopen(path.c_str(), "w");
    if (!f) throw std::runtime_error("cannot write " + path);
    PEM_write_X509(f, c);
    std::fclose(f);
}

}  // namespace

PkiFiles ensurePki(const std::string& dir) {
    fs::create_directories(dir);
    PkiFiles p{dir + "/ca.pem", dir + "/ca.key", dir + "/server.pem", dir + "/server.key", dir + "/client.pem", dir + "/client.key"};
    if (fs::exists(p.caCert) && fs::exists(p.serverCert) && fs::exists(p.clientCert)) return p;
    auto caKey = newKey();
    auto ca = makeCert(caKey.get(), "klinikbox-sim CA (TEST ONLY)", nullptr, nullptr, true, nullptr, nullptr);
    auto serverKey = newKey();
    auto server = makeCert(serverKey.get(), "127.0.0.1", ca.get(), caKey.get(), false, "serverAuth",
                           "IP:127.0.0.1,DNS:localhost");
    auto clientKey = newKey();
    auto client = makeCert(clientKey.get(), "klinikbox (SE2321000016-DEMO)", ca.get(), caKey.get(), false, "clientAuth", nullptr);
    writeKey(p.caKey, caKey.get());
    writeCert(p.caCert, ca.get());
    writeKey(p.serverKey, serverKey.get());
    writeCert(p.serverCert, server.get());
    writeKey(p.clientKey, clientKey.get());
    writeCert(p.clientCert, client.get());
    return p;
}

}  // namespace sim
