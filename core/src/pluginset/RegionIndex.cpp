#include "pluginset/RegionIndex.h"

#include "pluginset/SetSource.h"
#include "pluginset/Signatures.h"
#include "pluginset/Ssl.h"

#include <yaml-cpp/yaml.h>

#include <openssl/pem.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <stdexcept>

namespace klinikbox::pluginset {

namespace fs = std::filesystem;

namespace {

std::string slurp(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::invalid_argument("cannot read " + file);
    return {std::istreambuf_iterator<char>(in), {}};
}

void spit(const fs::path& file, const std::string& bytes) {
    const auto tmp = file.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << bytes;
        if (!out.flush()) throw std::runtime_error("cannot write " + tmp);
    }
    fs::rename(tmp, file);  // readers see the old file or the new one, never half of one
}

std::string q(const std::string& s) {
    std::string out = "\"";
    for (const char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        if (static_cast<unsigned char>(c) < 0x20) throw std::invalid_argument("control character in " + s);
        out += c;
    }
    return out + "\"";
}

std::string render(const RegionIndex& x) {
    std::string s = "{\n  \"type\": \"klinikbox-region-index\",\n  \"version\": " +
                    std::to_string(x.version) + ",\n  \"region_hsa_id\": " + q(x.regionHsaId) +
                    ",\n  \"issued\": " + q(x.issued) + ",\n  \"expires\": " + q(x.expires) +
                    ",\n  \"activate\": " + q(x.activate) + ",\n  \"files\": [";
    for (std::size_t i = 0; i < x.files.size(); ++i) {
        const auto& f = x.files[i];
        s += std::string(i ? "," : "") + "\n    {\"path\": " + q(f.path) + ", \"kind\": " + q(f.kind) +
             ", \"size\": " + std::to_string(f.size) + ", \"sha256\": " + q(f.sha256) + "}";
    }
    return s + "\n  ]\n}\n";
}

RegionIndex parseIndex(const std::string& bytes) {
    RegionIndex x;
    try {
        const YAML::Node y = YAML::Load(bytes);
        if (!y.IsMap() || y["type"].as<std::string>("") != "klinikbox-region-index")
            throw std::runtime_error("not a klinikbox region index");
        x.version = y["version"].as<long long>();
        x.regionHsaId = y["region_hsa_id"].as<std::string>();
        x.issued = y["issued"].as<std::string>();
        x.expires = y["expires"].as<std::string>();
        x.activate = y["activate"].as<std::string>();
        static const std::regex safe("^(sets/[A-Za-z0-9._-]+\\.zip|crl/[A-Za-z0-9._-]+\\.pem|root/[A-Za-z0-9._-]+\\.pem|signing-log\\.jsonl)$");
        for (const auto& f : y["files"]) {
            IndexFile e{f["path"].as<std::string>(), f["kind"].as<std::string>(),
                        f["size"].as<std::uint64_t>(), f["sha256"].as<std::string>()};
            if (!std::regex_match(e.path, safe))
                throw std::runtime_error("unsafe or unknown file path '" + e.path + "'");
            if (e.kind != "set" && e.kind != "crl" && e.kind != "log" && e.kind != "root")
                throw std::runtime_error("unknown file kind '" + e.kind + "'");
            x.files.push_back(std::move(e));
        }
    } catch (const std::exception& e) {
        throw VerifyError(Reason::ManifestInvalid, std::string("index.json: ") + e.what());
    }
    if (x.activate != "stage" && x.activate != "auto")
        throw VerifyError(Reason::ManifestInvalid, "index.json: activate must be stage or auto");
    if (!parseInstant(x.expires) || !parseInstant(x.issued))
        throw VerifyError(Reason::ManifestInvalid, "index.json: issued and expires must be UTC instants");
    return x;
}

}  // namespace

