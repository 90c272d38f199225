#include "http/Tls.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <functional>
#include <filesystem>
#include <memory>
#include <stdexcept>

namespace klinikbox::http {

namespace fs = std::filesystem;

namespace {

template <class T, void (*F)(T*)>
struct Deleter {
    void operator()(T* p) const { F(p); }
};
using PKey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Ext = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;

void fail(const std::string& what) { throw std::runtime_error("TLS certificate generation: " + what); }

void addExt(X509* cert, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    Ext ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
    if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) fail("extension " + value);
}

void writeFile(const std::string& path, int mode, const std::function<int(FILE*)>& body) {
    const std::string tmp = path + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode);
    if (fd < 0) fail("cannot create " + tmp);
    FILE* f = ::fdopen(fd, "w");
    if (!f) {
        ::close(fd);
        fail("cannot open " + tmp);
    }
    const int ok = body(f);
    std::fflush(f);
    ::fsync(fd);
    std::fclose(f);
    if (ok != 1) fail("cannot write " + path);
    fs::rename(tmp, path);
}

}  // namespace

TlsFiles ensureServerCertificate(const std::string& dataDir, const std::string& keyFile,
                                 const std::string& certFile, const std::vector<std::string>& names) {
    if (!keyFile.empty() || !certFile.empty()) {
        if (keyFile.empty() || certFile.empty())
            throw std::runtime_error("server.tls: set both key_file and cert_file, or neither");
        for (const auto& f : {keyFile, certFile})
            if (!fs::exists(f)) throw std::runtime_error("server.tls: " + f + " does not exist");
        return {keyFile, certFile, false};
    }
    const fs::path dir = fs::path(dataDir) / "tls";
    const std::string key = (dir / "server.key").string(), crt = (dir / "server.crt").string();
    if (fs::exists(key) && fs::exists(crt)) {
        bool namesAll = true;
        try {
            const auto have = describeCertificate(crt).names;
            for (const auto& n : names)
                if (std::find(have.begin(), have.end(), n) == have.end()) namesAll = false;
        } catch (const std::exception&) {
            namesAll = false;
        }
        if (namesAll) return {key, crt, false};
    }
    return generateServerCertificate(dataDir, names);
}

TlsFiles generateServerCertificate(const std::string& dataDir, const std::vector<std::string>& names) {
    const fs::path dir = fs::path(dataDir) / "tls";
    const std::string key = (dir / "server.key").string(), crt = (dir / "server.crt").string();
    fs::create_directories(dir);
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);

    PKey pkey(EVP_EC_gen("P-256"));
    if (!pkey) fail("key generation");
    Cert cert(X509_new());
    if (!cert) fail("X509_new");
    X509_set_version(cert.get(), 2);
    unsigned char serial[16];
    FILE* ur = std::fopen("/dev/urandom", "rb");
    if (!ur || std::fread(serial, 1, sizeof serial, ur) != sizeof serial) fail("no randomness");
    std::fclose(ur);
    serial[0] &= 0x7f;
    std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>> bn(BN_bin2bn(serial, sizeof serial, nullptr));
    BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get()));
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 825L * 24 * 3600);
    X509_set_pubkey(cert.get(), pkey.get());
    X509_NAME* name = X509_get_subject_name(cert.get());
    const std::string cn = names.empty() ? "klinikbox" : names.front();
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("Klinikbox"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    std::string san;
    for (const auto& n : names) {
        const bool ip = n.find_first_not_of("0123456789.") == std::string::npos || n.find(':') != std::string::npos;
        if (!san.empty()) san += ',';  // appends, not "x" + string: GCC 12 -O3 false -Werror=restrict
        san += ip ? "IP:" : "DNS:";
        san += n;
    }
    if (!san.empty()) addExt(cert.get(), NID_subject_alt_name, san);
    addExt(cert.get(), NID_basic_constraints, "critical,CA:FALSE");
    addExt(cert.get(), NID_key_usage, "critical,digitalSignature");
    addExt(cert.get(), NID_ext_key_usage, "serverAuth");
    if (X509_sign(cert.get(), pkey.get(), EVP_sha256()) == 0) fail("signing");

    writeFile(key, 0600, [&](FILE* f) {
        return PEM_write_PrivateKey(f, pkey.get(), nullptr, nullptr, 0, nullptr, nullptr);
    });
    writeFile(crt, 0644, [&](FILE* f) { return PEM_write_X509(f, cert.get()); });
    return {key, crt, true};
}

CertificateInfo describeCertificate(const std::string& certFile) {
    FILE* f = std::fopen(certFile.c_str(), "r");
    if (!f) throw std::runtime_error("cannot read " + certFile);
    Cert c(PEM_read_X509(f, nullptr, nullptr, nullptr));
    std::fclose(f);
    if (!c) throw std::runtime_error(certFile + " holds no PEM certificate");
    CertificateInfo info;
    info.fingerprintSha256 = certificateFingerprint(certFile);
    auto name = [](X509_NAME* n) {
        char buf[512];
        X509_NAME_oneline(n, buf, sizeof buf);
        return std::string(buf);
    };
    info.subject = name(X509_get_subject_name(c.get()));
    info.issuer = name(X509_get_issuer_name(c.get()));
    info.selfSigned = X509_NAME_cmp(X509_get_subject_name(c.get()), X509_get_issuer_name(c.get())) == 0;
    std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES, GENERAL_NAMES_free>> sans(
        static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(c.get(), NID_subject_alt_name, nullptr, nullptr)));
    for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans.get()); ++i) {
        const GENERAL_NAME* g = sk_GENERAL_NAME_value(sans.get(), i);
        if (g->type == GEN_DNS) {
            info.names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(g->d.dNSName)),
                                    static_cast<std::size_t>(ASN1_STRING_length(g->d.dNSName)));
        } else if (g->type == GEN_IPADD) {
            const unsigned char* d = ASN1_STRING_get0_data(g->d.iPAddress);
            const int len = ASN1_STRING_length(g->d.iPAddress);
            char text[INET6_ADDRSTRLEN] = {};
            if ((len == 4 && ::inet_ntop(AF_INET, d, text, sizeof text)) ||
                (len == 16 && ::inet_ntop(AF_INET6, d, text, sizeof text)))
                info.names.emplace_back(text);
        }
    }
    std::tm tm{};
    if (ASN1_TIME_to_tm(X509_get0_notAfter(c.get()), &tm) == 1) {
        char buf[32];
        std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
        info.notAfter = buf;
    }
    return info;
}

std::string certificateFingerprint(const std::string& certFile) {
    FILE* f = std::fopen(certFile.c_str(), "r");
    if (!f) return {};
    Cert c(PEM_read_X509(f, nullptr, nullptr, nullptr));
    std::fclose(f);
    if (!c) return {};
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    X509_digest(c.get(), EVP_sha256(), md, &n);
    std::string out;
    char buf[4];
    for (unsigned i = 0; i < n; ++i) {
        std::snprintf(buf, sizeof buf, "%02X", md[i]);
        if (i) out += ':';
        out += buf;
    }
    return out;
}

}  // namespace klinikbox::http
