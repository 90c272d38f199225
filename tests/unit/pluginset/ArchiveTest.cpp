// Sets as one zip archive: packed by `klinikbox pluginset pack`, uploaded through the
// console, or crafted by someone who hopes the box unpacks outside the set.
#include "SetFixture.h"

#include <Poco/DateTime.h>
#include <Poco/Path.h>
#include <Poco/Zip/Compress.h>

#include <sstream>

namespace kbtest {
namespace {

using ps::Reason;
namespace fs = std::filesystem;

class Archives : public PluginSetTest {
  protected:
    // Every file of a signed set, as ZipWriter entries (in path order).
    std::vector<std::pair<std::string, std::string>> entriesOf(const std::string& dir) {
        std::vector<std::pair<std::string, std::string>> out;
        for (const auto& e : fs::recursive_directory_iterator(dir))
            if (e.is_regular_file())
                out.emplace_back(fs::relative(e.path(), dir).string(), readFile(e.path().string()));
        std::sort(out.begin(), out.end());
        return out;
    }
    std::string zipOf(const std::string& dir, const std::function<void(ZipWriter&)>& extra = {}) {
        ZipWriter w;
        for (const auto& [name, data] : entriesOf(dir)) w.add(name, data);
        if (extra) extra(w);
        const auto file = tmp.file("crafted.zip");
        writeFile(file, w.finish());
        return file;
    }
};

TEST_F(Archives, PackedSetVerifiesLikeItsDirectory) {
    const auto dir = makeSignedSet();
    ps::packSet(dir, tmp.file("set.zip"));
    const auto fromZip = verify(tmp.file("set.zip"));
    const auto fromDir = verify(dir);
    EXPECT_EQ(fromZip.manifestSha256, fromDir.manifestSha256);
    ASSERT_EQ(fromZip.plugins.size(), 2u);
    EXPECT_EQ(fromZip.plugins[0].files, fromDir.plugins[0].files);
    EXPECT_NE(fromZip.checks[0].detail.find("archive " + tmp.file("set.zip")), std::string::npos)
        << fromZip.checks[0].detail;
}

TEST_F(Archives, PackingTheSameSetTwiceGivesTheSameBytes) {
    const auto dir = makeSignedSet();
    ps::packSet(dir, tmp.file("a.zip"));
    ps::packSet(dir, tmp.file("b.zip"));
    EXPECT_EQ(readFile(tmp.file("a.zip")), readFile(tmp.file("b.zip")));
}

TEST_F(Archives, UploadedArchiveIsVerifiedFromMemory) {
    const auto dir = makeSignedSet();
    ps::packSet(dir, tmp.file("set.zip"));
    const auto set = ps::verifySignedArchive(readFile(tmp.file("set.zip")), "upload.zip", trust(),
                                             at("2025-06-01"), nullptr);
    EXPECT_EQ(set.plugins.size(), 2u);
    EXPECT_NE(set.checks[0].detail.find("archive upload.zip"), std::string::npos);
}

TEST_F(Archives, HandMadeArchiveOfAnHonestSetIsAccepted) {
    EXPECT_EQ(verify(zipOf(makeSignedSet())).plugins.size(), 2u);  // the crafting itself is sound
}

TEST_F(Archives, TamperedFileInsideAnArchiveIsRefused) {
    const auto dir = makeSignedSet();
    writeFile(dir + "/world/main.lua", "return {1}\n");  // after signing
    EXPECT_REFUSED(refusal(zipOf(dir)), Reason::FileTampered, "world/main.lua");
}

TEST_F(Archives, ZipSlipEntryIsRefused) {
    const auto zip = zipOf(makeSignedSet(), [](ZipWriter& w) {
        w.add("../../etc/cron.d/evil", "* * * * * root sh\n");
    });
    const auto e = refusal(zip);
    EXPECT_REFUSED(e, Reason::UnsafePath, "unsafe entry name '../../etc/cron.d/evil'");
    EXPECT_EQ(e.checks().back().name, "archive");
}

TEST_F(Archives, ZipSlipInsideAPluginIsRefused) {
    const auto zip =
        zipOf(makeSignedSet(), [](ZipWriter& w) { w.add("hello/../../evil.lua", "x"); });
    EXPECT_REFUSED(refusal(zip), Reason::UnsafePath, "zip-slip refused");
}

TEST_F(Archives, AbsoluteEntryIsRefused) {
    const auto zip = zipOf(makeSignedSet(),
                           [](ZipWriter& w) { w.add("/etc/passwd", "root::0:0::/:/bin/sh\n"); });
    EXPECT_REFUSED(refusal(zip), Reason::UnsafePath, "unsafe entry name '/etc/passwd'");
}

TEST_F(Archives, BackslashEntryIsRefused) {
    const auto zip = zipOf(makeSignedSet(), [](ZipWriter& w) { w.add("..\\..\\evil.dll", "MZ"); });
    EXPECT_REFUSED(refusal(zip), Reason::UnsafePath, "unsafe entry name '..\\..\\evil.dll'");
}

TEST_F(Archives, SymlinkEntryIsRefused) {
    const auto dir = makeSignedSet();
    ZipWriter w;
    for (const auto& [name, data] : entriesOf(dir)) {
        if (name == "hello/lua/main.lua")
            w.add(name, "/etc/shadow", 0120777);
        else
            w.add(name, data);
    }
    writeFile(tmp.file("link.zip"), w.finish());
    EXPECT_REFUSED(refusal(tmp.file("link.zip")), Reason::UnsafePath,
                   "hello/lua/main.lua is a symbolic link entry");
}

TEST_F(Archives, DuplicateEntryIsRefused) {
    const auto zip =
        zipOf(makeSignedSet(), [](ZipWriter& w) { w.add("world/main.lua", "return {evil}\n"); });
    EXPECT_REFUSED(refusal(zip), Reason::UnsafePath, "holds world/main.lua twice");
}

TEST_F(Archives, NameThatIsBothAFileAndADirectoryIsRefused) {
    const auto zip = zipOf(makeSignedSet(), [](ZipWriter& w) { w.add("world/main.lua/x", "y"); });
    EXPECT_REFUSED(refusal(zip), Reason::UnsafePath,
                   "world/main.lua is both a file and a directory");
}

TEST_F(Archives, ArchiveWithMoreEntriesThanAllowedIsRefused) {
    const auto zip = zipOf(makeSignedSet());
    auto opts = at("2025-06-01");
    opts.limits.maxEntries = 4;
    EXPECT_REFUSED(refusal(zip, "", nullptr, &opts), Reason::ArchiveTooLarge, "has 8 entries");
}

TEST_F(Archives, ArchiveUnpackingToMoreThanAllowedIsRefused) {
    // 8 MiB of zeros deflate to a few kilobytes: a small upload that would fill memory.
    std::ostringstream zipBytes;
    {
        Poco::Zip::Compress c(zipBytes, true);
        std::istringstream zeros(std::string(8u << 20, '\0'));
        c.addFile(zeros, Poco::DateTime(2020, 1, 1),
                  Poco::Path("hello/big.bin", Poco::Path::PATH_UNIX));
        c.close();
    }
    ASSERT_LT(zipBytes.str().size(), 64u << 10);
    auto opts = at("2025-06-01");
    opts.limits.maxTotalBytes = 1u << 20;
    try {
        (void)ps::verifySignedArchive(zipBytes.str(), "bomb.zip", trust(), opts, nullptr);
        FAIL() << "accepted";
    } catch (const ps::VerifyError& e) {
        EXPECT_REFUSED(e, Reason::ArchiveTooLarge, "bomb.zip unpacks to more than allowed");
    }
}

TEST_F(Archives, ArchiveFileLargerThanAllowedIsRefused) {
    const auto zip = zipOf(makeSignedSet());
    auto opts = at("2025-06-01");
    opts.limits.maxTotalBytes = 1000;
    EXPECT_REFUSED(refusal(zip, "", nullptr, &opts), Reason::ArchiveTooLarge, "bytes (limits");
}

TEST_F(Archives, ArchiveWithManyFilesWithinTheLimitsIsAccepted) {
    const auto dir = makePlugins();
    fs::create_directories(dir + "/hello/web");
    for (int i = 0; i < 1500; ++i)
        writeFile(dir + "/hello/web/page" + std::to_string(i) + ".js",
                  "export const n = " + std::to_string(i) + ";\n");
    ps::createManifest(dir, options());
    sign(dir, infosec);
    sign(dir, medinfo);
    ps::packSet(dir, tmp.file("many.zip"));
    const auto set = verify(tmp.file("many.zip"));
    EXPECT_EQ(set.plugins[0].files.size(), 1503u);
    EXPECT_EQ(set.plugins[0].files.at("web/page1499.js"), "export const n = 1499;\n");
}

TEST_F(Archives, GarbageArchiveIsRefused) {
    writeFile(tmp.file("garbage.zip"), std::string(4096, 'x'));
    EXPECT_REFUSED(refusal(tmp.file("garbage.zip")), Reason::Unreadable, "is not a zip archive");
}

TEST_F(Archives, TruncatedArchiveIsRefused) {
    const auto dir = makeSignedSet();
    ps::packSet(dir, tmp.file("set.zip"));
    const auto bytes = readFile(tmp.file("set.zip"));
    writeFile(tmp.file("cut.zip"), bytes.substr(0, bytes.size() - 30));
    EXPECT_REFUSED(refusal(tmp.file("cut.zip")), Reason::Unreadable, "cut.zip");
}

}  // namespace
}  // namespace kbtest
