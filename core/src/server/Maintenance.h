// Keeps a box that runs for years bounded: prunes delivered outbox messages and dead
// sessions in small batches, returns free pages to the file system, and watches the free
// disk space of the data directory (a warning in /readyz and a gauge in /metrics).
#pragma once

#include "server/Box.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace klinikbox::server {

struct MaintenanceOptions {
    int deliveredRetentionDays = 30;   // delivered outbox messages kept this long
    int batchRows = 500;               // rows deleted per transaction
    long long lowDiskBytes = 1LL << 30;  // warn below 1 GiB free ...
    double lowDiskFraction = 0.05;       // ... or below 5 % free
    std::chrono::seconds interval{600};
};

class Maintenance {
public:
    Maintenance(Box& box, MaintenanceOptions options);
    ~Maintenance();
    void start();
    void stop();
    // One pass; returns the rows removed (tests call it directly).
    long long runOnce();
    [[nodiscard]] long long freeBytes() const { return freeBytes_; }
    [[nodiscard]] bool lowDisk() const { return lowDisk_; }

    // A box runs for months: re-evaluates the running set's dates (the banner from 30 days
    // before expiry, the grace period, then a refusal that stops its plugins).
    void checkPluginSet();
    // Once a day (the first pass of each UTC day), a log line for each date ahead that stops
    // the set within its warning window: the set, a signer certificate, a CRL. Returns the
    // lines logged (tests call it directly).
    int logExpiryWarnings();

private:
    void checkDisk();
    Box& box_;
    MaintenanceOptions options_;
    std::atomic<long long> freeBytes_{-1};
    std::atomic<bool> lowDisk_{false};
    long long lastWarnedDay_ = -1;
    std::mutex mu_;
    std::condition_variable cv_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace klinikbox::server
