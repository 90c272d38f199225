// Everything a plugin can reach. A plugin gets one PluginContext at start and reaches
// nothing else of the box.
#pragma once

#include <klinikbox/Audit.h>
#include <klinikbox/Clock.h>
#include <klinikbox/Events.h>
#include <klinikbox/Http.h>
#include <klinikbox/Log.h>
#include <klinikbox/Outbox.h>
#include <klinikbox/Store.h>

#include <Poco/JSON/Object.h>

#include <functional>
#include <string>

namespace klinikbox {

// A console page a plugin adds: the console lists it in its menu for the given roles and
// loads `script` (a file of the plugin, served under /plugins/<id>/) into the page body.
struct ConsolePage {
    std::string id;     // unique within the plugin, e.g. "day"
    std::string title;  // Swedish menu title
    std::string script; // path relative to the plugin's web/ directory
    Access access;
};

class PluginContext {
public:
    virtual ~PluginContext() = default;
    [[nodiscard]] virtual const std::string& pluginId() const = 0;
    // Routes are restricted to /api/v1/<plugin-id>/...
    virtual Router& router() = 0;
    // Publishing or subscribing to an event the manifest does not declare throws.
    virtual EventBus& events() = 0;
    virtual Store& store() = 0;
    virtual Outbox& outbox() = 0;
    virtual Audit& audit() = 0;
    [[nodiscard]] virtual const Clock& clock() const = 0;
    // The plugin's settings, validated against its schema.yaml, defaults filled in.
    [[nodiscard]] virtual Poco::JSON::Object::Ptr config() const = 0;
    virtual Log& log() = 0;
    virtual void addConsolePage(ConsolePage page) = 0;
    // A gauge in the box's /metrics, read when /metrics is scraped: `kb_<plugin-id>_<name>`
    // (name: lower-case letters, digits and '_', starting with a letter; help: one line).
    // `read` runs on an HTTP worker thread; a read that throws leaves the gauge out of that
    // scrape. The gauges go away when the plugin stops. Throws std::invalid_argument on a bad
    // name or a second gauge of the same name. A context without /metrics (offline tests)
    // ignores gauges.
    virtual void addGauge(const std::string& name, const std::string& help, std::function<double()> read) {
        (void)name, (void)help, (void)read;
    }
};

}  // namespace klinikbox
