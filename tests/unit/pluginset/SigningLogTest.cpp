// The region's signing log: every set signed, hash-chained, published next to the sets.
#include "SetFixture.h"

#include "pluginset/Cli.h"
#include "pluginset/SigningLog.h"

#include <sstream>

namespace kbtest {
namespace {

class SigningLog : public PluginSetTest {
  protected:
    std::string log = tmp.file("signing-log.jsonl");
    const ps::TimePoint when = *ps::parseInstant("2025-03-01T10:00:00Z");

    static std::vector<std::string> lines(const std::string& file) {
        std::istringstream in(readFile(file));
        std::vector<std::string> out;
        for (std::string l; std::getline(in, l);) out.push_back(l);
        return out;
    }
    static std::string joined(const std::vector<std::string>& ls) {
        std::string s;
        for (const auto& l : ls) s += l + "\n";
        return s;
    }
    std::string refusalOf() {
        try {
            (void)ps::readSigningLog(log);
        } catch (const std::runtime_error& e) {
            return e.what();
        }
        return "accepted";
    }
};

TEST_F(SigningLog, EverySignedSetIsRecordedOnceAndChained) {
    const auto a = makeSignedSet("a");
    const auto b = makeSignedSet("b", options(2));
    bool appended = false;
    const auto first = ps::appendToSigningLog(log, a, when, &appended);
    EXPECT_TRUE(appended);
    EXPECT_EQ(first.index, 1);
    EXPECT_EQ(first.prev, std::string(64, '0'));
    EXPECT_EQ(first.manifestSha256, ps::sha256Hex(readFile(a + "/pluginset.yaml")));
    ASSERT_EQ(first.signers.size(), 2u);
    EXPECT_NE(first.signers[0].find("CN=Region A infosec officer"), std::string::npos);
    (void)ps::appendToSigningLog(log, a, when, &appended);  // the same set again: no new line
    EXPECT_FALSE(appended);
    const auto second = ps::appendToSigningLog(log, b, when, &appended);
    EXPECT_EQ(second.prev, first.hash);
    const auto all = ps::readSigningLog(log);
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[1].sequence, 2);
    EXPECT_EQ(all[0].time, "2025-03-01T10:00:00Z");
}

TEST_F(SigningLog, ReusedSequenceWithAnotherManifestIsRefused) {
    (void)ps::appendToSigningLog(log, makeSignedSet("a"), when);
    auto o = options(1);
    o.name = "Another set, same sequence";
    try {
        (void)ps::appendToSigningLog(log, makeSignedSet("b", o), when);
        FAIL() << "a reused sequence was logged";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("never reuses a sequence"), std::string::npos);
    }
    EXPECT_EQ(lines(log).size(), 1u);
}

TEST_F(SigningLog, UnsignedSetIsNotLogged) {
    EXPECT_THROW((void)ps::appendToSigningLog(log, makeSet(), when), std::invalid_argument);
}

TEST_F(SigningLog, EditedRemovedOrReorderedLinesBreakTheChain) {
    (void)ps::appendToSigningLog(log, makeSignedSet("a"), when);
    (void)ps::appendToSigningLog(log, makeSignedSet("b", options(2)), when);
    (void)ps::appendToSigningLog(log, makeSignedSet("c", options(3)), when);
    const auto original = lines(log);

    auto edited = original;
    edited[1].replace(edited[1].find("\"sequence\":2"), 12, "\"sequence\":7");
    writeFile(log, joined(edited));
    EXPECT_NE(refusalOf().find("line 2 was edited"), std::string::npos) << refusalOf();

    writeFile(log, joined({original[0], original[2]}));
    EXPECT_NE(refusalOf().find("line 2 has index 3"), std::string::npos) << refusalOf();

    writeFile(log, joined({original[0], original[2], original[1]}));
    EXPECT_NE(refusalOf().find("line 2 has index 3"), std::string::npos) << refusalOf();

    writeFile(log, joined({original[1], original[2]}));  // the first line dropped
    EXPECT_NE(refusalOf().find("line 1 has index 2"), std::string::npos) << refusalOf();

    writeFile(log, joined(original));
    EXPECT_EQ(refusalOf(), "accepted");
}

TEST_F(SigningLog, CliAppendsAndVerifies) {
    const auto a = makeSignedSet("a");
    std::ostringstream o, e;
    ASSERT_EQ(ps::runPluginsetCommand({"log-append", a, "--log", log}, o, e), 0) << e.str();
    EXPECT_NE(o.str().find("logged as line 1"), std::string::npos) << o.str();
    std::ostringstream o2, e2;
    ASSERT_EQ(ps::runPluginsetCommand({"log-verify", log}, o2, e2), 0) << e2.str();
    EXPECT_NE(o2.str().find("1 line(s) chain unbroken"), std::string::npos) << o2.str();
    auto ls = lines(log);
    ls[0].replace(ls[0].find("Test set 1"), 10, "Test set X");
    writeFile(log, joined(ls));
    std::ostringstream o3, e3;
    EXPECT_EQ(ps::runPluginsetCommand({"log-verify", log}, o3, e3), 1);
    EXPECT_NE(e3.str().find("was edited"), std::string::npos) << e3.str();
}

}  // namespace
}  // namespace kbtest
