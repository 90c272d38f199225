#include "store/Backup.h"

#include "store/CoreMigrations.h"

#include <sqlite3.h>

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

namespace klinikbox::store {

namespace fs = std::filesystem;

namespace {

// Copies every page from src to dst in steps so that writers get the lock in between.
void copyPages(sqlite3* dst, sqlite3* src, const std::string& what) {
    sqlite3_backup* b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b) throw BackupError(what + ": " + sqlite3_errmsg(dst));
    int rc;
    do {
        rc = sqlite3_backup_step(b, 256);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) throw BackupError(what + ": " + sqlite3_errstr(rc));
}

// Creates `path` empty with mode 0600 before SQLite opens it, so a copy of patient data is
// never readable by others for a moment (SQLite would create it 0644 minus the umask).
void createPrivate(const std::string& path) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) throw BackupError("cannot create " + path + ": " + std::strerror(errno));
    ::fchmod(fd, 0600);  // whatever the umask
    ::close(fd);
}

}  // namespace

void giveToOwnerOf(const std::string& path, const std::string& reference) {
    if (::geteuid() != 0) return;  // only root can (and needs to) hand a file over
    struct stat ref {};
    if (::stat(reference.c_str(), &ref) != 0) throw BackupError("cannot stat " + reference);
    if (::chown(path.c_str(), ref.st_uid, ref.st_gid) != 0) {
        throw BackupError("cannot give " + path + " to the owner of " + reference + ": " + std::strerror(errno));
    }
}

void backupTo(Database& db, const std::string& target) {
    const std::string partial = target + ".partial";
    std::error_code ec;
    fs::remove(partial, ec);
    createPrivate(partial);
    {
        db::Connection dst(partial);
        auto src = db.acquire("core");
        copyPages(dst.raw(), src->raw(), "backup to " + target);
        // A backup is a single self-contained file.
        dst.exec("PRAGMA journal_mode=DELETE");
    }
    fs::rename(partial, target);
}

void checkRestorable(const std::string& file, int knownCoreVersion) {
    if (!fs::is_regular_file(file)) throw BackupError(file + " is not a file");
    {
        // An SQLite file starts with this 16-byte header; refuse anything else before opening.
        std::FILE* f = std::fopen(file.c_str(), "rb");
        if (!f) throw BackupError("cannot read " + file);
        char head[16] = {};
        const auto n = std::fread(head, 1, sizeof head, f);
        std::fclose(f);
        if (n != sizeof head || std::string(head, 15) != "SQLite format 3") {
            throw BackupError(file + " is not an SQLite database");
        }
    }
    db::Connection c(file, true);
    auto app = c.prepare("PRAGMA application_id");
    if (!app.step() || app.getInt(0) != kApplicationId) {
        throw BackupError(file + " is an SQLite database but not a klinikbox database");
    }
    auto ic = c.prepare("PRAGMA integrity_check");
    if (!ic.step() || ic.getText(0) != "ok") {
        throw BackupError(file + " is damaged: integrity check says " + ic.getText(0));
    }
    auto v = c.prepare("SELECT COALESCE(MAX(version),0) FROM kb_migrations WHERE owner='core'");
    if (!v.step()) throw BackupError(file + " has no migration records");
    const int have = static_cast<int>(v.getInt(0));
    if (have > knownCoreVersion) {
        throw BackupError(file + " has core schema version " + std::to_string(have) +
                          ", newer than this klinikbox knows (" + std::to_string(knownCoreVersion) +
                          "): upgrade klinikbox first");
    }
}

void restoreFrom(const std::string& file, const std::string& dbPath, int knownCoreVersion) {
    checkRestorable(file, knownCoreVersion);
    std::error_code ec;
    if (fs::exists(dbPath)) {
        // Fold the WAL into the old file so the kept copy is complete on its own.
        {
            db::Connection old(dbPath);
            old.exec("PRAGMA wal_checkpoint(TRUNCATE)");
        }
        fs::copy_file(dbPath, dbPath + ".before-restore", fs::copy_options::overwrite_existing);
    }
    const std::string tmp = dbPath + ".restoring";
    fs::remove(tmp, ec);
    createPrivate(tmp);
    {
        db::Connection src(file, true);
        db::Connection dst(tmp);
        copyPages(dst.raw(), src.raw(), "restore from " + file);
    }
    fs::remove(dbPath + "-wal", ec);
    fs::remove(dbPath + "-shm", ec);
    fs::rename(tmp, dbPath);
    // A restore run as root must not leave a root-owned database the box cannot write.
    const std::string dataDir = fs::path(dbPath).parent_path().empty() ? "." : fs::path(dbPath).parent_path().string();
    giveToOwnerOf(dbPath, dataDir);
    if (fs::exists(dbPath + ".before-restore")) giveToOwnerOf(dbPath + ".before-restore", dataDir);
}

}  // namespace klinikbox::store
