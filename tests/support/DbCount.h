// The first column of the first row of `sql`, read as "core" in its own read transaction:
// how the store tests count rows. -1 when the query returns no row.
#pragma once

#include "store/Database.h"

#include <string>

namespace kbtest {

inline long long countRows(klinikbox::store::Database& db, const std::string& sql) {
    long long n = -1;
    db.read("core", [&](klinikbox::db::Connection& c) {
        auto st = c.prepare(sql);
        if (st.step()) n = st.getInt(0);
    });
    return n;
}

}  // namespace kbtest
