#include "auth/Accounts.h"

#include "auth/Passwords.h"

#include <klinikbox/HsaId.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace klinikbox::auth {

namespace {

constexpr const char* kBadCredentials = "Fel användarnamn eller lösenord.";
constexpr const char* kLocked = "För många misslyckade inloggningar. Vänta en stund och försök igen.";

User readUser(db::Statement& st) {
    User u;
    u.id = st.getInt(0);
    u.username = st.getText(1);
    u.displayName = st.getText(2);
    u.role = roleFromString(st.getText(3)).value_or(Role::Staff);
    u.hsaId = st.getText(4);
    u.careUnit = st.getText(5);
    u.disabled = st.getInt(6) != 0;
    u.createdAt = st.getInt(7);
    return u;
}

constexpr const char* kUserCols = "id, username, display_name, role, hsa_id, care_unit, disabled, created_at";

void checkOrgFields(const std::string& hsaId, const std::string& careUnit) {
    if (!hsaId.empty() && !HsaId::parse(hsaId)) throw std::invalid_argument("HSA-id har fel format (t.ex. SE2321000016-1234).");
    if (!careUnit.empty() && !HsaId::parse(careUnit))
        throw std::invalid_argument("Vårdenhetens HSA-id har fel format (t.ex. SE2321000016-ABCD).");
}

}  // namespace

std::string usernameProblem(const std::string& username) {
    if (username.size() < 2 || username.size() > 64) return "Användarnamnet ska ha 2–64 tecken.";
    for (unsigned char c : username)
        if (!(std::isalnum(c) || c == '.' || c == '_' || c == '-'))
            return "Användarnamnet får bara innehålla a–z, 0–9, punkt, bindestreck och understreck.";
    return {};
}

Accounts::Accounts(store::Database& db, const Clock& clock, AccountsOptions options)
    : db_(db), clock_(clock), options_(options) {}

const std::string& Accounts::decoyHash() {
    std::call_once(decoyOnce_, [this] { decoyHash_ = hashPassword(randomToken(24), options_.passwordHash); });
    return decoyHash_;
}

long long Accounts::nowMs() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch()).count();
}

User Accounts::create(const NewUser& u) {
    if (auto p = usernameProblem(u.username); !p.empty()) throw std::invalid_argument(p);
    if (auto p = passwordProblem(u.password, u.username); !p.empty()) throw std::invalid_argument(p);
    if (u.displayName.size() > 200) throw std::invalid_argument("Namnet är för långt.");
    checkOrgFields(u.hsaId, u.careUnit);
    const std::string hash = hashPassword(u.password, options_.passwordHash);
    long long id = 0;
    try {
        db_.write("core", [&](db::Connection& c) {
            const long long now = nowMs();
            auto st = c.prepare(
                "INSERT INTO kb_users(username, display_name, role, hsa_id, care_unit, password_hash, created_at,"
                " updated_at, password_changed_at) VALUES(?,?,?,?,?,?,?,?,?)");
            st.bind(1, u.username).bind(2, u.displayName).bind(3, std::string(toString(u.role))).bind(4, u.hsaId)
                .bind(5, u.careUnit).bind(6, hash).bind(7, now).bind(8, now).bind(9, now);
            st.exec();
            id = c.lastInsertId();
        });
    } catch (const db::ConstraintError&) {
        throw std::invalid_argument("Användarnamnet är upptaget.");
    }
    return *get(id);
}

void Accounts::setPassword(long long userId, const std::string& password) {
    auto u = get(userId);
    if (!u) throw std::invalid_argument("Användaren finns inte.");
    if (auto p = passwordProblem(password, u->username); !p.empty()) throw std::invalid_argument(p);
    const std::string hash = hashPassword(password, options_.passwordHash);
    db_.write("core", [&](db::Connection& c) {
        auto st = c.prepare("UPDATE kb_users SET password_hash=?, password_changed_at=?, updated_at=? WHERE id=?");
        st.bind(1, hash).bind(2, nowMs()).bind(3, nowMs()).bind(4, userId).exec();
        // A new password ends every other session.
        auto del = c.prepare("DELETE FROM kb_sessions WHERE user_id=?");
        del.bind(1, userId).exec();
    });
}

void Accounts::setDisabled(long long userId, bool disabled) {
    db_.write("core", [&](db::Connection& c) {
        auto st = c.prepare("UPDATE kb_users SET disabled=?, updated_at=? WHERE id=?");
        st.bind(1, disabled ? 1 : 0).bind(2, nowMs()).bind(3, userId).exec();
        if (c.changes() == 0) throw std::invalid_argument("Användaren finns inte.");
        if (disabled) {
            auto del = c.prepare("DELETE FROM kb_sessions WHERE user_id=?");
            del.bind(1, userId).exec();
        }
    });
}

