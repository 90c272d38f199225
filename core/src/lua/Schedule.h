// When a Lua plugin's scheduled job (kb.schedule) is next due: the one rule the box's
// scheduler and `klinikbox lua test` (kb.run_due) share.
#pragma once

#include "lua/KbApi.h"

namespace klinikbox::lua {

// The first time after `after` (epoch seconds) the job is due: every N minutes ->
// after + N minutes; daily at HH:MM -> the next HH:MM in the box's local time zone.
// A job whose due time passed while the box was down runs once, then follows this rule
// from the time it ran (missed runs are not repeated).
[[nodiscard]] long long nextDue(const JobRegistration& job, long long after);

}  // namespace klinikbox::lua
