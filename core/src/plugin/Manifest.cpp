#include "plugin/Manifest.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <regex>

namespace klinikbox::plugin {

namespace {

[[noreturn]] void fail(const std::string& source, const YAML::Node& n, const std::string& msg) {
    const auto m = n.Mark();
    throw ManifestError(source + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1) + ": " + msg);
}

std::string str(const std::string& source, const YAML::Node& n, const std::string& key) {
    if (!n.IsScalar()) fail(source, n, key + ": expected a string");
    return n.Scalar();
}

std::set<std::string> strSet(const std::string& source, const YAML::Node& n, const std::string& key) {
    std::set<std::string> out;
    if (!n || n.IsNull()) return out;
    if (!n.IsSequence()) fail(source, n, key + ": expected a list of strings");
    for (const auto& e : n) out.insert(str(source, e, key));
    return out;
}

bool safeRelative(const std::string& p) {
    if (p.empty() || p[0] == '/' || p.find('\\') != std::string::npos || p.find('\0') != std::string::npos) return false;
    std::size_t i = 0;
    while (i <= p.size()) {
        const auto j = p.find('/', i);
        const auto seg = p.substr(i, (j == std::string::npos ? p.size() : j) - i);
        if (seg == ".." || seg.empty()) return false;
        if (j == std::string::npos) break;
        i = j + 1;
    }
    return true;
}

const std::regex kEventName("^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$");

}  // namespace

bool isSemver(const std::string& v) {
    static const std::regex re("^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\\+[0-9A-Za-z.-]+)?$");
    return std::regex_match(v, re);
}

int compareVersions(const std::string& a, const std::string& b) {
    auto parts = [](const std::string& v) {
        std::vector<long> p;
        std::size_t i = 0;
        while (i < v.size() && p.size() < 3) {
            std::size_t j = i;
            while (j < v.size() && std::isdigit(static_cast<unsigned char>(v[j]))) ++j;
            p.push_back(j > i ? std::stol(v.substr(i, j - i)) : 0);
            if (j >= v.size() || v[j] != '.') break;
            i = j + 1;
        }
        while (p.size() < 3) p.push_back(0);
        return p;
    };
    const auto x = parts(a), y = parts(b);
    for (int i = 0; i < 3; ++i)
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
}

