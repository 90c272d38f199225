// The limits every Lua call runs under. One set per script state; the server fills it from
// klinikbox.yaml (lua.memory_limit_bytes, lua.instruction_limit, lua.time_limit_ms).
#pragma once

#include <chrono>
#include <cstddef>

namespace klinikbox::lua {

struct Limits {
    // Heap of one Lua state, enforced by its allocator.
    std::size_t memoryBytes = 16u << 20;
    // VM instructions per call (and pattern-matching steps, which count the same).
    long long instructions = 10'000'000;
    // Wall-clock time per call.
    std::chrono::milliseconds time{200};
    // Largest string string.rep may build.
    std::size_t maxStringBytes = 1u << 20;
    // Largest subject string.find/match/gmatch/gsub accept, and the largest pattern.
    std::size_t maxPatternSubject = 256u << 10;
    std::size_t maxPatternLength = 4096;
    // Values in one payload, config value or query result converted between C++ and Lua.
    std::size_t maxValueNodes = 100'000;
    // Rows one kb.db.query may return.
    std::size_t maxQueryRows = 10'000;
    // Log lines one call may write (further lines are counted and dropped).
    int maxLogLinesPerCall = 100;
};

}  // namespace klinikbox::lua
