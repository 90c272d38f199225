#include "pluginset/SetFiles.h"

#include <Poco/Zip/ZipArchive.h>
#include <Poco/Zip/ZipStream.h>

#include <openssl/sha.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace klinikbox::pluginset {

namespace {

struct Fd {
    int fd;
    explicit Fd(int f) : fd(f) {}
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
};

void readTree(int dirfd, const std::string& prefix, SetFiles& out, std::uint64_t& total, const ArchiveLimits& lim) {
    const int dup = ::dup(dirfd);
    DIR* d = ::fdopendir(dup);
    if (!d) {
        ::close(dup);
        throw VerifyError(Reason::Unreadable, "cannot list " + (prefix.empty() ? "the set" : prefix));
    }
    std::vector<std::string> names;
    while (auto* e = ::readdir(d)) {
        const std::string n = e->d_name;
        if (n != "." && n != "..") names.push_back(n);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
        const std::string rel = prefix.empty() ? name : prefix + "/" + name;
        struct stat st {};
        if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
            throw VerifyError(Reason::Unreadable, "cannot read " + rel);
        if (S_ISLNK(st.st_mode)) throw VerifyError(Reason::UnsafePath, rel + " is a symbolic link");
        if (S_ISDIR(st.st_mode)) {
            Fd sub(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (sub.fd < 0) throw VerifyError(Reason::Unreadable, "cannot open " + rel);
            readTree(sub.fd, rel, out, total, lim);
            continue;
        }
        if (!S_ISREG(st.st_mode)) throw VerifyError(Reason::UnsafePath, rel + " is not a regular file");
        if (!isSafeRelativePath(rel)) throw VerifyError(Reason::UnsafePath, "unsafe file name " + rel);
        if (out.size() >= lim.maxEntries) throw VerifyError(Reason::ArchiveTooLarge, "the set has more than " + std::to_string(lim.maxEntries) + " files");
        Fd f(::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        if (f.fd < 0) throw VerifyError(Reason::Unreadable, "cannot open " + rel);
        std::string bytes;
        char buf[65536];
        ssize_t n;
        while ((n = ::read(f.fd, buf, sizeof buf)) > 0) {
            bytes.append(buf, static_cast<std::size_t>(n));
            total += static_cast<std::uint64_t>(n);
            if (bytes.size() > lim.maxFileBytes || total > lim.maxTotalBytes)
                throw VerifyError(Reason::ArchiveTooLarge, rel + ": the set is larger than allowed");
        }
        if (n < 0) throw VerifyError(Reason::Unreadable, "cannot read " + rel);
        out[rel] = std::move(bytes);
    }
}

std::uint32_t le32(const std::string& s, std::size_t off) {
    if (s.size() < off + 4) return 0;
    return static_cast<std::uint32_t>(static_cast<unsigned char>(s[off])) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(s[off + 1])) << 8 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(s[off + 2])) << 16 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(s[off + 3])) << 24;
}

}  // namespace

bool isSafeRelativePath(const std::string& p) {
    if (p.empty() || p.size() > 1024 || p[0] == '/' || p.find('\\') != std::string::npos ||
        p.find('\0') != std::string::npos || p.find(':') != std::string::npos)
        return false;
    std::size_t i = 0;
    while (true) {
        const auto j = p.find('/', i);
        const auto seg = p.substr(i, j == std::string::npos ? std::string::npos : j - i);
        if (seg.empty() || seg == "." || seg == "..") return false;
        if (j == std::string::npos) return true;
        i = j + 1;
    }
}

std::string sha256Hex(const std::string& bytes) {
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), md);
    static const char* d = "0123456789abcdef";
    std::string out;
    for (unsigned char c : md) {
        out.push_back(d[c >> 4]);
        out.push_back(d[c & 15]);
    }
    return out;
}

