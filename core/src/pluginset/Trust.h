// The regions a box trusts: one directory per region under the trust directory, holding
// region.yaml (name, hsa_id, threshold, require_crl), root.pem (one or more root
// certificates) and crl.pem (the region's revocation lists).
#pragma once

#include <memory>
#include <string>
#include <vector>

typedef struct x509_st X509;
typedef struct X509_crl_st X509_CRL;

namespace klinikbox::pluginset {

struct X509Free {
    void operator()(X509* x) const;
};
struct CrlFree {
    void operator()(X509_CRL* c) const;
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using CrlPtr = std::unique_ptr<X509_CRL, CrlFree>;

struct Region {
    std::string dir;       // subdirectory name
    std::string name;
    std::string hsaId;
    int threshold = 1;     // valid signatures by distinct certificates needed
    bool requireCrl = true;
    std::vector<std::shared_ptr<X509>> roots;
    std::vector<std::shared_ptr<X509_CRL>> crls;
};

class TrustStore {
public:
    // Throws std::runtime_error naming the file and problem.
    static TrustStore load(const std::string& trustDir);
    [[nodiscard]] const std::vector<Region>& regions() const { return regions_; }

private:
    std::vector<Region> regions_;
};

// PEM helpers shared with signing and tests.
std::vector<std::shared_ptr<X509>> readCertificates(const std::string& pemFile);
std::string certSubject(X509* x);
std::string certIssuer(X509* x);
std::string certSha256(X509* x);
std::string certNotAfter(X509* x);

}  // namespace klinikbox::pluginset
