#include "audit/AuditAnchor.h"

#include "audit/AuditLog.h"

#include <Poco/Logger.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace klinikbox::audit {

namespace {

constexpr const char* kMagic = "klinikbox-audit-anchor";
constexpr const char* kAnchoredKey = "audit_anchored";  // kb_meta: this database was anchored once

std::string anchorMac(const std::string& key, long long seq, const std::string& hash) {
    return hmacHex(key, "audit-anchor:1:" + std::to_string(seq) + ":" + hash);
}

std::string checkpointMac(const std::string& key, long long seq, const std::string& hash) {
    return hmacHex(key, "audit-checkpoint:1:" + std::to_string(seq) + ":" + hash);
}

// The value after `name=` in a line, up to the next space.
std::string field(const std::string& line, const std::string& name) {
    const auto p = line.find(" " + name + "=");
    if (p == std::string::npos) return {};
    const auto b = p + name.size() + 2;
    const auto e = line.find_first_of(" \r\n", b);
    return line.substr(b, e == std::string::npos ? std::string::npos : e - b);
}

bool parseSeq(const std::string& s, long long& out) {
    if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos) return false;
    out = std::stoll(s);
    return true;
}

}  // namespace

AuditAnchor::AuditAnchor(store::Database& db, std::string key, std::string path)
    : db_(db), key_(std::move(key)), path_(std::move(path)) {}

AuditAnchor::~AuditAnchor() { stop(); }

AuditAnchor::Head AuditAnchor::databaseHead() const {
    Head h;
    h.hash = kGenesisHash;
    db_.read("core", [&](db::Connection& c) {
        auto st = c.prepare("SELECT seq, hash FROM kb_audit ORDER BY seq DESC LIMIT 1");
        if (st.step()) {
            h.seq = st.getInt(0);
            h.hash = st.getText(1);
        }
    });
    return h;
}

AnchorCheck AuditAnchor::check() const {
    AnchorCheck r;
    std::string line;
    {
        std::ifstream in(path_);
        if (in) std::getline(in, line);
    }
    bool anchoredBefore = false;
    std::string atSeq;
    bool haveAtSeq = false;
    long long seq = 0;
    std::string hash, mac;
    std::istringstream ls(line);
    std::string magic, version;
    ls >> magic >> version >> seq >> hash >> mac;
    const bool present = !line.empty();
    db_.read("core", [&](db::Connection& c) {
        auto m = c.prepare("SELECT 1 FROM kb_meta WHERE key = ?");
        m.bind(1, kAnchoredKey);
        anchoredBefore = m.step();
        auto h = c.prepare("SELECT COALESCE(MAX(seq), 0) FROM kb_audit");
        if (h.step()) r.databaseSeq = h.getInt(0);
        if (present && seq > 0) {
            auto st = c.prepare("SELECT hash FROM kb_audit WHERE seq = ?");
            st.bind(1, seq);
            if (st.step()) {
                haveAtSeq = true;
                atSeq = st.getText(0);
            }
        }
    });
    auto fail = [&](std::string why) {
        r.ok = false;
        r.problem = std::move(why);
    };
    if (!present) {
        std::error_code ec;
        if (anchoredBefore)
            fail("the audit anchor " + path_ + " is missing (or empty) but this database was anchored: it was deleted, or the "
                 "database comes from another box; after checking, run `klinikbox audit re-anchor --reason TEXT`");
        return r;
    }
    if (magic != kMagic || version != "1" || hash.empty() || mac != anchorMac(key_, seq, hash)) {
        fail("the audit anchor " + path_ + " was changed or is damaged (its MAC does not match the audit key)");
        return r;
    }
    r.anchoredSeq = seq;
    if (seq > r.databaseSeq) {
        fail(r.databaseSeq == 0
                 ? "the database's audit log is empty but the anchor outside it names record " + std::to_string(seq) +
                       ": the log was wiped or the database swapped"
                 : "the database's audit log ends at record " + std::to_string(r.databaseSeq) +
                       " but the anchor outside it names record " + std::to_string(seq) +
                       ": records were removed, or an older backup was restored (after a deliberate restore run "
                       "`klinikbox audit re-anchor --reason TEXT`)");
        return r;
    }
    if (seq > 0 && (!haveAtSeq || atSeq != hash)) {
        fail("record " + std::to_string(seq) +
             " is not the one the anchor outside the database names: the database was swapped or its audit log rewritten");
    }
    return r;
}

void AuditAnchor::write(const Head& h) {
    const std::string text = std::string(kMagic) + " 1 " + std::to_string(h.seq) + " " + h.hash + " " +
                             anchorMac(key_, h.seq, h.hash) + "\n";
    const std::string tmp = path_ + ".tmp." + std::to_string(::getpid());
    ::unlink(tmp.c_str());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) throw std::runtime_error("cannot write the audit anchor " + tmp);
    const auto dir = std::filesystem::path(path_).parent_path();
    if (::geteuid() == 0) {
        // An admin command run as root: the file stays the box's (the data directory's owner).
        struct stat ds {};
        if (::stat(dir.empty() ? "." : dir.c_str(), &ds) == 0 && ::fchown(fd, ds.st_uid, ds.st_gid) != 0) {
            ::close(fd);
            ::unlink(tmp.c_str());
            throw std::runtime_error("cannot give the audit anchor to the data directory's owner");
        }
    }
    const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), path_.c_str()) != 0) {
        ::unlink(tmp.c_str());
        throw std::runtime_error("cannot write the audit anchor " + path_);
    }
    const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
}

