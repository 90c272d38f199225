#include "server/Maintenance.h"

#include <Poco/Logger.h>

#include <sys/statvfs.h>

#include <ctime>

namespace klinikbox::server {

Maintenance::Maintenance(Box& box, MaintenanceOptions options) : box_(box), options_(options) {}

Maintenance::~Maintenance() { stop(); }

void Maintenance::checkDisk() {
    struct statvfs st {};
    if (::statvfs(box_.config().dataDir.c_str(), &st) != 0) return;
    const long long free = static_cast<long long>(st.f_bavail) * static_cast<long long>(st.f_frsize);
    const long long total = static_cast<long long>(st.f_blocks) * static_cast<long long>(st.f_frsize);
    freeBytes_ = free;
    const bool low = free < options_.lowDiskBytes || (total > 0 && static_cast<double>(free) / static_cast<double>(total) < options_.lowDiskFraction);
    if (low && !lowDisk_) Poco::Logger::get("maintenance").error("low disk space in " + box_.config().dataDir + ": " +
                                                                 std::to_string(free / (1 << 20)) + " MiB free");
    lowDisk_ = low;
}

void Maintenance::checkPluginSet() {
    auto& set = box_.activeSet();
    if (!set.isSigned || set.expires.size() != 10) return;
    std::tm tm{};
    if (!strptime(set.expires.c_str(), "%Y-%m-%d", &tm)) return;
    const auto expires = std::chrono::system_clock::from_time_t(timegm(&tm));
    const auto now = box_.clock().now();
    const auto day = std::chrono::hours(24);
    auto& log = Poco::Logger::get("pluginset");
    if (now >= expires + day * box_.config().graceDays) {
        log.error("the plugin set " + set.name + " expired on " + set.expires + " and its grace period is over");
        box_.reloadPlugins();  // verified again: refused, so its plugins stop
    } else if (now >= expires) {
        if (set.status != "expired-in-grace") log.warning("the plugin set " + set.name + " expired on " + set.expires);
        set.status = "expired-in-grace";
    } else if (now >= expires - day * 30) {
        set.status = "expiring-soon";
    }
}

int Maintenance::logExpiryWarnings() {
    const auto now = box_.clock().now();
    const long long day = std::chrono::floor<std::chrono::days>(now).time_since_epoch().count();
    if (day == lastWarnedDay_) return 0;
    lastWarnedDay_ = day;
    const auto& set = box_.activeSet();
    int n = 0;
    for (const auto& e : set.expiries) {
        if (!pluginset::isDue(e, now)) continue;
        Poco::Logger::get("pluginset").warning(pluginset::warningFor(e, now, set.region));
        ++n;
    }
    return n;
}

long long Maintenance::runOnce() {
    checkDisk();
    checkPluginSet();
    logExpiryWarnings();
    long long removed = 0;
    const long long nowMs =
        std::chrono::duration_cast<std::chrono::milliseconds>(box_.clock().now().time_since_epoch()).count();
    const long long deliveredBefore = nowMs - static_cast<long long>(options_.deliveredRetentionDays) * 86'400'000;
    const long long sessionIdle = static_cast<long long>(box_.config().sessionIdleMinutes) * 60'000;
    const long long sessionAbs = static_cast<long long>(box_.config().sessionAbsoluteHours) * 3'600'000;
    const long long failureWindow = static_cast<long long>(box_.config().loginLockoutMinutes) * 60'000;
    // Small batches, each its own short transaction, so requests never wait long.
    auto batch = [&](const std::string& sql, auto&&... params) {
        for (;;) {
            int n = 0;
            box_.db().write("core", [&](db::Connection& c) {
                auto st = c.prepare(sql);
                int i = 1;
                (st.bind(i++, params), ...);
                st.bind(i, options_.batchRows);
                st.exec();
                n = c.changes();
            });
            removed += n;
            if (n < options_.batchRows) break;
        }
    };
    batch("DELETE FROM kb_outbox WHERE id IN (SELECT id FROM kb_outbox WHERE state='delivered' AND delivered_at < ? LIMIT ?)",
          deliveredBefore);
    batch("DELETE FROM kb_sessions WHERE token_hash IN (SELECT token_hash FROM kb_sessions WHERE last_seen < ? OR created_at < ? LIMIT ?)",
          nowMs - sessionIdle, nowMs - sessionAbs);
    batch("DELETE FROM kb_login_failures WHERE subject IN (SELECT subject FROM kb_login_failures WHERE first_at < ? AND locked_until < ? LIMIT ?)",
          nowMs - failureWindow, nowMs);
    // Give freed pages back to the file system (the database is created with auto_vacuum=INCREMENTAL).
    auto c = box_.db().acquire("core");
    c->exec("PRAGMA incremental_vacuum(2000)");
    if (removed > 0) Poco::Logger::get("maintenance").information("pruned " + std::to_string(removed) + " old rows");
    return removed;
}

void Maintenance::start() {
    checkDisk();
    thread_ = std::thread([this] {
        std::unique_lock lock(mu_);
        while (!stopping_) {
            lock.unlock();
            try {
                runOnce();
            } catch (const std::exception& e) {
                Poco::Logger::get("maintenance").error(std::string("maintenance failed: ") + e.what());
            }
            lock.lock();
            cv_.wait_for(lock, options_.interval, [&] { return stopping_; });
        }
    });
}

void Maintenance::stop() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

}  // namespace klinikbox::server
