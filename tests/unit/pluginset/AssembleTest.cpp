// `klinikbox pluginset create --from --build`: the set's directories laid out from the
// project's plugins and their built libraries, nothing else.
#include "SetFixture.h"

#include "pluginset/Assemble.h"
#include "pluginset/Cli.h"

#include <sstream>

namespace kbtest {
namespace {

namespace fs = std::filesystem;

class Assemble : public PluginSetTest {
  protected:
    std::string src = tmp.file("plugins");
    std::string built = tmp.file("build-plugins");

    Assemble() {
        fs::create_directories(src + "/native/src");
        fs::create_directories(src + "/native/migrations");
        fs::create_directories(src + "/native/web");
        writeFile(src + "/native/plugin.yaml",
                  "id: native\nname: N\nversion: 1.2.0\napi: 1\nkind: native\nentry: libnative.so\n");
        writeFile(src + "/native/schema.yaml", "type: object\n");
        writeFile(src + "/native/CMakeLists.txt", "add_library(x)\n");
        writeFile(src + "/native/README.md", "# native\n");
        writeFile(src + "/native/src/NativePlugin.cpp", "int x;\n");
        writeFile(src + "/native/migrations/0001_init.sql", "CREATE TABLE native_x (id INTEGER);\n");
        writeFile(src + "/native/web/page.js", "export {};\n");
        fs::create_directories(src + "/scripted/migrations");
        writeFile(src + "/scripted/plugin.yaml",
                  "id: scripted\nname: S\nversion: 0.3.0\napi: 1\nkind: lua\nentry: main.lua\n");
        writeFile(src + "/scripted/main.lua", "return {}\n");
        writeFile(src + "/scripted/README.md", "# scripted\n");
        fs::create_directories(built + "/native/CMakeFiles");
        writeFile(built + "/native/libnative.so", "\x7f" "ELF fake library");
        writeFile(built + "/native/Makefile", "all:\n");
    }
};

TEST_F(Assemble, LaysOutOnlyTheFilesABoxRuns) {
    const auto dir = tmp.file("set");
    const auto laid = ps::assembleSet(src, built, {}, dir);
    ASSERT_EQ(laid.size(), 2u);
    EXPECT_EQ(laid[0].id, "native");
    EXPECT_EQ(laid[0].files,
              (std::vector<std::string>{"libnative.so", "migrations/0001_init.sql", "plugin.yaml",
                                        "schema.yaml", "web/page.js"}));
    EXPECT_EQ(laid[1].files, (std::vector<std::string>{"main.lua", "plugin.yaml"}));
    EXPECT_EQ(readFile(dir + "/native/libnative.so"), "\x7f" "ELF fake library");
    EXPECT_FALSE(fs::exists(dir + "/native/src"));
    EXPECT_FALSE(fs::exists(dir + "/native/README.md"));
    EXPECT_FALSE(fs::exists(dir + "/native/Makefile"));
}

TEST_F(Assemble, UnbuiltNativePluginIsRefusedAndNothingIsLeft) {
    fs::remove(built + "/native/libnative.so");
    const auto dir = tmp.file("set");
    try {
        (void)ps::assembleSet(src, built, {}, dir);
        FAIL() << "assembled without the library";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("the native plugin native is not built"),
                  std::string::npos)
            << e.what();
    }
    EXPECT_FALSE(fs::exists(dir));
}

TEST_F(Assemble, ChosenPluginsOnlyAndANonEmptyTargetIsRefused) {
    const auto dir = tmp.file("set");
    EXPECT_EQ(ps::assembleSet(src, built, {"scripted"}, dir).size(), 1u);
    EXPECT_FALSE(fs::exists(dir + "/native"));
    EXPECT_THROW((void)ps::assembleSet(src, built, {"scripted"}, dir), std::invalid_argument);
    EXPECT_THROW((void)ps::assembleSet(src, built, {"missing"}, tmp.file("other")),
                 std::invalid_argument);
}

TEST_F(Assemble, SymlinkInAPluginIsRefused) {
    fs::create_symlink("/etc/passwd", src + "/native/web/passwd");
    EXPECT_THROW((void)ps::assembleSet(src, built, {}, tmp.file("set")), std::invalid_argument);
}

TEST_F(Assemble, CreateFromTheProjectMakesASetThatSignsAndVerifies) {
    const auto dir = tmp.file("set");
    std::ostringstream o, e;
    ASSERT_EQ(ps::runPluginsetCommand(
                  {"create", dir, "--from", src, "--build", built, "--name", "Assembled",
                   "--sequence", "1", "--region-name", "Region A", "--region-hsa-id", kRegionAHsa,
                   "--issued", "2025-01-01", "--expires", "2026-01-01"},
                  o, e),
              0)
        << e.str();
    EXPECT_NE(o.str().find("laid out native 1.2.0 (native): 5 file(s)"), std::string::npos)
        << o.str();
    sign(dir, infosec);
    sign(dir, medinfo);
    const auto set = verify(dir);
    ASSERT_EQ(set.plugins.size(), 2u);
    EXPECT_EQ(set.plugins[0].files.count("libnative.so"), 1u);
}

}  // namespace
}  // namespace kbtest
