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
// The copy is written to target.partial and renamed when complete.
void backupTo(Database& db, const std::string& target);

// Checks that `file` is a complete klinikbox database this version can run: application id,
// integrity, and no migration newer than this build knows. Throws BackupError with the reason.
void checkRestorable(const std::string& file, int knownCoreVersion);

// Replaces the database at `dbPath` with `file` (the box must be stopped). Keeps the old
// database as dbPath + ".before-restore".
void restoreFrom(const std::string& file, const std::string& dbPath, int knownCoreVersion);

}  // namespace klinikbox::store
