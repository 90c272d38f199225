// Rollback protection: the high-water mark per region in the box's database.
#include "SetFixture.h"

#include <klinikbox/Db.h>

namespace kbtest {
namespace {

using ps::Reason;

class Rollback : public PluginSetTest {
  protected:
    klinikbox::db::Connection db{tmp.file("box.db")};
    ps::DbHighWaterStore hw{db};

    std::string signedSet(long long sequence, const std::string& name) {
        return makeSignedSet(name, options(sequence));
    }
    ps::VerifiedSet activate(const std::string& dir) {
        return verify(dir, "2025-06-01", &hw, true);
    }
};

TEST_F(Rollback, AcceptingTheFirstSetOfARegionRecordsItsSequence) {
    EXPECT_FALSE(hw.get(kRegionAHsa));
    const auto set = activate(signedSet(3, "s3"));
    const auto mark = hw.get(kRegionAHsa);
    ASSERT_TRUE(mark);
    EXPECT_EQ(mark->sequence, 3);
    EXPECT_EQ(mark->manifestSha256, set.manifestSha256);
    EXPECT_EQ(mark->setName, "Test set 3");
    EXPECT_EQ(set.checks.back().name, "high-water");
}

TEST_F(Rollback, LowerSequenceThanAcceptedIsRefused) {
    activate(signedSet(5, "s5"));
    const auto older = signedSet(4, "s4");
    EXPECT_REFUSED(refusal(older, "2025-06-01", &hw), Reason::Rollback,
                   "sequence 4 is lower than 5, the highest accepted from Region A ('Test set 5')");
}

TEST_F(Rollback, SameSequenceWithOtherManifestBytesIsRefused) {
    activate(signedSet(5, "s5"));
    auto o = options(5);
    o.name = "Another set claiming 5";
    EXPECT_REFUSED(refusal(makeSignedSet("other5", o), "2025-06-01", &hw), Reason::Rollback,
                   "sequence 5 was accepted before with another manifest");
}

TEST_F(Rollback, TheAcceptedSetIsAcceptedAgainAtEveryStart) {
    const auto dir = signedSet(5, "s5");
    activate(dir);
    const auto again = activate(dir);
    EXPECT_EQ(again.sequence, 5);
    EXPECT_EQ(hw.get(kRegionAHsa)->sequence, 5);
}

TEST_F(Rollback, HigherSequenceRaisesTheMark) {
    activate(signedSet(5, "s5"));
    activate(signedSet(6, "s6"));
    EXPECT_EQ(hw.get(kRegionAHsa)->sequence, 6);
}

TEST_F(Rollback, VerifyingBeforeStoringLeavesTheMarkAlone) {
    activate(signedSet(5, "s5"));
    const auto set = verify(signedSet(9, "s9"), "2025-06-01", &hw, false);
    EXPECT_EQ(set.sequence, 9);
    EXPECT_EQ(hw.get(kRegionAHsa)->sequence, 5);
    // Activation later commits the mark of the set verified earlier.
    ps::commitHighWater(set, hw);
    EXPECT_EQ(hw.get(kRegionAHsa)->sequence, 9);
}

TEST_F(Rollback, RefusedSetDoesNotRaiseTheMark) {
    activate(signedSet(5, "s5"));
    const auto dir = signedSet(6, "s6");
    writeFile(dir + "/world/main.lua", "return {evil}\n");
    EXPECT_REFUSED(refusal(dir, "2025-06-01", &hw), Reason::FileTampered, "world/main.lua");
    EXPECT_EQ(hw.get(kRegionAHsa)->sequence, 5);
}

TEST_F(Rollback, EachRegionHasItsOwnMark) {
    activate(signedSet(7, "s7"));
    const auto b = makeSet("b", options(1, "B"));
    sign(b, signerB);
    EXPECT_EQ(activate(b).sequence, 1);
    EXPECT_EQ(hw.get(kRegionAHsa)->sequence, 7);
    EXPECT_EQ(hw.get(kRegionBHsa)->sequence, 1);
}

TEST_F(Rollback, StoreNeverLowersTheMark) {
    hw.raise(kRegionAHsa, {8, std::string(64, 'a'), "eight"});
    try {
        hw.raise(kRegionAHsa, {7, std::string(64, 'b'), "seven"});
        FAIL() << "a lower mark was recorded";
    } catch (const ps::VerifyError& e) {
        EXPECT_EQ(e.reason(), Reason::Rollback);
    }
    EXPECT_THROW(hw.raise(kRegionAHsa, {8, std::string(64, 'c'), "other eight"}), ps::VerifyError);
    EXPECT_EQ(hw.get(kRegionAHsa)->manifestSha256, std::string(64, 'a'));
    hw.raise(kRegionAHsa, {8, std::string(64, 'a'), "eight"});  // the same mark again is fine
}

TEST_F(Rollback, AdministratorMayRollBackToTheNamedEarlierSetWithoutLoweringTheMark) {
    const auto previous = signedSet(4, "s4");
    activate(previous);
    activate(signedSet(5, "s5"));
    auto opts = at("2025-06-01");
    opts.commitHighWater = true;
    opts.allowRollbackTo = 4;
    const auto set = ps::verifySigned(previous, trust(), opts, &hw);
    EXPECT_EQ(set.sequence, 4);
    ASSERT_EQ(set.warnings.size(), 1u);
    EXPECT_NE(set.warnings[0].find("rolled back by an administrator to sequence 4"),
              std::string::npos);
    EXPECT_EQ(set.checks.back().detail, "region Region A stays at sequence 5");
    EXPECT_EQ(hw.get(kRegionAHsa)->sequence, 5);
    // The allowance names one sequence; it lets no other older set through.
    opts.allowRollbackTo = 3;
    EXPECT_REFUSED(refusal(previous, "", &hw, &opts), Reason::Rollback,
                   "sequence 4 is lower than 5");
}

TEST_F(Rollback, MarkSurvivesReopeningTheDatabase) {
    activate(signedSet(5, "s5"));
    klinikbox::db::Connection reopened(tmp.file("box.db"));
    ps::DbHighWaterStore again(reopened);
    EXPECT_EQ(again.get(kRegionAHsa)->sequence, 5);
}

}  // namespace
}  // namespace kbtest
