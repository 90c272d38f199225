#include "pluginset/Certify.h"

#include "pluginset/Dates.h"
#include "pluginset/SetFiles.h"
#include "pluginset/Signatures.h"
#include "pluginset/Ssl.h"
#include "pluginset/Verifier.h"

#include <klinikbox/HsaId.h>

#include <Poco/DateTime.h>
#include <Poco/Path.h>
#include <Poco/Zip/Compress.h>

#include <openssl/pem.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

namespace klinikbox::pluginset {

namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kMaxManifestBytes = 4u << 20;

std::string readFile(const std::string& path, const char* what) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::invalid_argument("cannot read the " + std::string(what) + " " + path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Writes next to the target and renames, so a reader never sees half a file.
void writeFileAtomically(const fs::path& target, const std::string& bytes) {
    const fs::path tmp = target.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        out.flush();
        if (!out) throw std::runtime_error("cannot write " + tmp.string());
    }
    fs::rename(tmp, target);
}

SetSource openDirectory(const std::string& dir) {
    auto src = SetSource::open(dir, ArchiveLimits{});
    if (src.isArchive()) throw std::invalid_argument(dir + " is not a directory");
    return src;
}

}  // namespace

SetManifest createManifest(const std::string& dir, const CreateOptions& o) {
    if (o.name.empty()) throw std::invalid_argument("--name is empty");
    if (o.sequence < 1) throw std::invalid_argument("--sequence must be a whole number from 1");
    if (o.regionName.empty()) throw std::invalid_argument("--region-name is empty");
    if (!HsaId::parse(o.regionHsaId))
        throw std::invalid_argument("--region-hsa-id '" + o.regionHsaId + "' is not an HSA-id");
    if (!parseInstant(o.issued))
        throw std::invalid_argument("--issued '" + o.issued +
                                    "' is not a date YYYY-MM-DD or a time YYYY-MM-DDTHH:MM:SSZ");
    if (!parseInstant(o.expires))
        throw std::invalid_argument("--expires '" + o.expires +
                                    "' is not a date YYYY-MM-DD or a time YYYY-MM-DDTHH:MM:SSZ");
    if (*parseInstant(o.expires) <= *parseInstant(o.issued))
        throw std::invalid_argument("--expires must come after --issued");
    if (!isSemver(o.minBoxVersion))
        throw std::invalid_argument("--min-box-version '" + o.minBoxVersion + "' is not a version");

    const auto src = openDirectory(dir);
    const fs::path inDir = fs::path(dir) / "pluginset.yaml";
    fs::path target = o.output.empty() ? inDir : fs::path(o.output);
    const auto canonicalDir = fs::weakly_canonical(dir);
    const auto canonicalTarget = fs::weakly_canonical(target);
    const bool intoSet = canonicalTarget == fs::weakly_canonical(inDir);
    if (!intoSet) {
        const auto rel = canonicalTarget.lexically_relative(canonicalDir);
        if (!rel.empty() && *rel.begin() != "..")
            throw std::invalid_argument(
                "-o " + o.output + " lies inside " + dir +
                ", where it would be a file the manifest does not list; write it outside the "
                "set or as " +
                inDir.string());
        if (fs::is_directory(target))
            throw std::invalid_argument("-o " + o.output + " is a directory");
    }
    for (const auto& n : src.topLevelNames()) {
        if (intoSet && n.rfind("pluginset.yaml.sig", 0) == 0)
            throw std::invalid_argument(
                dir + " already holds " + n +
                "; a new manifest would not match it. Remove the old signatures first.");
    }
    std::map<std::string, ManifestPlugin> plugins;
    src.walk([&](const SetEntry& e, const SetSource::Reader& read) {
        const auto slash = e.path.find('/');
        if (slash == std::string::npos) {
            if (e.path == "pluginset.yaml") return;  // replaced below
            if (!e.isDirectory)
                throw VerifyError(Reason::FileExtra,
                                  e.path +
                                      " is not a plugin directory; a set holds only "
                                      "pluginset.yaml, its signatures and plugin directories");
            if (!isPluginId(e.path))
                throw VerifyError(
                    Reason::UnsafePath,
                    e.path +
                        "/ is not named like a plugin id (2-31 lower-case letters and digits)");
            plugins[e.path].id = e.path;
            return;
        }
        if (e.isDirectory) return;
        const auto bytes = read(e.size);
        if (bytes.size() != e.size)
            throw VerifyError(Reason::Unreadable, e.path + " changed while it was read");
        plugins[e.path.substr(0, slash)].files.push_back(
            ManifestFile{e.path.substr(slash + 1), sha256Hex(bytes), e.size});
        if (e.path.substr(slash + 1) == "plugin.yaml") {
            const auto identity = pluginIdentity(bytes, e.path);
            auto& p = plugins[e.path.substr(0, slash)];
            if (identity.id != e.path.substr(0, slash))
                throw VerifyError(Reason::PluginMismatch,
                                  e.path + " declares id '" + identity.id +
                                      "'; the directory must be named for its id");
            if (!isSemver(identity.version))
                throw VerifyError(Reason::PluginMismatch, e.path + " declares version '" +
                                                              identity.version +
                                                              "', not a version like 1.2.0");
            p.version = identity.version;
        }
    });
    SetManifest m;
    m.name = o.name;
    m.sequence = o.sequence;
    m.regionName = o.regionName;
    m.regionHsaId = o.regionHsaId;
    m.issued = o.issued;
    m.expires = o.expires;
    m.minBoxVersion = o.minBoxVersion;
    for (auto& [id, p] : plugins) {
        if (p.version.empty()) throw VerifyError(Reason::FileMissing, id + "/ has no plugin.yaml");
        m.plugins.push_back(std::move(p));
    }
    const std::string text = m.render();
    (void)SetManifest::parse(text);  // what we write must be what a box accepts
    writeFileAtomically(target, text);
    return m;
}

