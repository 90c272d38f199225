// The process time zone for the span of a test. The box sets TZ from box.timezone at start; a
// test that computes the box's dates itself sets the same zone.
#pragma once

#include <klinikbox/Clock.h>

#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

namespace kbtest {

class ScopedTimeZone {
public:
    explicit ScopedTimeZone(const char* tz) {
        if (const char* old = std::getenv("TZ")) old_ = old;
        ::setenv("TZ", tz, 1);
        ::tzset();
        klinikbox::Clock::timeZoneChanged();
    }
    ~ScopedTimeZone() {
        if (old_) ::setenv("TZ", old_->c_str(), 1);
        else ::unsetenv("TZ");
        ::tzset();
        klinikbox::Clock::timeZoneChanged();
    }
    ScopedTimeZone(const ScopedTimeZone&) = delete;
    ScopedTimeZone& operator=(const ScopedTimeZone&) = delete;

private:
    std::optional<std::string> old_;
};

}  // namespace kbtest
