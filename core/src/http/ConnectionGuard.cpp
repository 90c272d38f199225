#include "http/ConnectionGuard.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

namespace klinikbox::http {

namespace {
// The guard and connection the calling worker thread serves (set by opened(), cleared by closed()).
thread_local ConnectionGuard* tGuard = nullptr;
thread_local std::uint64_t tConnection = 0;

int shedOrder(ConnectionGuard::Phase p) {
    switch (p) {
        case ConnectionGuard::Phase::Idle: return 0;
        case ConnectionGuard::Phase::Reading: return 1;
        case ConnectionGuard::Phase::Body: return 2;
        case ConnectionGuard::Phase::Handling: break;
    }
    return 3;
}
}  // namespace

ConnectionGuard::ConnectionGuard(Limits limits) : limits_(limits) {
    watchdog_ = std::thread([this] { watch(); });
}

ConnectionGuard::~ConnectionGuard() {
    {
        std::lock_guard lk(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (watchdog_.joinable()) watchdog_.join();
}

bool ConnectionGuard::hasRoom(const std::string& address) const {
    if (limits_.maxPerAddress <= 0) return true;
    std::lock_guard lk(mu_);
    const auto it = perAddress_.find(address);
    return it == perAddress_.end() || it->second < limits_.maxPerAddress;
}

void ConnectionGuard::enqueued(const std::string& address, int fd) {
    {
        std::lock_guard lk(mu_);
        ++perAddress_[address];
        queuedAddress_[fd] = address;
    }
    cv_.notify_all();  // the queue grew: the watchdog checks the reserve
}

std::uint64_t ConnectionGuard::opened(int fd) {
    // The guard's own descriptor of the socket (see Entry::fd): the worker's number may be
    // closed and reused for another connection before closed() runs. -1 when none is left:
    // the connection is then counted but cannot be cut off.
    const int own = fd >= 0 ? ::fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
    std::lock_guard lk(mu_);
    const auto id = nextId_++;
    std::string address;
    if (auto q = queuedAddress_.find(fd); q != queuedAddress_.end()) {
        address = std::move(q->second);
        queuedAddress_.erase(q);
    }
    const auto now = Clock::now();
    open_[id] = Entry{std::move(address), own, Phase::Reading, now, now + limits_.headerTimeout, false};
    tGuard = this;
    tConnection = id;
    cv_.notify_all();
    return id;
}

void ConnectionGuard::closed(std::uint64_t id) {
    std::lock_guard lk(mu_);
    auto it = open_.find(id);
    if (it == open_.end()) return;
    if (auto a = perAddress_.find(it->second.address); a != perAddress_.end() && --a->second <= 0)
        perAddress_.erase(a);
    if (it->second.fd >= 0) ::close(it->second.fd);  // under mu_: the watchdog never sees a closed number
    open_.erase(it);
    if (tGuard == this && tConnection == id) {
        tGuard = nullptr;
        tConnection = 0;
    }
}

void ConnectionGuard::setPhase(std::uint64_t id, Phase phase) {
    bool sooner = false;
    {
        std::lock_guard lk(mu_);
        auto it = open_.find(id);
        if (it == open_.end()) return;
        const auto now = Clock::now();
        it->second.phase = phase;
        it->second.since = now;
        switch (phase) {
            case Phase::Handling: it->second.deadline = Clock::time_point::max(); break;
            case Phase::Body: it->second.deadline = now + limits_.bodyTimeout; break;
            case Phase::Idle: it->second.deadline = now + limits_.idleTimeout; break;
            case Phase::Reading: it->second.deadline = now + limits_.headerTimeout; break;
        }
        // A connection that now waits for bytes also needs the watchdog's regular look (the
        // grace before shedding); it wakes by itself while any does, else this deadline is
        // finite and sooner than max().
        sooner = it->second.deadline < wakeAt_;
    }
    if (sooner) cv_.notify_all();
}

void ConnectionGuard::handling() {
    if (tGuard) tGuard->setPhase(tConnection, Phase::Handling);
}

void ConnectionGuard::readingBody() {
    if (tGuard) tGuard->setPhase(tConnection, Phase::Body);
}

void ConnectionGuard::awaitingNext() {
    if (tGuard) tGuard->setPhase(tConnection, Phase::Idle);
}

int ConnectionGuard::busy() const {
    std::lock_guard lk(mu_);
    return static_cast<int>(open_.size());
}

void ConnectionGuard::abortAll() {
    std::lock_guard lk(mu_);
    for (auto& [id, e] : open_) {
        (void)id;
        if (!e.shut && e.fd >= 0) ::shutdown(e.fd, SHUT_RDWR);
        e.shut = true;
    }
}

// Under mu_: when fewer than `reserve` workers are free (queued connections count against
// them), shuts down the connections that have waited for bytes the longest.
void ConnectionGuard::shedLocked(Clock::time_point now) {
    int live = 0;
    for (const auto& [id, e] : open_) live += e.shut ? 0 : 1;
    const int queued = static_cast<int>(queuedAddress_.size());
    int excess = live + queued - (limits_.workers - limits_.reserve);
    if (excess <= 0) return;
    std::vector<Entry*> candidates;
    for (auto& [id, e] : open_)
        if (!e.shut && e.phase != Phase::Handling && now - e.since >= limits_.grace) candidates.push_back(&e);
    std::sort(candidates.begin(), candidates.end(), [](const Entry* a, const Entry* b) {
        const int oa = shedOrder(a->phase), ob = shedOrder(b->phase);
        return oa != ob ? oa < ob : a->since < b->since;
    });
    for (Entry* e : candidates) {
        if (excess-- <= 0) break;
        if (e->fd >= 0) ::shutdown(e->fd, SHUT_RDWR);
        e->shut = true;
        ++shed_;
    }
}

void ConnectionGuard::watch() {
    std::unique_lock lk(mu_);
    while (!stopping_) {
        auto next = Clock::time_point::max();
        const auto now = Clock::now();
        bool waitingForBytes = false;
        for (auto& [id, e] : open_) {
            (void)id;
            if (e.shut) continue;
            if (e.deadline <= now) {
                // shutdown(2) ends the socket's traffic, through the guard's own descriptor
                // (alive until closed()); the worker sees the end of its read and closes its own.
                if (e.fd >= 0) ::shutdown(e.fd, SHUT_RDWR);
                e.shut = true;
                ++timedOut_;
            } else {
                next = std::min(next, e.deadline);
                if (e.phase != Phase::Handling) waitingForBytes = true;
            }
        }
        shedLocked(now);
        // Connections waiting for bytes may become sheddable as their grace passes and the
        // queue changes without a notification: look again soon while there are any.
        if (waitingForBytes || !queuedAddress_.empty()) next = std::min(next, now + std::chrono::milliseconds(100));
        wakeAt_ = next;
        if (next == Clock::time_point::max()) cv_.wait(lk);
        else cv_.wait_until(lk, next);
        wakeAt_ = Clock::time_point::min();  // looking now: whatever changes, it sees
    }
}

}  // namespace klinikbox::http
