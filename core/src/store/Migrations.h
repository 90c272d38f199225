// Ordered schema migrations for the core and for each plugin, recorded in kb_migrations.
#pragma once

#include "store/Database.h"

#include <string>
#include <vector>

namespace klinikbox::store {

struct Migration {
    int version = 0;       // 1, 2, 3 ... strictly increasing per owner
    std::string name;      // "0001_init.sql" or a short description
    std::string sql;
};

// Thrown when a migration cannot be applied; the database is left as it was before it.
class MigrationError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Migrations {
public:
    // Applies every migration of `owner` not yet recorded, each in its own transaction on a
    // connection confined to the owner's tables. Refuses when a recorded migration's SQL
    // has changed or the database holds a newer version than `migrations` knows.
    // Returns the number applied.
    static int apply(Database& db, const std::string& owner, const std::vector<Migration>& migrations);

    // Loads NNNN_name.sql files of a directory in order (also used for plugins' migrations/).
    static std::vector<Migration> fromFiles(const std::vector<std::pair<std::string, std::string>>& nameAndSql);

    // The highest applied version per owner.
    static int appliedVersion(Database& db, const std::string& owner);
};

}  // namespace klinikbox::store
