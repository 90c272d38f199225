#include "store/Migrations.h"

#include <Poco/SHA2Engine.h>
#include <Poco/DigestEngine.h>

#include <algorithm>
#include <cctype>
#include <set>

namespace klinikbox::store {

namespace {

std::string sha256(const std::string& s) {
    Poco::SHA2Engine e(Poco::SHA2Engine::SHA_256);
    e.update(s);
    return Poco::DigestEngine::digestToHex(e.digest());
}

void ensureTable(Database& db) {
    db.write("core", [](db::Connection& c) {
        c.exec(
            "CREATE TABLE IF NOT EXISTS kb_migrations ("
            " owner TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL,"
            " checksum TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),"
            " PRIMARY KEY (owner, version))");
    });
}

}  // namespace

int Migrations::appliedVersion(Database& db, const std::string& owner) {
    ensureTable(db);
    int v = 0;
    db.read("core", [&](db::Connection& c) {
        auto st = c.prepare("SELECT COALESCE(MAX(version),0) FROM kb_migrations WHERE owner=?");
        st.bind(1, owner);
        if (st.step()) v = static_cast<int>(st.getInt(0));
    });
    return v;
}

int Migrations::apply(Database& db, const std::string& owner,
                      const std::vector<Migration>& migrations) {
    ensureTable(db);
    // Validate the list itself.
    int prev = 0;
    for (const auto& m : migrations) {
        if (m.version <= prev) {
            throw MigrationError("migrations of " + owner + " are not strictly increasing at " +
                                 m.name);
        }
        prev = m.version;
    }
    struct Applied {
        int version;
        std::string name, checksum;
    };
    std::vector<Applied> applied;
    db.read("core", [&](db::Connection& c) {
        auto st = c.prepare("SELECT version, name, checksum FROM kb_migrations WHERE owner=? ORDER BY version");
        st.bind(1, owner);
        while (st.step())
            applied.push_back({static_cast<int>(st.getInt(0)), st.getText(1), st.getText(2)});
    });
    for (const auto& a : applied) {
        auto it = std::find_if(migrations.begin(), migrations.end(),
                               [&](const Migration& m) { return m.version == a.version; });
        if (it == migrations.end()) {
            throw MigrationError("the database has migration " + std::to_string(a.version) + " (" +
                                 a.name + ") of " + owner +
                                 " which this version does not know: it was written by a newer "
                                 "klinikbox");
        }
        if (sha256(it->sql) != a.checksum) {
            throw MigrationError("migration " + it->name + " of " + owner +
                                 " was changed after it had been applied");
        }
    }
    int count = 0;
    for (const auto& m : migrations) {
        const bool done = std::any_of(applied.begin(), applied.end(),
                                      [&](const Applied& a) { return a.version == m.version; });
        if (done) continue;
        try {
            // The migration runs confined to the owner's tables; the bookkeeping row is
            // written with core rights in the same transaction.
            db.write(owner, [&](db::Connection& c) {
                c.exec(m.sql);
                Database::asCore(c, [&] {
                    auto st = c.prepare(
                        "INSERT INTO kb_migrations(owner, version, name, checksum) VALUES(?,?,?,?)");
                    st.bind(1, owner).bind(2, m.version).bind(3, m.name).bind(4, sha256(m.sql));
                    st.exec();
                });
            });
        } catch (const std::exception& e) {
            throw MigrationError("migration " + m.name + " of " + owner + " failed and was rolled back: " +
                                 e.what());
        }
        ++count;
    }
    return count;
}

std::vector<Migration> Migrations::fromFiles(
    const std::vector<std::pair<std::string, std::string>>& nameAndSql) {
    std::vector<Migration> out;
    for (const auto& [name, sql] : nameAndSql) {
        std::size_t i = 0;
        while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i]))) ++i;
        if (i == 0 || name.size() < 5 || name.substr(name.size() - 4) != ".sql") {
            throw MigrationError("migration file name must be NNNN_description.sql: " + name);
        }
        out.push_back(Migration{std::stoi(name.substr(0, i)), name, sql});
    }
    std::sort(out.begin(), out.end(),
              [](const Migration& a, const Migration& b) { return a.version < b.version; });
    std::set<int> seen;
    for (const auto& m : out) {
        if (!seen.insert(m.version).second) {
            throw MigrationError("two migrations share version " + std::to_string(m.version));
        }
    }
    return out;
}

}  // namespace klinikbox::store
