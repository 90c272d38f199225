// A suite whose tests compute the box's local times (slots, kiosk clocks, kb.time) runs in
// Swedish time, the box's default zone, whatever zone the machine running it is in (CI's is
// UTC). Include once in one file of the suite; a test that needs another zone uses
// ScopedTimeZone, which puts this one back.
#pragma once

#include "TimeZone.h"

#include <gtest/gtest.h>

#include <memory>

namespace kbtest {

class SwedishTimeZoneEnvironment : public ::testing::Environment {
public:
    void SetUp() override { zone_ = std::make_unique<ScopedTimeZone>("Europe/Stockholm"); }
    void TearDown() override { zone_.reset(); }

private:
    std::unique_ptr<ScopedTimeZone> zone_;
};

inline ::testing::Environment* const swedishTimeZone =
    ::testing::AddGlobalTestEnvironment(new SwedishTimeZoneEnvironment);

}  // namespace kbtest
