// Write-only secrets at any depth. A plugin's settings travel to the console and back; every
// value whose schema node is `secret: true` (or lies inside one, in an object or a list) is
// replaced by a mask on the way out, and a mask coming back means "keep the stored value".
// Works on the schema's JSON form (Schema::toJson: `writeOnly`, `properties`, `items`), so it
// follows exactly what the schema validates.
#pragma once

#include <Poco/JSON/Object.h>

#include <string>

namespace klinikbox::config {

inline constexpr const char* kMaskedSecret = "********";

// A deep copy of `values` with every non-empty secret scalar replaced by kMaskedSecret.
[[nodiscard]] Poco::JSON::Object::Ptr maskSecrets(const Poco::JSON::Object::Ptr& schemaJson,
                                                  const Poco::JSON::Object::Ptr& values);

// In `incoming` (changed in place), every secret value equal to kMaskedSecret is replaced by
// the value at the same path in `previous`, or removed when `previous` has none there (so the
// schema's default or "required" applies). Lists are matched by index.
void restoreMaskedSecrets(const Poco::JSON::Object::Ptr& schemaJson, const Poco::JSON::Object::Ptr& incoming,
                          const Poco::JSON::Object::Ptr& previous);

}  // namespace klinikbox::config
