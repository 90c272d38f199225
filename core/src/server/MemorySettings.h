// The memory settings of a serving box (memory.* in klinikbox.yaml): how many malloc arenas
// threads may spread over, when freed memory goes back to the system, and how many password
// hashes (64 MiB each) may run at once.
// Applied once, before the box starts its threads. docs/operations.md (Memory) says what
// each costs.
#pragma once

namespace klinikbox::server {

struct MemorySettings {
    int mallocArenas = 2;         // M_ARENA_MAX; 0 leaves the C library's default
    int trimThresholdKib = 1024;  // M_TRIM_THRESHOLD; 0 leaves the C library's dynamic default
    int mmapThresholdKib = 1024;  // M_MMAP_THRESHOLD; 0 leaves the C library's dynamic default
    int passwordHashesAtOnce = 2; // scrypt derivations at once (auth::setPasswordHashesAtOnce)
};

// Sets M_ARENA_MAX, M_TRIM_THRESHOLD and M_MMAP_THRESHOLD (each unless 0) and the
// password-hash gate.
// Returns false when the C library refused a value; a C library without mallopt ignores the
// allocator settings and says true.
[[nodiscard]] bool applyMemorySettings(const MemorySettings& s);

}  // namespace klinikbox::server
