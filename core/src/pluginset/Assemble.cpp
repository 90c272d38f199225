#include "pluginset/Assemble.h"

#include "pluginset/SetFiles.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace klinikbox::pluginset {

namespace fs = std::filesystem;

namespace {

std::string readText(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + p.string());
    return {std::istreambuf_iterator<char>(in), {}};
}

void copyFile(const fs::path& from, const fs::path& to, AssembledPlugin& out,
              const std::string& rel) {
    if (fs::is_symlink(from))
        throw std::invalid_argument(from.string() + " is a symbolic link; a set holds files only");
    if (!fs::is_regular_file(from))
        throw std::invalid_argument(from.string() + " is not a regular file");
    fs::create_directories(to.parent_path());
    fs::copy_file(from, to);
    out.files.push_back(rel);
}

void copyTree(const fs::path& from, const fs::path& to, AssembledPlugin& out,
              const std::string& relBase) {
    if (fs::is_symlink(from))
        throw std::invalid_argument(from.string() + " is a symbolic link; a set holds files only");
    for (auto it = fs::recursive_directory_iterator(from); it != fs::recursive_directory_iterator();
         ++it) {
        if (it->is_symlink())
            throw std::invalid_argument(it->path().string() +
                                        " is a symbolic link; a set holds files only");
        if (it->is_directory()) continue;
        const auto rel = fs::relative(it->path(), from);
        copyFile(it->path(), to / rel, out, relBase + "/" + rel.generic_string());
    }
}

AssembledPlugin assembleOne(const fs::path& src, const fs::path& build, const fs::path& dst,
                            const std::string& id) {
    const auto yamlPath = src / "plugin.yaml";
    if (!fs::is_regular_file(yamlPath))
        throw std::invalid_argument(src.string() + " has no plugin.yaml");
    const auto text = readText(yamlPath);
    const auto identity = pluginIdentity(text, yamlPath.string());
    if (identity.id != id)
        throw std::invalid_argument(yamlPath.string() + " declares id '" + identity.id +
                                    "'; the directory must be named for its id");
    const YAML::Node y = YAML::Load(text);
    AssembledPlugin out{id, identity.version, y["kind"] ? y["kind"].as<std::string>() : "", {}};
    const std::string entry = y["entry"] ? y["entry"].as<std::string>() : "";
    if (entry.empty() || entry.find("..") != std::string::npos || entry.front() == '/')
        throw std::invalid_argument(yamlPath.string() + " names no safe entry file");
    copyFile(yamlPath, dst / "plugin.yaml", out, "plugin.yaml");
    if (fs::exists(src / "schema.yaml")) copyFile(src / "schema.yaml", dst / "schema.yaml", out, "schema.yaml");
    for (const char* d : {"migrations", "web", "lua"})
        if (fs::is_directory(src / d)) copyTree(src / d, dst / d, out, d);
    const bool copied = std::find(out.files.begin(), out.files.end(), entry) != out.files.end();
    if (out.kind == "native") {
        const auto lib = build / id / entry;
        if (!fs::is_regular_file(lib))
            throw std::invalid_argument("the native plugin " + id + " is not built: no " +
                                        lib.string() + " (build it first, e.g. cmake --build "
                                        "build --target kbplugin_" + id + ")");
        copyFile(lib, dst / entry, out, entry);
    } else if (!copied) {
        copyFile(src / entry, dst / entry, out, entry);
    }
    std::sort(out.files.begin(), out.files.end());
    return out;
}

}  // namespace

std::vector<AssembledPlugin> assembleSet(const std::string& sourceDir, const std::string& buildDir,
                                         const std::vector<std::string>& idsIn,
                                         const std::string& setDir) {
    if (!fs::is_directory(sourceDir))
        throw std::invalid_argument(sourceDir + " is not a directory of plugins");
    if (fs::exists(setDir) && (!fs::is_directory(setDir) || !fs::is_empty(setDir)))
        throw std::invalid_argument(setDir + " exists and is not empty; assemble into a new directory");
    std::vector<std::string> ids = idsIn;
    if (ids.empty()) {
        for (const auto& e : fs::directory_iterator(sourceDir))
            if (e.is_directory() && fs::is_regular_file(e.path() / "plugin.yaml"))
                ids.push_back(e.path().filename().string());
        std::sort(ids.begin(), ids.end());
    }
    if (ids.empty()) throw std::invalid_argument(sourceDir + " holds no plugin directory");
    std::vector<AssembledPlugin> out;
    const bool existed = fs::exists(setDir);
    try {
        fs::create_directories(setDir);
        for (const auto& id : ids) {
            if (id.empty() || id.find('/') != std::string::npos || id.front() == '.')
                throw std::invalid_argument("'" + id + "' is not a plugin id");
            out.push_back(assembleOne(fs::path(sourceDir) / id, fs::path(buildDir),
                                      fs::path(setDir) / id, id));
        }
    } catch (...) {
        std::error_code ec;
        if (existed) {
            for (const auto& e : fs::directory_iterator(setDir, ec)) fs::remove_all(e.path(), ec);
        } else {
            fs::remove_all(setDir, ec);
        }
        throw;
    }
    return out;
}

}  // namespace klinikbox::pluginset
