// Keeps slow or idle clients from holding the HTTP workers (slowloris). POCO serves each
// connection on one worker thread that blocks while it reads; without limits, ~20 idle sockets
// took /healthz, the console and the kiosk offline. Together with the listener's waiting room
// (HttpServer: a socket gets a worker only once its first bytes have arrived) the guard:
//   - counts the workers each address holds; a connection from an address that holds
//     `maxPerAddress` already waits in the waiting room (it is not refused: many patients'
//     phones share the clinic Wi-Fi's address) until one is free or its header time is up;
//   - gives every phase of a connection a deadline: the TLS handshake and the request head
//     must arrive within `headerTimeout` of the first byte, a body within `bodyTimeout`, the
//     next request on a kept-alive connection within `idleTimeout`. A watchdog thread shuts
//     down the socket of a connection past its deadline, which ends the worker's blocked read;
//   - keeps `reserve` workers for requests that arrive whole (health checks, the kiosk, the
//     console): when fewer than `reserve` workers are free, it sheds connections that have
//     been waiting for bytes longer than `grace` (idle keep-alive first, then slow heads, then
//     slow bodies, oldest first), so a slow client can hold at most workers - reserve of them.
// While a handler runs there is no deadline and no shedding: route budgets bound handlers.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace klinikbox::http {

class ConnectionGuard {
public:
    struct Limits {
        int maxPerAddress = 8;  // 0: no per-address limit
        int workers = 16;
        int reserve = 4;
        std::chrono::milliseconds headerTimeout{10000};
        std::chrono::milliseconds bodyTimeout{30000};
        std::chrono::milliseconds idleTimeout{5000};
        std::chrono::milliseconds grace{1000};
    };
    enum class Phase { Reading, Body, Handling, Idle };

    explicit ConnectionGuard(Limits limits);
    ~ConnectionGuard();
    ConnectionGuard(const ConnectionGuard&) = delete;
    ConnectionGuard& operator=(const ConnectionGuard&) = delete;

    // Listener thread: whether `address` may take one more worker now.
    [[nodiscard]] bool hasRoom(const std::string& address) const;
    // Listener thread: the socket `fd` from `address` goes to the dispatcher's queue.
    void enqueued(const std::string& address, int fd);

    // Worker thread: the queued connection on `fd` starts; its request head is due within
    // headerTimeout. Returns its id for closed(). The guard duplicates `fd` and shuts the
    // connection down only through its duplicate, which it closes in closed(): the worker's
    // number may already be closed (POCO's session closes the socket before closed() runs)
    // and reused by a new connection, which the watchdog must never touch.
    std::uint64_t opened(int fd);
    // The connection is gone: its address's count drops.
    void closed(std::uint64_t id);

    // Phases of the connection served by the calling thread (no-ops on other threads).
    static void handling();      // the request head is read: no deadline while the handler runs
    static void readingBody();   // the body is being read: bodyTimeout from now
    static void awaitingNext();  // the answer is sent: idleTimeout from now

    // Shuts down every open connection (server stop).
    void abortAll();
    // The listener closed a waiting socket whose header time ran out.
    void countWaitingTimeout() { ++timedOut_; }

    [[nodiscard]] int busy() const;  // connections on a worker
    [[nodiscard]] long long timedOut() const { return timedOut_.load(); }
    [[nodiscard]] long long shed() const { return shed_.load(); }
    [[nodiscard]] const Limits& limits() const { return limits_; }

private:
    using Clock = std::chrono::steady_clock;
    struct Entry {
        std::string address;
        int fd = -1;  // the guard's duplicate of the socket's descriptor (-1: none)
        Phase phase = Phase::Reading;
        Clock::time_point since;     // start of the phase
        Clock::time_point deadline;  // max() while a handler runs
        bool shut = false;
    };
    void setPhase(std::uint64_t id, Phase phase);
    void watch();
    void shedLocked(Clock::time_point now);

    Limits limits_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    // When the watchdog wakes next by itself (max(): not until notified). A phase change wakes
    // it only with a deadline before that: three notifications per request woke it 3,000 times
    // a second under load, to find nothing due (docs/performance.md, "2026-12-07, evening").
    Clock::time_point wakeAt_ = Clock::time_point::min();
    std::map<std::string, int> perAddress_;      // on a worker or queued for one
    std::map<int, std::string> queuedAddress_;   // fd -> address, between enqueued() and opened()
    std::map<std::uint64_t, Entry> open_;
    std::uint64_t nextId_ = 1;
    bool stopping_ = false;
    std::atomic<long long> timedOut_{0}, shed_{0};
    std::thread watchdog_;
};

}  // namespace klinikbox::http
