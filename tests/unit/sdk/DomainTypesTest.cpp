#include <klinikbox/HsaId.h>
#include <klinikbox/Money.h>
#include <klinikbox/Problem.h>

#include <gtest/gtest.h>

using namespace klinikbox;

TEST(HsaId, AcceptsOrganisationNumberAndLocalPart) {
    EXPECT_TRUE(HsaId::parse("SE2321000016-7P5Z"));
    EXPECT_TRUE(HsaId::parse("SE162321000024-ABC123"));
    EXPECT_EQ(HsaId::parse("SE2321000016-7P5Z")->str(), "SE2321000016-7P5Z");
}

TEST(HsaId, RefusesMalformedIds) {
    for (const char* s : {"", "SE", "se2321000016-7P5Z", "SE232100001-7P5Z", "SE2321000016123-A", "SE2321000016-",
                          "SE2321000016_7P5Z", "SE2321000016-7P5Z!", "SE2321000016-ABCDEFGHIJKLMNOPQRS",
                          "DK2321000016-7P5Z"}) {
        EXPECT_FALSE(HsaId::parse(s)) << s;
    }
}

TEST(Money, ParsesKronorWithUpToTwoDecimals) {
    EXPECT_EQ(Money::parse("150")->ore(), 15000);
    EXPECT_EQ(Money::parse("150.5")->ore(), 15050);
    EXPECT_EQ(Money::parse("150,50")->ore(), 15050);
    EXPECT_EQ(Money::parse("0.05")->ore(), 5);
    EXPECT_EQ(Money::parse("999999999999.99")->ore(), 99999999999999);
}

TEST(Money, RefusesAnythingElse) {
    for (const char* s : {"", "-1", "+1", "1.234", "1.", ".5", "1e3", "1 000", "abc", "1,2,3", "9999999999999",
                          " 1", "1.5 "}) {
        EXPECT_FALSE(Money::parse(s)) << s;
    }
}

TEST(Money, FormatsForMachinesAndForSwedishReaders) {
    EXPECT_EQ(Money::fromOre(15050).toDecimalString(), "150.50");
    EXPECT_EQ(Money::fromOre(5).toDecimalString(), "0.05");
    EXPECT_EQ(Money::fromKronor(1200).toDecimalString(), "1200.00");
    EXPECT_EQ(Money::fromOre(120050).toDisplaySv(), "1 200,50 kr");
    EXPECT_EQ(Money::fromOre(-2500).toDisplaySv(), "-25,00 kr");
    EXPECT_EQ(Money::fromKronor(1234567).toDisplaySv(), "1 234 567,00 kr");
}

TEST(Money, ArithmeticStaysInOre) {
    EXPECT_EQ((Money::fromKronor(100) + Money::fromOre(50)).ore(), 10050);
    EXPECT_LT(Money::fromOre(1), Money::fromOre(2));
}

TEST(Problem, SerialisesAsRfc9457WithExtensions) {
    Problem p(422, "/problems/vetoed", "Refused", "a hook said no");
    p.with("hook", std::string("lua:triage.lua"));
    auto j = p.toJson("/api/v1/x");
    EXPECT_EQ(j->getValue<std::string>("type"), "/problems/vetoed");
    EXPECT_EQ(j->getValue<int>("status"), 422);
    EXPECT_EQ(j->getValue<std::string>("detail"), "a hook said no");
    EXPECT_EQ(j->getValue<std::string>("instance"), "/api/v1/x");
    EXPECT_EQ(j->getValue<std::string>("hook"), "lua:triage.lua");
}

TEST(Problem, ExtensionsCannotOverrideStandardMembers) {
    Problem p(400, "/problems/x", "X");
    p.with("status", 200);
    EXPECT_EQ(p.toJson()->getValue<int>("status"), 400);
}
