// A full disk (a small tmpfs as the data directory): writes answer a Swedish 507 problem,
// /readyz reports it, nothing half-written remains, and the box recovers when space returns.
// Needs root to mount the tmpfs (CI runs as root); skipped otherwise.
#include "BoxProcess.h"

#include <klinikbox/Db.h>

#include <gtest/gtest.h>

#include <sys/mount.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

using kbtest::BoxProcess;

namespace {

// Mounts a tmpfs of `bytes` at `dir` for the test's lifetime.
class SmallTmpfs {
public:
    SmallTmpfs(const std::string& dir, std::size_t bytes) : dir_(dir) {
        std::filesystem::create_directories(dir);
        const std::string opts = "size=" + std::to_string(bytes) + ",mode=0750";
        mounted_ = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, opts.c_str()) == 0;
    }
    ~SmallTmpfs() {
        if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
    }
    [[nodiscard]] bool mounted() const { return mounted_; }

private:
    std::string dir_;
    bool mounted_ = false;
};

// Writes a filler file until the file system is full.
void fill(const std::string& file) {
    std::ofstream out(file, std::ios::binary);
    const std::vector<char> block(4096, 'x');
    while (out.write(block.data(), static_cast<std::streamsize>(block.size())) && out.flush()) {
    }
}

}  // namespace

TEST(DiskFull, WritesAnswerASwedishProblemReadyzSaysSoAndNothingHalfWrittenRemains) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount a tmpfs";
    BoxProcess box;
    SmallTmpfs fs(box.dataDir(), 24u << 20);
    if (!fs.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here";
    box.start();
    box.loginAs("ada", "admin");
    // An empty WAL, so the next write must grow a file (a reused WAL would still have room).
    // The checkpoint cannot truncate while one of the box's connections reads (it answers
    // busy=1 then), so it is repeated until the WAL file is really empty.
    {
        klinikbox::db::Connection c(box.dataDir() + "/klinikbox.db");
        const auto wal = box.dataDir() + "/klinikbox.db-wal";
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        bool truncated = false;
        while (!truncated && std::chrono::steady_clock::now() < deadline) {
            auto st = c.prepare("PRAGMA wal_checkpoint(TRUNCATE)");
            const bool busy = st.step() && st.getInt(0) != 0;
            truncated = !busy && (!std::filesystem::exists(wal) || std::filesystem::file_size(wal) == 0);
            if (!truncated) std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling, not waiting out a fixed time
        }
        ASSERT_TRUE(truncated) << "the WAL could not be truncated within 60 s";
    }
    const std::string filler = box.dataDir() + "/filler";
    fill(filler);

    auto r = box.authed("POST", "/api/v1/users", R"({"username":"cecilia","role":"staff","password":"ett långt lösenord för bo"})");
    ASSERT_EQ(r.status, 507) << r.body;
    EXPECT_EQ(r.json()->getValue<std::string>("type").find("storage-full") != std::string::npos, true) << r.body;
    EXPECT_NE(r.body.find("disken är full"), std::string::npos) << r.body;

    auto ready = box.request("GET", "/readyz");
    EXPECT_EQ(ready.status, 503) << ready.body;
    EXPECT_NE(ready.body.find("disk full"), std::string::npos) << ready.body;

    // Login needs a session row: it says why in Swedish instead of an English 500.
    auto login = box.request("POST", "/api/v1/auth/login",
                             R"({"username":"ada","password":"correct horse battery staple"})");
    EXPECT_EQ(login.status, 507) << login.body;
    EXPECT_NE(login.body.find("disken är full"), std::string::npos) << login.body;

    std::filesystem::remove(filler);
    auto users = box.authed("GET", "/api/v1/users");
    ASSERT_EQ(users.status, 200) << users.body;
    EXPECT_EQ(users.body.find("\"cecilia\""), std::string::npos) << "a refused write left a record: " << users.body;
    r = box.authed("POST", "/api/v1/users", R"({"username":"cecilia","role":"staff","password":"ett långt lösenord för bo"})");
    EXPECT_EQ(r.status, 201) << r.body;
    ready = box.request("GET", "/readyz");
    EXPECT_EQ(ready.status, 200) << ready.body;
}