namespace {

// A signer certificate (or an intermediate above it) that is not valid now, or that expires
// before the set does, would sign a set that boxes refuse or stop on a day nobody planned.
void checkSignerDates(const X509* cert, const std::string& what, const SetManifest& manifest,
                      TimePoint now) {
    const auto notBefore = parseInstant(ssl::notBeforeOf(cert));
    const auto notAfter = parseInstant(ssl::notAfterOf(cert));
    if (!notBefore || !notAfter)
        throw VerifyError(Reason::CertificateExpired, what + " has unreadable validity dates");
    if (now >= *notAfter)
        throw VerifyError(Reason::CertificateExpired,
                          what + " (" + ssl::subjectOf(cert) + ") expired on " +
                              ssl::notAfterOf(cert) + "; it cannot sign sets any more");
    if (now < *notBefore)
        throw VerifyError(Reason::CertificateNotYetValid,
                          what + " (" + ssl::subjectOf(cert) + ") is valid only from " +
                              ssl::notBeforeOf(cert));
    const auto expires = parseInstant(manifest.expires);
    if (expires && *expires > *notAfter)
        throw VerifyError(Reason::CertificateExpired,
                          "the set expires on " + manifest.expires + " but " + what + " (" +
                              ssl::subjectOf(cert) + ") expires on " + ssl::notAfterOf(cert) +
                              ", and boxes refuse the set from then on; create the set with "
                              "--expires no later than that, or sign with a newer certificate");
}

}  // namespace

void checkSignerFitsSet(const X509* cert, const std::string& what, const SetManifest& manifest,
                        TimePoint now) {
    checkSignerDates(cert, what, manifest, now);
}

SignResult signManifest(const std::string& target, const std::string& keyPemFile,
                        const std::string& certPemFile, const std::string& chainPemFile,
                        TimePoint now) {
    // The directory the signature goes into, and the manifest's name in it.
    std::error_code ec;
    const bool isDir = fs::is_directory(target, ec);
    if (!isDir && !fs::is_regular_file(target, ec))
        throw std::invalid_argument(target + " is neither a set directory nor a manifest file");
    std::string dir = target, manifestName = "pluginset.yaml";
    if (!isDir) {
        const fs::path p(target);
        dir = p.has_parent_path() ? p.parent_path().string() : std::string(".");
        manifestName = p.filename().string();
    }
    const auto src = openDirectory(dir);
    const auto manifestBytes = src.readTopLevel(manifestName, kMaxManifestBytes);
    if (!manifestBytes)
        throw std::invalid_argument(
            dir + " has no pluginset.yaml; run `klinikbox pluginset create` first");
    const auto manifest = SetManifest::parse(*manifestBytes, manifestName);
    bool filesChecked = isDir;
    if (!isDir) {
        const auto names = src.topLevelNames();
        for (const auto& p : manifest.plugins)
            if (std::find(names.begin(), names.end(), p.id) != names.end()) filesChecked = true;
    }
    // Never sign a manifest that the files next to it do not match.
    if (filesChecked) (void)readCertifiedFiles(src, manifest, manifestName);

    const std::string keyText = readFile(keyPemFile, "key");
    auto keyBio = ssl::memoryBio(keyText);
    // A passphrase-protected key prompts on the terminal (OpenSSL's default callback).
    ssl::PkeyPtr key(PEM_read_bio_PrivateKey(keyBio.get(), nullptr, nullptr, nullptr));
    if (!key)
        throw std::invalid_argument(
            keyPemFile +
            " is not a PEM private key (or the passphrase is wrong): " + ssl::errorText());
    auto certs = ssl::certificatesFromPem(readFile(certPemFile, "certificate"), certPemFile);
    X509* cert = certs.front().get();
    if (X509_check_private_key(cert, key.get()) != 1)
        throw std::invalid_argument(keyPemFile + " is not the key of " + ssl::subjectOf(cert) +
                                    " (" + certPemFile + ")");
    checkKeyUsage(cert, certPemFile);
    checkSignerDates(cert, certPemFile, manifest, now);
    ssl::X509StackPtr chain(sk_X509_new_null());
    // Further certificates in the certificate file, then the chain file: intermediates.
    for (std::size_t i = 1; i < certs.size(); ++i) {
        if (!sk_X509_push(chain.get(), certs[i].get())) throw std::runtime_error("out of memory");
        (void)certs[i].release();  // the stack owns it now
    }
    if (!chainPemFile.empty()) {
        for (auto& c : ssl::certificatesFromPem(readFile(chainPemFile, "chain"), chainPemFile)) {
            if (!sk_X509_push(chain.get(), c.get())) throw std::runtime_error("out of memory");
            (void)c.release();  // the stack owns it now
        }
    }

    for (int i = 0; i < sk_X509_num(chain.get()); ++i)
        checkSignerDates(sk_X509_value(chain.get(), i), "the chain certificate", manifest, now);

    const std::string certHash = ssl::sha256Of(cert);
    const std::string keyHash = ssl::publicKeySha256Of(cert);
    const std::string subject = ssl::subjectOf(cert);
    const std::string prefix = manifestName + ".sig.";
    int next = 1;
    for (const auto& n : src.topLevelNames()) {
        if (n.rfind(prefix, 0) != 0 ||
            !isSignatureFileName("pluginset.yaml.sig." + n.substr(prefix.size())))
            continue;
        next = std::max(next, std::stoi(n.substr(prefix.size())) + 1);
        const auto existing = parseSignature(n, src.readTopLevel(n, 256u << 10).value_or(""));
        if (ssl::sha256Of(existing.signer) == certHash)
            throw std::invalid_argument(subject + " already signed this set (" + n +
                                        "); the region's threshold counts distinct signers");
        if (ssl::publicKeySha256Of(existing.signer) == keyHash)
            throw std::invalid_argument(n + " was made with the same key (by " +
                                        ssl::subjectOf(existing.signer) +
                                        "); the region's threshold counts distinct keys");
        if (ssl::subjectOf(existing.signer) == subject)
            throw std::invalid_argument(subject + " already signed this set with another key (" +
                                        n + "); the region's threshold counts distinct subjects");
    }
    const std::string der = signDetached(*manifestBytes, key.get(), cert, chain.get());
    const std::string name = prefix + std::to_string(next);
    checkSignedBytes(parseSignature(name, der), *manifestBytes);

    const fs::path path = fs::path(dir) / name;
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        throw std::runtime_error("cannot create " + path.string() + ": " + std::strerror(errno));
    const ssize_t written = ::write(fd, der.data(), der.size());
    const int closed = ::close(fd);
    if (written != static_cast<ssize_t>(der.size()) || closed != 0) {
        fs::remove(path);
        throw std::runtime_error("cannot write " + path.string());
    }
    return SignResult{name, path.string(), filesChecked};
}