void Accounts::update(long long userId, Role role, const std::string& displayName, const std::string& hsaId,
                      const std::string& careUnit) {
    checkOrgFields(hsaId, careUnit);
    if (displayName.size() > 200) throw std::invalid_argument("Namnet är för långt.");
    db_.write("core", [&](db::Connection& c) {
        auto st = c.prepare("UPDATE kb_users SET role=?, display_name=?, hsa_id=?, care_unit=?, updated_at=? WHERE id=?");
        st.bind(1, std::string(toString(role))).bind(2, displayName).bind(3, hsaId).bind(4, careUnit).bind(5, nowMs())
            .bind(6, userId).exec();
        if (c.changes() == 0) throw std::invalid_argument("Användaren finns inte.");
    });
}

std::optional<User> Accounts::find(const std::string& username) const {
    std::optional<User> u;
    db_.read("core", [&](db::Connection& c) {
        auto st = c.prepare(std::string("SELECT ") + kUserCols + " FROM kb_users WHERE username=?");
        st.bind(1, username);
        if (st.step()) u = readUser(st);
    });
    return u;
}

std::optional<User> Accounts::get(long long id) const {
    std::optional<User> u;
    db_.read("core", [&](db::Connection& c) {
        auto st = c.prepare(std::string("SELECT ") + kUserCols + " FROM kb_users WHERE id=?");
        st.bind(1, id);
        if (st.step()) u = readUser(st);
    });
    return u;
}

std::vector<User> Accounts::list() const {
    std::vector<User> out;
    db_.read("core", [&](db::Connection& c) {
        auto st = c.prepare(std::string("SELECT ") + kUserCols + " FROM kb_users ORDER BY username");
        while (st.step()) out.push_back(readUser(st));
    });
    return out;
}

long long Accounts::count() const {
    long long n = 0;
    db_.read("core", [&](db::Connection& c) {
        auto st = c.prepare("SELECT COUNT(*) FROM kb_users");
        if (st.step()) n = st.getInt(0);
    });
    return n;
}

