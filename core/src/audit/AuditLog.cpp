#include "audit/AuditLog.h"

#include "audit/AuditAnchor.h"

#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Timestamp.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <limits>
#include <optional>
#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace klinikbox::audit {

namespace {

constexpr const char* kGenesis = kGenesisHash;
// kb_meta: the first record hashed in format 2. Records before it (written by a version
// that hashed a NULL user id as "0") are checked in format 1.
constexpr const char* kFormat2Key = "audit_format2_from";

std::string hex(const unsigned char* p, unsigned n) {
    static const char* d = "0123456789abcdef";
    std::string s;
    s.reserve(n * 2);
    for (unsigned i = 0; i < n; ++i) {
        s.push_back(d[p[i] >> 4]);
        s.push_back(d[p[i] & 15]);
    }
    return s;
}

// Every field, length-prefixed so that no two different records serialise alike. Format 2
// writes the user id as "null" when there is none, so NULL and 0 no longer hash alike;
// format 1 (older records) wrote both as "0".
std::string canonical(int format, long long seq, const std::string& at, bool noUser, long long userId,
                      const std::string& username, const std::string& role, const std::string& hsa,
                      const std::string& unit, const std::string& action, const std::string& patient,
                      const std::string& purpose, const std::string& outcome, const std::string& details,
                      const std::string& reqId, const std::string& addr, const std::string& prev,
                      const std::vector<std::string>* subjects = nullptr) {
    std::ostringstream os;
    auto f = [&](const std::string& v) { os << v.size() << ':' << v << ';'; };
    if (format >= 2) f("v2");
    f(std::to_string(seq));
    f(at);
    if (format >= 2) f(noUser ? std::string("null") : std::to_string(userId));
    else f(std::to_string(noUser ? 0 : userId));
    for (const auto* v : {&username, &role, &hsa, &unit, &action, &patient, &purpose, &outcome, &details,
                          &reqId, &addr, &prev})
        f(*v);
    // A record of a multi-patient view (kb_audit_subjects) hashes its sorted subject list
    // after the fixed fields: every field is length-prefixed and the fixed ones come first,
    // so no record with subjects serialises like one without.
    if (subjects && !subjects->empty()) {
        f("subjects");
        f(std::to_string(subjects->size()));
        for (const auto& s : *subjects) f(s);
    }
    return os.str();
}

std::string mac(const std::string& key, const std::string& data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
              reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len)) {
        throw std::runtime_error("HMAC failed");
    }
    return hex(out, len);
}

}  // namespace

std::string hmacHex(const std::string& key, const std::string& data) { return mac(key, data); }

AuditLog::AuditLog(store::Database& db, const Clock& clock, std::string key)
    : db_(db), clock_(clock), key_(std::move(key)) {
    if (key_.size() < 16) throw std::invalid_argument("the audit key must have at least 16 bytes");
}

