#include "pluginset/SetSource.h"

#include <Poco/MemoryStream.h>
#include <Poco/Zip/ZipArchive.h>
#include <Poco/Zip/ZipStream.h>

#include <openssl/sha.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>

namespace klinikbox::pluginset {

// Not in an anonymous namespace: SetSource::Directory (declared in the header) holds one.
namespace posixfd {

class UniqueFd {
  public:
    explicit UniqueFd(int fd = -1) : fd_(fd) {}
    ~UniqueFd() {
        if (fd_ >= 0) ::close(fd_);
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    UniqueFd(UniqueFd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    UniqueFd& operator=(UniqueFd&&) = delete;
    [[nodiscard]] int get() const { return fd_; }

  private:
    int fd_;
};

}  // namespace posixfd
using posixfd::UniqueFd;

namespace {

std::string mib(std::uint64_t bytes) {
    return std::to_string(bytes >> 20) + " MiB";
}

[[noreturn]] void tooLarge(const std::string& what, const ArchiveLimits& lim) {
    throw VerifyError(Reason::ArchiveTooLarge, what +
                                                   " (limits: " + std::to_string(lim.maxEntries) +
                                                   " entries, " + mib(lim.maxTotalBytes) + ")");
}

// Names in a directory, sorted; "." and ".." left out.
std::vector<std::string> listDirectory(int dirfd, const std::string& shown) {
    const int dupFd = ::dup(dirfd);
    DIR* d = dupFd >= 0 ? ::fdopendir(dupFd) : nullptr;
    if (!d) {
        if (dupFd >= 0) ::close(dupFd);
        throw VerifyError(Reason::Unreadable, "cannot list " + shown + ": " + std::strerror(errno));
    }
    ::rewinddir(d);
    std::vector<std::string> names;
    while (const auto* e = ::readdir(d)) {
        const std::string n = e->d_name;
        if (n != "." && n != "..") names.push_back(n);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    return names;
}

std::string readFd(int fd, std::uint64_t cap, const std::string& shown) {
    std::string bytes;
    char buf[65536];
    while (bytes.size() <= cap) {
        const auto want =
            static_cast<std::size_t>(std::min<std::uint64_t>(sizeof buf, cap + 1 - bytes.size()));
        const ssize_t n = ::read(fd, buf, want);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw VerifyError(Reason::Unreadable,
                              "cannot read " + shown + ": " + std::strerror(errno));
        }
        if (n == 0) break;
        bytes.append(buf, static_cast<std::size_t>(n));
    }
    return bytes;
}

// Opens a regular file below dirfd without following a link, and checks the open file
// itself (not the name) is regular, so a swap between stat and open is caught.
UniqueFd openRegular(int dirfd, const std::string& name, const std::string& shown,
                     struct stat& st) {
    UniqueFd f(
        ::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (f.get() < 0) {
        if (errno == ELOOP)
            throw VerifyError(Reason::UnsafePath,
                              shown + " is a symbolic link; a plugin set may not contain links");
        throw VerifyError(Reason::Unreadable, "cannot open " + shown + ": " + std::strerror(errno));
    }
    if (::fstat(f.get(), &st) != 0) throw VerifyError(Reason::Unreadable, "cannot stat " + shown);
    if (!S_ISREG(st.st_mode))
        throw VerifyError(Reason::UnsafePath, shown + " is not a regular file");
    return f;
}

std::uint32_t le16(std::string_view s, std::size_t off) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(s[off])) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(s[off + 1])) << 8;
}
std::uint32_t le32(std::string_view s, std::size_t off) {
    return le16(s, off) | le16(s, off + 2) << 16;
}

struct CentralEntry {
    std::string name;
    std::uint32_t unixMode = 0;  // 0 when the archive was not made on Unix
    bool encrypted = false;
    std::uint64_t size = 0;
};

// Reads the central directory ourselves: POCO keeps entries in a map by name (so it would
// hide a duplicate) and does not expose the Unix mode that marks a symlink entry.
std::vector<CentralEntry> centralDirectory(std::string_view zip, const std::string& shown,
                                           const ArchiveLimits& lim) {
    constexpr std::size_t kEocd = 22;
    if (zip.size() < kEocd) throw VerifyError(Reason::Unreadable, shown + " is not a zip archive");
    std::size_t eocd = std::string_view::npos;
    const std::size_t lowest = zip.size() > kEocd + 65535 ? zip.size() - kEocd - 65535 : 0;
    for (std::size_t i = zip.size() - kEocd + 1; i-- > lowest;) {
        if (le32(zip, i) == 0x06054b50) {
            eocd = i;
            break;
        }
    }
    if (eocd == std::string_view::npos)
        throw VerifyError(Reason::Unreadable,
                          shown + " is not a zip archive (no end of central directory)");
    const std::uint32_t count = le16(zip, eocd + 10);
    const std::uint32_t cdSize = le32(zip, eocd + 12);
    const std::uint32_t cdOffset = le32(zip, eocd + 16);
    if (count == 0xFFFF || cdOffset == 0xFFFFFFFF || cdSize == 0xFFFFFFFF)
        throw VerifyError(Reason::Unreadable,
                          shown + " is a zip64 archive; plugin sets are plain zip archives");
    if (count > lim.maxEntries) tooLarge(shown + " has " + std::to_string(count) + " entries", lim);
    if (static_cast<std::uint64_t>(cdOffset) + cdSize > eocd)
        throw VerifyError(Reason::Unreadable,
                          shown + ": the central directory lies outside the archive");
    std::vector<CentralEntry> out;
    std::size_t p = cdOffset;
    for (std::uint32_t i = 0; i < count; ++i) {
        if (p + 46 > eocd || le32(zip, p) != 0x02014b50)
            throw VerifyError(Reason::Unreadable, shown + ": the central directory is damaged");
        const std::size_t nameLen = le16(zip, p + 28), extraLen = le16(zip, p + 30),
                          commentLen = le16(zip, p + 32);
        if (p + 46 + nameLen > eocd)
            throw VerifyError(Reason::Unreadable, shown + ": the central directory is damaged");
        CentralEntry e;
        e.name.assign(zip.substr(p + 46, nameLen));
        e.encrypted = (le16(zip, p + 8) & 1) != 0;
        e.size = le32(zip, p + 24);
        const unsigned host = le16(zip, p + 4) >> 8;
        if (host == 3 /* Unix */) e.unixMode = le32(zip, p + 38) >> 16;
        out.push_back(std::move(e));
        p += 46 + nameLen + extraLen + commentLen;
    }
    return out;
}

}  // namespace

bool isSafeRelativePath(std::string_view p) {
    if (p.empty() || p.size() > 1024 || p.front() == '/') return false;
    for (const char c : p) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f || c == '\\' || c == ':') return false;
    }
    std::size_t i = 0;
    while (true) {
        const auto j = p.find('/', i);
        const auto seg = p.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i);
        if (seg.empty() || seg == "." || seg == "..") return false;
        if (j == std::string_view::npos) return true;
        i = j + 1;
    }
}

