// The region's fee rules (patientavgifter) as the clinic admin writes them in klinikbox.yaml
// under plugins.settings.checkin.fees: tariffs by visit type, profession and age band, which
// tariffs count toward the high-cost protection, and the exemptions (85 and older nationally,
// the region's youth rule). Pure; the frikort is decided later by the e-frikort plugin.
#pragma once

#include <Poco/JSON/Object.h>

#include <optional>
#include <string>
#include <vector>

namespace checkin {

struct Tariff {
    std::string visitType;   // empty: any
    std::string profession;  // empty: any
    std::string visitForm;   // empty: any
    int minAge = 0, maxAge = 200;  // inclusive age band
    long long feeOre = 0;
    bool counts = true;      // counts toward the high-cost protection
    std::string name;        // shown on receipts, e.g. "Läkarbesök"
};

struct FeeRules {
    int freeFromAge = 85;         // national: free from 85
    int youthFreeBelowAge = 18;   // the region's rule: free below this age (0: no youth rule)
    long long defaultFeeOre = 0;  // when no tariff matches
    bool defaultCounts = true;
    std::vector<Tariff> tariffs;  // the first match wins
};

struct Visit {
    std::string visitType, profession, visitForm;
    int age = 0;
};

struct Fee {
    long long feeOre = 0;        // what the patient pays: 0 when exempt
    long long tariffFeeOre = 0;  // the matching tariff's fee, before any exemption
    bool counts = true;
    std::string exemptReason;  // "85 år eller äldre", "under 20 år", or ""
    std::string tariff;        // the matching tariff's name
};

// Reads the rules from the plugin's validated settings (`fees` object); throws
// std::invalid_argument naming the field when something is inconsistent.
[[nodiscard]] FeeRules parseFeeRules(const Poco::JSON::Object::Ptr& fees);
[[nodiscard]] Fee feeFor(const FeeRules& rules, const Visit& v);

}  // namespace checkin
