// Everything that can stop a running set on a given day, so a box warns ahead instead of
// stopping a clinic by surprise: the set's own expiry, each signer certificate's notAfter
// and each of its region's CRLs' nextUpdate (a set whose CRL is past its nextUpdate is
// refused when the region requires CRLs).
#pragma once

#include "pluginset/Dates.h"
#include "pluginset/TrustStore.h"
#include "pluginset/VerifiedSet.h"

#include <string>
#include <vector>

namespace klinikbox::pluginset {

// Warning windows: a set and its signers from 30 days ahead, a CRL (published weekly or
// monthly) from 7 days before its nextUpdate.
constexpr int kSetWarningDays = 30;
constexpr int kSignerWarningDays = 30;
constexpr int kCrlWarningDays = 7;

struct Expiry {
    std::string kind;  // "set" | "signer" | "crl"
    std::string name;  // the set's name, the signer's subject, the CRL's issuer
    std::string at;    // 2026-01-31T00:00:00Z
    TimePoint when;
    int warningDays = 0;
};

// The set's expiry, its signers' notAfter and the CRLs of the set's region in `trust`.
[[nodiscard]] std::vector<Expiry> expiriesOf(const VerifiedSet& set, const TrustStore& trust);

// Whole days left until `e` (negative once passed; rounded down).
[[nodiscard]] long long daysLeft(const Expiry& e, TimePoint now);
// True from e.warningDays before it on.
[[nodiscard]] bool isDue(const Expiry& e, TimePoint now);
// The English warning for a due signer or CRL ("the signer certificate of CN=... expires on
// ... (in 12 days) ..."); the set's own expiry is warned by the verifier's status.
[[nodiscard]] std::string warningFor(const Expiry& e, TimePoint now, const std::string& region);

}  // namespace klinikbox::pluginset