std::string sha256Hex(std::string_view bytes) {
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), md);
    static const char* d = "0123456789abcdef";
    std::string out;
    out.reserve(64);
    for (const unsigned char c : md) {
        out.push_back(d[c >> 4]);
        out.push_back(d[c & 15]);
    }
    return out;
}

struct SetSource::Directory {
    UniqueFd root;
    explicit Directory(int fd) : root(fd) {}
};

SetSource SetSource::open(const std::string& path, const ArchiveLimits& limits) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        throw VerifyError(Reason::Unreadable, path + " does not exist");
    if (!S_ISDIR(st.st_mode)) {
        UniqueFd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
        struct stat fst {};
        if (f.get() < 0 || ::fstat(f.get(), &fst) != 0)
            throw VerifyError(Reason::Unreadable, "cannot open " + path);
        if (!S_ISREG(fst.st_mode))
            throw VerifyError(Reason::Unreadable,
                              path + " is neither a directory nor a zip archive");
        if (static_cast<std::uint64_t>(fst.st_size) > limits.maxTotalBytes)
            tooLarge(path + " is " + std::to_string(fst.st_size) + " bytes", limits);
        return fromArchive(readFd(f.get(), limits.maxTotalBytes, path), path, limits);
    }
    SetSource s;
    s.name_ = path;
    s.limits_ = limits;
    const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        throw VerifyError(Reason::Unreadable,
                          "the plugin set " + path + " cannot be opened: " + std::strerror(errno));
    s.dir_ = std::make_shared<const Directory>(fd);
    return s;
}

