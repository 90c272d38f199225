#include <klinikbox/Schema.h>
#include "server/PluginSettings.h"

#include "config/SecretValues.h"

#include "config/Schema.h"

#include <klinikbox/JsonInput.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include <sstream>

namespace klinikbox::server {

namespace {

// The machine-readable kind of a schema validation message, for the console's catalogue.
std::string settingsErrorCode(const std::string& m) {
    static const std::pair<const char*, const char*> kinds[] = {
        {"must have at least", "length-min"}, {"must have at most", "length"}, {"must be at least", "min"},
        {"must be at most", "max"},           {"must be one of", "enum"},      {"missing required", "required"},
        {"unknown key", "unknown-field"},     {"is not an HSA-id", "hsa-id"},  {"is not a valid personnummer", "pnr"},
        {"must be an http", "url"},           {"is not a host", "host"},       {"must match", "pattern"},
        {"expected", "type"},                 {"keys must be", "type"},        {"is not a path", "path"},
    };
    for (const auto& [prefix, code] : kinds)
        if (m.rfind(prefix, 0) == 0) return code;
    return "invalid";
}



std::string stringify(const Poco::JSON::Object::Ptr& o) {
    std::ostringstream os;
    Poco::JSON::Stringifier::stringify(o, os);
    return os.str();
}

// Validates settings against a plugin's schema text; returns the defaulted values or the
// errors (pointer + detail per field).
struct Checked {
    Poco::JSON::Object::Ptr values;
    std::vector<config::ConfigError> errors;
};

Checked check(const std::string& pluginId, const std::string& schemaText, const Poco::JSON::Object::Ptr& settings) {
    Checked c;
    if (schemaText.empty()) {
        if (settings && settings->size() > 0)
            c.errors.push_back({pluginId, 1, 1, "", "this plugin has no settings"});
        c.values = new Poco::JSON::Object;
        return c;
    }
    const auto schema = config::Schema::fromYaml(YAML::Load(schemaText), pluginId + "/schema.yaml");
    auto r = schema.validateJson(stringify(settings ? settings : Poco::JSON::Object::Ptr(new Poco::JSON::Object)),
                                 "plugins.settings." + pluginId);
    c.errors = r.errors;
    if (r.errors.empty()) c.values = config::toJsonObject(schema, r.document);
    return c;
}

Poco::JSON::Object::Ptr stored(Box& box, const std::string& id) {
    Poco::JSON::Object::Ptr out;
    box.db().read("core", [&](db::Connection& c) {
        auto st = c.prepare("SELECT settings FROM kb_plugin_settings WHERE plugin=?");
        st.bind(1, id);
        if (st.step()) {
            Poco::JSON::Parser p;
            out = p.parse(st.getText(0)).extract<Poco::JSON::Object::Ptr>();
        }
    });
    return out;
}

std::string pluginParam(Box& box, const Request& req) {
    const auto id = req.pathParams.at("id");
    if (!box.plugins().has(id)) throw Problem::notFound("no plugin " + id);
    return id;
}

}  // namespace

void installPluginSettings(Box& box) {
    auto& host = box.plugins();
    host.setSettingsProvider([&box](const std::string& id) -> Poco::JSON::Object::Ptr {
        if (auto s = stored(box, id)) return s;
        auto it = box.config().pluginSettings.find(id);
        return it == box.config().pluginSettings.end() ? nullptr : it->second;
    });
    host.setConfigValidator([&box](const plugin::Manifest& m, const plugin::PluginBundle& b, const Poco::JSON::Object::Ptr& s) {
        std::string schemaText;
        if (!m.configSchema.empty()) {
            auto it = b.files.find(m.configSchema);
            if (it == b.files.end()) throw std::invalid_argument("config_schema " + m.configSchema + " is missing");
            schemaText = it->second;
        }
        auto c = check(m.id, schemaText, s);
        if (!c.errors.empty()) {
            std::string msg = "invalid settings:";
            for (const auto& e : c.errors) {
                // Appends, not " " + string: GCC 12 -O3 false -Werror=restrict (Release builds).
                msg += ' ';
                if (!e.path.empty()) msg += e.path + ": ";
                msg += e.message;
                msg += ';';
            }
            throw std::invalid_argument(msg);
        }
        // One public URL for every link: a plugin's `public_url` that the clinic did not set
        // is the box's (server.public_url, else the address it listens on).
        if (c.values && c.values->has("public_url") && !(s && s->has("public_url") && !s->isNull("public_url"))) {
            std::string url = box.publicUrl();
            while (!url.empty() && url.back() == '/') url.pop_back();
            if (!url.empty() && url.size() > 2 && url.substr(url.size() - 2) != ":0") c.values->set("public_url", url);
        }
        return c.values;
    });

    box.addModule([](Box& b) {
        using namespace klinikbox::schema;
        auto add = [&b](std::string method, std::string pattern, Handler h, RouteSpec spec) {
            spec.tag = "plugins";
            b.routes().addCore(std::move(method), std::move(pattern), Access::only({Role::Admin, Role::It}), std::move(h),
                               std::move(spec));
        };
        add("GET", "/api/v1/plugins/{id}/settings", [&b](Request& req) {
            const auto id = pluginParam(b, req);
            const auto text = *b.plugins().schemaText(id);
            Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
            auto current = stored(b, id);
            if (!current) {
                auto it = b.config().pluginSettings.find(id);
                current = it == b.config().pluginSettings.end() ? Poco::JSON::Object::Ptr(new Poco::JSON::Object) : it->second;
            }
            if (text.empty()) {
                o->set("schema", Poco::Dynamic::Var());
                o->set("values", Poco::JSON::Object::Ptr(new Poco::JSON::Object));
                return Response::json(o);
            }
            const auto schema = config::Schema::fromYaml(YAML::Load(text), id + "/schema.yaml");
            auto c = check(id, text, current);
            Poco::JSON::Object::Ptr values = c.values ? c.values : current;
            // Secrets are never sent back; the form shows that one is set.
            const auto schemaJson = schema.toJson();
            o->set("schema", schemaJson);
            o->set("values", config::maskSecrets(schemaJson, values));
            o->set("source", stored(b, id) ? "console" : "klinikbox.yaml");
            return Response::json(o);
        }, RouteSpec{.summary = "A plugin's settings and the schema the console renders its form from", .status = 200});

        add("PUT", "/api/v1/plugins/{id}/settings", [&b](Request& req) {
            const auto id = pluginParam(b, req);
            JsonInput in(req.json(), {"values"});
            if (!in.has("values") || in.object()->get("values").type() != typeid(Poco::JSON::Object::Ptr))
                throw JsonInput::invalid("values", "must be an object of settings");
            auto values = in.object()->getObject("values");
            const auto text = *b.plugins().schemaText(id);
            // A masked secret means "keep the stored one".
            if (!text.empty()) {
                const auto schema = config::Schema::fromYaml(YAML::Load(text), id + "/schema.yaml");
                auto previous = stored(b, id);
                if (!previous) {
                    auto it = b.config().pluginSettings.find(id);
                    if (it != b.config().pluginSettings.end()) previous = it->second;
                }
                config::restoreMaskedSecrets(schema.toJson(), values, previous);
            }
            auto c = check(id, text, values);
            if (!c.errors.empty()) {
                Problem p(400, "/problems/invalid-settings", "Ogiltiga inställningar",
                          "Inställningarna kunde inte sparas: " + c.errors.front().message);
                Poco::JSON::Array::Ptr errs = new Poco::JSON::Array;
                for (const auto& e : c.errors) {
                    Poco::JSON::Object::Ptr x = new Poco::JSON::Object;
                    std::string pointer = "/" + e.path;
                    for (auto& ch : pointer)
                        if (ch == '.') ch = '/';
                    x->set("pointer", pointer);
                    x->set("detail", e.message);
                    x->set("code", settingsErrorCode(e.message));
                    errs->add(x);
                }
                p.with("errors", errs);
                throw p;
            }
            b.db().write("core", [&](db::Connection& conn) {
                auto st = conn.prepare(
                    "INSERT INTO kb_plugin_settings(plugin, settings, updated_at, updated_by) VALUES(?,?,?,?) "
                    "ON CONFLICT(plugin) DO UPDATE SET settings=excluded.settings, updated_at=excluded.updated_at,"
                    " updated_by=excluded.updated_by");
                st.bind(1, id).bind(2, stringify(c.values))
                    .bind(3, std::chrono::duration_cast<std::chrono::milliseconds>(b.clock().now().time_since_epoch()).count())
                    .bind(4, req.principal->username)
                    .exec();
                std::string keys;
                for (const auto& [k, v] : *values) keys += (keys.empty() ? "" : ", ") + k;
                b.audit().append(audit::AuditLog::actorOf(req),
                                 AuditEntry{"plugin.settings", "", "administration", "ok", id + ": " + keys}, conn);
            });
            const auto st = b.plugins().reload(id);
            Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
            o->set("state", st.state);
            if (!st.reason.empty()) o->set("reason", st.reason);
            return Response::json(o);
        }, RouteSpec{.summary = "Validate, store and apply a plugin's settings (restarts that plugin)", .body = object({req("values", described(anyObject(), "the settings, as the plugin's schema (GET) describes them"))}), .status = 200});
    });
}

}  // namespace klinikbox::server
