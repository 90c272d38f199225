#include "pluginset/Verifier.h"

#include <klinikbox/HsaId.h>
#include <klinikbox/Version.h>

#include <openssl/pem.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>
#include <map>
#include <regex>
#include <set>

namespace klinikbox::pluginset {

const char* toString(Reason r) {
    switch (r) {
        case Reason::Unreadable: return "unreadable";
        case Reason::UnsafePath: return "unsafe-path";
        case Reason::ArchiveTooLarge: return "archive-too-large";
        case Reason::ManifestMissing: return "manifest-missing";
        case Reason::SignatureMissing: return "signature-missing";
        case Reason::SignatureMalformed: return "signature-malformed";
        case Reason::SignatureMismatch: return "signature-mismatch";
        case Reason::UntrustedSigner: return "untrusted-signer";
        case Reason::CertificateExpired: return "certificate-expired";
        case Reason::CertificateRevoked: return "certificate-revoked";
        case Reason::CrlUnavailable: return "crl-unavailable";
        case Reason::KeyUsage: return "key-usage";
        case Reason::ThresholdNotMet: return "threshold-not-met";
        case Reason::ManifestInvalid: return "manifest-invalid";
        case Reason::RegionMismatch: return "region-mismatch";
        case Reason::NotYetValid: return "not-yet-valid";
        case Reason::Expired: return "expired";
        case Reason::BoxTooOld: return "box-too-old";
        case Reason::Rollback: return "rollback";
        case Reason::FileMissing: return "file-missing";
        case Reason::FileExtra: return "file-extra";
        case Reason::FileTampered: return "file-tampered";
        case Reason::DuplicatePlugin: return "duplicate-plugin";
    }
    return "unknown";
}

namespace {

template <class T, void (*F)(T*)>
struct Free {
    void operator()(T* p) const { F(p); }
};
using BioPtr = std::unique_ptr<BIO, Free<BIO, BIO_free_all>>;
using CmsPtr = std::unique_ptr<CMS_ContentInfo, Free<CMS_ContentInfo, CMS_ContentInfo_free>>;
using StorePtr = std::unique_ptr<X509_STORE, Free<X509_STORE, X509_STORE_free>>;
using CtxPtr = std::unique_ptr<X509_STORE_CTX, Free<X509_STORE_CTX, X509_STORE_CTX_free>>;
struct CertStackFree {
    void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};
using CertStack = std::unique_ptr<STACK_OF(X509), CertStackFree>;
// A stack whose certificates are borrowed (CMS_get0_signers): free the stack only.
struct BorrowedStackFree {
    void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }
};
using BorrowedStack = std::unique_ptr<STACK_OF(X509), BorrowedStackFree>;

constexpr const char* kManifest = "pluginset.yaml";
constexpr const char* kSigPrefix = "pluginset.yaml.sig.";

struct Checks {
    std::vector<Check> list;
    void pass(const std::string& name, const std::string& detail = {}) { list.push_back({name, true, detail}); }
    [[noreturn]] void fail(Reason r, const std::string& name, const std::string& detail) {
        list.push_back({name, false, detail});
        throw VerifyError(r, detail, list);
    }
};

// A signature's outcome for one signer certificate.
struct SignerResult {
    std::shared_ptr<X509> cert;
    const Region* region = nullptr;  // the region whose root issued it, when the chain verified
    Reason failure = Reason::UntrustedSigner;
    std::string detail;
    bool ok = false;
};

Reason classify(int err) {
    switch (err) {
        case X509_V_ERR_CERT_HAS_EXPIRED:
        case X509_V_ERR_CERT_NOT_YET_VALID:
            return Reason::CertificateExpired;
        case X509_V_ERR_CERT_REVOKED:
            return Reason::CertificateRevoked;
        case X509_V_ERR_UNABLE_TO_GET_CRL:
        case X509_V_ERR_CRL_HAS_EXPIRED:
        case X509_V_ERR_CRL_NOT_YET_VALID:
        case X509_V_ERR_CRL_SIGNATURE_FAILURE:
        case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
            return Reason::CrlUnavailable;
        default:
            return Reason::UntrustedSigner;
    }
}

// Verifies a signer certificate's chain against one region, at `now`.
SignerResult checkChain(X509* cert, STACK_OF(X509) * untrusted, const Region& region, std::time_t now) {
    SignerResult r;
    StorePtr store(X509_STORE_new());
    for (const auto& root : region.roots) X509_STORE_add_cert(store.get(), root.get());
    for (const auto& crl : region.crls) X509_STORE_add_crl(store.get(), crl.get());
    CtxPtr ctx(X509_STORE_CTX_new());
    X509_STORE_CTX_init(ctx.get(), store.get(), cert, untrusted);
    X509_VERIFY_PARAM* p = X509_STORE_CTX_get0_param(ctx.get());
    X509_VERIFY_PARAM_set_time(p, now);
    // The purpose is checked below as key usage; the S/MIME purpose OpenSSL would apply by
    // default does not fit region signing certificates.
    X509_VERIFY_PARAM_set_purpose(p, X509_PURPOSE_ANY);
    if (region.requireCrl) X509_VERIFY_PARAM_set_flags(p, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
    if (X509_verify_cert(ctx.get()) == 1) {
        r.ok = true;
        r.region = &region;
        return r;
    }
    const int err = X509_STORE_CTX_get_error(ctx.get());
    r.failure = classify(err);
    r.detail = certSubject(cert) + ": " + X509_verify_cert_error_string(err);
    if (r.failure != Reason::UntrustedSigner) r.region = &region;  // issued by this region, but not valid
    return r;
}

std::optional<std::time_t> parseDate(const std::string& s) {
    static const std::regex re("^([0-9]{4})-([0-9]{2})-([0-9]{2})(T([0-9]{2}):([0-9]{2}):([0-9]{2})Z)?$");
    std::smatch m;
    if (!std::regex_match(s, m, re)) return std::nullopt;
    std::tm t{};
    t.tm_year = std::stoi(m[1]) - 1900;
    t.tm_mon = std::stoi(m[2]) - 1;
    t.tm_mday = std::stoi(m[3]);
    if (m[4].matched) {
        t.tm_hour = std::stoi(m[5]);
        t.tm_min = std::stoi(m[6]);
        t.tm_sec = std::stoi(m[7]);
    }
    if (t.tm_mon < 0 || t.tm_mon > 11 || t.tm_mday < 1 || t.tm_mday > 31 || t.tm_hour > 23) return std::nullopt;
    return timegm(&t);
}

int compareSemver(const std::string& a, const std::string& b) {
    auto parts = [](const std::string& v) {
        std::array<long, 3> p{0, 0, 0};
        std::size_t i = 0, k = 0;
        while (k < 3 && i < v.size()) {
            std::size_t j = i;
            while (j < v.size() && std::isdigit(static_cast<unsigned char>(v[j]))) ++j;
            p[k++] = j > i ? std::stol(v.substr(i, j - i)) : 0;
            if (j >= v.size() || v[j] != '.') break;
            i = j + 1;
        }
        return p;
    };
    const auto x = parts(a), y = parts(b);
    return x < y ? -1 : x > y ? 1 : 0;
}

struct ManifestPlugin {
    std::string id, version;
    struct File {
        std::string path, sha256;
        std::uint64_t size = 0;
    };
    std::vector<File> files;
};

struct Manifest {
    std::string name;
    long long sequence = 0;
    std::string regionName, regionHsaId, issued, expires, minBoxVersion;
    std::vector<ManifestPlugin> plugins;
};

void onlyKeys(const YAML::Node& n, std::initializer_list<const char*> keys, const std::string& where) {
    std::set<std::string> ok(keys.begin(), keys.end());
    for (const auto& kv : n)
        if (!ok.count(kv.first.Scalar()))
            throw std::invalid_argument("unknown key '" + kv.first.Scalar() + "' in " + where + " (line " +
                                        std::to_string(kv.first.Mark().line + 1) + ")");
}

Manifest parseManifest(const std::string& text) {
    const YAML::Node y = YAML::Load(text);
    if (!y.IsMap()) throw std::invalid_argument("the manifest is not a mapping");
    onlyKeys(y, {"name", "sequence", "region", "issued", "expires", "min_box_version", "plugins"}, "pluginset.yaml");
    Manifest m;
    m.name = y["name"].as<std::string>();
    m.sequence = y["sequence"].as<long long>();
    if (m.sequence < 1) throw std::invalid_argument("sequence must be a positive whole number");
    onlyKeys(y["region"], {"name", "hsa_id"}, "region");
    m.regionName = y["region"]["name"].as<std::string>();
    m.regionHsaId = y["region"]["hsa_id"].as<std::string>();
    m.issued = y["issued"].as<std::string>();
    m.expires = y["expires"].as<std::string>();
    m.minBoxVersion = y["min_box_version"] ? y["min_box_version"].as<std::string>() : "0.0.0";
    if (!y["plugins"].IsSequence()) throw std::invalid_argument("plugins must be a list");
    for (const auto& p : y["plugins"]) {
        onlyKeys(p, {"id", "version", "files"}, "a plugin entry");
        ManifestPlugin mp;
        mp.id = p["id"].as<std::string>();
        mp.version = p["version"].as<std::string>();
        if (!p["files"].IsSequence()) throw std::invalid_argument("files of " + mp.id + " must be a list");
        for (const auto& f : p["files"]) {
            onlyKeys(f, {"path", "sha256", "size"}, "a file entry of " + mp.id);
            mp.files.push_back({f["path"].as<std::string>(), f["sha256"].as<std::string>(), f["size"].as<std::uint64_t>()});
        }
        m.plugins.push_back(std::move(mp));
    }
    return m;
}

std::string isoDate(std::time_t t) {
    char buf[32];
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return buf;
}

}  // namespace

DbHighWaterStore::DbHighWaterStore(db::Connection& conn) : conn_(conn) {
    conn_.exec(
        "CREATE TABLE IF NOT EXISTS kb_pluginset_highwater (region_hsa_id TEXT PRIMARY KEY, sequence INTEGER NOT NULL,"
        " manifest_sha256 TEXT NOT NULL, accepted_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')))");
}

std::optional<HighWaterStore::Mark> DbHighWaterStore::get(const std::string& regionHsaId) {
    auto st = conn_.prepare("SELECT sequence, manifest_sha256 FROM kb_pluginset_highwater WHERE region_hsa_id=?");
    st.bind(1, regionHsaId);
    if (!st.step()) return std::nullopt;
    return Mark{st.getInt(0), st.getText(1)};
}

void DbHighWaterStore::raise(const std::string& regionHsaId, const Mark& mark) {
    auto st = conn_.prepare(
        "INSERT INTO kb_pluginset_highwater(region_hsa_id, sequence, manifest_sha256) VALUES(?,?,?) "
        "ON CONFLICT(region_hsa_id) DO UPDATE SET sequence=excluded.sequence, manifest_sha256=excluded.manifest_sha256,"
        " accepted_at=strftime('%Y-%m-%dT%H:%M:%SZ','now') WHERE excluded.sequence >= kb_pluginset_highwater.sequence");
    st.bind(1, regionHsaId).bind(2, mark.sequence).bind(3, mark.manifestSha256).exec();
}

VerifiedSet verifySigned(const std::string& dirOrZip, const TrustStore& trust, const VerifyOptions& options,
                         HighWaterStore* highWater) {
    return verifySigned(readSet(dirOrZip, options.limits), trust, options, highWater);
}

VerifiedSet verifySigned(const SetFiles& files, const TrustStore& trust, const VerifyOptions& options,
                         HighWaterStore* highWater) {
    Checks c;
    const std::time_t now = std::chrono::system_clock::to_time_t(options.now);
    auto mf = files.find(kManifest);
    if (mf == files.end()) c.fail(Reason::ManifestMissing, "manifest", "pluginset.yaml is missing");
    const std::string& manifestBytes = mf->second;
    c.pass("manifest", "pluginset.yaml present (" + std::to_string(manifestBytes.size()) + " bytes)");

    // 1. Signatures over the exact bytes, before the manifest is parsed.
    std::vector<std::string> sigFiles;
    for (const auto& [path, bytes] : files)
        if (path.rfind(kSigPrefix, 0) == 0) sigFiles.push_back(path);
    if (sigFiles.empty()) c.fail(Reason::SignatureMissing, "signatures", "the set has no signature (pluginset.yaml.sig.N)");

    std::vector<SignerResult> results;
    for (const auto& sf : sigFiles) {
        const std::string& sig = files.at(sf);
        BioPtr in(BIO_new_mem_buf(sig.data(), static_cast<int>(sig.size())));
        CmsPtr cms(sig.rfind("-----BEGIN", 0) == 0 ? PEM_read_bio_CMS(in.get(), nullptr, nullptr, nullptr)
                                                   : d2i_CMS_bio(in.get(), nullptr));
        ERR_clear_error();
        if (!cms) c.fail(Reason::SignatureMalformed, "signature " + sf, sf + " is not a CMS signature (truncated or garbage)");
        BioPtr data(BIO_new_mem_buf(manifestBytes.data(), static_cast<int>(manifestBytes.size())));
        StorePtr empty(X509_STORE_new());
        if (CMS_verify(cms.get(), nullptr, empty.get(), data.get(), nullptr, CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) != 1) {
            ERR_clear_error();
            c.fail(Reason::SignatureMismatch, "signature " + sf, sf + " does not sign these pluginset.yaml bytes");
        }
        BorrowedStack signers(CMS_get0_signers(cms.get()));
        // CMS_get0_signers returns borrowed pointers in a new stack: take references.
        std::vector<std::shared_ptr<X509>> certs;
        for (int i = 0; i < sk_X509_num(signers.get()); ++i) {
            X509* x = sk_X509_value(signers.get(), i);
            X509_up_ref(x);
            certs.emplace_back(x, X509_free);
        }
        STACK_OF(X509)* included = CMS_get1_certs(cms.get());
        CertStack includedOwner(included);
        for (const auto& cert : certs) {
            SignerResult best;
            best.cert = cert;
            best.detail = certSubject(cert.get()) + ": not issued by any trusted region";
            for (const auto& region : trust.regions()) {
                auto r = checkChain(cert.get(), included, region, now);
                r.cert = cert;
                if (r.ok || r.region) {
                    best = r;
                    if (r.ok) break;
                }
            }
            if (best.ok) {
                const auto ku = X509_get_key_usage(cert.get());
                if (ku == UINT32_MAX || !(ku & KU_DIGITAL_SIGNATURE)) {
                    best.ok = false;
                    best.failure = Reason::KeyUsage;
                    best.detail = certSubject(cert.get()) + ": the certificate's key usage does not allow digital signatures";
                }
            }
            results.push_back(best);
        }
        // An invalid signer is a refusal: a region signs only with valid certificates.
        for (const auto& r : results)
            if (!r.ok) c.fail(r.failure, "signer " + sf, r.detail);
        c.pass("signature " + sf, "valid signature by " + certSubject(certs.empty() ? nullptr : certs.front().get()));
    }

    // 2. Threshold: distinct certificates per region.
    std::map<const Region*, std::set<std::string>> byRegion;
    for (const auto& r : results) byRegion[r.region].insert(certSha256(r.cert.get()));

    // 3. The manifest, strictly.
    Manifest m;
    try {
        m = parseManifest(manifestBytes);
    } catch (const std::exception& e) {
        c.fail(Reason::ManifestInvalid, "manifest syntax", std::string("pluginset.yaml: ") + e.what());
    }
    c.pass("manifest syntax", "set " + m.name + ", sequence " + std::to_string(m.sequence));

    const Region* region = nullptr;
    for (const auto& [r, certs] : byRegion)
        if (r && r->hsaId == m.regionHsaId) region = r;
    if (!region) {
        std::string signedBy;
        for (const auto& [r, certs] : byRegion) signedBy += (signedBy.empty() ? "" : ", ") + (r ? r->hsaId : "?");
        c.fail(Reason::RegionMismatch, "region", "the manifest names region " + m.regionHsaId + " but it is signed by " + signedBy);
    }
    c.pass("region", "the manifest's region " + m.regionHsaId + " is the signers' region " + region->name);
    const auto distinct = byRegion[region].size();
    if (static_cast<int>(distinct) < region->threshold)
        c.fail(Reason::ThresholdNotMet, "threshold",
               region->name + " requires " + std::to_string(region->threshold) + " signatures by different certificates; the set has " +
                   std::to_string(distinct));
    c.pass("threshold", std::to_string(distinct) + " of " + std::to_string(region->threshold) + " required signatures by " + region->name);

    // 4. Dates.
    const auto issued = parseDate(m.issued), expires = parseDate(m.expires);
    if (!issued || !expires) c.fail(Reason::ManifestInvalid, "dates", "issued and expires must be dates YYYY-MM-DD");
    if (now < *issued) c.fail(Reason::NotYetValid, "dates", "the set is issued for " + m.issued + ", not valid yet");
    std::string status = "valid";
    std::vector<std::string> warnings;
    const std::time_t day = 24 * 3600;
    if (now > *expires + static_cast<std::time_t>(options.graceDays) * day) {
        c.fail(Reason::Expired, "dates", "the set expired on " + m.expires + " and its grace period of " +
                                             std::to_string(options.graceDays) + " days ended on " +
                                             isoDate(*expires + static_cast<std::time_t>(options.graceDays) * day));
    } else if (now > *expires) {
        status = "expired-in-grace";
        warnings.push_back("the set expired on " + m.expires + "; it is refused after " +
                           isoDate(*expires + static_cast<std::time_t>(options.graceDays) * day));
    } else if (now > *expires - static_cast<std::time_t>(options.warnDays) * day) {
        status = "expiring-soon";
        warnings.push_back("the set expires on " + m.expires);
    }
    c.pass("dates", "issued " + m.issued + ", expires " + m.expires + " (" + status + ")");

    const std::string box = options.boxVersion.empty() ? kBoxVersion : options.boxVersion;
    if (compareSemver(m.minBoxVersion, box) > 0)
        c.fail(Reason::BoxTooOld, "box version", "the set needs klinikbox " + m.minBoxVersion + " or newer; this is " + box);
    c.pass("box version", "needs " + m.minBoxVersion + ", box is " + box);

    const std::string manifestSha = sha256Hex(manifestBytes);
    if (highWater) {
        if (auto mark = highWater->get(m.regionHsaId)) {
            if (m.sequence < mark->sequence)
                c.fail(Reason::Rollback, "rollback", "sequence " + std::to_string(m.sequence) + " is older than " +
                                                         std::to_string(mark->sequence) + ", already accepted from " + m.regionHsaId);
            if (m.sequence == mark->sequence && mark->manifestSha256 != manifestSha)
                c.fail(Reason::Rollback, "rollback", "sequence " + std::to_string(m.sequence) +
                                                         " was accepted before with a different manifest");
        }
        c.pass("rollback", "sequence " + std::to_string(m.sequence) + " is not older than what was accepted");
    }

    // 5. Every file, exactly as listed: first the structure (ids, paths), then the bytes.
    VerifiedSet out;
    std::set<std::string> listed = {kManifest};
    std::set<std::string> ids;
    for (const auto& p : m.plugins) {
        if (!ids.insert(p.id).second) c.fail(Reason::DuplicatePlugin, "plugins", "plugin " + p.id + " is listed twice");
        if (!isSafeRelativePath(p.id) || p.id.find('/') != std::string::npos)
            c.fail(Reason::UnsafePath, "plugins", "unsafe plugin id " + p.id);
        bool hasManifest = false;
        for (const auto& f : p.files) {
            if (!isSafeRelativePath(f.path)) c.fail(Reason::UnsafePath, "files", "unsafe path " + p.id + "/" + f.path);
            if (!listed.insert(p.id + "/" + f.path).second) c.fail(Reason::ManifestInvalid, "files", p.id + "/" + f.path + " is listed twice");
            hasManifest = hasManifest || f.path == "plugin.yaml";
        }
        if (!hasManifest) c.fail(Reason::FileMissing, "files", p.id + "/plugin.yaml is not listed");
    }
    for (const auto& p : m.plugins) {
        VerifiedPlugin vp;
        vp.id = p.id;
        vp.version = p.version;
        for (const auto& f : p.files) {
            const std::string full = p.id + "/" + f.path;
            auto it = files.find(full);
            if (it == files.end()) c.fail(Reason::FileMissing, "files", full + " is listed but missing");
            if (it->second.size() != f.size || sha256Hex(it->second) != f.sha256)
                c.fail(Reason::FileTampered, "files", full + " differs from the manifest (size or SHA-256)");
            vp.files[f.path] = it->second;
        }
        out.plugins.push_back(std::move(vp));
    }
    for (const auto& [path, bytes] : files) {
        if (path.rfind(kSigPrefix, 0) == 0) continue;
        if (!listed.count(path)) c.fail(Reason::FileExtra, "files", path + " is in the set but not in the manifest");
    }
    c.pass("files", std::to_string(listed.size() - 1) + " files match the manifest");

    if (highWater && options.commitHighWater) highWater->raise(m.regionHsaId, {m.sequence, manifestSha});

    out.name = m.name;
    out.sequence = m.sequence;
    out.regionName = m.regionName;
    out.regionHsaId = m.regionHsaId;
    out.issued = m.issued;
    out.expires = m.expires;
    out.isSigned = true;
    out.status = status;
    out.warnings = warnings;
    out.manifestSha256 = manifestSha;
    std::set<std::string> seen;
    for (const auto& r : results) {
        const auto sha = certSha256(r.cert.get());
        if (!seen.insert(sha).second) continue;
        out.signers.push_back({certSubject(r.cert.get()), certIssuer(r.cert.get()), sha, certNotAfter(r.cert.get()),
                               r.region ? r.region->name : ""});
    }
    out.checks = c.list;
    return out;
}

VerifiedSet loadUnsignedDevelopment(const std::string& dir, const ArchiveLimits& limits) {
    const SetFiles files = readDirectory(dir, limits);
    VerifiedSet out;
    out.name = "development: " + dir;
    out.status = "unsigned-development";
    out.warnings.push_back("development mode: the plugins are not signed by a region");
    std::map<std::string, VerifiedPlugin> plugins;
    for (const auto& [path, bytes] : files) {
        const auto slash = path.find('/');
        if (slash == std::string::npos) continue;  // top-level files (a manifest, signatures) are ignored
        auto& p = plugins[path.substr(0, slash)];
        p.id = path.substr(0, slash);
        p.files[path.substr(slash + 1)] = bytes;
    }
    for (auto& [id, p] : plugins) {
        if (!p.files.count("plugin.yaml")) continue;  // not a plugin directory
        const YAML::Node y = YAML::Load(p.files["plugin.yaml"]);
        p.version = y["version"] ? y["version"].as<std::string>() : "";
        out.plugins.push_back(std::move(p));
    }
    return out;
}

}  // namespace klinikbox::pluginset
