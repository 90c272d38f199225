#include "FeeRules.h"

#include <Poco/JSON/Array.h>

#include <stdexcept>

namespace checkin {

FeeRules parseFeeRules(const Poco::JSON::Object::Ptr& fees) {
    FeeRules r;
    if (!fees) return r;
    r.freeFromAge = fees->optValue<int>("free_from_age", 85);
    r.youthFreeBelowAge = fees->optValue<int>("youth_free_below_age", 18);
    r.defaultFeeOre = fees->optValue<long long>("default_fee_ore", 0);
    r.defaultCounts = fees->optValue<bool>("default_counts", true);
    if (auto a = fees->getArray("tariffs"))
        for (std::size_t i = 0; i < a->size(); ++i) {
            const auto o = a->getObject(static_cast<unsigned>(i));
            Tariff t;
            t.visitType = o->optValue<std::string>("visit_type", "");
            t.profession = o->optValue<std::string>("profession", "");
            t.visitForm = o->optValue<std::string>("visit_form", "");
            t.minAge = o->optValue<int>("min_age", 0);
            t.maxAge = o->optValue<int>("max_age", 200);
            t.feeOre = o->getValue<long long>("fee_ore");
            t.counts = o->optValue<bool>("counts", true);
            t.name = o->optValue<std::string>("name", t.visitType.empty() ? t.profession : t.visitType);
            if (t.minAge > t.maxAge)
                throw std::invalid_argument("fees.tariffs[" + std::to_string(i) + "]: min_age is above max_age");
            r.tariffs.push_back(std::move(t));
        }
    if (r.freeFromAge < 1 || r.youthFreeBelowAge < 0 || r.youthFreeBelowAge >= r.freeFromAge)
        throw std::invalid_argument("fees: youth_free_below_age must be below free_from_age");
    return r;
}

Fee feeFor(const FeeRules& rules, const Visit& v) {
    Fee f;
    f.feeOre = rules.defaultFeeOre;
    f.counts = rules.defaultCounts;
    f.tariff = "standard";
    for (const auto& t : rules.tariffs) {
        if (!t.visitType.empty() && t.visitType != v.visitType) continue;
        if (!t.profession.empty() && t.profession != v.profession) continue;
        if (!t.visitForm.empty() && t.visitForm != v.visitForm) continue;
        if (v.age < t.minAge || v.age > t.maxAge) continue;
        f.feeOre = t.feeOre;
        f.counts = t.counts;
        f.tariff = t.name;
        break;
    }
    f.tariffFeeOre = f.feeOre;
    // The exemptions cover fees inside the high-cost protection; a fee that does not count
    // (a certificate, a no-show fee) is charged at any age.
    if (f.counts && v.age >= rules.freeFromAge) {
        f.exemptReason = std::to_string(rules.freeFromAge) + " år eller äldre";
        f.feeOre = 0;
    } else if (f.counts && rules.youthFreeBelowAge > 0 && v.age < rules.youthFreeBelowAge) {
        f.exemptReason = "under " + std::to_string(rules.youthFreeBelowAge) + " år";
        f.feeOre = 0;
    }
    return f;
}

}  // namespace checkin