LoginOutcome Accounts::login(const std::string& usernameIn, const std::string& password, const std::string& remoteAddr) {
    LoginOutcome out;
    std::string username = usernameIn;
    std::transform(username.begin(), username.end(), username.begin(), [](unsigned char ch) { return std::tolower(ch); });
    const long long now = nowMs();
    const long long window = static_cast<long long>(options_.lockoutMinutes) * 60'000;
    const std::string userKey = "user:" + username.substr(0, 64);
    const std::string addrKey = "addr:" + remoteAddr;

    // Locked? Checked the same way whether or not the account exists.
    bool locked = false;
    db_.read("core", [&](db::Connection& c) {
        auto st = c.prepare("SELECT subject, failures, first_at, locked_until FROM kb_login_failures WHERE subject IN (?,?)");
        st.bind(1, userKey).bind(2, addrKey);
        while (st.step()) {
            if (st.getInt(3) > now) locked = true;
            if (st.getText(0) == addrKey && st.getInt(1) >= options_.addressMaxFailures && now - st.getInt(2) < window)
                locked = true;
        }
    });
    if (locked) {
        out.message = kLocked;
        return out;
    }

    std::string stored;
    std::optional<User> user;
    db_.read("core", [&](db::Connection& c) {
        auto st = c.prepare(std::string("SELECT ") + kUserCols + ", password_hash FROM kb_users WHERE username=?");
        st.bind(1, username);
        if (st.step()) {
            user = readUser(st);
            stored = st.getText(8);
        }
    });
    // Hash even for unknown users so timing does not reveal which accounts exist.
    const bool pwOk = verifyPassword(password, user ? stored : decoyHash());
    const bool ok = user && pwOk && !user->disabled;

    if (!ok) {
        db_.write("core", [&](db::Connection& c) {
            for (const auto& key : {userKey, addrKey}) {
                auto st = c.prepare(
                    "INSERT INTO kb_login_failures(subject, failures, first_at) VALUES(?1, 1, ?2) "
                    "ON CONFLICT(subject) DO UPDATE SET "
                    " failures = CASE WHEN ?2 - first_at > ?3 THEN 1 ELSE failures + 1 END,"
                    " first_at = CASE WHEN ?2 - first_at > ?3 THEN ?2 ELSE first_at END");
                st.bind(1, key).bind(2, now).bind(3, window).exec();
            }
            auto lock = c.prepare("UPDATE kb_login_failures SET locked_until=?1 WHERE subject=?2 AND failures>=?3");
            lock.bind(1, now + window).bind(2, userKey).bind(3, options_.maxFailures).exec();
        });
        out.message = kBadCredentials;
        out.user = user;  // for the audit record only; never shown
        return out;
    }

    out.ok = true;
    out.user = user;
    out.token = randomToken(32);
    out.csrf = randomToken(32);
    const bool rehash = needsRehash(stored, options_.passwordHash);
    const std::string newHash = rehash ? hashPassword(password, options_.passwordHash) : std::string{};
    db_.write("core", [&](db::Connection& c) {
        auto del = c.prepare("DELETE FROM kb_login_failures WHERE subject=?");
        del.bind(1, userKey).exec();
        auto st = c.prepare(
            "INSERT INTO kb_sessions(token_hash, user_id, csrf_token, created_at, last_seen, remote_addr) VALUES(?,?,?,?,?,?)");
        st.bind(1, sha256Hex(out.token)).bind(2, user->id).bind(3, out.csrf).bind(4, now).bind(5, now).bind(6, remoteAddr);
        st.exec();
        if (rehash) {
            auto up = c.prepare("UPDATE kb_users SET password_hash=? WHERE id=?");
            up.bind(1, newHash).bind(2, user->id).exec();
        }
        // Bounded storage: forget expired sessions.
        auto old = c.prepare("DELETE FROM kb_sessions WHERE last_seen < ? OR created_at < ?");
        old.bind(1, now - static_cast<long long>(options_.idleMinutes) * 60'000)
            .bind(2, now - static_cast<long long>(options_.absoluteHours) * 3'600'000)
            .exec();
    });
    return out;
}

std::optional<SessionInfo> Accounts::session(const std::string& token) {
    if (token.empty() || token.size() > 128) return std::nullopt;
    const std::string h = sha256Hex(token);
    const long long now = nowMs();
    std::optional<SessionInfo> s;
    bool expired = false;
    db_.read("core", [&](db::Connection& c) {
        auto st = c.prepare(
            "SELECT u.id, u.username, u.role, u.hsa_id, u.care_unit, s.csrf_token, s.created_at, s.last_seen, u.disabled "
            "FROM kb_sessions s JOIN kb_users u ON u.id = s.user_id WHERE s.token_hash=?");
        st.bind(1, h);
        if (!st.step()) return;
        const long long created = st.getInt(6), seen = st.getInt(7);
        if (st.getInt(8) != 0 || now - seen > static_cast<long long>(options_.idleMinutes) * 60'000 ||
            now - created > static_cast<long long>(options_.absoluteHours) * 3'600'000) {
            expired = true;
            return;
        }
        SessionInfo info;
        info.principal.userId = st.getInt(0);
        info.principal.username = st.getText(1);
        info.principal.role = roleFromString(st.getText(2)).value_or(Role::Staff);
        info.principal.hsaId = st.getText(3);
        info.principal.careUnit = st.getText(4);
        info.csrf = st.getText(5);
        info.createdAt = created;
        info.lastSeen = seen;
        s = info;
    });
    if (expired) {
        logout(token);
        return std::nullopt;
    }
    // Renew the idle timer at most once a minute to spare the disk.
    if (s && now - s->lastSeen > 60'000) {
        db_.write("core", [&](db::Connection& c) {
            auto st = c.prepare("UPDATE kb_sessions SET last_seen=? WHERE token_hash=?");
            st.bind(1, now).bind(2, h).exec();
        });
    }
    return s;
}

void Accounts::logout(const std::string& token) {
    db_.write("core", [&](db::Connection& c) {
        auto st = c.prepare("DELETE FROM kb_sessions WHERE token_hash=?");
        st.bind(1, sha256Hex(token)).exec();
    });
}

int Accounts::logoutEverywhere(long long userId) {
    int n = 0;
    db_.write("core", [&](db::Connection& c) {
        auto st = c.prepare("DELETE FROM kb_sessions WHERE user_id=?");
        st.bind(1, userId).exec();
        n = c.changes();
    });
    return n;
}

std::string Accounts::createSetupToken(int validHours) {
    const std::string token = randomToken(32);
    db_.write("core", [&](db::Connection& c) {
        c.exec("DELETE FROM kb_setup_tokens");
        auto st = c.prepare("INSERT INTO kb_setup_tokens(token_hash, expires_at) VALUES(?,?)");
        st.bind(1, sha256Hex(token)).bind(2, nowMs() + static_cast<long long>(validHours) * 3'600'000).exec();
    });
    return token;
}

bool Accounts::setupTokenValid(const std::string& token) const {
    bool valid = false;
    db_.read("core", [&](db::Connection& c) {
        auto st = c.prepare("SELECT expires_at FROM kb_setup_tokens WHERE token_hash=?");
        st.bind(1, sha256Hex(token));
        valid = st.step() && st.getInt(0) > nowMs();
    });
    return valid;
}

User Accounts::completeSetup(const std::string& token, const NewUser& admin) {
    if (!setupTokenValid(token)) throw std::invalid_argument("Länken är ogiltig eller har gått ut. Starta om boxen för en ny länk.");
    if (count() > 0) throw std::invalid_argument("Det finns redan ett administratörskonto.");
    NewUser a = admin;
    a.role = Role::Admin;
    User u = create(a);
    db_.write("core", [](db::Connection& c) { c.exec("DELETE FROM kb_setup_tokens"); });
    return u;
}

}  // namespace klinikbox::auth
