#include <klinikbox/Schema.h>
#include "server/PluginSets.h"

#include "server/RegionSubscription.h"

#include "pluginset/HighWaterStore.h"
#include "pluginset/TrustStore.h"
#include "pluginset/Verifier.h"

#include <Poco/JSON/Array.h>
#include <Poco/Logger.h>

#include <filesystem>
#include <fstream>

namespace klinikbox::server {

namespace fs = std::filesystem;

namespace {

constexpr long long kMaxUpload = 64LL << 20;

struct Stored {
    long long id = 0;
    std::string file, name, regionHsaId, state;
    long long sequence = 0;
    bool rolledBack = false;
};

std::optional<Stored> storedIn(Box& b, const std::string& where, long long id = 0) {
    std::optional<Stored> out;
    b.db().read("core", [&](db::Connection& c) {
        auto st = c.prepare("SELECT id, file, name, region_hsa_id, state, sequence, rolled_back FROM kb_pluginsets WHERE " + where);
        if (id) st.bind(1, id);
        if (st.step())
            out = Stored{st.getInt(0), st.getText(1), st.getText(2), st.getText(3), st.getText(4), st.getInt(5), st.getInt(6) != 0};
    });
    return out;
}

pluginset::VerifyOptions options(Box& b) {
    pluginset::VerifyOptions o;
    o.now = b.clock().now();
    o.graceDays = b.config().graceDays;
    o.limits.maxTotalBytes = b.config().maxSetBytes;
    return o;
}

pluginset::TrustStore trust(Box& b) {
    std::error_code ec;
    if (b.config().trustDir.empty() && !std::filesystem::is_directory(b.config().localTrustDir(), ec))
        throw pluginset::VerifyError(pluginset::Reason::UntrustedSigner, "plugins.trust_dir is not configured");
    return pluginset::TrustStore::load(b.config().trustDir, b.config().localTrustDir());
}

// The plugin-set check in front of the loader.
std::vector<plugin::PluginBundle> verifiedBundles(Box& b) {
    auto& log = Poco::Logger::get("pluginset");
    const auto& cfg = b.config();
    auto& active = b.activeSet();
    pluginset::VerifiedSet set;
    try {
        const auto uploaded = storedIn(b, "state = 'active'");
        if (uploaded) {
            auto o = options(b);
            if (uploaded->rolledBack) o.allowRollbackTo = uploaded->sequence;
            auto conn = b.db().acquire("core");
            pluginset::DbHighWaterStore hw(*conn);
            set = pluginset::verifySigned(uploaded->file, trust(b), o, &hw);
        } else if (cfg.production()) {
            auto conn = b.db().acquire("core");
            pluginset::DbHighWaterStore hw(*conn);
            set = pluginset::verifySigned(cfg.pluginSet, trust(b), options(b), &hw);
        } else {
            log.warning("development mode: loading unsigned plugins from " + cfg.pluginSet);
            pluginset::ArchiveLimits limits;
            limits.maxTotalBytes = cfg.maxSetBytes;
            set = pluginset::loadUnsignedDevelopment(cfg.pluginSet, limits);
        }
    } catch (const pluginset::VerifyError& e) {
        active.status = "refused";
        active.refusal = std::string(pluginset::toString(e.reason())) + ": " + e.what();
        log.error("the plugin set is refused (" + active.refusal + "); no plugins run");
        return {};
    } catch (const std::exception& e) {
        active.status = "refused";
        active.refusal = e.what();
        log.error("the plugin set cannot be used: " + active.refusal);
        return {};
    }
    active.name = set.name;
    active.sequence = set.sequence;
    active.region = set.regionName;
    active.regionHsaId = set.regionHsaId;
    active.expires = set.expires;
    active.status = set.status;
    active.isSigned = set.isSigned;
    active.warnings = set.warnings;
    active.manifestSha256 = set.manifestSha256;
    active.signers.clear();
    active.expiries.clear();
    for (const auto& s : set.signers) active.signers.push_back(s.subject);
    if (set.isSigned) active.expiries = pluginset::expiriesOf(set, trust(b));
    for (const auto& w : set.warnings) log.warning(w);
    std::vector<plugin::PluginBundle> out;
    for (auto& p : set.plugins) out.push_back(plugin::PluginBundle{p.id, p.version, std::move(p.files)});
    return out;
}

Problem refused(const pluginset::VerifyError& e) {
    Problem p(422, "/problems/pluginset-refused", "Plugin set refused", e.what());
    p.with("reason", std::string(pluginset::toString(e.reason())));
    Poco::JSON::Array::Ptr checks = new Poco::JSON::Array;
    for (const auto& c : e.checks()) {
        Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
        o->set("name", c.name);
        o->set("passed", c.passed);
        o->set("detail", c.detail);
        checks->add(o);
    }
    p.with("checks", checks);
    return p;
}

Poco::JSON::Object::Ptr setJson(db::Statement& st) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("id", st.getInt(0));
    o->set("name", st.getText(1));
    o->set("sequence", st.getInt(2));
    o->set("region_hsa_id", st.getText(3));
    o->set("region", st.getText(4));
    o->set("expires", st.getText(5));
    o->set("signers", st.getText(6));
    o->set("state", st.getText(7));
    o->set("uploaded_at", st.getInt(8));
    o->set("uploaded_by", st.getText(9));
    return o;
}

// Stores a verified archive (the console's upload, the region subscription) and records it
// as 'stored'. Throws db::ConstraintError when the same archive is stored already.
long long storeSet(Box& b, const std::string& bytes, const pluginset::VerifiedSet& set, const audit::Actor& actor,
                   const std::string& by) {
    const std::string sha = pluginset::sha256Hex(bytes);
    const fs::path dir = fs::path(b.config().dataDir) / "pluginsets";
    fs::create_directories(dir);
    const fs::path file = dir / (sha.substr(0, 16) + ".zip");
    {
        std::ofstream out(file.string() + ".partial", std::ios::binary);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        if (!out) throw std::runtime_error("cannot store the plugin set");
    }
    fs::rename(file.string() + ".partial", file);
    std::string signers;
    for (const auto& s : set.signers) signers += (signers.empty() ? "" : "; ") + s.subject;
    long long id = 0;
    b.db().write("core", [&](db::Connection& c) {
        auto st = c.prepare(
            "INSERT INTO kb_pluginsets(archive_sha256, file, name, sequence, region_hsa_id, region_name, expires, signers,"
            " uploaded_at, uploaded_by) VALUES(?,?,?,?,?,?,?,?,?,?)");
        st.bind(1, sha).bind(2, file.string()).bind(3, set.name).bind(4, set.sequence).bind(5, set.regionHsaId)
            .bind(6, set.regionName).bind(7, set.expires).bind(8, signers)
            .bind(9, std::chrono::duration_cast<std::chrono::milliseconds>(b.clock().now().time_since_epoch()).count())
            .bind(10, by)
            .exec();
        id = c.lastInsertId();
        b.audit().append(actor,
                         AuditEntry{"pluginset.upload", "", "administration", "ok",
                                    set.name + " sequence " + std::to_string(set.sequence) + " from " + set.regionHsaId},
                         c);
    });
    return id;
}

// Makes `id` the active set (the active one becomes 'previous'), then loads it.
void activate(Box& b, long long id, bool rollback) {
    b.db().write("core", [&](db::Connection& c) {
        c.exec("UPDATE kb_pluginsets SET state='stored' WHERE state='previous'");
        auto prev = c.prepare("UPDATE kb_pluginsets SET state='previous', rolled_back=0 WHERE state='active' AND id<>?");
        prev.bind(1, id).exec();
        auto act = c.prepare("UPDATE kb_pluginsets SET state='active', rolled_back=? WHERE id=?");
        act.bind(1, rollback ? 1 : 0).bind(2, id).exec();
    });
    b.reloadPlugins();
}

}  // namespace

