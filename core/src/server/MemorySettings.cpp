#include "server/MemorySettings.h"

#include "auth/Passwords.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace klinikbox::server {

bool applyMemorySettings(const MemorySettings& s) {
    auth::setPasswordHashesAtOnce(s.passwordHashesAtOnce);
#if defined(__GLIBC__)
    bool ok = true;
    if (s.mallocArenas > 0) ok = mallopt(M_ARENA_MAX, s.mallocArenas) == 1 && ok;
    if (s.trimThresholdKib > 0) {
        // Setting either threshold turns off glibc's dynamic adjustment, which otherwise raises
        // the mmap threshold (up to 32 MiB) after a large block is freed, so that later large
        // blocks (a 64 MiB scrypt buffer at login, a big JSON body) stay in the heap for good.
        ok = mallopt(M_TRIM_THRESHOLD, s.trimThresholdKib * 1024) == 1 && ok;
        ok = mallopt(M_MMAP_THRESHOLD, 128 * 1024) == 1 && ok;
    }
    return ok;
#else
    (void)s;
    return true;
#endif
}

}  // namespace klinikbox::server