RegionIndex publishRegion(const PublishOptions& o, TimePoint now) {
    if (o.outDir.empty()) throw std::invalid_argument("publish needs an output directory");
    if (o.validHours < 1 || o.validHours > 24 * 31)
        throw std::invalid_argument("the index must be valid for 1 hour to 31 days");
    if (o.activate != "stage" && o.activate != "auto")
        throw std::invalid_argument("--activate must be stage or auto");
    long long previous = 0;
    const fs::path out(o.outDir);
    if (fs::exists(out / "index.json")) previous = parseIndex(slurp((out / "index.json").string())).version;
    RegionIndex x;
    x.version = o.version ? o.version : previous + 1;
    if (x.version <= previous)
        throw std::invalid_argument("version " + std::to_string(x.version) + " is not above " +
                                    std::to_string(previous) + ", the version published in " + o.outDir);
    x.regionHsaId = o.regionHsaId;
    x.issued = formatInstant(now);
    x.expires = formatInstant(now + std::chrono::hours(o.validHours));
    x.activate = o.activate;
    fs::create_directories(out / "sets");
    fs::create_directories(out / "crl");
    if (!o.roots.empty()) fs::create_directories(out / "root");
    auto add = [&](const std::string& src, const std::string& rel, const std::string& kind) {
        const auto bytes = slurp(src);
        if (kind == "crl") (void)ssl::crlsFromPem(bytes, src);
        if (kind == "root") (void)ssl::certificatesFromPem(bytes, src);
        spit(out / rel, bytes);
        x.files.push_back(IndexFile{rel, kind, bytes.size(), sha256Hex(bytes)});
    };
    for (const auto& s : o.sets) add(s, "sets/" + fs::path(s).filename().string(), "set");
    for (const auto& c : o.crls) add(c, "crl/" + fs::path(c).filename().string(), "crl");
    if (!o.signingLog.empty()) add(o.signingLog, "signing-log.jsonl", "log");
    for (const auto& r : o.roots) add(r, "root/" + fs::path(r).filename().string(), "root");
    const std::string text = render(x);
    (void)parseIndex(text);  // every name we publish must pass the box's own rules

    auto keyText = slurp(o.keyPem);
    auto kb = ssl::memoryBio(keyText);
    ssl::PkeyPtr key(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr));
    if (!key) throw std::invalid_argument(o.keyPem + " is not a PEM private key");
    auto certs = ssl::certificatesFromPem(slurp(o.certPem), o.certPem);
    X509* cert = certs.front().get();
    if (X509_check_private_key(cert, key.get()) != 1)
        throw std::invalid_argument(o.keyPem + " is not the key of " + ssl::subjectOf(cert));
    checkKeyUsage(cert, o.certPem);
    ssl::X509StackPtr chain(sk_X509_new_null());
    if (!o.chainPem.empty())
        for (auto& c : ssl::certificatesFromPem(slurp(o.chainPem), o.chainPem)) {
            sk_X509_push(chain.get(), c.get());
            (void)c.release();
        }
    const auto sig = signDetached(text, key.get(), cert, chain.get());
    // The signature first: a reader that sees the new index finds its signature.
    fs::remove(out / "index.json.sig.1");
    spit(out / "index.json.sig.1.new", sig);
    spit(out / "index.json.new", text);
    fs::rename(out / "index.json.sig.1.new", out / "index.json.sig.1");
    fs::rename(out / "index.json.new", out / "index.json");
    return x;
}

RegionIndex verifyRegionIndex(const std::string& indexBytes, const std::string& sigBytes,
                              const TrustStore& trust, TimePoint now, long long lastVersion,
                              const std::string& lastSha256) {
    auto sig = parseSignature("index.json.sig.1", sigBytes);
    checkSignedBytes(sig, indexBytes);
    findRegion(sig, trust);
    checkKeyUsage(sig);
    checkValidity(sig, now);
    (void)checkRevocation(sig, indexBytes, now);
    auto x = parseIndex(indexBytes);
    if (x.regionHsaId != sig.region->hsaId)
        throw VerifyError(Reason::RegionMismatch, "the index names region " + x.regionHsaId +
                                                      " but is signed by " + sig.region->name +
                                                      " (" + sig.region->hsaId + ")");
    if (now >= *parseInstant(x.expires))
        throw VerifyError(Reason::Expired,
                          "the index (version " + std::to_string(x.version) + ") expired on " +
                              x.expires + ": the mirror is stale or frozen (verification time " +
                              formatInstant(now) + ")");
    if (x.version < lastVersion)
        throw VerifyError(Reason::Rollback,
                          "the index has version " + std::to_string(x.version) + ", older than " +
                              std::to_string(lastVersion) +
                              ", accepted before: the mirror serves an old index (freeze attack?)");
    if (x.version == lastVersion && !lastSha256.empty() && sha256Hex(indexBytes) != lastSha256)
        throw VerifyError(Reason::Rollback, "the index reuses version " + std::to_string(x.version) +
                                                " with other content");
    return x;
}

void checkIndexedFile(const IndexFile& f, const std::string& bytes) {
    if (bytes.size() != f.size || sha256Hex(bytes) != f.sha256)
        throw VerifyError(Reason::FileTampered,
                          f.path + " is " + std::to_string(bytes.size()) + " bytes with SHA-256 " +
                              sha256Hex(bytes) + "; the signed index lists " + std::to_string(f.size) +
                              " bytes with SHA-256 " + f.sha256);
}

}  // namespace klinikbox::pluginset
