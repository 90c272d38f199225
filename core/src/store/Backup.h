// Online backup (SQLite backup API, safe while serving) and restore.
#pragma once

#include "store/Database.h"

#include <string>

namespace klinikbox::store {

class BackupError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Copies the live database into `target` page by page without blocking writers for long.
// The copy is written to target.partial (mode 0600) and renamed when complete.
void backupTo(Database& db, const std::string& target);

// When run as root, hands `path` to the owner of `reference` (the data directory), so files
// written by an admin command as root stay usable by the service user. No-op otherwise.
void giveToOwnerOf(const std::string& path, const std::string& reference);

// Checks that `file` is a complete klinikbox database this version can run: application id,
// integrity, and no migration newer than this build knows. Throws BackupError with the reason.
void checkRestorable(const std::string& file, int knownCoreVersion);

// Replaces the database at `dbPath` with `file` (the box must be stopped). Keeps the old
// database as dbPath + ".before-restore". The new file is 0600 and, when run as root, owned
// by the owner of the database's directory.
void restoreFrom(const std::string& file, const std::string& dbPath, int knownCoreVersion);

}  // namespace klinikbox::store
