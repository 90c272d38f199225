// Where a plugin set's bytes come from: a directory (opened once, walked with openat and
// O_NOFOLLOW from the directory's fd) or a zip archive (unpacked into memory once, with
// zip-slip, symlink entries, duplicate names and oversized contents refused). Every file is
// read at most once; nothing is ever reopened by path.
#pragma once

#include "pluginset/VerifiedSet.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace klinikbox::pluginset {

// Bounds on what a set may hold, for archives and directories alike.
struct ArchiveLimits {
    std::uint64_t maxTotalBytes = 64ull << 20;  // uncompressed bytes of all files together
    std::size_t maxEntries = 2000;              // files and directories
};

// True for a relative path of normal '/'-separated segments: no '..', '.', empty segment,
// leading '/', backslash, ':', NUL or other control character.
[[nodiscard]] bool isSafeRelativePath(std::string_view p);

[[nodiscard]] std::string sha256Hex(std::string_view bytes);

struct SetEntry {
    std::string path;  // relative to the set's root, '/'-separated
    bool isDirectory = false;
    std::uint64_t size = 0;  // of a file, as found (fstat of the open file, or unpacked size)
};

class SetSource {
  public:
    // Reads a file once; returns at most cap + 1 bytes so that a file longer than expected
    // shows as longer without being read whole.
    using Reader = std::function<std::string(std::uint64_t cap)>;
    using Visitor = std::function<void(const SetEntry&, const Reader&)>;

    // A directory, or a zip archive when `path` is a file. Throws VerifyError.
    static SetSource open(const std::string& path, const ArchiveLimits& limits);
    // A zip archive already in memory (an upload). `shownName` names it in messages.
    static SetSource fromArchive(const std::string& zipBytes, const std::string& shownName,
                                 const ArchiveLimits& limits);

    [[nodiscard]] bool isArchive() const { return archive_ != nullptr; }
    [[nodiscard]] const std::string& name() const { return name_; }
    // "archive set.zip: 14 entries, 120934 bytes unpacked" or "directory /x".
    [[nodiscard]] std::string summary() const;

    // Names of the top-level entries, sorted.
    [[nodiscard]] std::vector<std::string> topLevelNames() const;
    // A top-level file read whole; nullopt when there is none of that name. Throws
    // VerifyError: UnsafePath for a symlink or anything but a regular file, ArchiveTooLarge
    // above maxBytes.
    [[nodiscard]] std::optional<std::string> readTopLevel(const std::string& fileName,
                                                          std::uint64_t maxBytes) const;

    // Every entry below the root, depth first in name order. Symlinks and special files are
    // refused (UnsafePath) and the limits enforced (ArchiveTooLarge) while walking.
    void walk(const Visitor& visit) const;

  private:
    struct Archive {
        std::map<std::string, std::string> files;
        std::set<std::string> dirs;  // explicit and implied directories
        std::uint64_t totalBytes = 0;
    };
    struct Directory;

    std::string name_;
    ArchiveLimits limits_;
    std::shared_ptr<const Archive> archive_;
    std::shared_ptr<const Directory> dir_;
};

}  // namespace klinikbox::pluginset
