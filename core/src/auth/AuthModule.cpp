#include <klinikbox/Schema.h>
#include "auth/AuthModule.h"
#include "auth/DenialLimiter.h"
#include "auth/SetupGate.h"
#include "server/SetupWizard.h"

#include "auth/Passwords.h"

#include <klinikbox/JsonInput.h>

#include <Poco/JSON/Array.h>
#include <Poco/Logger.h>

#include <cstring>
#include <iostream>

namespace klinikbox::auth {

namespace {

// An account the accounts store refused, as a problem that names the field and a code the
// console shows next to that field (its texts are in the console's catalogue).
Problem userProblem(const std::string& m) {
    struct Known {
        const char* text;
        const char* field;
        const char* code;
    };
    static const Known known[] = {
        {"Lösenordet måste ha minst 12", "password", "password.short"},
        {"Lösenordet får ha högst", "password", "password.long"},
        {"Lösenordet får inte innehålla användarnamnet", "password", "password.username"},
        {"Lösenordet får inte bestå av ett och samma", "password", "password.same"},
        {"Vårdenhetens HSA-id", "care_unit", "hsa-id"},
        {"HSA-id har fel format", "hsa_id", "hsa-id"},
        {"Användarnamnet ska ha", "username", "username.length"},
        {"Användarnamnet får bara", "username", "username.characters"},
        {"Namnet är för långt", "display_name", "length"},
    };
    for (const auto& k : known)
        if (m.rfind(k.text, 0) == 0) {
            Problem p = JsonInput::invalid(k.field, m, k.code);
            return Problem(400, "/problems/invalid-user", "Ogiltiga kontouppgifter", m).with("errors", p.toJson()->get("errors"));
        }
    return Problem(400, "/problems/invalid-user", "Ogiltiga kontouppgifter", m);
}

constexpr const char* kCookie = "kb_session";

Poco::JSON::Object::Ptr userJson(const User& u) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("id", u.id);
    o->set("username", u.username);
    o->set("display_name", u.displayName);
    o->set("role", std::string(toString(u.role)));
    o->set("hsa_id", u.hsaId);
    o->set("care_unit", u.careUnit);
    o->set("disabled", u.disabled);
    return o;
}

Role parseRole(const std::string& s) {
    auto r = roleFromString(s);
    if (!r) throw JsonInput::invalid("role", "must be one of admin, staff, auditor, it");
    return *r;
}

std::string cookie(const std::string& value, bool secure, bool clear) {
    std::string c = std::string(kCookie) + "=" + value + "; Path=/; HttpOnly; SameSite=Strict";
    if (secure) c += "; Secure";
    if (clear) c += "; Max-Age=0";
    return c;
}

}  // namespace

std::string SessionAuthenticator::sessionToken(const Request& req) {
    const std::string c = req.header("cookie");
    std::size_t i = 0;
    while (i < c.size()) {
        while (i < c.size() && (c[i] == ' ' || c[i] == ';')) ++i;
        const auto eq = c.find('=', i);
        const auto end = c.find(';', i);
        if (eq == std::string::npos) break;
        if (c.compare(i, eq - i, kCookie) == 0 && eq - i == std::strlen(kCookie))
            return c.substr(eq + 1, (end == std::string::npos ? c.size() : end) - eq - 1);
        if (end == std::string::npos) break;
        i = end + 1;
    }
    return {};
}

std::optional<Principal> SessionAuthenticator::authenticate(const Request& req) {
    const auto token = sessionToken(req);
    if (token.empty()) return std::nullopt;
    auto s = accounts_.session(token);
    if (!s) return std::nullopt;
    return s->principal;
}

bool SessionAuthenticator::csrfValid(const Request& req) {
    const auto token = sessionToken(req);
    const auto given = req.header("x-csrf-token");
    if (token.empty() || given.empty()) return false;
    auto s = accounts_.session(token);
    return s && constantTimeEquals(s->csrf, given);
}

AccountsOptions accountsOptions(const server::BoxConfig& cfg) {
    AccountsOptions opts;
    opts.idleMinutes = cfg.sessionIdleMinutes;
    opts.absoluteHours = cfg.sessionAbsoluteHours;
    opts.maxFailures = cfg.loginMaxFailures;
    opts.lockoutMinutes = cfg.loginLockoutMinutes;
    opts.passwordHash.log2N = cfg.passwordHashLog2N;
    return opts;
}