bool AuditAnchor::advance() {
    std::lock_guard lock(mu_);
    if (mismatched_) return false;
    const auto c = check();
    if (!c.ok) {
        mismatched_ = true;
        mismatch_ = c.problem;
        Poco::Logger::get("audit").critical("AUDIT LOG DOES NOT MATCH ITS ANCHOR: " + c.problem);
        return false;
    }
    const Head h = databaseHead();
    std::string current;
    {
        std::ifstream in(path_);
        if (in) std::getline(in, current);
    }
    if (current.empty() || c.anchoredSeq != h.seq) write(h);
    if (current.empty()) {
        db_.write("core", [&](db::Connection& conn) {
            auto st = conn.prepare("INSERT INTO kb_meta(key, value) VALUES(?, '1') ON CONFLICT(key) DO NOTHING");
            st.bind(1, kAnchoredKey).exec();
        });
    }
    return true;
}

void AuditAnchor::reset() {
    std::lock_guard lock(mu_);
    write(databaseHead());
    db_.write("core", [&](db::Connection& conn) {
        auto st = conn.prepare("INSERT INTO kb_meta(key, value) VALUES(?, '1') ON CONFLICT(key) DO NOTHING");
        st.bind(1, kAnchoredKey).exec();
    });
    mismatched_ = false;
    mismatch_.clear();
}

std::string AuditAnchor::mismatch() const {
    std::lock_guard lock(mu_);
    return mismatch_;
}

std::string AuditAnchor::checkpointLine() const {
    const Head h = databaseHead();
    return "audit checkpoint seq=" + std::to_string(h.seq) + " hash=" + h.hash + " mac=" + checkpointMac(key_, h.seq, h.hash);
}

AnchorCheck AuditAnchor::checkCheckpoints(std::istream& log) const {
    AnchorCheck r;
    struct Point {
        long long seq;
        std::string hash;
    };
    std::vector<Point> points;
    std::string line;
    while (std::getline(log, line)) {
        if (line.find("audit checkpoint seq=") == std::string::npos) continue;
        long long seq = 0;
        const std::string hash = field(line, "hash"), mac = field(line, "mac");
        if (!parseSeq(field(line, "seq"), seq) || hash.empty() || mac != checkpointMac(key_, seq, hash)) {
            ++r.unreadable;
            continue;
        }
        points.push_back({seq, hash});
        r.anchoredSeq = std::max(r.anchoredSeq, seq);
    }
    r.checkpoints = static_cast<int>(points.size());
    db_.read("core", [&](db::Connection& c) {
        auto h = c.prepare("SELECT COALESCE(MAX(seq), 0) FROM kb_audit");
        if (h.step()) r.databaseSeq = h.getInt(0);
        for (const auto& p : points) {
            if (p.seq == 0) continue;
            auto st = c.prepare("SELECT hash FROM kb_audit WHERE seq = ?");
            st.bind(1, p.seq);
            if (!st.step()) {
                r.ok = false;
                r.problem = "a logged checkpoint names record " + std::to_string(p.seq) + " but the database's audit log ends at " +
                            std::to_string(r.databaseSeq) + ": records were removed or an older database is in use";
                return;
            }
            if (st.getText(0) != p.hash) {
                r.ok = false;
                r.problem = "record " + std::to_string(p.seq) + " differs from its logged checkpoint: the audit log was rewritten";
                return;
            }
        }
    });
    return r;
}

void AuditAnchor::logCheckpoint() {
    const Head h = databaseHead();
    if (h.seq == lastCheckpointSeq_) return;
    lastCheckpointSeq_ = h.seq;
    Poco::Logger::get("audit").notice("audit checkpoint seq=" + std::to_string(h.seq) + " hash=" + h.hash +
                                      " mac=" + checkpointMac(key_, h.seq, h.hash));
}

void AuditAnchor::start(std::chrono::milliseconds checkpointEvery) {
    if (!advance())
        Poco::Logger::get("audit").critical("the audit anchor is left as it was; `klinikbox audit verify` reports the "
                                            "mismatch until an operator runs `klinikbox audit re-anchor`");
    {
        std::lock_guard lock(mu_);
        stopping_ = false;
    }
    logCheckpoint();
    worker_ = std::thread([this, checkpointEvery] {
        auto nextCheckpoint = std::chrono::steady_clock::now() + checkpointEvery;
        std::unique_lock lock(mu_);
        while (!stopping_) {
            cv_.wait_until(lock, nextCheckpoint, [&] { return stopping_ || dirty_; });
            if (stopping_) break;
            const bool wasDirty = dirty_;
            dirty_ = false;
            lock.unlock();
            try {
                if (wasDirty) advance();
                if (std::chrono::steady_clock::now() >= nextCheckpoint) {
                    logCheckpoint();
                    nextCheckpoint = std::chrono::steady_clock::now() + checkpointEvery;
                }
            } catch (const std::exception& e) {
                Poco::Logger::get("audit").error(std::string("audit anchor: ") + e.what());
            }
            // Coalesce a burst of appends into one file write.
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            lock.lock();
        }
    });
}

void AuditAnchor::notify() {
    {
        std::lock_guard lock(mu_);
        dirty_ = true;
    }
    cv_.notify_one();
}

void AuditAnchor::stop() {
    {
        std::lock_guard lock(mu_);
        if (!worker_.joinable()) return;
        stopping_ = true;
    }
    cv_.notify_one();
    worker_.join();
    try {
        advance();
        logCheckpoint();
    } catch (const std::exception& e) {
        Poco::Logger::get("audit").error(std::string("audit anchor at stop: ") + e.what());
    }
}

}  // namespace klinikbox::audit