long long storeVerifiedSet(Box& b, const std::string& zipBytes, const audit::Actor& actor) {
    pluginset::VerifiedSet set;
    {
        auto o = options(b);
        o.commitHighWater = false;
        auto conn = b.db().acquire("core");
        pluginset::DbHighWaterStore hw(*conn);
        set = pluginset::verifySignedArchive(zipBytes, "region publication", trust(b), o, &hw);
    }
    try {
        return storeSet(b, zipBytes, set, actor, actor.username);
    } catch (const db::ConstraintError&) {
        return 0;
    }
}

void activateStoredSet(Box& b, long long id) { activate(b, id, false); }

void installPluginSets(Box& box) {
    box.setBundleSource(verifiedBundles);
    installRegionSubscription(box);
    box.addModule([](Box& b) {
        using namespace klinikbox::schema;
        auto add = [&b](std::string method, std::string pattern, Access access, Handler h, RouteSpec spec,
                        long long maxBody = 0) {
            spec.tag = "pluginsets";
            b.routes().addCore(std::move(method), std::move(pattern), std::move(access), std::move(h), std::move(spec),
                               {false, maxBody});
        };

        add("GET", "/api/v1/pluginsets", Access::only({Role::Admin, Role::It}), [&b](Request&) {
            Poco::JSON::Array::Ptr arr = new Poco::JSON::Array;
            b.db().read("core", [&](db::Connection& c) {
                auto st = c.prepare("SELECT id, name, sequence, region_hsa_id, region_name, expires, signers, state, uploaded_at,"
                                    " uploaded_by FROM kb_pluginsets ORDER BY id DESC LIMIT 50");
                while (st.step()) arr->add(setJson(st));
            });
            Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
            o->set("sets", arr);
            const auto& a = b.activeSet();
            Poco::JSON::Object::Ptr running = new Poco::JSON::Object;
            running->set("name", a.name);
            running->set("sequence", a.sequence);
            running->set("status", a.status);
            running->set("refusal", a.refusal);
            o->set("running", running);
            return Response::json(o);
        }, RouteSpec{.summary = "Uploaded plugin sets and the one running", .status = 200});

        add("POST", "/api/v1/pluginsets", Access::only({Role::Admin}), [&b](Request& req) {
            const auto ct = req.header("content-type");
            if (ct.rfind("application/zip", 0) != 0 && ct.rfind("application/octet-stream", 0) != 0)
                throw Problem(415, "/problems/unsupported-media-type", "Unsupported media type",
                              "upload the plugin set as one .zip archive (application/zip)");
            if (req.body.empty()) throw Problem::badRequest("/problems/empty-upload", "the upload is empty");
            pluginset::VerifiedSet set;
            try {
                auto o = options(b);
                o.commitHighWater = false;  // verified before storing; activation commits
                auto conn = b.db().acquire("core");
                pluginset::DbHighWaterStore hw(*conn);
                set = pluginset::verifySignedArchive(req.body, "upload", trust(b), o, &hw);
            } catch (const pluginset::VerifyError& e) {
                b.audit().append(audit::AuditLog::actorOf(req), AuditEntry{"pluginset.upload", "", "administration", "denied",
                                                                            std::string(pluginset::toString(e.reason())) + ": " + e.what()});
                throw refused(e);
            }
            long long id = 0;
            try {
                id = storeSet(b, req.body, set, audit::AuditLog::actorOf(req), req.principal->username);
            } catch (const db::ConstraintError&) {
                throw Problem::conflict("/problems/pluginset-exists", "this plugin set has been uploaded already");
            }
            Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
            o->set("id", id);
            o->set("name", set.name);
            o->set("sequence", set.sequence);
            o->set("status", set.status);
            return Response::json(o, 201);
        }, RouteSpec{.summary = "Upload a plugin set (.zip); it is verified before it is stored", .status = 201, .problems = {409, 422}, .bodyType = "application/zip"}, kMaxUpload);

        add("POST", "/api/v1/pluginsets/{id}/activate", Access::only({Role::Admin}), [&b](Request& req) {
            req.noBody();
            const long long id = req.intParam("id");
            auto s = storedIn(b, "id = ?", id);
            if (!s) throw Problem::notFound("no uploaded plugin set " + std::to_string(id));
            try {
                auto conn = b.db().acquire("core");
                pluginset::DbHighWaterStore hw(*conn);
                (void)pluginset::verifySigned(s->file, trust(b), options(b), &hw);  // raises the mark
            } catch (const pluginset::VerifyError& e) {
                b.audit().append(audit::AuditLog::actorOf(req), AuditEntry{"pluginset.activate", "", "administration", "denied",
                                                                            s->name + ": " + e.what()});
                throw refused(e);
            }
            activate(b, id, false);
            b.audit().append(audit::AuditLog::actorOf(req), AuditEntry{"pluginset.activate", "", "administration", "ok",
                                                                        s->name + " sequence " + std::to_string(s->sequence)});
            Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
            o->set("status", b.activeSet().status);
            o->set("refusal", b.activeSet().refusal);
            return Response::json(o);
        }, RouteSpec{.summary = "Activate an uploaded set (plugins restart on it; the current one is kept for a rollback)", .status = 200, .path = std::vector<ParamSpec>{{"id", integer(1, 9'000'000'000'000'000'000LL), true, ""}}, .problems = {409, 422}});

        add("POST", "/api/v1/pluginsets/rollback", Access::only({Role::Admin}), [&b](Request& req) {
            req.noBody();
            auto prev = storedIn(b, "state = 'previous'");
            if (!prev) throw Problem::conflict("/problems/no-previous-set", "there is no previous plugin set to return to");
            try {
                auto o = options(b);
                o.allowRollbackTo = prev->sequence;
                o.commitHighWater = false;
                auto conn = b.db().acquire("core");
                pluginset::DbHighWaterStore hw(*conn);
                (void)pluginset::verifySigned(prev->file, trust(b), o, &hw);
            } catch (const pluginset::VerifyError& e) {
                throw refused(e);
            }
            activate(b, prev->id, true);
            b.audit().append(audit::AuditLog::actorOf(req), AuditEntry{"pluginset.rollback", "", "administration", "ok",
                                                                        "back to " + prev->name + " sequence " + std::to_string(prev->sequence)});
            Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
            o->set("status", b.activeSet().status);
            return Response::json(o);
        }, RouteSpec{.summary = "Return to the previously active plugin set", .status = 200, .problems = {409, 422}});
    });
}

}  // namespace klinikbox::server