SetSource SetSource::fromArchive(const std::string& zipBytes, const std::string& shownName,
                                 const ArchiveLimits& limits) {
    if (zipBytes.size() > limits.maxTotalBytes)
        tooLarge(shownName + " is " + std::to_string(zipBytes.size()) + " bytes", limits);
    auto a = std::make_shared<Archive>();
    const auto central = centralDirectory(zipBytes, shownName, limits);
    std::set<std::string> names;
    std::uint64_t declared = 0;
    for (const auto& e : central) {
        const bool isDir = !e.name.empty() && e.name.back() == '/';
        const std::string path = isDir ? e.name.substr(0, e.name.size() - 1) : e.name;
        if (!isSafeRelativePath(path))
            throw VerifyError(
                Reason::UnsafePath,
                shownName + ": unsafe entry name '" + e.name +
                    "' (absolute, '..', backslash or control character: zip-slip refused)");
        const std::uint32_t type = e.unixMode & 0170000;
        if (type == 0120000)
            throw VerifyError(Reason::UnsafePath,
                              shownName + ": " + path +
                                  " is a symbolic link entry; a plugin set may not contain links");
        if (type != 0 && type != 0100000 && type != 0040000)
            throw VerifyError(Reason::UnsafePath,
                              shownName + ": " + path + " is a special file entry");
        if (e.encrypted)
            throw VerifyError(Reason::Unreadable, shownName + ": " + path + " is encrypted");
        if (!names.insert(path).second)
            throw VerifyError(Reason::UnsafePath, shownName + " holds " + path + " twice");
        if (isDir) {
            a->dirs.insert(path);
        } else {
            declared += e.size;
            if (declared > limits.maxTotalBytes)
                tooLarge(shownName + " unpacks to more than allowed (at " + path + ")", limits);
        }
    }
    // Every parent of a file is a directory, and no name is both a file and a directory.
    for (const auto& e : central) {
        if (e.name.back() == '/') continue;
        for (auto slash = e.name.find('/'); slash != std::string::npos;
             slash = e.name.find('/', slash + 1)) {
            const auto parent = e.name.substr(0, slash);
            if (names.count(parent) && !a->dirs.count(parent))
                throw VerifyError(Reason::UnsafePath,
                                  shownName + ": " + parent + " is both a file and a directory");
            a->dirs.insert(parent);
        }
    }
    try {
        // Streams over the bytes, never copies of them: an archive of many entries must not
        // cost its size once per entry.
        Poco::MemoryInputStream in(zipBytes.data(), static_cast<std::streamsize>(zipBytes.size()));
        Poco::Zip::ZipArchive archive(in);
        std::set<std::string> local;
        for (auto it = archive.headerBegin(); it != archive.headerEnd(); ++it) {
            std::string n = it->first;
            if (!n.empty() && n.back() == '/') n.pop_back();
            local.insert(n);
        }
        if (local != names)
            throw VerifyError(
                Reason::Unreadable,
                shownName +
                    ": the local file headers and the central directory list different entries");
        for (auto it = archive.headerBegin(); it != archive.headerEnd(); ++it) {
            const auto& h = it->second;
            if (h.isDirectory() || a->dirs.count(it->first)) continue;
            Poco::MemoryInputStream data(zipBytes.data(),
                                         static_cast<std::streamsize>(zipBytes.size()));
            Poco::Zip::ZipInputStream zin(data, h, true);
            std::string content;
            char buf[65536];
            while (zin) {
                zin.read(buf, sizeof buf);
                const auto got = zin.gcount();
                if (got <= 0) break;
                content.append(buf, static_cast<std::size_t>(got));
                // The declared sizes may lie: count what actually comes out.
                if (a->totalBytes + content.size() > limits.maxTotalBytes)
                    tooLarge(shownName + " unpacks to more than allowed (at " + it->first + ")",
                             limits);
            }
            if (zin.bad())
                throw VerifyError(Reason::Unreadable,
                                  shownName + ": " + it->first + " cannot be unpacked");
            a->totalBytes += content.size();
            a->files.emplace(it->first, std::move(content));
        }
    } catch (const VerifyError&) {
        throw;
    } catch (const std::exception& e) {
        throw VerifyError(Reason::Unreadable,
                          shownName + " cannot be read as a zip archive: " + e.what());
    }
    SetSource s;
    s.name_ = shownName;
    s.limits_ = limits;
    s.archive_ = std::move(a);
    return s;
}

std::string SetSource::summary() const {
    if (!archive_) return "directory " + name_;
    return "archive " + name_ + ": " +
           std::to_string(archive_->files.size() + archive_->dirs.size()) + " entries, " +
           std::to_string(archive_->totalBytes) + " bytes unpacked";
}

std::vector<std::string> SetSource::topLevelNames() const {
    if (!archive_) return listDirectory(dir_->root.get(), name_);
    std::set<std::string> out;
    for (const auto& [p, bytes] : archive_->files) out.insert(p.substr(0, p.find('/')));
    for (const auto& d : archive_->dirs) out.insert(d.substr(0, d.find('/')));
    return {out.begin(), out.end()};
}

