#include "app/Modules.h"

#include "audit/AuditReview.h"
#include "auth/AuthModule.h"
#include "plugin/DirectoryBundles.h"
#include "server/PluginSettings.h"

#include <Poco/Logger.h>

namespace klinikbox::app {

void installModules(server::Box& box) {
    auth::install(box);
    audit::installReview(box);
    server::installPluginSettings(box);
    if (!box.config().production()) {
        box.setBundleSource([](server::Box& b) {
            Poco::Logger::get("plugins").warning("development mode: loading unsigned plugins from " + b.config().pluginSet);
            return plugin::readPluginDirectory(b.config().pluginSet);
        });
    }
}

}  // namespace klinikbox::app
