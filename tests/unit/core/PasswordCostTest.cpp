// The password hash's cost (security.password_hash_log2n): production keeps at least the
// default, a development box may lower it, new hashes and re-hashes use the configured cost,
// and a login for an unknown account costs what a real one does.
#include "auth/Accounts.h"
#include "auth/AuthModule.h"
#include "server/BoxConfig.h"
#include "store/CoreMigrations.h"
#include "store/Migrations.h"

#include "TempDir.h"

#include <klinikbox/Clock.h>

#include <gtest/gtest.h>

using namespace klinikbox;

namespace {

server::BoxConfig configOf(const std::string& mode, const std::string& security) {
    std::string yaml = "box:\n  mode: " + mode + "\n  data_dir: /tmp/unused\n";
    if (!security.empty()) yaml += "security:\n" + security;
    return server::parseBoxConfig(yaml, "klinikbox.yaml", "/tmp");
}

std::string configError(const std::string& mode, const std::string& security) {
    try {
        (void)configOf(mode, security);
    } catch (const server::ConfigInvalid& e) {
        return e.what();
    }
    return {};
}

std::string storedHash(store::Database& db, const std::string& username) {
    std::string hash;
    db.read("core", [&](db::Connection& c) {
        auto st = c.prepare("SELECT password_hash FROM kb_users WHERE username=?");
        st.bind(1, username);
        if (st.step()) hash = st.getText(0);
    });
    return hash;
}

struct PasswordCostFixture : ::testing::Test {
    kbtest::TempDir dir;
    store::Database db{store::DatabaseOptions{dir.file("kb.db"), true, 5000}};
    SystemClock clock;
    void SetUp() override { store::Migrations::apply(db, "core", store::coreMigrations()); }
    auth::Accounts accountsAt(int log2N) {
        server::BoxConfig cfg = configOf("development", "  password_hash_log2n: " + std::to_string(log2N) + "\n");
        return auth::Accounts(db, clock, auth::accountsOptions(cfg));
    }
};

}  // namespace

TEST(PasswordCost, TheDefaultIsTheFullCostAndProductionRefusesLess) {
    EXPECT_EQ(configOf("development", "").passwordHashLog2N, 16);
    EXPECT_EQ(auth::accountsOptions(configOf("production", "")).passwordHash.log2N, 16);
    EXPECT_EQ(configOf("development", "  password_hash_log2n: 10\n").passwordHashLog2N, 10);
    EXPECT_EQ(configOf("production", "  password_hash_log2n: 17\n").passwordHashLog2N, 17);

    const auto err = configError("production", "  password_hash_log2n: 15\n");
    EXPECT_NE(err.find("security.password_hash_log2n below 16"), std::string::npos) << err;
    EXPECT_NE(configError("development", "  password_hash_log2n: 9\n").find("password_hash_log2n"), std::string::npos);
    EXPECT_NE(configError("development", "  password_hash_log2n: 19\n").find("password_hash_log2n"), std::string::npos);
}

TEST_F(PasswordCostFixture, NewHashesUseTheConfiguredCostAndALoginRaisesAWeakerOne) {
    auto cheap = accountsAt(10);
    const auto user = cheap.create({"vera", "Vera Vård", Role::Staff, "", "", "ett långt lösenord 42"});
    EXPECT_EQ(storedHash(db, "vera").rfind("scrypt$10$8$1$", 0), 0u) << storedHash(db, "vera");
    EXPECT_TRUE(cheap.login("vera", "ett långt lösenord 42", "127.0.0.1").ok);
    EXPECT_EQ(storedHash(db, "vera").rfind("scrypt$10$", 0), 0u);

    auto dearer = accountsAt(11);
    EXPECT_FALSE(dearer.login("vera", "fel lösenord", "127.0.0.1").ok);
    EXPECT_EQ(storedHash(db, "vera").rfind("scrypt$10$", 0), 0u) << "a failed login changes no hash";
    EXPECT_TRUE(dearer.login("vera", "ett långt lösenord 42", "127.0.0.1").ok);
    EXPECT_EQ(storedHash(db, "vera").rfind("scrypt$11$8$1$", 0), 0u) << storedHash(db, "vera");

    // A cheaper setting never weakens a stored hash.
    EXPECT_TRUE(cheap.login("vera", "ett långt lösenord 42", "127.0.0.1").ok);
    EXPECT_EQ(storedHash(db, "vera").rfind("scrypt$11$", 0), 0u);

    dearer.setPassword(user.id, "ett annat långt lösenord 7");
    EXPECT_EQ(storedHash(db, "vera").rfind("scrypt$11$", 0), 0u);
}

TEST_F(PasswordCostFixture, AnUnknownAccountIsRefusedLikeAWrongPasswordAtEitherCost) {
    for (int log2N : {10, 11}) {
        auto accounts = accountsAt(log2N);
        const auto unknown = accounts.login("ingen" + std::to_string(log2N), "ett långt lösenord 42", "127.0.0.2");
        EXPECT_FALSE(unknown.ok);
        EXPECT_FALSE(unknown.user.has_value());
        EXPECT_EQ(unknown.message, "Fel användarnamn eller lösenord.");
    }
}
