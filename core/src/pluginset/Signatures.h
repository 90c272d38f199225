// The detached CMS signatures of pluginset.yaml, judged one step at a time so that every
// refusal names its reason: the signature over the bytes, the chain to a region root, the
// signer's key usage, the validity of every certificate, revocation by the region's CRLs.
//
// OpenSSL's CMS_verify uses the S/MIME signing purpose by default, which says nothing about
// signing plugin sets; instead the chain is built without a purpose and the signer's
// keyUsage (digitalSignature), CA flag and extendedKeyUsage (codeSigning when present) are
// checked here. The last step is one CMS_verify with the region's store (roots, CRLs,
// CRL_CHECK|CRL_CHECK_ALL, the verification time, purpose ANY), so OpenSSL's own single
// decision agrees with the step-by-step one.
#pragma once

#include "pluginset/Dates.h"
#include "pluginset/Ssl.h"
#include "pluginset/TrustStore.h"
#include "pluginset/VerifiedSet.h"

#include <string>
#include <string_view>

namespace klinikbox::pluginset {

struct Signature {
    std::string file;  // "pluginset.yaml.sig.1"
    ssl::CmsPtr cms;
    X509* signer = nullptr;          // owned by cms
    ssl::X509StackPtr certs;         // the certificates the signature carries
    const Region* region = nullptr;  // set by findRegion
    std::string chainText;           // "CN=signer <- CN=root", set by findRegion
};

// Signature files hold one DER or PEM ("CMS" or "PKCS7") detached SignedData with exactly
// one signer whose certificate it carries, digested with SHA-256 or stronger. Throws
// VerifyError(SignatureMalformed or WeakAlgorithm).
[[nodiscard]] Signature parseSignature(const std::string& file, std::string_view bytes);

// The signature is over exactly `content`. Throws VerifyError(SignatureMismatch).
void checkSignedBytes(const Signature& s, std::string_view content);

// Finds the trusted region whose root the signer chains to (time and CRLs not yet judged),
// with OpenSSL security level 2 on every certificate of the chain. Throws
// VerifyError(UntrustedSigner or WeakAlgorithm).
void findRegion(Signature& s, const TrustStore& trust);

// keyUsage with digitalSignature, not a CA, extendedKeyUsage (if any) with codeSigning, a
// key of at least 112-bit strength. Throws VerifyError(KeyUsage or WeakAlgorithm); `what`
// names where the certificate came from.
void checkKeyUsage(const Signature& s);
void checkKeyUsage(X509* signer, const std::string& what);

// Every certificate of the chain is valid at `now`. Throws VerifyError(CertificateExpired
// or CertificateNotYetValid) naming the certificate and its dates.
void checkValidity(const Signature& s, TimePoint now);

// No certificate of the chain is revoked by the region's CRLs, which must be present and
// current when the region requires them; then the single CMS_verify. Returns what was
// checked. Throws VerifyError(CertificateRevoked or CrlUnavailable).
[[nodiscard]] std::string checkRevocation(const Signature& s, std::string_view content,
                                          TimePoint now);

// A detached CMS signature (DER) over `content` by `key` and `cert`, carrying `chain`.
// Throws std::runtime_error.
[[nodiscard]] std::string signDetached(std::string_view content, EVP_PKEY* key, X509* cert,
                                       STACK_OF(X509) * chain);

}  // namespace klinikbox::pluginset
