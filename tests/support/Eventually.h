// Waiting for something another process or thread makes true: the one polling helper of the
// tests. The limit is generous on purpose: the suite runs on a loaded 2-core machine and
// under ASan, and a condition that holds returns at its first true poll anyway. Only for
// conditions expected to come true; a test never waits out the limit to prove an absence.
#pragma once

#include <chrono>
#include <thread>

namespace kbtest {

template <class Condition>
bool eventually(Condition&& done, std::chrono::seconds limit = std::chrono::seconds(60)) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
        if (done()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return done();
}

}  // namespace kbtest
