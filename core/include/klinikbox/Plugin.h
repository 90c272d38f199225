// The native plugin interface. A plugin is a shared library built against these headers
// that exports the C entry points declared by KB_PLUGIN.
#pragma once

#include <klinikbox/PluginContext.h>
#include <klinikbox/Version.h>

namespace klinikbox {

class Plugin {
public:
    virtual ~Plugin() = default;
    // Registers routes, hooks, channels and pages. Throwing marks the plugin failed; the
    // rest of the box keeps serving.
    virtual void start(PluginContext& ctx) = 0;
    // Stops background work. Must return promptly.
    virtual void stop() {}
};

}  // namespace klinikbox

// Exports the factory, destructor and SDK API version of a plugin class.
#define KB_PLUGIN(ClassName)                                                              \
    extern "C" __attribute__((visibility("default"))) int kb_plugin_api_version() {       \
        return KB_SDK_API_VERSION;                                                        \
    }                                                                                     \
    extern "C" __attribute__((visibility("default"))) klinikbox::Plugin* kb_plugin_create() { \
        return new ClassName();                                                           \
    }                                                                                     \
    extern "C" __attribute__((visibility("default"))) void kb_plugin_destroy(klinikbox::Plugin* p) { \
        delete p;                                                                         \
    }
