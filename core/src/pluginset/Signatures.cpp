#include "pluginset/Signatures.h"

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <optional>
#include <stdexcept>

namespace klinikbox::pluginset {

namespace {

// OpenSSL security level 2 for every certificate of a chain: keys of at least 112-bit
// strength (RSA/DSA >= 2048 bits, EC >= 224 bits) and no CA signature with SHA-1 or MD5.
constexpr int kAuthLevel = 2;

bool isWeakChainError(int error) {
    return error == X509_V_ERR_EE_KEY_TOO_SMALL || error == X509_V_ERR_CA_KEY_TOO_SMALL ||
           error == X509_V_ERR_CA_MD_TOO_WEAK;
}

time_t toTimeT(TimePoint t) {
    return std::chrono::system_clock::to_time_t(t);
}

ssl::StorePtr makeStore(const Region& region, bool withCrls) {
    ssl::StorePtr store(X509_STORE_new());
    if (!store) throw std::runtime_error("out of memory (X509_STORE_new)");
    for (const auto& root : region.roots) X509_STORE_add_cert(store.get(), root.get());
    if (withCrls) {
        for (const auto& crl : region.crls) X509_STORE_add_crl(store.get(), crl.get());
    }
    return store;
}

struct ChainOutcome {
    int error = X509_V_OK;
    ssl::X509Ptr at;  // the certificate at fault (a reference of our own: the context is gone)
    std::string chainText;
    std::string errorText() const { return X509_verify_cert_error_string(error); }
};

// One X509_verify_cert of the signer against a region's store. No purpose is set, so the
// chain is judged on signatures, CA flags and issuer key usage only.
ChainOutcome verifyChain(const Signature& s, X509_STORE* store, unsigned long flags,
                         std::optional<TimePoint> at) {
    ssl::StoreCtxPtr ctx(X509_STORE_CTX_new());
    if (!ctx || X509_STORE_CTX_init(ctx.get(), store, s.signer, s.certs.get()) != 1)
        throw std::runtime_error("cannot set up certificate verification: " + ssl::errorText());
    X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
    X509_VERIFY_PARAM_set_flags(param, flags);
    X509_VERIFY_PARAM_set_auth_level(param, kAuthLevel);
    if (at) X509_VERIFY_PARAM_set_time(param, toTimeT(*at));
    ChainOutcome out;
    if (X509_verify_cert(ctx.get()) == 1) {
        ssl::X509StackPtr chain(X509_STORE_CTX_get1_chain(ctx.get()));
        for (int i = 0; chain && i < sk_X509_num(chain.get()); ++i)
            out.chainText += (i ? " <- " : "") + ssl::subjectOf(sk_X509_value(chain.get(), i));
    } else {
        out.error = X509_STORE_CTX_get_error(ctx.get());
        X509* fault = X509_STORE_CTX_get_current_cert(ctx.get());
        if (!fault) fault = s.signer;
        X509_up_ref(fault);
        out.at.reset(fault);
        if (out.error == X509_V_OK) out.error = X509_V_ERR_UNSPECIFIED;
    }
    ERR_clear_error();
    return out;
}

std::string who(const Signature& s) {
    return s.file + " (signer " + ssl::subjectOf(s.signer) + ")";
}

const X509_CRL* crlFor(const Region& r, const X509* cert) {
    for (const auto& c : r.crls)
        if (X509_NAME_cmp(X509_CRL_get_issuer(c.get()), X509_get_issuer_name(cert)) == 0)
            return c.get();
    return nullptr;
}

}  // namespace

Signature parseSignature(const std::string& file, std::string_view bytes) {
    Signature s;
    s.file = file;
    ERR_clear_error();
    auto bio = ssl::memoryBio(bytes);
    if (bytes.substr(0, 11) == "-----BEGIN ") {
        // PEM_read_bio_CMS also accepts the older "PKCS7" label.
        s.cms.reset(PEM_read_bio_CMS(bio.get(), nullptr, nullptr, nullptr));
    } else {
        s.cms.reset(d2i_CMS_bio(bio.get(), nullptr));
    }
    if (!s.cms)
        throw VerifyError(
            Reason::SignatureMalformed,
            file + " is not a CMS signature (truncated or garbage; DER or PEM expected): " +
                ssl::errorText());
    if (OBJ_obj2nid(CMS_get0_type(s.cms.get())) != NID_pkcs7_signed)
        throw VerifyError(Reason::SignatureMalformed,
                          file + " is a CMS structure but not SignedData");
    if (CMS_is_detached(s.cms.get()) != 1)
        throw VerifyError(
            Reason::SignatureMalformed,
            file + " carries its own content; a detached signature of pluginset.yaml is expected");
    if (OBJ_obj2nid(CMS_get0_eContentType(s.cms.get())) != NID_pkcs7_data)
        throw VerifyError(Reason::SignatureMalformed,
                          file + " signs another content type than plain data");
    STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(s.cms.get());
    if (!infos || sk_CMS_SignerInfo_num(infos) != 1)
        throw VerifyError(
            Reason::SignatureMalformed,
            file + " holds " + std::to_string(infos ? sk_CMS_SignerInfo_num(infos) : 0) +
                " signers; each signature file holds exactly one (add more with another sign)");
    s.certs.reset(CMS_get1_certs(s.cms.get()));
    // Matches the SignerInfo to a certificate the signature carries, without judging it.
    if (CMS_set1_signers_certs(s.cms.get(), nullptr, 0) < 0) ERR_clear_error();
    X509_ALGOR* digest = nullptr;
    CMS_SignerInfo_get0_algs(sk_CMS_SignerInfo_value(infos, 0), nullptr, &s.signer, &digest,
                             nullptr);
    if (!s.signer)
        throw VerifyError(
            Reason::SignatureMalformed,
            file + " does not carry its signer's certificate (sign without -nocerts)");
    const ASN1_OBJECT* digestOid = nullptr;
    if (digest) X509_ALGOR_get0(&digestOid, nullptr, nullptr, digest);
    const int digestNid = digestOid ? OBJ_obj2nid(digestOid) : NID_undef;
    static constexpr int kStrongDigests[] = {NID_sha256,   NID_sha384,   NID_sha512,
                                             NID_sha3_256, NID_sha3_384, NID_sha3_512};
    if (std::find(std::begin(kStrongDigests), std::end(kStrongDigests), digestNid) ==
        std::end(kStrongDigests))
        throw VerifyError(Reason::WeakAlgorithm,
                          file + " uses the digest " +
                              (digestNid == NID_undef ? std::string("(unknown)")
                                                      : std::string(OBJ_nid2sn(digestNid))) +
                              "; set signatures use SHA-256 or stronger (openssl cms -md sha256)");
    ERR_clear_error();
    return s;
}

void checkSignedBytes(const Signature& s, std::string_view content) {
    ssl::StorePtr empty(X509_STORE_new());
    auto data = ssl::memoryBio(content);
    // NO_SIGNER_CERT_VERIFY: this step judges only the signature over the bytes; the
    // certificate is judged by the steps that follow, each with its own reason.
    const int rc = CMS_verify(s.cms.get(), nullptr, empty.get(), data.get(), nullptr,
                              CMS_BINARY | CMS_DETACHED | CMS_NO_SIGNER_CERT_VERIFY);
    if (rc != 1)
        throw VerifyError(Reason::SignatureMismatch,
                          who(s) + " is not a signature over these pluginset.yaml bytes (" +
                              ssl::errorText() + ")");
    ERR_clear_error();
}

void findRegion(Signature& s, const TrustStore& trust) {
    std::string why, weak;
    for (const auto& region : trust.regions()) {
        auto store = makeStore(region, false);
        const auto out = verifyChain(s, store.get(), X509_V_FLAG_NO_CHECK_TIME, std::nullopt);
        if (out.error == X509_V_OK) {
            s.region = &region;
            s.chainText = out.chainText;
            return;
        }
        if (isWeakChainError(out.error) && weak.empty())
            weak = who(s) + ": the certificate " + ssl::subjectOf(out.at.get()) +
                   " is too weak: " + out.errorText() +
                   " (keys of 112-bit strength, RSA 2048 or EC P-256, and CA signatures with "
                   "SHA-256 or stronger are required)";
        if (why.empty() || out.error != X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY)
            why = out.errorText();
    }
    if (!weak.empty()) throw VerifyError(Reason::WeakAlgorithm, weak);
    throw VerifyError(Reason::UntrustedSigner,
                      who(s) + ", issued by " + ssl::issuerOf(s.signer) +
                          ", does not chain to the root of any trusted region: " + why);
}

void checkKeyUsage(const Signature& s) {
    checkKeyUsage(s.signer, s.file);
}

void checkKeyUsage(X509* signer, const std::string& what) {
    const std::uint32_t flags = X509_get_extension_flags(signer);
    const std::string subject = ssl::subjectOf(signer);
    if (flags & EXFLAG_INVALID)
        throw VerifyError(Reason::KeyUsage, what + ": the certificate " + subject +
                                                " has malformed or duplicate extensions");
    if (!(flags & EXFLAG_KUSAGE))
        throw VerifyError(Reason::KeyUsage, what + ": the certificate " + subject +
                                                " has no keyUsage extension; a set signing "
                                                "certificate needs keyUsage digitalSignature");
    if (!(X509_get_key_usage(signer) & KU_DIGITAL_SIGNATURE))
        throw VerifyError(Reason::KeyUsage, what + ": the certificate " + subject +
                                                " has keyUsage without digitalSignature");
    if (flags & EXFLAG_CA)
        throw VerifyError(
            Reason::KeyUsage,
            what + ": the certificate " + subject +
                " is a CA certificate; sets are signed with end-entity signing certificates");
    if ((flags & EXFLAG_XKUSAGE) && !(X509_get_extended_key_usage(signer) & XKU_CODE_SIGN))
        throw VerifyError(Reason::KeyUsage, what + ": the certificate " + subject +
                                                " has an extendedKeyUsage without codeSigning (a "
                                                "TLS or e-mail certificate cannot sign sets)");
    const EVP_PKEY* key = X509_get0_pubkey(signer);
    const int bits = key ? EVP_PKEY_get_security_bits(key) : 0;
    if (bits < 112)
        throw VerifyError(Reason::WeakAlgorithm,
                          what + ": the key of " + subject + " has " + std::to_string(bits) +
                              "-bit strength; a set signing key needs at least 112 (RSA 2048, "
                              "EC P-256)");
}

void checkValidity(const Signature& s, TimePoint now) {
    auto store = makeStore(*s.region, false);
    const auto out = verifyChain(s, store.get(), 0, now);
    if (out.error == X509_V_OK) return;
    const std::string cert = "the certificate " + ssl::subjectOf(out.at.get());
    const std::string when = formatInstant(now);
    if (out.error == X509_V_ERR_CERT_HAS_EXPIRED)
        throw VerifyError(Reason::CertificateExpired, s.file + ": " + cert + " expired on " +
                                                          ssl::notAfterOf(out.at.get()) +
                                                          " (verification time " + when + ")");
    if (out.error == X509_V_ERR_CERT_NOT_YET_VALID)
        throw VerifyError(Reason::CertificateNotYetValid,
                          s.file + ": " + cert + " is not valid until " +
                              ssl::notBeforeOf(out.at.get()) + " (verification time " + when + ")");
    throw VerifyError(Reason::UntrustedSigner, s.file + ": " + cert + " cannot be verified at " +
                                                   when + ": " + out.errorText());
}

std::string checkRevocation(const Signature& s, std::string_view content, TimePoint now) {
    const Region& region = *s.region;
    const bool useCrls = region.requireCrl || !region.crls.empty();
    if (region.requireCrl && region.crls.empty())
        throw VerifyError(Reason::CrlUnavailable,
                          "region " + region.name + " requires a CRL but " + region.crlFile +
                              " is missing; install the region's current CRL");
    std::string done =
        "no CRL: region " + region.name + " has require_crl: false and publishes none";
    if (useCrls) {
        auto store = makeStore(region, true);
        const auto out =
            verifyChain(s, store.get(), X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL, now);
        if (out.error != X509_V_OK) {
            const std::string cert = ssl::subjectOf(out.at.get());
            const X509_CRL* crl = crlFor(region, out.at.get());
            if (out.error == X509_V_ERR_CERT_REVOKED) {
                std::string date;
                X509_REVOKED* rev = nullptr;
                if (crl &&
                    X509_CRL_get0_by_cert(const_cast<X509_CRL*>(crl), &rev, out.at.get()) == 1 &&
                    rev)
                    date = " on " + ssl::asn1TimeText(X509_REVOKED_get0_revocationDate(rev));
                throw VerifyError(Reason::CertificateRevoked,
                                  s.file + ": the certificate " + cert + " (serial " +
                                      ssl::serialOf(out.at.get()) + ") was revoked" + date +
                                      " by " + region.crlFile);
            }
            std::string crlText;
            if (crl)
                crlText = " (CRL of " + ssl::issuerOf(out.at.get()) + ": last update " +
                          ssl::asn1TimeText(X509_CRL_get0_lastUpdate(crl)) + ", next update " +
                          ssl::asn1TimeText(X509_CRL_get0_nextUpdate(crl)) + ")";
            throw VerifyError(Reason::CrlUnavailable,
                              s.file + ": revocation of " + cert + " cannot be checked at " +
                                  formatInstant(now) + ": " + out.errorText() + crlText + " in " +
                                  region.crlFile + "; install the region's current CRL");
        }
        done = "not revoked per " + region.crlFile;
    }
    // OpenSSL's own single decision over everything above.
    auto store = makeStore(region, useCrls);
    X509_VERIFY_PARAM* param = X509_STORE_get0_param(store.get());
    if (useCrls)
        X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
    X509_VERIFY_PARAM_set_time(param, toTimeT(now));
    X509_VERIFY_PARAM_set_auth_level(param, kAuthLevel);
    X509_STORE_set_purpose(store.get(), X509_PURPOSE_ANY);
    auto data = ssl::memoryBio(content);
    if (CMS_verify(s.cms.get(), nullptr, store.get(), data.get(), nullptr,
                   CMS_BINARY | CMS_DETACHED) != 1)
        throw VerifyError(Reason::UntrustedSigner,
                          s.file + ": CMS_verify with the region's roots and CRLs refused it: " +
                              ssl::errorText());
    ERR_clear_error();
    return done;
}

std::string signDetached(std::string_view content, EVP_PKEY* key, X509* cert,
                         STACK_OF(X509) * chain) {
    auto data = ssl::memoryBio(content);
    ssl::CmsPtr cms(
        CMS_sign(cert, key, chain, data.get(), CMS_BINARY | CMS_DETACHED | CMS_NOSMIMECAP));
    if (!cms) throw std::runtime_error("CMS_sign failed: " + ssl::errorText());
    ssl::BioPtr out(BIO_new(BIO_s_mem()));
    if (i2d_CMS_bio(out.get(), cms.get()) != 1)
        throw std::runtime_error("cannot encode the signature: " + ssl::errorText());
    char* p = nullptr;
    const long n = BIO_get_mem_data(out.get(), &p);
    return std::string(p, static_cast<std::size_t>(n));
}

}  // namespace klinikbox::pluginset
