// Calendar dates and instants as plugin sets write them: ISO 8601, always UTC.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace klinikbox::pluginset {

using TimePoint = std::chrono::system_clock::time_point;

// "2026-01-31" -> that day; nullopt for anything else (including 2026-02-30).
[[nodiscard]] std::optional<std::chrono::sys_days> parseDate(std::string_view text);
// "2026-01-31" (its start, 00:00 UTC) or "2026-01-31T12:00:00Z".
[[nodiscard]] std::optional<TimePoint> parseInstant(std::string_view text);

[[nodiscard]] std::string formatDate(std::chrono::sys_days d);
[[nodiscard]] std::string formatInstant(TimePoint t);  // 2026-01-31T12:00:00Z
// "2026-01-31" at midnight UTC, "2026-01-31T12:00:00Z" otherwise: a moment derived from a
// manifest date reads like the manifest wrote it.
[[nodiscard]] std::string formatMoment(TimePoint t);

}  // namespace klinikbox::pluginset
