#include "pluginset/Trust.h"

#include <klinikbox/HsaId.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <set>
#include <stdexcept>

namespace klinikbox::pluginset {

namespace fs = std::filesystem;

void X509Free::operator()(X509* x) const { X509_free(x); }
void CrlFree::operator()(X509_CRL* c) const { X509_CRL_free(c); }

namespace {

std::string name(X509_NAME* n) {
    if (!n) return {};
    char buf[512];
    X509_NAME_oneline(n, buf, sizeof buf);
    return buf;
}

}  // namespace

std::vector<std::shared_ptr<X509>> readCertificates(const std::string& pemFile) {
    std::vector<std::shared_ptr<X509>> out;
    FILE* f = std::fopen(pemFile.c_str(), "r");
    if (!f) throw std::runtime_error("cannot read " + pemFile);
    while (X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr)) out.emplace_back(x, X509_free);
    std::fclose(f);
    ERR_clear_error();  // the end of the file reads as an error
    if (out.empty()) throw std::runtime_error(pemFile + " holds no PEM certificate");
    return out;
}

std::string certSubject(X509* x) { return name(X509_get_subject_name(x)); }
std::string certIssuer(X509* x) { return name(X509_get_issuer_name(x)); }

std::string certSha256(X509* x) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    X509_digest(x, EVP_sha256(), md, &n);
    static const char* d = "0123456789abcdef";
    std::string s;
    for (unsigned i = 0; i < n; ++i) {
        s.push_back(d[md[i] >> 4]);
        s.push_back(d[md[i] & 15]);
    }
    return s;
}

std::string certNotAfter(X509* x) {
    struct tm t {};
    if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &t) != 1) return {};
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &t);
    return buf;
}

TrustStore TrustStore::load(const std::string& trustDir) {
    TrustStore ts;
    if (!fs::is_directory(trustDir)) throw std::runtime_error("the trust directory " + trustDir + " does not exist");
    std::vector<fs::path> dirs;
    for (const auto& e : fs::directory_iterator(trustDir))
        if (e.is_directory()) dirs.push_back(e.path());
    std::sort(dirs.begin(), dirs.end());
    std::set<std::string> hsaIds;
    for (const auto& d : dirs) {
        Region r;
        r.dir = d.filename().string();
        const auto cfg = (d / "region.yaml").string();
        YAML::Node y;
        try {
            y = YAML::LoadFile(cfg);
        } catch (const YAML::Exception& e) {
            throw std::runtime_error(cfg + ": " + e.what());
        }
        for (const auto& kv : y)
            if (std::set<std::string>{"name", "hsa_id", "threshold", "require_crl"}.count(kv.first.Scalar()) == 0)
                throw std::runtime_error(cfg + ": unknown key '" + kv.first.Scalar() + "'");
        try {
            r.name = y["name"].as<std::string>();
            r.hsaId = y["hsa_id"].as<std::string>();
            r.threshold = y["threshold"] ? y["threshold"].as<int>() : 1;
            r.requireCrl = y["require_crl"] ? y["require_crl"].as<bool>() : true;
        } catch (const YAML::Exception& e) {
            throw std::runtime_error(cfg + ": name and hsa_id are required; threshold is a number: " + e.what());
        }
        if (!HsaId::parse(r.hsaId)) throw std::runtime_error(cfg + ": hsa_id " + r.hsaId + " is not an HSA-id");
        if (r.threshold < 1 || r.threshold > 10) throw std::runtime_error(cfg + ": threshold must be 1 to 10");
        if (!hsaIds.insert(r.hsaId).second) throw std::runtime_error(cfg + ": region " + r.hsaId + " is configured twice");
        r.roots = readCertificates((d / "root.pem").string());
        const auto crl = d / "crl.pem";
        if (fs::exists(crl)) {
            FILE* f = std::fopen(crl.c_str(), "r");
            if (!f) throw std::runtime_error("cannot read " + crl.string());
            while (X509_CRL* c = PEM_read_X509_CRL(f, nullptr, nullptr, nullptr)) r.crls.emplace_back(c, X509_CRL_free);
            std::fclose(f);
            ERR_clear_error();
        }
        ts.regions_.push_back(std::move(r));
    }
    if (ts.regions_.empty()) throw std::runtime_error("the trust directory " + trustDir + " holds no region");
    return ts;
}

}  // namespace klinikbox::pluginset