std::optional<std::string> SetSource::readTopLevel(const std::string& fileName,
                                                   std::uint64_t maxBytes) const {
    if (archive_) {
        if (archive_->dirs.count(fileName))
            throw VerifyError(Reason::UnsafePath, fileName + " is not a regular file");
        const auto it = archive_->files.find(fileName);
        if (it == archive_->files.end()) return std::nullopt;
        if (it->second.size() > maxBytes)
            throw VerifyError(Reason::ArchiveTooLarge,
                              fileName + " is larger than " + std::to_string(maxBytes) + " bytes");
        return it->second;
    }
    struct stat st {};
    if (::fstatat(dir_->root.get(), fileName.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) return std::nullopt;
        throw VerifyError(Reason::Unreadable,
                          "cannot stat " + fileName + ": " + std::strerror(errno));
    }
    if (S_ISLNK(st.st_mode))
        throw VerifyError(Reason::UnsafePath,
                          fileName + " is a symbolic link; a plugin set may not contain links");
    auto f = openRegular(dir_->root.get(), fileName, fileName, st);
    if (static_cast<std::uint64_t>(st.st_size) > maxBytes)
        throw VerifyError(Reason::ArchiveTooLarge,
                          fileName + " is larger than " + std::to_string(maxBytes) + " bytes");
    auto bytes = readFd(f.get(), maxBytes, fileName);
    if (bytes.size() > maxBytes)
        throw VerifyError(Reason::ArchiveTooLarge,
                          fileName + " is larger than " + std::to_string(maxBytes) + " bytes");
    return bytes;
}

namespace {

struct WalkState {
    std::size_t entries = 0;
    std::uint64_t bytes = 0;
};

void walkDirectory(int dirfd, const std::string& prefix, const SetSource::Visitor& visit,
                   WalkState& ws, const ArchiveLimits& lim) {
    for (const auto& name : listDirectory(dirfd, prefix.empty() ? "the set" : prefix)) {
        const std::string rel = prefix.empty() ? name : prefix + "/" + name;
        if (++ws.entries > lim.maxEntries)
            tooLarge("the set has more than " + std::to_string(lim.maxEntries) + " entries", lim);
        if (!isSafeRelativePath(rel))
            throw VerifyError(Reason::UnsafePath, "unsafe file name '" + rel + "'");
        struct stat st {};
        if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
            throw VerifyError(Reason::Unreadable,
                              "cannot stat " + rel + ": " + std::strerror(errno));
        if (S_ISLNK(st.st_mode))
            throw VerifyError(Reason::UnsafePath,
                              rel + " is a symbolic link; a plugin set may not contain links");
        if (S_ISDIR(st.st_mode)) {
            UniqueFd sub(
                ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (sub.get() < 0) {
                if (errno == ELOOP || errno == ENOTDIR)
                    throw VerifyError(Reason::UnsafePath, rel + " changed while it was read");
                throw VerifyError(Reason::Unreadable,
                                  "cannot open " + rel + ": " + std::strerror(errno));
            }
            visit(SetEntry{rel, true, 0}, [](std::uint64_t) -> std::string { return {}; });
            walkDirectory(sub.get(), rel, visit, ws, lim);
            continue;
        }
        if (!S_ISREG(st.st_mode))
            throw VerifyError(Reason::UnsafePath, rel + " is not a regular file");
        auto f = openRegular(dirfd, name, rel, st);
        const auto size = static_cast<std::uint64_t>(st.st_size);
        ws.bytes += size;
        if (ws.bytes > lim.maxTotalBytes)
            tooLarge("the set is larger than allowed (at " + rel + ")", lim);
        bool read = false;
        const int fd = f.get();
        visit(SetEntry{rel, false, size}, [&read, fd, &rel](std::uint64_t cap) {
            if (read) throw std::logic_error(rel + " read twice");
            read = true;
            return readFd(fd, cap, rel);
        });
    }
}

}  // namespace

void SetSource::walk(const Visitor& visit) const {
    if (!archive_) {
        WalkState ws;
        walkDirectory(dir_->root.get(), "", visit, ws, limits_);
        return;
    }
    std::map<std::string, const std::string*> all;
    for (const auto& d : archive_->dirs) all.emplace(d, nullptr);
    for (const auto& [p, bytes] : archive_->files) all.emplace(p, &bytes);
    for (const auto& [p, bytes] : all) {
        if (!bytes) {
            visit(SetEntry{p, true, 0}, [](std::uint64_t) -> std::string { return {}; });
            continue;
        }
        const std::string* b = bytes;
        visit(SetEntry{p, false, b->size()}, [b](std::uint64_t cap) {
            return b->substr(0,
                             static_cast<std::size_t>(std::min<std::uint64_t>(cap + 1, b->size())));
        });
    }
}

}  // namespace klinikbox::pluginset
