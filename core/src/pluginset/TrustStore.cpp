#include "pluginset/TrustStore.h"

#include <klinikbox/HsaId.h>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

namespace klinikbox::pluginset {

namespace fs = std::filesystem;

namespace {

std::string readSmallFile(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + p.string());
    std::ostringstream s;
    s << in.rdbuf();
    if (s.str().size() > (4u << 20)) throw std::runtime_error(p.string() + " is larger than 4 MiB");
    return s.str();
}

Region loadRegion(const fs::path& d) {
    Region r;
    r.dir = d.filename().string();
    r.path = d.string();
    const auto cfg = (d / "region.yaml").string();
    if (!fs::is_regular_file(d / "region.yaml")) throw std::runtime_error(cfg + " is missing");
    YAML::Node y;
    try {
        y = YAML::Load(readSmallFile(d / "region.yaml"));
    } catch (const YAML::Exception& e) {
        throw std::runtime_error(cfg + ":" + std::to_string(e.mark.line + 1) +
                                 ": not valid YAML: " + e.msg);
    }
    if (!y.IsMap())
        throw std::runtime_error(cfg + ": expected keys name, hsa_id, threshold, require_crl");
    static const std::set<std::string> known = {"name", "hsa_id", "threshold", "require_crl"};
    for (const auto& kv : y) {
        if (!known.count(kv.first.Scalar()))
            throw std::runtime_error(cfg + ":" + std::to_string(kv.first.Mark().line + 1) +
                                     ": unknown key '" + kv.first.Scalar() +
                                     "' (known: name, hsa_id, threshold, require_crl)");
    }
    try {
        if (!y["name"] || !y["hsa_id"]) throw std::runtime_error("name and hsa_id are required");
        r.name = y["name"].as<std::string>();
        r.hsaId = y["hsa_id"].as<std::string>();
        if (y["threshold"]) r.threshold = y["threshold"].as<int>();
        if (y["require_crl"]) r.requireCrl = y["require_crl"].as<bool>();
    } catch (const YAML::Exception& e) {
        throw std::runtime_error(
            cfg + ": threshold is a whole number and require_crl true or false (" + e.msg + ")");
    } catch (const std::runtime_error& e) {
        throw std::runtime_error(cfg + ": " + e.what());
    }
    if (r.name.empty()) throw std::runtime_error(cfg + ": name is empty");
    if (!HsaId::parse(r.hsaId))
        throw std::runtime_error(cfg + ": hsa_id '" + r.hsaId + "' is not an HSA-id");
    if (r.threshold < 1 || r.threshold > 16)
        throw std::runtime_error(cfg + ": threshold must be 1 to 16");

    const auto rootFile = d / "root.pem";
    if (!fs::is_regular_file(rootFile)) throw std::runtime_error(rootFile.string() + " is missing");
    for (auto& x : ssl::certificatesFromPem(readSmallFile(rootFile), rootFile.string())) {
        // Only self-signed CA certificates are trust anchors: a leaf or an intermediate here
        // would make OpenSSL's chain building depend on what else happens to be in the set.
        // X509_check_ca is 1 only for basicConstraints CA:TRUE; OpenSSL would also take a v1
        // self-signed certificate (3) or keyCertSign without basicConstraints (4) as a CA.
        if (X509_check_ca(x.get()) != 1 || X509_check_issued(x.get(), x.get()) != X509_V_OK)
            throw std::runtime_error(rootFile.string() + ": " + ssl::subjectOf(x.get()) +
                                     " is not a self-signed CA certificate (basicConstraints "
                                     "CA:TRUE, issuer = subject)");
        r.roots.push_back(ssl::share(std::move(x)));
    }
    // crl.pem, and crl-<anything>.pem for regions that publish one file per CA.
    std::vector<fs::path> crlFiles;
    for (const auto& e : fs::directory_iterator(d)) {
        const auto n = e.path().filename().string();
        const bool named = n == "crl.pem" || (n.size() > 8 && n.rfind("crl-", 0) == 0 &&
                                              n.compare(n.size() - 4, 4, ".pem") == 0);
        if (!named) continue;
        if (!e.is_regular_file())
            throw std::runtime_error(e.path().string() + " is not a regular file");
        crlFiles.push_back(e.path());
    }
    std::sort(crlFiles.begin(), crlFiles.end());
    if (crlFiles.empty()) r.crlFile = (d / "crl.pem").string();
    for (const auto& f : crlFiles) {
        r.crlFile += (r.crlFile.empty() ? "" : ", ") + f.string();
        for (auto& c : ssl::crlsFromPem(readSmallFile(f), f.string()))
            r.crls.push_back(ssl::share(std::move(c)));
    }
    return r;
}

}  // namespace

TrustStore TrustStore::load(const std::string& trustDir) { return load(trustDir, ""); }

TrustStore TrustStore::load(const std::string& trustDir, const std::string& localDir) {
    TrustStore ts;
    ts.dir_ = trustDir.empty() ? localDir : trustDir;
    std::error_code ec;
    if (!trustDir.empty() && !fs::is_directory(trustDir, ec))
        throw std::runtime_error("the trust directory " + trustDir + " does not exist");
    std::vector<fs::path> dirs;
    for (const auto& root : {trustDir, localDir}) {
        if (root.empty() || !fs::is_directory(root, ec)) continue;
        std::vector<fs::path> here;
        for (const auto& e : fs::directory_iterator(root)) {
            if (e.is_directory() && e.path().filename().string().front() != '.') here.push_back(e.path());
        }
        std::sort(here.begin(), here.end());
        dirs.insert(dirs.end(), here.begin(), here.end());
    }
    std::set<std::string> hsaIds, rootHashes;
    for (const auto& d : dirs) {
        Region r = loadRegion(d);
        if (!hsaIds.insert(r.hsaId).second)
            throw std::runtime_error((d / "region.yaml").string() + ": region " + r.hsaId +
                                     " is configured twice");
        for (const auto& root : r.roots) {
            // A set's region is the region whose root its signers chain to; it must be one.
            if (!rootHashes.insert(ssl::sha256Of(root.get())).second)
                throw std::runtime_error((d / "root.pem").string() + ": " +
                                         ssl::subjectOf(root.get()) +
                                         " is also the root of another region");
        }
        ts.regions_.push_back(std::move(r));
    }
    if (ts.regions_.empty())
        throw std::runtime_error("the trust directory " + (trustDir.empty() ? localDir : trustDir) +
                                 (localDir.empty() || trustDir.empty() ? "" : " (nor " + localDir + ")") +
                                 " holds no region");
    return ts;
}

Region TrustStore::loadOne(const std::string& regionDir) { return loadRegion(regionDir); }

}  // namespace klinikbox::pluginset
