#include "pluginset/Mirror.h"

#include "pluginset/SetSource.h"
#include "pluginset/Verifier.h"

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/URI.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <set>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>

namespace klinikbox::pluginset {

namespace fs = std::filesystem;

namespace {

std::string get(const Poco::URI& base, const std::string& rel, const MirrorOptions& o) {
    Poco::URI uri(base);
    std::string path = uri.getPath();
    if (path.empty() || path.back() != '/') path += '/';
    uri.setPath(path + rel);
    std::unique_ptr<Poco::Net::HTTPClientSession> s;
    if (uri.getScheme() == "https") {
        static const Poco::Net::Context::Ptr tls = new Poco::Net::Context(
            Poco::Net::Context::TLS_CLIENT_USE, "", "", "", Poco::Net::Context::VERIFY_RELAXED, 9, true);
        s = std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort(), tls);
    } else {
        s = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
    }
    const Poco::Timespan t(static_cast<long>(o.timeout.count()) * 1000);
    s->setTimeout(t, t, t);
    Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_GET, uri.getPathAndQuery(),
                               Poco::Net::HTTPMessage::HTTP_1_1);
    req.set("Cache-Control", "no-cache");
    s->sendRequest(req);
    Poco::Net::HTTPResponse res;
    std::istream& in = s->receiveResponse(res);
    if (res.getStatus() != Poco::Net::HTTPResponse::HTTP_OK)
        throw std::runtime_error("GET " + uri.toString() + ": HTTP " + std::to_string(res.getStatus()));
    std::string body;
    char buf[16384];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        body.append(buf, static_cast<std::size_t>(in.gcount()));
        if (body.size() > o.maxFileBytes)
            throw std::runtime_error("GET " + uri.toString() + ": larger than " +
                                     std::to_string(o.maxFileBytes) + " bytes");
    }
    return body;
}

std::string readIfAny(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return in ? std::string(std::istreambuf_iterator<char>(in), {}) : std::string();
}

void writeAtomically(const fs::path& p, const std::string& bytes) {
    fs::create_directories(p.parent_path());
    const auto tmp = p.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << bytes;
        if (!out.flush()) throw std::runtime_error("cannot write " + tmp);
    }
    fs::rename(tmp, p);
}

}  // namespace

PollResult pollMirror(const std::string& baseUrl, const TrustStore& trust, const std::string& stateDir,
                      TimePoint now, const MirrorOptions& opts) {
    const Poco::URI base(baseUrl);
    if (base.getScheme() != "https" && base.getScheme() != "http")
        throw std::invalid_argument("a region mirror needs an http(s) URL, got " + baseUrl);
    const fs::path state(stateDir);
    long long lastVersion = 0;
    std::string lastSha;
    {
        std::istringstream in(readIfAny(state / "state"));
        in >> lastVersion >> lastSha;
    }
    const auto indexBytes = get(base, "index.json", opts);
    const auto sigBytes = get(base, "index.json.sig.1", opts);
    PollResult r;
    r.index = verifyRegionIndex(indexBytes, sigBytes, trust, now, lastVersion, lastSha);
    const std::string indexSha = sha256Hex(indexBytes);
    r.changed = r.index.version > lastVersion;

    // Everything is fetched and judged in memory first; nothing is stored on a refusal.
    std::vector<std::pair<fs::path, std::string>> toStore;
    for (const auto& f : r.index.files) {
        const fs::path dest = state / f.path;
        const auto held = readIfAny(dest);
        if (!held.empty() && held.size() == f.size && sha256Hex(held) == f.sha256) {
            if (f.kind == "crl") r.crls.push_back(dest.string());
            if (f.kind == "root") r.roots.push_back(dest.string());
            continue;
        }
        const auto bytes = get(base, f.path, opts);
        checkIndexedFile(f, bytes);
        if (f.kind == "set") {
            VerifyOptions vo;
            vo.now = now;
            vo.commitHighWater = false;
            try {
                (void)verifySignedArchive(bytes, f.path, trust, vo, nullptr);
            } catch (const VerifyError& e) {
                r.warnings.push_back(f.path + " is listed by the region but refused (" +
                                     toString(e.reason()) + ": " + e.what() + "); not stored");
                continue;
            }
            r.newSets.push_back(dest.string());
        } else if (f.kind == "root") {
            (void)ssl::certificatesFromPem(bytes, f.path);
            r.roots.push_back(dest.string());
        } else if (f.kind == "crl") {
            (void)ssl::crlsFromPem(bytes, f.path);
            r.crls.push_back(dest.string());
        }
        toStore.emplace_back(dest, bytes);
    }
    for (const auto& [p, bytes] : toStore) writeAtomically(p, bytes);
    writeAtomically(state / "state", std::to_string(r.index.version) + " " + indexSha + "\n");
    return r;
}

int installAnnouncedRoots(const std::string& trustDir, const Region& region,
                          const std::vector<std::string>& rootFiles) {
    const fs::path file = (region.path.empty() ? fs::path(trustDir) / region.dir : fs::path(region.path)) / "root.pem";
    std::string text = readIfAny(file);
    std::set<std::string> known;
    for (const auto& c : ssl::certificatesFromPem(text, file.string())) known.insert(ssl::sha256Of(c.get()));
    int added = 0;
    for (const auto& f : rootFiles) {
        const auto pem = readIfAny(f);
        for (const auto& c : ssl::certificatesFromPem(pem, f)) {
            if (X509_check_ca(c.get()) != 1 || X509_check_issued(c.get(), c.get()) != X509_V_OK)
                throw std::runtime_error(f + ": " + ssl::subjectOf(c.get()) +
                                         " is not a self-signed CA certificate; not a region root");
            if (!known.insert(ssl::sha256Of(c.get())).second) continue;
            ssl::BioPtr b(BIO_new(BIO_s_mem()));
            PEM_write_bio_X509(b.get(), c.get());
            char* p = nullptr;
            const long n = BIO_get_mem_data(b.get(), &p);
            if (!text.empty() && text.back() != '\n') text += '\n';
            text.append(p, static_cast<std::size_t>(n));
            ++added;
        }
    }
    if (added) writeAtomically(file, text);
    return added;
}

std::chrono::minutes backoff(std::chrono::minutes interval, int failures) {
    auto wait = interval;
    for (int i = 0; i < failures && wait < interval * 8; ++i) wait *= 2;
    return std::min({wait, interval * 8, std::chrono::minutes(24 * 60)});
}

}  // namespace klinikbox::pluginset
