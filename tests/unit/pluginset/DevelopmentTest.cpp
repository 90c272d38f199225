// Development mode: an unsigned directory of plugin directories, read by the same rules.
#include "SetFixture.h"

namespace kbtest {
namespace {

using ps::Reason;
namespace fs = std::filesystem;

class Development : public PluginSetTest {
  protected:
    ps::VerifyError devRefusal(const std::string& dir) {
        try {
            (void)ps::loadUnsignedDevelopment(dir);
        } catch (const ps::VerifyError& e) {
            return e;
        }
        ADD_FAILURE() << dir << " was loaded";
        return ps::VerifyError(Reason::Unreadable, "loaded");
    }
};

TEST_F(Development, PluginDirectoryIsLoadedUnsignedWithItsBytes) {
    const auto dir = makePlugins();
    const auto set = ps::loadUnsignedDevelopment(dir);
    EXPECT_FALSE(set.isSigned);
    EXPECT_EQ(set.status, "unsigned-development");
    EXPECT_TRUE(set.signers.empty());
    ASSERT_EQ(set.plugins.size(), 2u);
    EXPECT_EQ(set.plugins[0].id, "hello");
    EXPECT_EQ(set.plugins[0].version, "1.0.0");
    EXPECT_EQ(set.plugins[0].files.at("migrations/0001_init.sql"),
              readFile(dir + "/hello/migrations/0001_init.sql"));
    EXPECT_EQ(set.plugins[1].version, "2.1.0");
    ASSERT_FALSE(set.warnings.empty());
    EXPECT_NE(set.warnings.back().find("not certified by any region"), std::string::npos);
}

TEST_F(Development, ManifestAndSignaturesAreIgnoredWithAWarning) {
    const auto dir = makeSignedSet();
    writeFile(dir + "/world/main.lua",
              "return { changed = 'after signing' }\n");  // nothing checks hashes here
    const auto set = ps::loadUnsignedDevelopment(dir);
    EXPECT_EQ(set.plugins.size(), 2u);
    EXPECT_EQ(set.plugins[1].files.at("main.lua"), "return { changed = 'after signing' }\n");
    ASSERT_EQ(set.warnings.size(), 2u);
    EXPECT_NE(set.warnings[0].find("pluginset.yaml and its signatures were ignored"),
              std::string::npos);
}

TEST_F(Development, StrayTopLevelFileIsIgnoredWithAWarning) {
    const auto dir = makePlugins();
    writeFile(dir + "/CMakeLists.txt", "# build\n");
    const auto set = ps::loadUnsignedDevelopment(dir);
    EXPECT_EQ(set.plugins.size(), 2u);
    EXPECT_EQ(set.warnings[0], "CMakeLists.txt is not a plugin directory and was ignored");
}

TEST_F(Development, DirectoryWithoutPluginYamlIsRefused) {
    const auto dir = makePlugins();
    fs::create_directories(dir + "/notes");
    writeFile(dir + "/notes/todo.txt", "x");
    EXPECT_REFUSED(devRefusal(dir), Reason::FileMissing, "notes/ has no plugin.yaml");
}

TEST_F(Development, PluginYamlNamingAnotherIdIsRefused) {
    const auto dir = makePlugins();
    writeFile(dir + "/world/plugin.yaml", "id: hello\nversion: 1.0.0\n");
    EXPECT_REFUSED(devRefusal(dir), Reason::PluginMismatch,
                   "world/plugin.yaml declares id 'hello'");
}

TEST_F(Development, SymlinkInAPluginIsRefused) {
    const auto dir = makePlugins();
    fs::create_symlink("/etc/passwd", dir + "/hello/lua/passwd");
    EXPECT_REFUSED(devRefusal(dir), Reason::UnsafePath, "hello/lua/passwd is a symbolic link");
}

TEST_F(Development, ArchiveIsNotADevelopmentSet) {
    const auto dir = makeSignedSet();
    ps::packSet(dir, tmp.file("set.zip"));
    EXPECT_REFUSED(devRefusal(tmp.file("set.zip")), Reason::Unreadable, "is not a directory");
}

}  // namespace
}  // namespace kbtest
