// The region's append-only signing log: one JSON line per set the region certified (time,
// region, name, sequence, manifest SHA-256, signers), each line carrying the SHA-256 of the
// previous line's hash and its own body, so an edited, removed or reordered line breaks the
// chain. The region publishes it next to its sets; a set that runs on a box but is missing
// from the log (kb_pluginset_info's manifest_sha256) was signed behind the region's back.
#pragma once

#include "pluginset/Dates.h"

#include <string>
#include <vector>

namespace klinikbox::pluginset {

struct SigningLogEntry {
    long long index = 0;  // 1, 2, 3 ...
    std::string time;     // 2026-03-01T10:00:00Z
    std::string regionName, regionHsaId, name;
    long long sequence = 0;
    std::string manifestSha256;
    std::vector<std::string> signers;  // "subject (certificate SHA-256)"
    std::string prev, hash;            // lower-case hex; prev of the first line is 64 zeros
};

// Reads and checks the whole log. Throws std::runtime_error naming the line that breaks it.
[[nodiscard]] std::vector<SigningLogEntry> readSigningLog(const std::string& logFile);

// Appends the signed set `dirOrZip` (its claims, as `inspect` reads them: the region's own
// tool records what it signed) to the log, creating it when missing. Returns the new entry,
// or the existing one when this manifest is logged already. Refuses a set without
// signatures and a region sequence logged before with another manifest (a region never
// reuses one). Throws std::invalid_argument or std::runtime_error.
SigningLogEntry appendToSigningLog(const std::string& logFile, const std::string& dirOrZip,
                                   TimePoint now, bool* appended = nullptr);

}  // namespace klinikbox::pluginset
