#include <klinikbox/Schema.h>
#include "server/SetupWizard.h"

#include "http/Tls.h"
#include "pluginset/TrustStore.h"
#include "server/SetupInput.h"

#include <klinikbox/HsaId.h>
#include <klinikbox/JsonInput.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Stringifier.h>
#include <Poco/Logger.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace klinikbox::server {

namespace fs = std::filesystem;

namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

// kb_settings keys of the wizard's own progress: "done" or (trust only) "skipped".
constexpr const char* kStepClinic = "setup.step.clinic";
constexpr const char* kStepHosts = "setup.step.hosts";
constexpr const char* kStepTrust = "setup.step.trust";

audit::Actor setupActor(const Request& req) {
    audit::Actor a = audit::AuditLog::actorOf(req);
    a.username = "setup token";
    return a;
}

void fieldCheck(const std::string& field, const std::string& code, const std::string& detail) {
    if (!code.empty()) throw JsonInput::invalid(field, detail, code);
}

std::string jsonString(const std::string& s) {
    std::ostringstream out;
    Poco::JSON::Stringifier::formatString(s, out);
    return out.str();
}

void writeFile(const fs::path& p, const std::string& bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << bytes;
    out.close();
    if (!out) throw std::runtime_error("cannot write " + p.string());
}

Object::Ptr certificateJson(Box& b) {
    Object::Ptr o = new Object;
    const auto& cfg = b.config();
    if (!cfg.server.tls) {
        o->set("source", "none");
        return o;
    }
    o->set("source", b.certificateGenerated() ? "generated" : "configured");
    const auto r = b.currentCertificate();
    o->set("fingerprint_sha256", r.fingerprint);
    Array::Ptr names = new Array;
    for (const auto& n : r.names) names->add(n);
    o->set("names", names);
    return o;
}

Object::Ptr statusJson(Box& b) {
    const auto saved = b.settings().all();
    auto step = [&saved](const char* key) {
        const auto it = saved.find(key);
        return it == saved.end() ? std::string{} : it->second;
    };
    const auto clinic = b.clinic();
    Object::Ptr o = new Object;
    Object::Ptr done = new Object;
    done->set("clinic", step(kStepClinic) == "done");
    done->set("hosts", step(kStepHosts) == "done");
    done->set("trust", step(kStepTrust));  // "", "done" or "skipped"
    o->set("done", done);
    o->set("next", step(kStepClinic).empty() ? "clinic" : step(kStepHosts).empty() ? "hosts"
                                                         : step(kStepTrust).empty() ? "trust" : "admin");
    Object::Ptr c = new Object;
    c->set("name", clinic.name);
    c->set("hsa_id", clinic.hsaId);
    o->set("clinic", c);
    Object::Ptr h = new Object;
    Array::Ptr names = new Array;
    for (const auto& n : clinic.hostNames) names->add(n);
    h->set("names", names);
    h->set("public_url", clinic.publicUrl);
    h->set("tls", b.config().server.tls);
    // The port staff reach: the configured one (an ephemeral port 0 only in tests).
    h->set("port", b.config().server.port ? b.config().server.port : b.port());
    h->set("certificate", certificateJson(b));
    o->set("hosts", h);
    Object::Ptr t = new Object;
    Array::Ptr regions = new Array;
    try {
        const auto store = pluginset::TrustStore::load(b.config().trustDir, b.config().localTrustDir());
        for (const auto& r : store.regions()) {
            Object::Ptr x = new Object;
            x->set("name", r.name);
            x->set("hsa_id", r.hsaId);
            regions->add(x);
        }
    } catch (const std::exception&) {
        // No region yet (or a broken entry, which the plugin-set status reports).
    }
    t->set("regions", regions);
    t->set("production", b.config().production());
    o->set("trust", t);
    return o;
}

