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
    // Setting either threshold turns off glibc's dynamic adjustment, which otherwise raises
    // the mmap threshold (up to 32 MiB) after a large block is freed, so that later large
    // blocks (a 64 MiB scrypt buffer at login, a big JSON body) stay in the heap for good.
    // Blocks under the mmap threshold (a day view's text of a few hundred KiB) come from the
    // heap, whose pages are already there: a freshly mapped block pays a page fault per page
    // written and an unmapping when freed (docs/operations.md, Memory).
    if (s.trimThresholdKib > 0) ok = mallopt(M_TRIM_THRESHOLD, s.trimThresholdKib * 1024) == 1 && ok;
    if (s.mmapThresholdKib > 0) ok = mallopt(M_MMAP_THRESHOLD, s.mmapThresholdKib * 1024) == 1 && ok;
    return ok;
#else
    (void)s;
    return true;
#endif
}

}  // namespace klinikbox::server
