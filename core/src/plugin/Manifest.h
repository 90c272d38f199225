// plugin.yaml: what a plugin is and what it may do.
#pragma once

#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace klinikbox::plugin {

enum class Kind { Native, Lua };

// An outbound channel a plugin declares (permissions.channels): the outbox channel
// "<id>.<name>", what kind of gateway carries it and why the plugin sends on it. The admin
// binds it to a gateway in the console (lua.gateways), without a restart.
struct ChannelDecl {
    std::string name;     // [a-z][a-z0-9_]{0,30}
    std::string kind;     // sms, email or http
    std::string purpose;  // shown to the admin who binds it
};

struct Manifest {
    std::string id;       // [a-z][a-z0-9]{1,30}; its tables are named <id>_...
    std::string name;
    std::string version;  // semver
    int api = 0;          // SDK API version it was written for
    Kind kind = Kind::Native;
    std::string entry;    // libX.so or main.lua, relative to the plugin directory
    std::string description;
    std::set<std::string> publishes;   // events it may publish
    std::set<std::string> subscribes;  // events it may handle asynchronously
    std::set<std::string> hooks;       // events it may hook synchronously (change or veto)
    std::set<std::string> outboundHosts;
    std::vector<ChannelDecl> channels;
    bool patientData = false;
    std::string configSchema;  // relative path of schema.yaml, may be empty
    std::string migrations;    // relative directory of NNNN_name.sql files, may be empty
    std::string web;           // relative directory of console page scripts, may be empty
};

// A manifest that cannot be accepted; `what()` names the file, line and problem.
class ManifestError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Parses and validates plugin.yaml text. `source` names it in errors.
Manifest parseManifest(const std::string& yamlText, const std::string& source);

// True for x.y.z with optional -pre / +build parts.
bool isSemver(const std::string& v);
// Compares two semver strings by major.minor.patch: <0, 0, >0.
int compareVersions(const std::string& a, const std::string& b);

}  // namespace klinikbox::plugin
