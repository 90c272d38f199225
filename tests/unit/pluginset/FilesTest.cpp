// The file check: exactly the listed files, at safe paths, with the listed sizes and
// hashes, no links or special files anywhere, no duplicate plugin ids.
#include "SetFixture.h"

#include <sys/stat.h>

namespace kbtest {
namespace {

using ps::Reason;
namespace fs = std::filesystem;

class Files : public PluginSetTest {};

TEST_F(Files, TamperedFileOfTheSameSizeIsRefused) {
    const auto dir = makeSignedSet();
    auto text = readFile(dir + "/hello/lua/main.lua");
    text[text.find("hej")] = 'H';
    writeFile(dir + "/hello/lua/main.lua", text);
    const auto e = refusal(dir);
    EXPECT_REFUSED(e, Reason::FileTampered, "hello/lua/main.lua has SHA-256");
    EXPECT_EQ(e.checks().back().name, "files");
}

TEST_F(Files, FileOfAnotherSizeIsRefused) {
    const auto dir = makeSignedSet();
    writeFile(dir + "/world/main.lua", "return { more = true }\n");
    EXPECT_REFUSED(refusal(dir), Reason::FileTampered,
                   "world/main.lua is 23 bytes; the manifest says 10");
}

TEST_F(Files, ExtraFileInAPluginIsRefused) {
    const auto dir = makeSignedSet();
    writeFile(dir + "/hello/lua/extra.lua", "os.execute('rm -rf /')\n");
    EXPECT_REFUSED(refusal(dir), Reason::FileExtra,
                   "hello/lua/extra.lua is in the set but not in its manifest");
}

TEST_F(Files, ExtraPluginDirectoryIsRefused) {
    const auto dir = makeSignedSet();
    fs::create_directories(dir + "/evil");
    writeFile(dir + "/evil/plugin.yaml", "id: evil\nversion: 1.0.0\n");
    EXPECT_REFUSED(refusal(dir), Reason::FileExtra,
                   "evil/ is in the set but is not a plugin of its manifest");
}

TEST_F(Files, ExtraTopLevelFileIsRefused) {
    const auto dir = makeSignedSet();
    writeFile(dir + "/README.txt", "hello\n");
    EXPECT_REFUSED(refusal(dir), Reason::FileExtra,
                   "README.txt is in the set but not in its manifest");
}

TEST_F(Files, MissingFileIsRefused) {
    const auto dir = makeSignedSet();
    fs::remove(dir + "/hello/migrations/0001_init.sql");
    EXPECT_REFUSED(refusal(dir), Reason::FileMissing,
                   "hello/migrations/0001_init.sql is listed in the manifest but missing");
}

TEST_F(Files, MissingPluginDirectoryIsRefused) {
    const auto dir = makeSignedSet();
    fs::remove_all(dir + "/world");
    EXPECT_REFUSED(refusal(dir), Reason::FileMissing,
                   "world/main.lua is listed in the manifest but missing");
}

TEST_F(Files, ManifestPathWithDotDotIsRefused) {
    const auto dir = makeSet();
    resign(dir, edited(dir, "path: \"main.lua\"", "path: \"../hello/lua/main.lua\""));
    EXPECT_REFUSED(refusal(dir), Reason::UnsafePath, "unsafe path 'world/../hello/lua/main.lua'");
}

TEST_F(Files, AbsoluteManifestPathIsRefused) {
    const auto dir = makeSet();
    resign(dir, edited(dir, "path: \"main.lua\"", "path: \"/etc/passwd\""));
    EXPECT_REFUSED(refusal(dir), Reason::UnsafePath, "unsafe path 'world//etc/passwd'");
}

TEST_F(Files, BackslashManifestPathIsRefused) {
    const auto dir = makeSet();
    resign(dir, edited(dir, "path: \"lua/main.lua\"", "path: 'lua\\main.lua'"));
    EXPECT_REFUSED(refusal(dir), Reason::UnsafePath, "unsafe path 'hello/lua\\main.lua'");
}

TEST_F(Files, ManifestPathWithNulIsRefused) {
    const auto dir = makeSet();
    resign(dir, edited(dir, "path: \"main.lua\"", "path: \"main.lua\\0.txt\""));
    EXPECT_REFUSED(refusal(dir), Reason::UnsafePath, "unsafe path 'world/main.lua");
}

TEST_F(Files, SymlinkedFileIsRefused) {
    const auto dir = makeSignedSet();
    fs::copy_file(dir + "/hello/lua/main.lua", tmp.file("outside.lua"));
    fs::remove(dir + "/hello/lua/main.lua");
    fs::create_symlink(tmp.file("outside.lua"), dir + "/hello/lua/main.lua");
    EXPECT_REFUSED(refusal(dir), Reason::UnsafePath, "hello/lua/main.lua is a symbolic link");
}

TEST_F(Files, SymlinkedPluginDirectoryIsRefused) {
    const auto dir = makeSignedSet();
    fs::rename(dir + "/world", tmp.file("world-elsewhere"));
    fs::create_directory_symlink(tmp.file("world-elsewhere"), dir + "/world");
    EXPECT_REFUSED(refusal(dir), Reason::UnsafePath, "world is a symbolic link");
}

TEST_F(Files, SymlinkedManifestIsRefused) {
    const auto dir = makeSignedSet();
    fs::rename(dir + "/pluginset.yaml", tmp.file("manifest-elsewhere"));
    fs::create_symlink(tmp.file("manifest-elsewhere"), dir + "/pluginset.yaml");
    EXPECT_REFUSED(refusal(dir), Reason::UnsafePath, "pluginset.yaml is a symbolic link");
}

TEST_F(Files, SymlinkedSignatureIsRefused) {
    const auto dir = makeSignedSet();
    fs::rename(dir + "/pluginset.yaml.sig.2", tmp.file("sig-elsewhere"));
    fs::create_symlink(tmp.file("sig-elsewhere"), dir + "/pluginset.yaml.sig.2");
    EXPECT_REFUSED(refusal(dir), Reason::UnsafePath, "pluginset.yaml.sig.2 is a symbolic link");
}

TEST_F(Files, SetReachedThroughALinkToItsDirectoryIsAccepted) {
    // An "active" link to the current set is how a box switches and rolls back sets.
    const auto dir = makeSignedSet();
    fs::create_directory_symlink(dir, tmp.file("active"));
    EXPECT_EQ(verify(tmp.file("active")).plugins.size(), 2u);
}

TEST_F(Files, NamedPipeInTheSetIsRefused) {
    const auto dir = makeSignedSet();
    ASSERT_EQ(::mkfifo((dir + "/hello/lua/pipe").c_str(), 0600), 0);
    EXPECT_REFUSED(refusal(dir), Reason::UnsafePath, "hello/lua/pipe is not a regular file");
}

TEST_F(Files, DuplicatePluginIdsAreRefused) {
    const auto dir = makeSet();
    auto text = readFile(dir + "/pluginset.yaml");
    const auto hello = text.substr(text.find("  - id: \"hello\""),
                                   text.find("  - id: \"world\"") - text.find("  - id: \"hello\""));
    resign(dir, text + hello);
    EXPECT_REFUSED(refusal(dir), Reason::DuplicatePlugin, "lists plugin 'hello' twice");
}

TEST_F(Files, PluginYamlDeclaringAnotherVersionThanCertifiedIsRefused) {
    const auto dir = makeSet();
    resign(dir, edited(dir, "version: \"2.1.0\"", "version: \"2.2.0\""));
    EXPECT_REFUSED(refusal(dir), Reason::PluginMismatch,
                   "world/plugin.yaml declares world 2.1.0; the manifest certifies world 2.2.0");
}

TEST_F(Files, SetWithMoreEntriesThanAllowedIsRefused) {
    const auto dir = makeSignedSet();
    auto opts = at("2025-06-01");
    opts.limits.maxEntries = 6;
    EXPECT_REFUSED(refusal(dir, "", nullptr, &opts), Reason::ArchiveTooLarge,
                   "more than 6 entries");
}

TEST_F(Files, SetLargerThanAllowedIsRefused) {
    const auto dir = makeSignedSet();
    auto opts = at("2025-06-01");
    opts.limits.maxTotalBytes = 100;
    EXPECT_REFUSED(refusal(dir, "", nullptr, &opts), Reason::ArchiveTooLarge,
                   "larger than allowed");
}

}  // namespace
}  // namespace kbtest