std::string AuditLog::loadOrCreateKey(const std::string& path) {
    if (std::filesystem::exists(path)) {
        std::ifstream in(path, std::ios::binary);
        std::string k((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (k.size() < 32) throw std::runtime_error("the audit key " + path + " is truncated");
        return k;
    }
    unsigned char buf[32];
    if (RAND_bytes(buf, sizeof buf) != 1) throw std::runtime_error("no randomness for the audit key");
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
    if (fd < 0) throw std::runtime_error("cannot create the audit key " + path);
    const bool ok = ::write(fd, buf, sizeof buf) == static_cast<ssize_t>(sizeof buf) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) throw std::runtime_error("cannot write the audit key " + path);
    return std::string(reinterpret_cast<char*>(buf), sizeof buf);
}

std::string AuditLog::loadKey(const std::string& path) {
    if (!std::filesystem::exists(path))
        throw std::runtime_error("the audit key " + path + " is missing: the audit log cannot be verified without it "
                                 "(restore it from the backup that holds the database; never create a new one)");
    std::ifstream in(path, std::ios::binary);
    std::string k((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (k.size() < 32) throw std::runtime_error("the audit key " + path + " is truncated");
    return k;
}

std::string AuditLog::loadOrCreateKeyFor(store::Database& db, const std::string& path) {
    if (std::filesystem::exists(path)) return loadKey(path);
    long long records = 0;
    db.read("core", [&](db::Connection& c) {
        auto st = c.prepare("SELECT COUNT(*) FROM kb_audit");
        if (st.step()) records = st.getInt(0);
    });
    if (records > 0)
        throw std::runtime_error("the audit key " + path + " is missing but the audit log holds " + std::to_string(records) +
                                 " records: restore audit.key from the backup (a new key would break the chain)");
    return loadOrCreateKey(path);
}

Actor AuditLog::actorOf(const Request& r) {
    Actor a;
    if (r.principal) {
        a.userId = r.principal->userId;
        a.username = r.principal->username;
        a.role = std::string(toString(r.principal->role));
        a.hsaId = r.principal->hsaId;
        a.careUnit = r.principal->careUnit;
    } else {
        a.username = "anonymous";
        a.role = "anonymous";
    }
    a.requestId = r.requestId;
    a.remoteAddr = r.remoteAddress;
    return a;
}

void AuditLog::append(const Actor& who, const AuditEntry& e) {
    db_.write("core", [&](db::Connection& c) { appendLocked(who, e, c); });
    if (anchor_) anchor_->notify();
}

void AuditLog::append(const Actor& who, const AuditEntry& e, db::Connection& tx) {
    if (!tx.inTransaction()) throw std::logic_error("Audit::record(tx) must be called inside Store::write");
    store::Database::asCore(tx, [&] { appendLocked(who, e, tx); });
    // The caller commits later (or rolls back): the anchor reads the committed head itself.
    if (anchor_) anchor_->notify();
}

void AuditLog::appendSubjects(const Actor& who, const AuditEntry& e, std::vector<std::string> subjects) {
    std::sort(subjects.begin(), subjects.end());
    subjects.erase(std::unique(subjects.begin(), subjects.end()), subjects.end());
    if (subjects.empty()) return;
    db_.write("core", [&](db::Connection& c) { appendLocked(who, e, c, &subjects); });
    if (anchor_) anchor_->notify();
}

void AuditLog::appendSubjects(const Actor& who, const AuditEntry& e, std::vector<std::string> subjects,
                              db::Connection& tx) {
    if (!tx.inTransaction()) throw std::logic_error("Audit::recordSubjects(tx) must be called inside Store::write");
    std::sort(subjects.begin(), subjects.end());
    subjects.erase(std::unique(subjects.begin(), subjects.end()), subjects.end());
    if (subjects.empty()) return;
    store::Database::asCore(tx, [&] { appendLocked(who, e, tx, &subjects); });
    if (anchor_) anchor_->notify();
}

long long AuditLog::format2From(db::Connection& c, long long nextSeq) {
    auto st = c.prepare("SELECT value FROM kb_meta WHERE key = ?");
    st.bind(1, kFormat2Key);
    if (st.step()) return std::stoll(st.getText(0));
    // First record of a new log, or the first after an upgrade from format 1.
    auto ins = c.prepare("INSERT INTO kb_meta(key, value) VALUES(?, ?)");
    ins.bind(1, kFormat2Key).bind(2, std::to_string(nextSeq)).exec();
    return nextSeq;
}

void AuditLog::appendLocked(const Actor& who, const AuditEntry& entry, db::Connection& c,
                            const std::vector<std::string>* subjects) {
    // One subject is an ordinary record of that patient; several go to kb_audit_subjects.
    AuditEntry e = entry;
    if (subjects) {
        if (!e.patient.empty()) throw std::logic_error("a record of several patients names them as subjects only");
        if (subjects->size() == 1) {
            e.patient = subjects->front();
            subjects = nullptr;
        } else if (subjects->empty()) {
            subjects = nullptr;
        }
    }
    long long seq = 1;
    std::string prev = kGenesis;
    {
        auto st = c.prepare("SELECT seq, hash FROM kb_audit ORDER BY seq DESC LIMIT 1");
        if (st.step()) {
            seq = st.getInt(0) + 1;
            prev = st.getText(1);
        }
    }
    const Poco::Timestamp ts(std::chrono::duration_cast<std::chrono::microseconds>(
                                 clock_.now().time_since_epoch()).count());
    const std::string at = Poco::DateTimeFormatter::format(ts, "%Y-%m-%dT%H:%M:%S.%iZ");
    const int format = seq >= format2From(c, seq) ? 2 : 1;
    const bool noUser = who.userId == 0;
    const std::string h = mac(key_, canonical(format, seq, at, noUser, who.userId, who.username, who.role, who.hsaId,
                                              who.careUnit, e.action, e.patient, e.purpose, e.outcome,
                                              e.details, who.requestId, who.remoteAddr, prev, subjects));
    auto ins = c.prepare(
        "INSERT INTO kb_audit(seq, at, user_id, username, role, hsa_id, care_unit, action, patient, purpose,"
        " outcome, details, request_id, remote_addr, prev_hash, hash) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    ins.bind(1, seq).bind(2, at);
    if (noUser) ins.bindNull(3); else ins.bind(3, who.userId);
    ins.bind(4, who.username).bind(5, who.role).bind(6, who.hsaId).bind(7, who.careUnit).bind(8, e.action)
        .bind(9, e.patient).bind(10, e.purpose).bind(11, e.outcome).bind(12, e.details).bind(13, who.requestId)
        .bind(14, who.remoteAddr).bind(15, prev).bind(16, h);
    ins.exec();
    if (subjects) {
        auto sub = c.prepare("INSERT INTO kb_audit_subjects(seq, subject) VALUES(?, ?)");
        for (const auto& s : *subjects) {
            sub.reset();
            sub.bind(1, seq).bind(2, s).exec();
        }
    }
    // The head (last seq and hash), keyed: deleting the newest records is detected too.
    auto head = c.prepare("INSERT INTO kb_meta(key, value) VALUES('audit_head', ?) "
                          "ON CONFLICT(key) DO UPDATE SET value=excluded.value");
    const std::string hv = std::to_string(seq) + ":" + h;
    head.bind(1, hv + ":" + mac(key_, "head:" + hv)).exec();
}

VerifyResult AuditLog::verify() const {
    VerifyResult r;
    db_.read("core", [&](db::Connection& c) {
        long long from2 = std::numeric_limits<long long>::max();
        {
            auto m = c.prepare("SELECT value FROM kb_meta WHERE key = ?");
            m.bind(1, kFormat2Key);
            if (m.step()) from2 = std::stoll(m.getText(0));
        }
        auto st = c.prepare(
            "SELECT seq, at, user_id, username, role, hsa_id, care_unit, action, patient, purpose,"
            " outcome, details, request_id, remote_addr, prev_hash, hash FROM kb_audit ORDER BY seq");
        // The subject lists of multi-patient views, read alongside in the same order.
        auto sub = c.prepare("SELECT seq, subject FROM kb_audit_subjects ORDER BY seq, subject");
        bool subMore = sub.step();
        std::vector<std::string> subjects;
        long long expect = 1;
        std::string prev = kGenesis;
        while (st.step()) {
            const long long seq = st.getInt(0);
            ++r.records;
            auto fail = [&](long long at, const std::string& why) {
                r.ok = false;
                r.firstBadSeq = at;
                r.problem = why;
            };
            if (seq != expect) {
                fail(expect, "record " + std::to_string(expect) + " is missing (next present is " +
                                 std::to_string(seq) + ")");
                return;
            }
            if (st.getText(14) != prev) {
                fail(seq, "record " + std::to_string(seq) + " does not chain to the record before it");
                return;
            }
            // The box never writes a user id of 0 (no user is NULL), and only whole numbers.
            const bool uidNull = st.isNull(2);
            if (!uidNull && (st.getInt(2) == 0 || st.getText(2) != std::to_string(st.getInt(2)))) {
                fail(seq, "record " + std::to_string(seq) + " was changed after it was written (user id)");
                return;
            }
            subjects.clear();
            while (subMore && sub.getInt(0) <= seq) {
                if (sub.getInt(0) < seq) {
                    fail(sub.getInt(0), "a patient was added to the list of a view that is not in the log (record " +
                                            std::to_string(sub.getInt(0)) + ")");
                    return;
                }
                subjects.push_back(sub.getText(1));
                subMore = sub.step();
            }
            const long long uid = uidNull ? 0 : st.getInt(2);
            const std::string h = mac(key_, canonical(seq >= from2 ? 2 : 1, seq, st.getText(1), uidNull, uid, st.getText(3), st.getText(4),
                                                      st.getText(5), st.getText(6), st.getText(7), st.getText(8),
                                                      st.getText(9), st.getText(10), st.getText(11), st.getText(12),
                                                      st.getText(13), prev, &subjects));
            if (h != st.getText(15)) {
                fail(seq, "record " + std::to_string(seq) + " was changed after it was written");
                return;
            }
            prev = h;
            ++expect;
        }
        if (subMore) {
            r.ok = false;
            r.firstBadSeq = sub.getInt(0);
            r.problem = "a patient was added to the list of a view that is not in the log (record " +
                        std::to_string(sub.getInt(0)) + ")";
            return;
        }
        // Compare with the keyed head so that removing the newest records is caught.
        auto hd = c.prepare("SELECT value FROM kb_meta WHERE key='audit_head'");
        if (hd.step()) {
            const std::string v = hd.getText(0);
            const auto p2 = v.rfind(':');
            const std::string hv = v.substr(0, p2);
            if (p2 == std::string::npos || mac(key_, "head:" + hv) != v.substr(p2 + 1)) {
                r.ok = false;
                r.firstBadSeq = expect;
                r.problem = "the audit head record was tampered with";
                return;
            }
            const std::string want = std::to_string(expect - 1) + ":" + prev;
            if (hv != want) {
                const auto p1 = hv.find(':');
                r.ok = false;
                r.firstBadSeq = expect;
                r.problem = "records after " + std::to_string(expect - 1) + " are missing (the log ended at " +
                            hv.substr(0, p1) + ")";
            }
        } else if (r.records > 0) {
            r.ok = false;
            r.firstBadSeq = 1;
            r.problem = "the audit head record is missing";
        }
    });
    if (r.ok && anchor_) {
        const auto a = anchor_->check();
        if (!a.ok) {
            r.ok = false;
            r.firstBadSeq = a.anchoredSeq > a.databaseSeq ? a.databaseSeq + 1 : std::max(1LL, a.anchoredSeq);
            r.problem = a.problem;
        }
    }
    return r;
}

AuditEntry PluginAudit::scoped(const AuditEntry& e) const {
    AuditEntry s = e;
    if (s.action.rfind(owner_ + ".", 0) != 0) s.action = owner_ + "." + s.action;
    return s;
}

void PluginAudit::record(const Request& by, const AuditEntry& entry) {
    log_.append(AuditLog::actorOf(by), scoped(entry));
    ++by.auditRecords;
}

void PluginAudit::record(const Request& by, const AuditEntry& entry, db::Connection& tx) {
    log_.append(AuditLog::actorOf(by), scoped(entry), tx);
    ++by.auditRecords;
}

void PluginAudit::recordSubjects(const Request& by, const AuditEntry& entry, const std::vector<std::string>& subjects) {
    if (subjects.empty()) return;
    log_.appendSubjects(AuditLog::actorOf(by), scoped(entry), subjects);
    ++by.auditRecords;
}

void PluginAudit::recordSubjects(const Request& by, const AuditEntry& entry, const std::vector<std::string>& subjects,
                                 db::Connection& tx) {
    if (subjects.empty()) return;
    log_.appendSubjects(AuditLog::actorOf(by), scoped(entry), subjects, tx);
    ++by.auditRecords;
}

void PluginAudit::recordSystem(const AuditEntry& entry) {
    Actor a;
    a.username = "system:" + owner_;
    a.role = "system";
    log_.append(a, scoped(entry));
}

void PluginAudit::recordSystem(const AuditEntry& entry, db::Connection& tx) {
    Actor a;
    a.username = "system:" + owner_;
    a.role = "system";
    log_.append(a, scoped(entry), tx);
}

}  // namespace klinikbox::audit
