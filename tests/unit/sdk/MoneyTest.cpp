// Money: integer öre (1/100 SEK), parsed from amounts as people and Swish write them.
#include <klinikbox/Money.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

using namespace klinikbox;

TEST(Money, OneDecimalMeansTenthsOfAKrona) {
    EXPECT_EQ(Money::parse("0.5")->ore(), 50);
    EXPECT_EQ(Money::parse("0,5")->ore(), 50);
    EXPECT_EQ(Money::parse("0,05")->ore(), 5);
    EXPECT_EQ(Money::parse("0")->ore(), 0);
    EXPECT_EQ(Money::parse("007.10")->ore(), 710);
}

TEST(Money, TwelveDigitsOfKronorIsTheLargestAmount) {
    EXPECT_EQ(Money::parse("999999999999")->ore(), 99999999999900);
    EXPECT_FALSE(Money::parse("1000000000000"));
    EXPECT_FALSE(Money::parse("99999999999999999999"));  // would overflow int64 if accepted
}

TEST(Money, SeparatorsAndSignsOtherThanOneDecimalMarkAreRefused) {
    for (const char* s :
         {"1.2.3", "1,2.3", "1..2", ",5", "5,", "1.-5", "1.+5", "kr 5", "5 kr", "5kr",
          "1\xc2\xa0"
          "000",
          "0x10", "Infinity", "NaN"}) {
        EXPECT_FALSE(Money::parse(s)) << s;
    }
}

TEST(Money, DecimalStringParsesBackToTheSameAmount) {
    for (std::int64_t ore :
         {0LL, 1LL, 9LL, 10LL, 99LL, 100LL, 15050LL, 120000LL, 99999999999999LL}) {
        const auto m = Money::fromOre(ore);
        const auto back = Money::parse(m.toDecimalString());
        ASSERT_TRUE(back) << m.toDecimalString();
        EXPECT_EQ(back->ore(), ore);
    }
}

TEST(Money, DisplayGroupsThousandsWithASpace) {
    EXPECT_EQ(Money::fromOre(0).toDisplaySv(), "0,00 kr");
    EXPECT_EQ(Money::fromOre(7).toDisplaySv(), "0,07 kr");
    EXPECT_EQ(Money::fromKronor(999).toDisplaySv(), "999,00 kr");
    EXPECT_EQ(Money::fromKronor(1000).toDisplaySv(), "1 000,00 kr");
    EXPECT_EQ(Money::fromKronor(1200).toDisplaySv(), "1 200,00 kr");
    EXPECT_EQ(Money::fromKronor(100000).toDisplaySv(), "100 000,00 kr");
    EXPECT_EQ(Money::fromOre(15050).toDisplaySv(), "150,50 kr");
}

TEST(Money, NegativeAmountsCarryALeadingMinus) {
    // Refunds and corrections are negative; the sign goes before the whole amount.
    EXPECT_EQ(Money::fromOre(-5).toDecimalString(), "-0.05");
    EXPECT_EQ(Money::fromOre(-5).toDisplaySv(), "-0,05 kr");
    EXPECT_EQ(Money::fromKronor(-1450).toDisplaySv(), "-1 450,00 kr");
}

TEST(Money, ExtremeValuesFormatWithoutOverflow) {
    const auto min = Money::fromOre(std::numeric_limits<std::int64_t>::min());
    const auto max = Money::fromOre(std::numeric_limits<std::int64_t>::max());
    EXPECT_EQ(min.toDecimalString(), "-92233720368547758.08");
    EXPECT_EQ(max.toDecimalString(), "92233720368547758.07");
    EXPECT_EQ(min.toDisplaySv(), "-92 233 720 368 547 758,08 kr");
}

TEST(Money, SubtractionAndComparisonWorkInOre) {
    const auto fee = Money::fromKronor(300);
    const auto ceiling = Money::fromKronor(1450);
    EXPECT_EQ((ceiling - fee).ore(), 115000);
    EXPECT_GT(ceiling, fee);
    EXPECT_EQ(Money::fromKronor(2), Money::fromOre(200));
    EXPECT_EQ(Money().ore(), 0);
}
