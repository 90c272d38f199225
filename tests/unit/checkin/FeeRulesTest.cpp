#include "FeeRules.h"

#include <Poco/JSON/Parser.h>

#include <gtest/gtest.h>

using namespace checkin;

namespace {
FeeRules rules(const std::string& json) {
    Poco::JSON::Parser p;
    return parseFeeRules(p.parse(json).extract<Poco::JSON::Object::Ptr>());
}
const char* kRegion = R"({"free_from_age": 85, "youth_free_below_age": 20, "default_fee_ore": 20000,
  "tariffs": [
    {"visit_type": "intyg", "fee_ore": 50000, "counts": false, "name": "Intyg"},
    {"profession": "läkare", "visit_form": "video", "fee_ore": 10000, "name": "Digitalt läkarbesök"},
    {"profession": "läkare", "fee_ore": 30000, "name": "Läkarbesök"},
    {"profession": "sjuksköterska", "min_age": 65, "fee_ore": 0, "name": "Sjuksköterskebesök 65+"},
    {"profession": "sjuksköterska", "fee_ore": 15000, "name": "Sjuksköterskebesök"}]})";
}  // namespace

TEST(CheckinFees, TheFirstMatchingTariffWinsByTypeProfessionFormAndAge) {
    const auto r = rules(kRegion);
    EXPECT_EQ(feeFor(r, {"lak30", "läkare", "physical", 40}).feeOre, 30000);
    EXPECT_EQ(feeFor(r, {"lak20v", "läkare", "video", 40}).feeOre, 10000);
    EXPECT_EQ(feeFor(r, {"ssk", "sjuksköterska", "physical", 70}).feeOre, 0);
    EXPECT_EQ(feeFor(r, {"ssk", "sjuksköterska", "physical", 64}).feeOre, 15000);
    const auto other = feeFor(r, {"fys", "fysioterapeut", "physical", 40});
    EXPECT_EQ(other.feeOre, 20000);
    EXPECT_EQ(other.tariff, "standard");
}

TEST(CheckinFees, AgeExemptionsCoverOnlyFeesInsideTheProtection) {
    const auto r = rules(kRegion);
    auto f = feeFor(r, {"lak30", "läkare", "physical", 85});
    EXPECT_EQ(f.feeOre, 0);
    EXPECT_EQ(f.exemptReason, "85 år eller äldre");
    EXPECT_EQ(feeFor(r, {"lak30", "läkare", "physical", 84}).feeOre, 30000);
    f = feeFor(r, {"lak30", "läkare", "physical", 19});
    EXPECT_EQ(f.feeOre, 0);
    EXPECT_EQ(f.exemptReason, "under 20 år");
    EXPECT_EQ(f.tariffFeeOre, 30000) << "the tariff's fee travels with the exemption (checkin.fee)";
    EXPECT_EQ(feeFor(r, {"lak30", "läkare", "physical", 20}).feeOre, 30000);
    // A certificate is charged at 90 and does not count toward the ceiling.
    f = feeFor(r, {"intyg", "läkare", "physical", 90});
    EXPECT_EQ(f.feeOre, 50000);
    EXPECT_FALSE(f.counts);
    EXPECT_TRUE(f.exemptReason.empty());
}

TEST(CheckinFees, InconsistentRulesAreRefusedWithTheField) {
    EXPECT_THROW(rules(R"({"tariffs":[{"fee_ore":1,"min_age":50,"max_age":10}]})"), std::invalid_argument);
    EXPECT_THROW(rules(R"({"free_from_age": 18, "youth_free_below_age": 20})"), std::invalid_argument);
    EXPECT_NO_THROW(rules(R"({"youth_free_below_age": 0})"));
}