// Installs <local trust>/<dir> from a checked temporary directory; the old entry of the same
// name comes back when the trust store as a whole refuses the new one.
void installRegion(Box& b, const std::string& dir, const std::map<std::string, std::string>& files) {
    const fs::path local = b.config().localTrustDir();
    fs::create_directories(local);
    const fs::path tmp = local / (".new-" + dir), dest = local / dir, old = local / (".old-" + dir);
    fs::remove_all(tmp);
    fs::remove_all(old);
    fs::create_directories(tmp);
    for (const auto& [name, bytes] : files) writeFile(tmp / name, bytes);
    try {
        (void)pluginset::TrustStore::loadOne(tmp.string());
    } catch (const std::exception& e) {
        fs::remove_all(tmp);
        throw Problem(422, "/problems/trust-refused", "Trust anchor refused", e.what());
    }
    const bool replacing = fs::exists(dest);
    if (replacing) fs::rename(dest, old);
    fs::rename(tmp, dest);
    try {
        (void)pluginset::TrustStore::load(b.config().trustDir, local.string());
    } catch (const std::exception& e) {
        fs::remove_all(dest);
        if (replacing) fs::rename(old, dest);
        throw Problem(422, "/problems/trust-refused", "Trust anchor refused", e.what());
    }
    fs::remove_all(old);
}

}  // namespace

