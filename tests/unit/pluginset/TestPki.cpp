#include "TestPki.h"

#include "pluginset/Dates.h"

#include <Poco/Checksum.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace kbtest {

namespace {

long nextSerial() {
    static long serial = 1000;
    return ++serial;
}

ssl::PkeyPtr newKey(const CertSpec& spec) {
    ssl::PkeyPtr k(spec.rsaBits ? EVP_RSA_gen(static_cast<unsigned>(spec.rsaBits))
                                : EVP_EC_gen("P-256"));
    if (!k) throw std::runtime_error("key generation failed");
    return k;
}

void setTime(ASN1_TIME* field, const std::string& iso) {
    const auto t = klinikbox::pluginset::parseInstant(iso);
    if (!t) throw std::runtime_error("bad test date " + iso);
    ASN1_TIME_set(field, std::chrono::system_clock::to_time_t(*t));
}

void addExt(X509* cert, X509* issuer, int nid, const std::string& value) {
    if (value.empty()) return;
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (!ext) throw std::runtime_error("bad extension " + value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

Identity build(const CertSpec& spec, const Identity* issuer, ssl::PkeyPtr key) {
    ssl::X509Ptr x(X509_new());
    X509_set_version(x.get(), spec.version1 ? 0 : 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x.get()), nextSerial());
    setTime(X509_getm_notBefore(x.get()), spec.notBefore);
    setTime(X509_getm_notAfter(x.get()), spec.notAfter);
    X509_set_pubkey(x.get(), key.get());
    X509_NAME* name = X509_get_subject_name(x.get());
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>("Test"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(spec.cn.c_str()), -1, -1, 0);
    X509* issuerCert = issuer ? issuer->cert.get() : x.get();
    X509_set_issuer_name(x.get(), X509_get_subject_name(issuerCert));
    if (!spec.version1) {
        addExt(x.get(), issuerCert, NID_basic_constraints,
               spec.isCa ? "critical,CA:TRUE" : "critical,CA:FALSE");
        addExt(x.get(), issuerCert, NID_key_usage, spec.keyUsage);
        addExt(x.get(), issuerCert, NID_ext_key_usage, spec.extKeyUsage);
        addExt(x.get(), issuerCert, NID_subject_key_identifier, "hash");
        if (issuer) addExt(x.get(), issuerCert, NID_authority_key_identifier, "keyid:always");
    }
    EVP_PKEY* signingKey = issuer ? issuer->key.get() : key.get();
    const EVP_MD* md = EVP_get_digestbyname(spec.issuerDigest.c_str());
    if (!md) throw std::runtime_error("unknown digest " + spec.issuerDigest);
    if (X509_sign(x.get(), signingKey, md) <= 0) throw std::runtime_error("X509_sign failed");
    return Identity{std::move(key), std::move(x)};
}

template <class Fn>
std::string pem(Fn write) {
    ssl::BioPtr b(BIO_new(BIO_s_mem()));
    write(b.get());
    char* p = nullptr;
    const long n = BIO_get_mem_data(b.get(), &p);
    return std::string(p, static_cast<std::size_t>(n));
}

}  // namespace

std::string Identity::keyPem() const {
    return pem([this](BIO* b) {
        PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    });
}

std::string Identity::certPem() const {
    return pem([this](BIO* b) { PEM_write_bio_X509(b, cert.get()); });
}

Identity makeRoot(const std::string& cn) {
    const auto spec = CertSpec(cn).ca();
    return build(spec, nullptr, newKey(spec));
}

Identity issue(const Identity& issuer, const CertSpec& spec) {
    return build(spec, &issuer, newKey(spec));
}

Identity reissue(const Identity& issuer, const CertSpec& spec, const Identity& sameKey) {
    EVP_PKEY_up_ref(sameKey.key.get());
    return build(spec, &issuer, ssl::PkeyPtr(sameKey.key.get()));
}

Identity selfSigned(const CertSpec& spec) {
    return build(spec, nullptr, newKey(spec));
}

std::string makeCrlPem(const Identity& issuer, const std::vector<const Identity*>& revoked,
                       const std::string& lastUpdate, const std::string& nextUpdate) {
    ssl::CrlPtr crl(X509_CRL_new());
    X509_CRL_set_version(crl.get(), 1);
    X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer.cert.get()));
    ASN1_TIME* t = ASN1_TIME_new();
    setTime(t, lastUpdate);
    X509_CRL_set1_lastUpdate(crl.get(), t);
    setTime(t, nextUpdate);
    X509_CRL_set1_nextUpdate(crl.get(), t);
    for (const auto* r : revoked) {
        X509_REVOKED* rev = X509_REVOKED_new();
        X509_REVOKED_set_serialNumber(rev, X509_get_serialNumber(r->cert.get()));
        setTime(t, "2024-06-01T00:00:00Z");
        X509_REVOKED_set_revocationDate(rev, t);
        X509_CRL_add0_revoked(crl.get(), rev);
    }
    ASN1_TIME_free(t);
    X509_CRL_sort(crl.get());
    if (X509_CRL_sign(crl.get(), issuer.key.get(), EVP_sha256()) <= 0)
        throw std::runtime_error("X509_CRL_sign failed");
    return pem([&crl](BIO* b) { PEM_write_bio_X509_CRL(b, crl.get()); });
}