Manifest parseManifest(const std::string& yamlText, const std::string& source) {
    YAML::Node root;
    try {
        root = YAML::Load(yamlText);
    } catch (const YAML::Exception& e) {
        throw ManifestError(source + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                            ": not valid YAML: " + e.msg);
    }
    if (!root.IsMap()) throw ManifestError(source + ": expected a mapping at the top level");
    static const std::set<std::string> known = {"id", "name", "version", "api", "kind", "entry", "description",
                                                "permissions", "config_schema", "migrations", "web"};
    for (const auto& kv : root) {
        const auto k = kv.first.Scalar();
        if (!known.count(k)) fail(source, kv.first, "unknown key '" + k + "'");
    }
    Manifest m;
    for (const char* req : {"id", "name", "version", "api", "kind", "entry"}) {
        if (!root[req]) throw ManifestError(source + ": missing required key '" + std::string(req) + "'");
    }
    m.id = str(source, root["id"], "id");
    static const std::regex idRe("^[a-z][a-z0-9]{1,30}$");
    if (!std::regex_match(m.id, idRe))
        fail(source, root["id"], "id must be 2-31 lower-case letters and digits, starting with a letter");
    if (m.id == "core" || m.id == "kb" || m.id == "sqlite")
        fail(source, root["id"], "id '" + m.id + "' is reserved");
    m.name = str(source, root["name"], "name");
    m.version = str(source, root["version"], "version");
    if (!isSemver(m.version)) fail(source, root["version"], "version must be semantic (e.g. 1.2.0)");
    try {
        m.api = root["api"].as<int>();
    } catch (const YAML::Exception&) {
        fail(source, root["api"], "api: expected an integer (the SDK API version)");
    }
    const auto kind = str(source, root["kind"], "kind");
    if (kind == "native") m.kind = Kind::Native;
    else if (kind == "lua") m.kind = Kind::Lua;
    else fail(source, root["kind"], "kind must be native or lua, not '" + kind + "'");
    m.entry = str(source, root["entry"], "entry");
    if (!safeRelative(m.entry)) fail(source, root["entry"], "entry must be a relative path inside the plugin");
    if (m.kind == Kind::Lua && m.entry.size() < 5) fail(source, root["entry"], "a Lua plugin's entry must be a .lua file");
    if (root["description"]) m.description = str(source, root["description"], "description");
    for (const char* k : {"config_schema", "migrations", "web"}) {
        if (!root[k]) continue;
        const auto v = str(source, root[k], k);
        if (!safeRelative(v)) fail(source, root[k], std::string(k) + " must be a relative path inside the plugin");
        (std::string(k) == "config_schema" ? m.configSchema : std::string(k) == "migrations" ? m.migrations : m.web) = v;
    }
    if (const auto p = root["permissions"]) {
        if (!p.IsMap()) fail(source, p, "permissions: expected a mapping");
        static const std::set<std::string> pk = {"events", "outbound_hosts", "patient_data", "channels"};
        for (const auto& kv : p)
            if (!pk.count(kv.first.Scalar())) fail(source, kv.first, "unknown key 'permissions." + kv.first.Scalar() + "'");
        if (const auto e = p["events"]) {
            if (!e.IsMap()) fail(source, e, "permissions.events: expected a mapping");
            static const std::set<std::string> ek = {"publish", "subscribe", "hooks"};
            for (const auto& kv : e)
                if (!ek.count(kv.first.Scalar()))
                    fail(source, kv.first, "unknown key 'permissions.events." + kv.first.Scalar() + "'");
            m.publishes = strSet(source, e["publish"], "permissions.events.publish");
            m.subscribes = strSet(source, e["subscribe"], "permissions.events.subscribe");
            m.hooks = strSet(source, e["hooks"], "permissions.events.hooks");
            for (const auto* s : {&m.publishes, &m.subscribes, &m.hooks})
                for (const auto& ev : *s)
                    if (!std::regex_match(ev, kEventName))
                        fail(source, e, "'" + ev + "' is not an event name like domain.what");
        }
        m.outboundHosts = strSet(source, p["outbound_hosts"], "permissions.outbound_hosts");
        if (const auto ch = p["channels"]) {
            if (!ch.IsSequence()) fail(source, ch, "permissions.channels: expected a list of {name, kind, purpose}");
            static const std::regex nameRe("^[a-z][a-z0-9_]{0,30}$");
            for (const auto& c : ch) {
                if (!c.IsMap()) fail(source, c, "permissions.channels: each channel is {name, kind, purpose}");
                for (const auto& kv : c)
                    if (kv.first.Scalar() != "name" && kv.first.Scalar() != "kind" && kv.first.Scalar() != "purpose")
                        fail(source, kv.first, "unknown key 'permissions.channels." + kv.first.Scalar() + "'");
                for (const char* req : {"name", "kind", "purpose"})
                    if (!c[req]) fail(source, c, std::string("permissions.channels: missing '") + req + "'");
                ChannelDecl d{str(source, c["name"], "name"), str(source, c["kind"], "kind"), str(source, c["purpose"], "purpose")};
                if (!std::regex_match(d.name, nameRe)) fail(source, c["name"], "a channel name is [a-z][a-z0-9_]{0,30}");
                if (d.kind != "sms" && d.kind != "email" && d.kind != "http")
                    fail(source, c["kind"], "a channel's kind is sms, email or http, not '" + d.kind + "'");
                for (const auto& o : m.channels)
                    if (o.name == d.name) fail(source, c["name"], "the channel '" + d.name + "' is declared twice");
                m.channels.push_back(std::move(d));
            }
        }
        if (p["patient_data"]) {
            try {
                m.patientData = p["patient_data"].as<bool>();
            } catch (const YAML::Exception&) {
                fail(source, p["patient_data"], "permissions.patient_data: expected true or false");
            }
        }
    }
    return m;
}

}  // namespace klinikbox::plugin
