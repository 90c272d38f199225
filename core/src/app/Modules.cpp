#include "app/Modules.h"

#include "auth/AuthModule.h"

namespace klinikbox::app {

void installModules(server::Box& box) { auth::install(box); }

}  // namespace klinikbox::app
