// Reads a plugin set — a directory or a zip archive — into memory once, refusing anything
// unsafe, so that every later check and the loader work on the same bytes.
#pragma once

#include "pluginset/VerifiedSet.h"

#include <cstdint>
#include <map>
#include <string>

namespace klinikbox::pluginset {

struct ArchiveLimits {
    std::uint64_t maxTotalBytes = 64ull << 20;  // uncompressed
    std::uint64_t maxFileBytes = 32ull << 20;
    std::size_t maxEntries = 2000;
};

using SetFiles = std::map<std::string, std::string>;  // "pluginset.yaml", "hello/plugin.yaml", ...

// True for a relative path of normal segments (no '..', '.', empty, absolute, '\\', NUL).
bool isSafeRelativePath(const std::string& p);

// A directory: opened with openat/O_NOFOLLOW from the root, refusing symlinks and special
// files anywhere. Throws VerifyError.
SetFiles readDirectory(const std::string& dir, const ArchiveLimits& limits = {});
// A zip archive (or its bytes): refuses zip-slip names, symlink entries, encrypted entries,
// duplicates and archives over the limits. Throws VerifyError.
SetFiles readZip(const std::string& file, const ArchiveLimits& limits = {});
SetFiles readZipBytes(const std::string& bytes, const ArchiveLimits& limits = {});
// A directory or a .zip, by what the path is.
SetFiles readSet(const std::string& path, const ArchiveLimits& limits = {});

std::string sha256Hex(const std::string& bytes);

}  // namespace klinikbox::pluginset
