#include "pluginset/SetFiles.h"

#include "pluginset/Verifier.h"

#include <yaml-cpp/yaml.h>

#include <map>
#include <set>

namespace klinikbox::pluginset {

PluginIdentity pluginIdentity(const std::string& pluginYaml, const std::string& shown) {
    try {
        const YAML::Node y = YAML::Load(pluginYaml);
        if (y.IsMap() && y["id"] && y["id"].IsScalar() && y["version"] && y["version"].IsScalar()) {
            PluginIdentity out{y["id"].Scalar(), y["version"].Scalar()};
            if (y["api"] && y["api"].IsScalar()) {
                const auto& a = y["api"].Scalar();
                if (!a.empty() && a.size() < 6 && a.find_first_not_of("0123456789") == std::string::npos)
                    out.api = std::stoi(a);
            }
            return out;
        }
    } catch (const YAML::Exception& e) {
        throw VerifyError(Reason::PluginMismatch, shown + " is not valid YAML: " + e.msg);
    }
    throw VerifyError(Reason::PluginMismatch, shown + " declares no id and version");
}

std::vector<VerifiedPlugin> readCertifiedFiles(const SetSource& source, const SetManifest& manifest,
                                               const std::string& manifestName) {
    const std::string sigPrefix = manifestName + ".sig.";
    const auto isManifestOrSignature = [&](const std::string& name) {
        return name == manifestName ||
               (name.rfind(sigPrefix, 0) == 0 &&
                isSignatureFileName("pluginset.yaml.sig." + name.substr(sigPrefix.size())));
    };
    struct Expected {
        std::size_t plugin;
        const ManifestFile* file;
        bool seen = false;
    };
    std::map<std::string, Expected> expected;  // "<id>/<path>"
    std::set<std::string> ids;
    std::vector<VerifiedPlugin> plugins;
    for (std::size_t i = 0; i < manifest.plugins.size(); ++i) {
        const auto& p = manifest.plugins[i];
        if (!ids.insert(p.id).second)
            throw VerifyError(Reason::DuplicatePlugin,
                              "the manifest lists plugin '" + p.id + "' twice");
        for (const auto& f : p.files) {
            if (!isSafeRelativePath(f.path))
                throw VerifyError(Reason::UnsafePath,
                                  "the manifest lists the unsafe path '" + p.id + "/" + f.path +
                                      "' (absolute, '..', '.', backslash or control character)");
            expected.emplace(p.id + "/" + f.path, Expected{i, &f});
        }
        plugins.push_back(VerifiedPlugin{p.id, p.version, {}});
    }
    source.walk([&](const SetEntry& e, const SetSource::Reader& read) {
        const auto slash = e.path.find('/');
        if (slash == std::string::npos) {
            if (e.isDirectory) {
                if (!ids.count(e.path))
                    throw VerifyError(
                        Reason::FileExtra,
                        e.path + "/ is in the set but is not a plugin of its manifest");
                return;
            }
            if (isManifestOrSignature(e.path)) return;  // read by the signature check
            throw VerifyError(Reason::FileExtra, e.path + " is in the set but not in its manifest");
        }
        if (e.isDirectory) return;  // its files are what count
        const auto it = expected.find(e.path);
        if (it == expected.end())
            throw VerifyError(Reason::FileExtra, e.path + " is in the set but not in its manifest");
        const ManifestFile& f = *it->second.file;
        if (e.size != f.size)
            throw VerifyError(Reason::FileTampered, e.path + " is " + std::to_string(e.size) +
                                                        " bytes; the manifest says " +
                                                        std::to_string(f.size));
        std::string bytes = read(f.size);
        if (bytes.size() != f.size)
            throw VerifyError(Reason::FileTampered, e.path + " changed size while it was read");
        const auto hash = sha256Hex(bytes);
        if (hash != f.sha256)
            throw VerifyError(Reason::FileTampered,
                              e.path + " has SHA-256 " + hash + "; the manifest says " + f.sha256);
        it->second.seen = true;
        plugins[it->second.plugin].files.emplace(f.path, std::move(bytes));
    });
    for (const auto& [path, exp] : expected) {
        if (!exp.seen)
            throw VerifyError(Reason::FileMissing,
                              path + " is listed in the manifest but missing from the set");
    }
    for (const auto& p : plugins) {
        const auto identity = pluginIdentity(p.files.at("plugin.yaml"), p.id + "/plugin.yaml");
        if (identity.id != p.id || identity.version != p.version)
            throw VerifyError(Reason::PluginMismatch, p.id + "/plugin.yaml declares " +
                                                          identity.id + " " + identity.version +
                                                          "; the manifest certifies " + p.id + " " +
                                                          p.version);
    }
    return plugins;
}

}  // namespace klinikbox::pluginset
