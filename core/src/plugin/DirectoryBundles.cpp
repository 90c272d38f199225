#include "plugin/DirectoryBundles.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>

namespace klinikbox::plugin {

namespace {

constexpr std::size_t kMaxFileBytes = 64u << 20;
constexpr std::size_t kMaxFiles = 2000;

struct Fd {
    int fd = -1;
    explicit Fd(int f) : fd(f) {}
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
};

std::vector<std::string> entries(int dirfd) {
    const int dup = ::dup(dirfd);
    DIR* d = ::fdopendir(dup);
    if (!d) {
        ::close(dup);
        throw std::runtime_error("cannot list a plugin directory");
    }
    std::vector<std::string> out;
    while (auto* e = ::readdir(d)) {
        const std::string n = e->d_name;
        if (n != "." && n != "..") out.push_back(n);
    }
    ::closedir(d);
    std::sort(out.begin(), out.end());
    return out;
}

// Reads every regular file below dirfd, never following a symlink (openat + O_NOFOLLOW).
void readTree(int dirfd, const std::string& prefix, const std::string& shown, std::map<std::string, std::string>& files) {
    for (const auto& name : entries(dirfd)) {
        const std::string rel = prefix.empty() ? name : prefix + "/" + name;
        struct stat st {};
        if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
            throw std::runtime_error("cannot stat " + shown + "/" + rel);
        if (S_ISLNK(st.st_mode)) throw std::runtime_error(shown + "/" + rel + " is a symbolic link; plugin sets may not contain links");
        if (S_ISDIR(st.st_mode)) {
            Fd sub(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (sub.fd < 0) throw std::runtime_error("cannot open " + shown + "/" + rel);
            readTree(sub.fd, rel, shown, files);
            continue;
        }
        if (!S_ISREG(st.st_mode)) throw std::runtime_error(shown + "/" + rel + " is not a regular file");
        if (files.size() >= kMaxFiles) throw std::runtime_error(shown + " has too many files");
        Fd f(::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        if (f.fd < 0) throw std::runtime_error("cannot open " + shown + "/" + rel);
        std::string bytes;
        char buf[65536];
        ssize_t n;
        while ((n = ::read(f.fd, buf, sizeof buf)) > 0) {
            bytes.append(buf, static_cast<std::size_t>(n));
            if (bytes.size() > kMaxFileBytes) throw std::runtime_error(shown + "/" + rel + " is too large");
        }
        if (n < 0) throw std::runtime_error("cannot read " + shown + "/" + rel);
        files[rel] = std::move(bytes);
    }
}

}  // namespace

std::vector<PluginBundle> readPluginDirectory(const std::string& dir) {
    Fd root(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (root.fd < 0) throw std::runtime_error("the plugin directory " + dir + " cannot be opened");
    std::vector<PluginBundle> out;
    for (const auto& name : entries(root.fd)) {
        struct stat st {};
        if (::fstatat(root.fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode)) continue;
        Fd sub(::openat(root.fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (sub.fd < 0) throw std::runtime_error("cannot open " + dir + "/" + name);
        PluginBundle b;
        b.id = name;
        readTree(sub.fd, "", dir + "/" + name, b.files);
        if (!b.files.count("plugin.yaml")) continue;  // not a plugin directory
        out.push_back(std::move(b));
    }
    return out;
}

}  // namespace klinikbox::plugin