SetFiles readDirectory(const std::string& dir, const ArchiveLimits& limits) {
    Fd root(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (root.fd < 0) throw VerifyError(Reason::Unreadable, "the plugin set " + dir + " cannot be opened");
    SetFiles out;
    std::uint64_t total = 0;
    readTree(root.fd, "", out, total, limits);
    return out;
}

SetFiles readZipBytes(const std::string& bytes, const ArchiveLimits& limits) {
    SetFiles out;
    try {
        std::istringstream in(bytes);
        Poco::Zip::ZipArchive archive(in);
        std::size_t entries = 0;
        std::uint64_t total = 0;
        for (auto it = archive.headerBegin(); it != archive.headerEnd(); ++it) {
            if (++entries > limits.maxEntries)
                throw VerifyError(Reason::ArchiveTooLarge, "the archive has more than " + std::to_string(limits.maxEntries) + " entries");
            const auto& h = it->second;
            std::string name = h.getFileName();
            if (h.isDirectory()) {
                while (!name.empty() && name.back() == '/') name.pop_back();
                if (!name.empty() && !isSafeRelativePath(name)) throw VerifyError(Reason::UnsafePath, "unsafe entry " + name);
                continue;
            }
            if (!isSafeRelativePath(name)) throw VerifyError(Reason::UnsafePath, "unsafe entry name in the archive: " + name);
            if (h.isEncrypted()) throw VerifyError(Reason::Unreadable, name + " is encrypted");
            if (h.getUncompressedSize() > limits.maxFileBytes || (total += h.getUncompressedSize()) > limits.maxTotalBytes)
                throw VerifyError(Reason::ArchiveTooLarge, "the archive unpacks to more than allowed (at " + name + ")");
        }
        // Symlink entries: the Unix mode in the central directory's external attributes.
        // (Not gated on the host system: POCO's getHostSystem() reads the "version needed"
        // byte instead of "version made by"; archives from other systems have 0 there.)
        for (auto it = archive.fileInfoBegin(); it != archive.fileInfoEnd(); ++it) {
            const std::string raw = it->second.createHeader();
            const std::uint32_t mode = le32(raw, 38) >> 16;
            if ((mode & 0170000) == 0120000)
                throw VerifyError(Reason::UnsafePath, it->second.getFileName() + " is a symbolic link");
        }
        for (auto it = archive.headerBegin(); it != archive.headerEnd(); ++it) {
            const auto& h = it->second;
            if (h.isDirectory()) continue;
            std::istringstream data(bytes);
            Poco::Zip::ZipInputStream zin(data, h, true);
            std::string content;
            char buf[65536];
            while (zin) {
                zin.read(buf, sizeof buf);
                if (zin.gcount() <= 0) break;
                content.append(buf, static_cast<std::size_t>(zin.gcount()));
                // The declared size may lie: stop at the limit whatever the header said.
                if (content.size() > limits.maxFileBytes)
                    throw VerifyError(Reason::ArchiveTooLarge, h.getFileName() + " unpacks to more than allowed");
            }
            if (!out.emplace(h.getFileName(), std::move(content)).second)
                throw VerifyError(Reason::UnsafePath, "the archive holds " + h.getFileName() + " twice");
        }
    } catch (const VerifyError&) {
        throw;
    } catch (const std::exception& e) {
        throw VerifyError(Reason::Unreadable, std::string("the archive cannot be read: ") + e.what());
    }
    return out;
}

SetFiles readZip(const std::string& file, const ArchiveLimits& limits) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw VerifyError(Reason::Unreadable, "cannot open " + file);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.size() > limits.maxTotalBytes) throw VerifyError(Reason::ArchiveTooLarge, file + " is larger than allowed");
    return readZipBytes(bytes, limits);
}

SetFiles readSet(const std::string& path, const ArchiveLimits& limits) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) throw VerifyError(Reason::Unreadable, path + " does not exist");
    return S_ISDIR(st.st_mode) ? readDirectory(path, limits) : readZip(path, limits);
}

}  // namespace klinikbox::pluginset
