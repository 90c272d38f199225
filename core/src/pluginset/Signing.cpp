#include "pluginset/Signing.h"

#include "pluginset/SetFiles.h"
#include "pluginset/Trust.h"

#include <klinikbox/HsaId.h>

#include <Poco/Zip/Compress.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/cms.h>
#include <openssl/err.h>

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace klinikbox::pluginset {

namespace fs = std::filesystem;

std::string createManifest(const std::string& dir, const CreateOptions& o) {
    static const std::regex date("^[0-9]{4}-[0-9]{2}-[0-9]{2}$");
    if (o.name.empty()) throw std::invalid_argument("--name is required");
    if (o.sequence < 1) throw std::invalid_argument("--sequence must be a positive whole number");
    if (!HsaId::parse(o.regionHsaId)) throw std::invalid_argument("--region-hsa-id must be an HSA-id");
    if (!std::regex_match(o.issued, date) || !std::regex_match(o.expires, date))
        throw std::invalid_argument("--issued and --expires are dates YYYY-MM-DD");
    if (o.expires <= o.issued) throw std::invalid_argument("--expires must be after --issued");
    const SetFiles files = readDirectory(dir);
    std::map<std::string, std::map<std::string, const std::string*>> plugins;
    for (const auto& [path, bytes] : files) {
        const auto slash = path.find('/');
        if (slash == std::string::npos) continue;  // an older manifest and signatures at the top
        plugins[path.substr(0, slash)][path.substr(slash + 1)] = &bytes;
    }
    YAML::Emitter e;
    e << YAML::BeginMap << YAML::Key << "name" << YAML::Value << o.name << YAML::Key << "sequence" << YAML::Value
      << o.sequence << YAML::Key << "region" << YAML::Value << YAML::BeginMap << YAML::Key << "name" << YAML::Value
      << o.regionName << YAML::Key << "hsa_id" << YAML::Value << o.regionHsaId << YAML::EndMap << YAML::Key << "issued"
      << YAML::Value << o.issued << YAML::Key << "expires" << YAML::Value << o.expires << YAML::Key << "min_box_version"
      << YAML::Value << o.minBoxVersion << YAML::Key << "plugins" << YAML::Value << YAML::BeginSeq;
    for (const auto& [id, fileMap] : plugins) {
        if (!fileMap.count("plugin.yaml")) throw std::invalid_argument(id + "/ has no plugin.yaml");
        const YAML::Node pm = YAML::Load(*fileMap.at("plugin.yaml"));
        e << YAML::BeginMap << YAML::Key << "id" << YAML::Value << id << YAML::Key << "version" << YAML::Value
          << (pm["version"] ? pm["version"].as<std::string>() : std::string("0.0.0")) << YAML::Key << "files"
          << YAML::Value << YAML::BeginSeq;
        for (const auto& [path, bytes] : fileMap)
            e << YAML::BeginMap << YAML::Key << "path" << YAML::Value << path << YAML::Key << "sha256" << YAML::Value
              << sha256Hex(*bytes) << YAML::Key << "size" << YAML::Value << bytes->size() << YAML::EndMap;
        e << YAML::EndSeq << YAML::EndMap;
    }
    e << YAML::EndSeq << YAML::EndMap;
    const std::string text = std::string(e.c_str()) + "\n";
    std::ofstream(fs::path(dir) / "pluginset.yaml", std::ios::binary) << text;
    return text;
}

std::string signManifest(const std::string& dir, const std::string& keyPem, const std::string& certPem,
                         const std::string& chainPem) {
    const fs::path manifest = fs::path(dir) / "pluginset.yaml";
    std::ifstream in(manifest, std::ios::binary);
    if (!in) throw std::runtime_error("no pluginset.yaml in " + dir + " (run create first)");
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    FILE* kf = std::fopen(keyPem.c_str(), "r");
    if (!kf) throw std::runtime_error("cannot read the key " + keyPem);
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(PEM_read_PrivateKey(kf, nullptr, nullptr, nullptr), EVP_PKEY_free);
    std::fclose(kf);
    if (!key) throw std::runtime_error(keyPem + " holds no usable private key");
    const auto certs = readCertificates(certPem);
    std::unique_ptr<STACK_OF(X509), void (*)(STACK_OF(X509)*)> chain(sk_X509_new_null(), [](STACK_OF(X509)* s) { sk_X509_free(s); });
    std::vector<std::shared_ptr<X509>> chainCerts;
    if (!chainPem.empty()) chainCerts = readCertificates(chainPem);
    for (const auto& c : chainCerts) sk_X509_push(chain.get(), c.get());
    std::unique_ptr<BIO, decltype(&BIO_free)> data(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())), BIO_free);
    std::unique_ptr<CMS_ContentInfo, decltype(&CMS_ContentInfo_free)> cms(
        CMS_sign(certs.front().get(), key.get(), chain.get(), data.get(), CMS_DETACHED | CMS_BINARY | CMS_NOSMIMECAP),
        CMS_ContentInfo_free);
    if (!cms) {
        ERR_clear_error();
        throw std::runtime_error("signing failed: does the key belong to the certificate?");
    }
    int n = 1;
    while (fs::exists(manifest.string() + ".sig." + std::to_string(n))) ++n;
    const std::string out = manifest.string() + ".sig." + std::to_string(n);
    std::unique_ptr<BIO, decltype(&BIO_free)> o(BIO_new_file(out.c_str(), "wb"), BIO_free);
    if (!o || i2d_CMS_bio(o.get(), cms.get()) != 1) throw std::runtime_error("cannot write " + out);
    return out;
}

void packSet(const std::string& dir, const std::string& zipFile) {
    const SetFiles files = readDirectory(dir);
    if (!files.count("pluginset.yaml")) throw std::runtime_error(dir + " has no pluginset.yaml");
    std::ofstream out(zipFile, std::ios::binary);
    if (!out) throw std::runtime_error("cannot write " + zipFile);
    Poco::Zip::Compress c(out, true);
    for (const auto& [path, bytes] : files) {
        std::istringstream in(bytes);
        c.addFile(in, Poco::DateTime(2000, 1, 1), Poco::Path(path, Poco::Path::PATH_UNIX));
    }
    c.close();
}

}  // namespace klinikbox::pluginset