void installSetupWizard(Box& b, std::shared_ptr<auth::SetupGate> gate) {
    using namespace klinikbox::schema;
    auto add = [&b](std::string method, std::string pattern, Access access, Handler h, RouteSpec spec, long long maxBody = 0) {
        spec.tag = "setup";
        spec.status = 200;
        for (int p : {401, 403, 409, 429}) spec.problems.push_back(p);
        // CSRF-exempt: no session exists yet; the token in the body and the Origin check guard it.
        b.routes().addCore(std::move(method), std::move(pattern), std::move(access), std::move(h), std::move(spec),
                           {true, maxBody, false});
    };
    auto& audit = b.audit();

    add("POST", "/api/v1/setup/status", Access::anyone(), [&b, gate](Request& req) {
        JsonInput in(req.json(), {"token"});
        gate->check(req, in.str("token", 128));
        return Response::json(statusJson(b));
    }, RouteSpec{.summary = "The first-run wizard: which steps are done and what they saved", .body = object({req("token", text(128))})});

    add("POST", "/api/v1/setup/clinic", Access::anyone(), [&b, gate, &audit](Request& req) {
        JsonInput in(req.json(), {"token", "name", "hsa_id"});
        gate->check(req, in.str("token", 128));
        const auto name = in.str("name", 100);
        const auto hsa = in.str("hsa_id", 31);
        fieldCheck("name", setup::clinicNameProblem(name), "the clinic's name: 1 to 100 characters, no control characters");
        if (!HsaId::parse(hsa)) throw JsonInput::invalid("hsa_id", "not an HSA-id (SE, organisation number, '-', characters)", "hsa-id");
        b.saveSettings({{store::setting::kClinicName, name}, {store::setting::kCareUnitHsaId, hsa}, {kStepClinic, "done"}},
                       "setup token");
        audit.append(setupActor(req), AuditEntry{"setup.clinic", "", "administration", "ok",
                                                 "clinic name and care unit HSA-id " + hsa + " saved"});
        return Response::json(statusJson(b));
    }, RouteSpec{.summary = "Wizard step 1: the clinic's name and its care unit's HSA-id", .body = object({req("token", text(128)), req("name", text(100)), req("hsa_id", text(31))})});

    add("POST", "/api/v1/setup/hosts", Access::anyone(), [&b, gate, &audit](Request& req) {
        JsonInput in(req.json(), {"token", "names", "public_url"});
        gate->check(req, in.str("token", 128));
        std::vector<std::string> names;
        const auto arr = in.object()->getArray("names");
        if (!arr || arr->size() == 0) throw JsonInput::invalid("names", "at least one host name or address", "required");
        for (std::size_t i = 0; i < arr->size(); ++i) {
            const auto field = "names/" + std::to_string(i);
            if (!arr->get(i).isString()) throw JsonInput::invalid(field, "a host name or an address", "type");
            const auto n = setup::normalizeHost(arr->getElement<std::string>(i));
            fieldCheck(field, setup::hostNameProblem(n), "a host name (RFC 1123) or an IPv4/IPv6 address");
            if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
        }
        const bool tls = b.config().server.tls;
        const int port = b.config().server.port ? b.config().server.port : b.port();
        std::string url = in.optStr("public_url", 300).value_or("");
        if (url.empty()) url = setup::publicUrlFor(names.front(), port, tls);
        while (url.size() > 8 && url.back() == '/') url.pop_back();
        fieldCheck("public_url", setup::publicUrlProblem(url, tls), tls ? "https://host[:port]" : "http://host[:port]");
        // The certificate first: when it cannot be made, nothing is saved.
        const auto renewal = b.renewCertificate(names);
        std::string joined;
        for (const auto& n : names) joined += (joined.empty() ? "" : ",") + n;
        b.saveSettings({{store::setting::kHostNames, joined}, {store::setting::kPublicUrl, url}, {kStepHosts, "done"}},
                       "setup token");
        audit.append(setupActor(req), AuditEntry{"setup.hosts", "", "administration", "ok",
                                                 "host names " + joined + ", public URL " + url +
                                                     (renewal.renewed ? "; new self-signed certificate " + renewal.fingerprint
                                                                      : "; the configured certificate is kept")});
        Object::Ptr o = statusJson(b);
        Object::Ptr r = new Object;
        r->set("renewed", renewal.renewed);
        r->set("fingerprint_sha256", renewal.fingerprint);
        o->set("renewal", r);
        return Response::json(o);
    }, RouteSpec{.summary = "Wizard step 2: host names and public URL; a new self-signed certificate for them, served without a restart", .body = object({req("token", text(128)), req("names", arrayOf(text(253), 20, 1)), opt("public_url", text(300, 0))})});

    add("POST", "/api/v1/setup/trust", Access::anyone(), [&b, gate, &audit](Request& req) {
        JsonInput in(req.json(), {"token", "skip", "region", "region_hsa_id", "root_pem", "crl_pem"});
        gate->check(req, in.str("token", 128));
        if (in.optBoolean("skip").value_or(false)) {
            b.saveSettings({{kStepTrust, "skipped"}}, "setup token");
            audit.append(setupActor(req), AuditEntry{"setup.trust", "", "administration", "ok", "trust anchor step skipped"});
            return Response::json(statusJson(b));
        }
        const auto region = in.str("region", 100);
        const auto hsa = in.str("region_hsa_id", 31);
        const auto root = in.str("root_pem", 200000);
        const auto crl = in.optStr("crl_pem", 3000000).value_or("");
        fieldCheck("region", setup::clinicNameProblem(region), "the region's name: 1 to 100 characters");
        const auto dir = setup::regionDirName(region);
        if (dir.empty()) throw JsonInput::invalid("region", "the name needs a letter or a digit", "invalid");
        if (!HsaId::parse(hsa)) throw JsonInput::invalid("region_hsa_id", "not an HSA-id", "hsa-id");
        fieldCheck("root_pem", setup::rootPemProblem(root), "PEM self-signed CA certificates (basicConstraints CA:TRUE)");
        fieldCheck("crl_pem", setup::crlPemProblem(crl), "PEM CRLs");
        std::map<std::string, std::string> files = {
            {"region.yaml", "name: " + jsonString(region) + "\nhsa_id: " + jsonString(hsa) + "\n"}, {"root.pem", root}};
        if (!crl.empty()) files.emplace("crl.pem", crl);
        installRegion(b, dir, files);
        b.saveSettings({{kStepTrust, "done"}}, "setup token");
        audit.append(setupActor(req), AuditEntry{"setup.trust", "", "administration", "ok",
                                                 "trust anchor of " + region + " (" + hsa + ") installed in " +
                                                     b.config().localTrustDir() + "/" + dir});
        // A production box verifies its plugin set again against the new anchor, at once.
        Object::Ptr plugins = new Object;
        plugins->set("reloaded", b.config().production());
        if (b.config().production()) {
            b.reloadPlugins();
            plugins->set("status", b.activeSet().status);
            plugins->set("refusal", b.activeSet().refusal);
            int running = 0;
            for (const auto& s : b.plugins().status()) running += s.state == "running" ? 1 : 0;
            plugins->set("running", running);
        }
        Object::Ptr o = statusJson(b);
        o->set("plugins", plugins);
        return Response::json(o);
    }, RouteSpec{.summary = "Wizard step 3: the region's trust anchor (root.pem, optional CRLs) into data_dir/trust, or skip", .body = object({req("token", text(128)), opt("skip", boolean()), opt("region", text(100)), opt("region_hsa_id", text(31)), opt("root_pem", text(200000)), opt("crl_pem", text(3000000, 0))}), .problems = {422}}, 4 << 20);
}

}  // namespace klinikbox::server
