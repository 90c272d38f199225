#include "app/Modules.h"

#include "audit/AuditReview.h"
#include "auth/AuthModule.h"
#include "server/PluginSets.h"
#include "server/PluginSettings.h"

#include <Poco/JSON/Array.h>
#include <Poco/Logger.h>

namespace klinikbox::app {


void installModules(server::Box& box) {
    auth::install(box);
    audit::installReview(box);
    server::installPluginSettings(box);
    installLua(box);
    server::installPluginSets(box);
}

}  // namespace klinikbox::app