void packSet(const std::string& dir, const std::string& zipFile) {
    const auto src = openDirectory(dir);
    if (!src.readTopLevel("pluginset.yaml", kMaxManifestBytes))
        throw std::invalid_argument(
            dir + " has no pluginset.yaml; run `klinikbox pluginset create` first");
    std::vector<std::pair<std::string, std::string>> files;
    src.walk([&](const SetEntry& e, const SetSource::Reader& read) {
        if (!e.isDirectory) files.emplace_back(e.path, read(e.size));
    });
    const fs::path tmp = zipFile + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw std::runtime_error("cannot write " + tmp.string());
        Poco::Zip::Compress zip(out, true);
        const Poco::DateTime fixed(2020, 1, 1);
        for (const auto& [path, bytes] : files) {
            std::istringstream in(bytes);
            zip.addFile(in, fixed, Poco::Path(path, Poco::Path::PATH_UNIX),
                        Poco::Zip::ZipCommon::CM_DEFLATE, Poco::Zip::ZipCommon::CL_MAXIMUM);
        }
        zip.close();
        out.flush();
        if (!out) throw std::runtime_error("cannot write " + tmp.string());
    }
    fs::rename(tmp, zipFile);
}

SetSummary inspectSet(const std::string& dirOrZip, const ArchiveLimits& limits) {
    const auto src = SetSource::open(dirOrZip, limits);
    const auto bytes = src.readTopLevel("pluginset.yaml", kMaxManifestBytes);
    if (!bytes) throw VerifyError(Reason::ManifestMissing, dirOrZip + " has no pluginset.yaml");
    SetSummary s;
    s.manifest = SetManifest::parse(*bytes);
    s.manifestSha256 = sha256Hex(*bytes);
    for (const auto& n : src.topLevelNames()) {
        if (!isSignatureFileName(n)) continue;
        SetSummary::Sig sig;
        sig.file = n;
        try {
            const auto parsed = parseSignature(n, src.readTopLevel(n, 256u << 10).value_or(""));
            checkSignedBytes(parsed, *bytes);
            sig.subject = ssl::subjectOf(parsed.signer);
            sig.issuer = ssl::issuerOf(parsed.signer);
            sig.sha256 = ssl::sha256Of(parsed.signer);
            sig.notAfter = ssl::notAfterOf(parsed.signer);
        } catch (const VerifyError& e) {
            sig.problem = std::string(toString(e.reason())) + ": " + e.what();
        }
        s.signatures.push_back(std::move(sig));
    }
    return s;
}

}  // namespace klinikbox::pluginset