void writeFile(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + path);
}

std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

namespace {

void put16(std::string& s, unsigned v) {
    s.push_back(static_cast<char>(v & 0xff));
    s.push_back(static_cast<char>((v >> 8) & 0xff));
}
void put32(std::string& s, std::uint32_t v) {
    put16(s, v & 0xffff);
    put16(s, v >> 16);
}

}  // namespace

void ZipWriter::add(const std::string& name, const std::string& data, unsigned unixMode) {
    Poco::Checksum crc(Poco::Checksum::TYPE_CRC32);
    crc.update(data.data(), static_cast<unsigned>(data.size()));
    Entry e{name, data, unixMode, crc.checksum(), static_cast<std::uint32_t>(body_.size())};
    put32(body_, 0x04034b50);
    put16(body_, 20);    // version needed
    put16(body_, 0);     // flags
    put16(body_, 0);     // stored
    put16(body_, 0);     // time
    put16(body_, 0x21);  // date 1980-01-01
    put32(body_, e.crc);
    put32(body_, static_cast<std::uint32_t>(data.size()));
    put32(body_, static_cast<std::uint32_t>(data.size()));
    put16(body_, static_cast<unsigned>(name.size()));
    put16(body_, 0);
    body_ += name;
    body_ += data;
    entries_.push_back(std::move(e));
}

std::string ZipWriter::finish() const {
    std::string out = body_, cd;
    for (const auto& e : entries_) {
        put32(cd, 0x02014b50);
        put16(cd, (3u << 8) | 20);  // made by Unix, spec 2.0
        put16(cd, 20);
        put16(cd, 0);
        put16(cd, 0);
        put16(cd, 0);
        put16(cd, 0x21);
        put32(cd, e.crc);
        put32(cd, static_cast<std::uint32_t>(e.data.size()));
        put32(cd, static_cast<std::uint32_t>(e.data.size()));
        put16(cd, static_cast<unsigned>(e.name.size()));
        put16(cd, 0);
        put16(cd, 0);
        put16(cd, 0);
        put16(cd, 0);
        put32(cd, static_cast<std::uint32_t>(e.mode) << 16);
        put32(cd, e.offset);
        cd += e.name;
    }
    const auto cdOffset = static_cast<std::uint32_t>(out.size());
    out += cd;
    put32(out, 0x06054b50);
    put16(out, 0);
    put16(out, 0);
    put16(out, static_cast<unsigned>(entries_.size()));
    put16(out, static_cast<unsigned>(entries_.size()));
    put32(out, static_cast<std::uint32_t>(cd.size()));
    put32(out, cdOffset);
    put16(out, 0);
    return out;
}

}  // namespace kbtest
