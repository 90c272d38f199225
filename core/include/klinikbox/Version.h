// The plugin SDK's API version and the box's own version.
#pragma once

// Bumped on every change to the SDK headers that breaks binary compatibility of native
// plugins. The loader refuses a plugin built against another API version.
#define KB_SDK_API_VERSION 1

namespace klinikbox {
inline constexpr int kSdkApiVersion = KB_SDK_API_VERSION;
// The box version, compared against a plugin set's minimum box version.
inline constexpr const char* kBoxVersion = "0.1.0";
}  // namespace klinikbox