void install(server::Box& box) {
    box.addModule([](server::Box& b) {
        const auto& cfg = b.config();
        auto accounts = std::make_shared<Accounts>(b.db(), b.clock(), accountsOptions(cfg));
        auto authn = std::make_shared<SessionAuthenticator>(*accounts);
        b.dispatcher().setAuthenticator(authn.get());
        // Keep both alive as long as the box.
        b.onStop([accounts, authn, &b] { b.dispatcher().setAuthenticator(nullptr); });
        auto& audit = b.audit();
        auto limiter = std::make_shared<DenialLimiter>(b.clock());
        b.dispatcher().setDenialObserver([&audit, limiter](const Request& req, int status, const std::string& why) {
            const auto d = limiter->onDenial(req.remoteAddress, req.principal ? req.principal->username : "");
            const auto actor = audit::AuditLog::actorOf(req);
            if (d.suppressedBefore > 0)
                audit.append(actor, AuditEntry{"access.denied.suppressed", "", "", "denied",
                                               std::to_string(d.suppressedBefore) +
                                                   " further denials from this source in the previous window were not logged one by one"});
            if (d.record)
                audit.append(actor, AuditEntry{"access.denied", "", "", "denied",
                                               std::to_string(status) + " " + req.method + " " + req.path.substr(0, 200) +
                                                   ": " + why});
        });
        const bool secure = cfg.server.tls;

        // Each route's contract (klinikbox/Schema.h): the router validates it, OpenAPI publishes it.
        using namespace klinikbox::schema;
        auto add = [&b](std::string method, std::string pattern, Access access, Handler h, RouteSpec spec,
                        bool csrfExempt = false, bool noBody = false) {
            spec.tag = "auth";
            b.routes().addCore(std::move(method), std::move(pattern), std::move(access), std::move(h), std::move(spec),
                               {csrfExempt, 0, noBody});
        };
        const auto userId = std::vector<ParamSpec>{{"id", integer(1, 9'000'000'000'000'000'000LL), true, "user id"}};

        add("POST", "/api/v1/auth/login", Access::anyone(), [accounts, &audit, secure](Request& req) {
            checkSameOrigin(req);
            JsonInput in(req.json(), {"username", "password"});
            const auto username = in.str("username", 64);
            const auto password = in.str("password", 256);
            auto out = accounts->login(username, password, req.remoteAddress);
            audit::Actor a = audit::AuditLog::actorOf(req);
            if (out.user) {
                a.userId = out.user->id;
                a.username = out.user->username;
                a.role = std::string(toString(out.user->role));
                a.hsaId = out.user->hsaId;
                a.careUnit = out.user->careUnit;
            } else {
                a.username = username;
            }
            audit.append(a, AuditEntry{"auth.login", "", "", out.ok ? "ok" : "failed", out.ok ? "" : out.message});
            if (!out.ok) {
                const bool locked = out.message.find("För många") != std::string::npos;
                throw Problem(locked ? 429 : 401, locked ? "/problems/login-throttled" : "/problems/login-failed",
                              locked ? "Too many failed logins" : "Login failed", out.message);
            }
            Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
            o->set("user", userJson(*out.user));
            o->set("csrf_token", out.csrf);
            Response r = Response::json(o);
            r.headers.emplace_back("Set-Cookie", cookie(out.token, secure, false));
            return r;
        }, RouteSpec{.summary = "Log in; sets the session cookie and returns the CSRF token", .body = object({req("username", text(64)), req("password", text(256))}), .status = 200, .problems = {401, 429}}, true);

        // Anyone may ask: every console page load asks before anyone has logged in, and the
        // answer "not logged in" is not an access denial (nothing is written to the audit log).
        add("GET", "/api/v1/auth/session", Access::anyone(), [accounts, &b](Request& req) {
            auto s = accounts->session(SessionAuthenticator::sessionToken(req));
            if (!s) throw Problem(401, "/problems/unauthenticated", "Not logged in");
            auto u = accounts->get(s->principal.userId);
            Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
            o->set("user", userJson(*u));
            o->set("csrf_token", s->csrf);
            // The clinic the console belongs to (the wizard's, else klinikbox.yaml's box.name).
            const auto clinic = b.clinic();
            o->set("clinic", clinic.name);
            o->set("clinic_hsa_id", clinic.hsaId);
            // The zone the box counts days in (box.timezone): the console's "today" and times
            // are the box's, not those of a PC whose clock is set to another zone.
            o->set("timezone", b.config().timezone);
            return Response::json(o);
        }, RouteSpec{.summary = "The current session's user, CSRF token, clinic and the box's time zone (401 when not logged in)", .status = 200, .problems = {401}});

        add("POST", "/api/v1/auth/logout", Access::loggedIn(), [accounts, &audit, secure](Request& req) {
            accounts->logout(SessionAuthenticator::sessionToken(req));
            audit.append(audit::AuditLog::actorOf(req), AuditEntry{"auth.logout", "", "", "ok", ""});
            Response r = Response::noContent();
            r.headers.emplace_back("Set-Cookie", cookie("", secure, true));
            return r;
        }, RouteSpec{.summary = "Log out this session", .status = 204}, false, true);

        add("POST", "/api/v1/auth/logout-all", Access::loggedIn(), [accounts, &audit, secure](Request& req) {
            const int n = accounts->logoutEverywhere(req.principal->userId);
            audit.append(audit::AuditLog::actorOf(req),
                         AuditEntry{"auth.logout_all", "", "", "ok", std::to_string(n) + " sessions ended"});
            Response r = Response::noContent();
            r.headers.emplace_back("Set-Cookie", cookie("", secure, true));
            return r;
        }, RouteSpec{.summary = "Log out every session of the current user", .status = 204}, false, true);

        add("POST", "/api/v1/auth/password", Access::loggedIn(), [accounts, &audit](Request& req) {
            JsonInput in(req.json(), {"current_password", "new_password"});
            const auto cur = in.str("current_password", 256);
            const auto next = in.str("new_password", 256);
            auto check = accounts->login(req.principal->username, cur, req.remoteAddress);
            if (!check.ok) throw Problem(403, "/problems/wrong-password", "Wrong password", "Nuvarande lösenord stämmer inte.");
            accounts->logout(check.token);
            try {
                accounts->setPassword(req.principal->userId, next);
            } catch (const std::invalid_argument& e) {
                throw JsonInput::invalid("new_password", e.what());
            }
            audit.append(audit::AuditLog::actorOf(req), AuditEntry{"auth.password_changed", "", "", "ok", ""});
            return Response::noContent();
        }, RouteSpec{.summary = "Change the current user's password (ends all sessions)", .body = object({req("current_password", text(256)), req("new_password", text(256))}), .status = 204});

        // The wizard's door: the setup token in the body, same origin, throttled, 409 once an
        // account exists. Its steps before this one: server/SetupWizard.cpp.
        auto gate = std::make_shared<SetupGate>(*accounts, b.clock());
        server::installSetupWizard(b, gate);
        add("POST", "/api/v1/auth/setup", Access::anyone(), [accounts, gate, &audit](Request& req) {
            JsonInput in(req.json(), {"token", "username", "password", "display_name"});
            const auto token = in.str("token", 128);
            gate->check(req, token);
            NewUser u;
            u.username = in.str("username", 64);
            u.password = in.str("password", 256);
            u.displayName = in.optStr("display_name", 200).value_or("");
            User created;
            try {
                created = accounts->completeSetup(token, u);
            } catch (const std::invalid_argument& e) {
                throw userProblem(e.what());
            }
            audit::Actor a = audit::AuditLog::actorOf(req);
            a.username = "setup token";
            audit.append(a, AuditEntry{"user.create", "", "administration", "ok",
                                       "first admin " + created.username + " created through the setup link"});
            return Response::json(userJson(created), 201);
        }, RouteSpec{.summary = "Create the first admin with the one-time setup link (the wizard's last step)", .body = object({req("token", text(128)), req("username", text(64)), req("password", text(256)), opt("display_name", text(200, 0))}), .status = 201, .problems = {401, 403, 409, 429}}, true);

        const Access adminOnly = Access::only({Role::Admin});
        add("GET", "/api/v1/users", adminOnly, [accounts](Request&) {
            Poco::JSON::Array::Ptr arr = new Poco::JSON::Array;
            for (const auto& u : accounts->list()) arr->add(userJson(u));
            Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
            o->set("users", arr);
            return Response::json(o);
        }, RouteSpec{.summary = "List staff accounts", .status = 200});

        add("POST", "/api/v1/users", adminOnly, [accounts, &audit](Request& req) {
            JsonInput in(req.json(), {"username", "display_name", "role", "hsa_id", "care_unit", "password"});
            NewUser u;
            u.username = in.str("username", 64);
            u.displayName = in.optStr("display_name", 200).value_or("");
            u.role = parseRole(in.str("role", 20));
            u.hsaId = in.optStr("hsa_id", 31).value_or("");
            u.careUnit = in.optStr("care_unit", 31).value_or("");
            u.password = in.str("password", 256);
            User created;
            try {
                created = accounts->create(u);
            } catch (const std::invalid_argument& e) {
                const std::string m = e.what();
                if (m.find("upptaget") != std::string::npos) throw Problem::conflict("/problems/username-taken", m);
                throw userProblem(m);
            }
            audit.append(audit::AuditLog::actorOf(req),
                         AuditEntry{"user.create", "", "administration", "ok",
                                    "created " + created.username + " with role " + std::string(toString(created.role))});
            return Response::json(userJson(created), 201);
        }, RouteSpec{.summary = "Create a staff account", .body = object({req("username", text(64)), opt("display_name", text(200, 0)), req("role", oneOf({"admin", "staff", "auditor", "it"})), opt("hsa_id", text(31, 0)), opt("care_unit", text(31, 0)), req("password", text(256))}), .status = 201, .problems = {409}});

        add("PATCH", "/api/v1/users/{id}", adminOnly, [accounts, &audit](Request& req) {
            const long long id = req.intParam("id");
            auto u = accounts->get(id);
            if (!u) throw Problem::notFound("no user " + std::to_string(id));
            JsonInput in(req.json(), {"display_name", "role", "hsa_id", "care_unit", "disabled"});
            const Role role = in.has("role") ? parseRole(in.str("role", 20)) : u->role;
            if (id == req.principal->userId && (role != Role::Admin || in.optBoolean("disabled").value_or(false)))
                throw Problem(409, "/problems/self-lockout", "Refused", "Du kan inte ta bort din egen administratörsbehörighet.");
            try {
                accounts->update(id, role, in.optStr("display_name", 200).value_or(u->displayName),
                                 in.optStr("hsa_id", 31).value_or(u->hsaId), in.optStr("care_unit", 31).value_or(u->careUnit));
                if (auto d = in.optBoolean("disabled")) accounts->setDisabled(id, *d);
            } catch (const std::invalid_argument& e) {
                throw userProblem(e.what());
            }
            auto after = accounts->get(id);
            audit.append(audit::AuditLog::actorOf(req),
                         AuditEntry{"user.update", "", "administration", "ok",
                                    "updated " + after->username + ": role " + std::string(toString(after->role)) +
                                        (after->disabled ? ", disabled" : "")});
            return Response::json(userJson(*after));
        }, RouteSpec{.summary = "Change a staff account's role, details or disabled state", .body = object({opt("display_name", text(200, 0)), opt("role", oneOf({"admin", "staff", "auditor", "it"})), opt("hsa_id", text(31, 0)), opt("care_unit", text(31, 0)), opt("disabled", boolean())}), .status = 200, .path = userId, .problems = {409}});

        add("POST", "/api/v1/users/{id}/password", adminOnly, [accounts, &audit](Request& req) {
            const long long id = req.intParam("id");
            auto u = accounts->get(id);
            if (!u) throw Problem::notFound("no user " + std::to_string(id));
            JsonInput in(req.json(), {"password"});
            try {
                accounts->setPassword(id, in.str("password", 256));
            } catch (const std::invalid_argument& e) {
                throw userProblem(e.what());
            }
            audit.append(audit::AuditLog::actorOf(req),
                         AuditEntry{"user.password_reset", "", "administration", "ok", "password set for " + u->username});
            return Response::noContent();
        }, RouteSpec{.summary = "Set a staff account's password (ends its sessions)", .body = object({req("password", text(256))}), .status = 204, .path = userId});

        // First start: no account yet, so print a one-time setup link (never a default password).
        if (accounts->count() == 0) {
            const auto token = accounts->createSetupToken(24);
            b.onStarted([&b, token] {
                const std::string url = b.publicUrl() +
                                        "/setup.html#token=" + token;
                std::cout << "klinikbox: no accounts yet. Set up the box and create the first admin (the first-run wizard) within 24 hours at:\n  " << url
                          << "\n  (or run: klinikbox user add --username NAME --role admin)" << std::endl;
                // Also into logging.file, where a technician looks when the journal is not at hand.
                Poco::Logger::get("setup").notice("no accounts yet; setup link for the first admin (valid 24 hours): " +
                                                  url + " (a new one: klinikbox setup-link --host NAME)");
            });
        }
    });
}

}  // namespace klinikbox::auth
