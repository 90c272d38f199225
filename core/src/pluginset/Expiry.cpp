#include "pluginset/Expiry.h"

#include "pluginset/Ssl.h"

#include <algorithm>

namespace klinikbox::pluginset {

std::vector<Expiry> expiriesOf(const VerifiedSet& set, const TrustStore& trust) {
    std::vector<Expiry> out;
    if (!set.isSigned) return out;
    if (const auto t = parseInstant(set.expires))
        out.push_back(Expiry{"set", set.name, formatInstant(*t), *t, kSetWarningDays});
    for (const auto& s : set.signers)
        if (const auto t = parseInstant(s.notAfter))
            out.push_back(Expiry{"signer", s.subject, s.notAfter, *t, kSignerWarningDays});
    for (const auto& r : trust.regions()) {
        if (r.hsaId != set.regionHsaId) continue;
        for (const auto& crl : r.crls) {
            const auto at = ssl::asn1TimeText(X509_CRL_get0_nextUpdate(crl.get()));
            const auto issuer = ssl::crlIssuerOf(crl.get());
            const auto t = parseInstant(at);
            if (!t) continue;
            // Several CRLs of one CA (an old crl.pem next to a newer one fetched from the
            // region's mirror): OpenSSL uses the newest, so only its date counts.
            const auto same = std::find_if(out.begin(), out.end(), [&](const Expiry& e) {
                return e.kind == "crl" && e.name == issuer;
            });
            if (same == out.end())
                out.push_back(Expiry{"crl", issuer, at, *t, kCrlWarningDays});
            else if (*t > same->when)
                *same = Expiry{"crl", issuer, at, *t, kCrlWarningDays};
        }
    }
    return out;
}

long long daysLeft(const Expiry& e, TimePoint now) {
    return std::chrono::floor<std::chrono::days>(e.when - now).count();
}

bool isDue(const Expiry& e, TimePoint now) {
    return now >= e.when - std::chrono::days(e.warningDays);
}

std::string warningFor(const Expiry& e, TimePoint now, const std::string& region) {
    const auto left = daysLeft(e, now);
    const bool passed = now >= e.when;
    const std::string in =
        passed ? "" : " (in " + std::to_string(left) + " day" + (left == 1 ? "" : "s") + ")";
    if (e.kind == "signer")
        return "the signer certificate " + e.name + (passed ? " expired on " : " expires on ") +
               e.at + in + "; the set is refused from then on. Ask " + region +
               " for a set signed with current certificates.";
    if (e.kind == "crl")
        return "the CRL of " + e.name + (passed ? " passed its next update on " : " is due on ") +
               e.at + in + "; the box refuses the set once it is out of date. Install " + region +
               "'s new CRL.";
    return "the set " + e.name + (passed ? " expired on " : " expires on ") + e.at + in + ".";
}

}  // namespace klinikbox::pluginset
