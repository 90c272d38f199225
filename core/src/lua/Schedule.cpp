#include "lua/Schedule.h"

#include <ctime>

namespace klinikbox::lua {

long long nextDue(const JobRegistration& job, long long after) {
    if (job.everyMinutes > 0) return after + static_cast<long long>(job.everyMinutes) * 60;
    const std::time_t t = static_cast<std::time_t>(after);
    std::tm tm{};
    localtime_r(&t, &tm);
    for (int day = 0; day < 3; ++day) {
        std::tm c = tm;
        c.tm_mday += day;
        c.tm_hour = job.atMinute / 60;
        c.tm_min = job.atMinute % 60;
        c.tm_sec = 0;
        c.tm_isdst = -1;
        const long long at = static_cast<long long>(std::mktime(&c));
        if (at > after) return at;
    }
    return after + 24 * 3600;
}

}  // namespace klinikbox::lua
