// Kiosks: registered kiosk devices, the phone code they show, and the limits of anonymous
// check-in.
//
// A check-in by personnummer alone is only answered when the patient has shown that they are
// at the clinic: either the request comes from a registered kiosk device (an HttpOnly cookie
// that an admin set in the kiosk's browser), or, on the patient's own phone, it carries the
// phone code that the kiosk screen shows (six digits from an HMAC of a per-start secret and the
// current five-minute window; the current and the previous code are accepted). Without either,
// the answer is the same refusal for every personnummer, so the phone is not an oracle.
//
// Every attempt counts toward the limits (AttemptLimiter, bounded and fair): per kiosk device
// (not per address, so phones on the clinic's Wi-Fi cannot lock the kiosk out) and per network
// address for phones. Refusals are audit-logged through a DenialSummary: a few records per
// source and window, then one summary, so a flood does not grow the audit log.
#include <klinikbox/Schema.h>
#include "CheckinPlugin.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstring>

namespace checkin::plugin {

namespace {

constexpr const char* kDeviceCookie = "kb_kiosk";
constexpr long long kCodeStep = 300;  // seconds a phone code is shown

std::string cookieValue(const std::string& header, std::string_view name) {
    std::size_t i = 0;
    while (i < header.size()) {
        while (i < header.size() && (header[i] == ' ' || header[i] == ';')) ++i;
        const auto eq = header.find('=', i);
        const auto end = header.find(';', i);
        if (eq == std::string::npos) break;
        if (header.compare(i, eq - i, name) == 0 && eq - i == name.size())
            return header.substr(eq + 1, (end == std::string::npos ? header.size() : end) - eq - 1);
        if (end == std::string::npos) break;
        i = end + 1;
    }
    return {};
}

bool constantTimeEqual(const std::string& a, const std::string& b) {
    if (a.size() != b.size()) return false;
    unsigned char d = 0;
    for (std::size_t i = 0; i < a.size(); ++i) d |= static_cast<unsigned char>(a[i] ^ b[i]);
    return d == 0;
}

}  // namespace

void CheckinPlugin::startKiosks(const Object::Ptr& settings) {
    int deviceLookups = 120, deviceMisses = 20, phoneLookups = 30, phoneMisses = 10, windowMin = 10;
    languages_ = {"sv", "en"};
    if (settings) {
        deviceLookups = settings->optValue<int>("device_lookups", deviceLookups);
        deviceMisses = settings->optValue<int>("device_misses", deviceMisses);
        phoneLookups = settings->optValue<int>("phone_lookups", phoneLookups);
        phoneMisses = settings->optValue<int>("phone_misses", phoneMisses);
        windowMin = settings->optValue<int>("window_minutes", windowMin);
        idleSeconds_ = settings->optValue<int>("idle_seconds", idleSeconds_);
        if (auto l = settings->getArray("languages")) {
            languages_ = {"sv"};
            for (std::size_t i = 0; i < l->size(); ++i) {
                const auto code = l->getElement<std::string>(static_cast<unsigned>(i));
                if (std::find(languages_.begin(), languages_.end(), code) == languages_.end()) languages_.push_back(code);
            }
        }
    }
    const std::chrono::seconds window{windowMin * 60LL};
    deviceLookups_ = std::make_unique<AttemptLimiter>(ctx_->clock(), AttemptLimiter::Options{deviceLookups, window, 1000});
    deviceMisses_ = std::make_unique<AttemptLimiter>(ctx_->clock(), AttemptLimiter::Options{deviceMisses, window, 1000});
    phoneLookups_ = std::make_unique<AttemptLimiter>(ctx_->clock(), AttemptLimiter::Options{phoneLookups, window, 10000});
    phoneMisses_ = std::make_unique<AttemptLimiter>(ctx_->clock(), AttemptLimiter::Options{phoneMisses, window, 10000});
    refusals_ = std::make_unique<DenialSummary>(ctx_->clock(), DenialSummary::Options{5, window, 10000});
    codeSecret_ = randomToken(32);
}

std::optional<CheckinPlugin::Kiosk> CheckinPlugin::deviceOf(const Request& req) {
    const auto tok = cookieValue(req.header("cookie"), kDeviceCookie);
    if (tok.empty() || tok.size() > 100) return std::nullopt;
    std::optional<Kiosk> k;
    ctx_->store().read([&](db::Connection& c) {
        auto st = c.prepare("SELECT id, name FROM checkin_kiosks WHERE token_hash = ? AND revoked_at IS NULL");
        st.bind(1, sha256Hex(tok));
        if (st.step()) k = Kiosk{st.getInt(0), st.getText(1)};
    });
    return k;
}

std::string CheckinPlugin::phoneCode(long long step) const {
    const std::string msg = unit_ + "|" + std::to_string(step);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    HMAC(EVP_sha256(), codeSecret_.data(), static_cast<int>(codeSecret_.size()), reinterpret_cast<const unsigned char*>(msg.data()),
         msg.size(), md, &n);
    std::uint32_t v = 0;
    std::memcpy(&v, md, sizeof v);
    char b[8];
    std::snprintf(b, sizeof b, "%06u", static_cast<unsigned>(v % 1000000U));
    return b;
}

bool CheckinPlugin::phoneCodeValid(const std::string& code) const {
    const long long step = now() / kCodeStep;
    bool ok = false;
    for (long long s : {step, step - 1}) ok |= constantTimeEqual(code, phoneCode(s));
    return ok;
}

void CheckinPlugin::recordRefusal(const Request& req, const std::string& key, const std::string& why) {
    const auto d = refusals_->onDenial(key);
    if (d.suppressedBefore > 0)
        ctx_->audit().record(req, {"checkin.refused", "", "vård", "denied",
                                   std::to_string(d.suppressedBefore) + " more refused check-in attempts from " + d.key +
                                       " in the previous window (summarised)"});
    if (d.record) ctx_->audit().record(req, {"checkin.refused", "", "vård", "denied", why + " (" + key + ")"});
}

[[noreturn]] void CheckinPlugin::tooMany(const Request& req, AttemptLimiter& limiter, const std::string& key) {
    recordRefusal(req, key, "check-in attempt over the limit");
    Problem p(429, "/problems/too-many-attempts", "För många försök", "Vänta en stund eller fråga i receptionen.");
    p.with("retry_after_seconds", limiter.retryAfter(key));
    throw p;
}

Object::Ptr CheckinPlugin::anonymousCheckIn(const Request& req, const std::string& patient, const std::optional<std::string>& code,
                                            const std::optional<std::string>& channelAsked) {
    const auto device = deviceOf(req);
    const std::string key = device ? "kiosk " + std::to_string(device->id) : "address " + req.remoteAddress;
    AttemptLimiter& lookups = device ? *deviceLookups_ : *phoneLookups_;
    AttemptLimiter& misses = device ? *deviceMisses_ : *phoneMisses_;
    // Every attempt counts, whatever it carries; a source over either limit is refused first.
    if (lookups.blocked(key)) tooMany(req, lookups, key);
    if (misses.blocked(key)) tooMany(req, misses, key);
    lookups.count(key);
    if (channelAsked == "kiosk" && !device) {
        misses.count(key);
        recordRefusal(req, key, "kiosk check-in from an unregistered device");
        throw Problem(403, "/problems/kiosk-not-registered", "Skärmen är inte registrerad som kiosk",
                      "Be receptionen registrera skärmen, eller checka in med koden som visas på kioskens skärm.");
    }
    if (!device && (!code || !phoneCodeValid(*code))) {
        misses.count(key);
        recordRefusal(req, key, "phone check-in without a valid code");
        throw Problem(403, "/problems/checkin-code", "Koden stämmer inte",
                      "Skriv koden som visas på kioskens skärm i väntrummet, eller checka in vid kiosken.");
    }
    try {
        return patientView(checkIn(req, patient, device ? "kiosk" : "phone"));
    } catch (const Problem& p) {
        if (p.status() == 404 || p.status() == 400) misses.count(key);
        throw;
    }
}

// What the patient's screen may show of a visit: no frikort status, no amount left to the
// ceiling, no exemption reason, no tariff. The receipt (with the session token) shows more.
Object::Ptr CheckinPlugin::patientView(const Object::Ptr& full) {
    static const char* const kShown[] = {"token", "time", "room", "charge_ore", "methods", "state", "optin_required", "payment"};
    Object::Ptr o = new Object;
    for (const char* k : kShown)
        if (full->has(k)) o->set(k, full->get(k));
    if (o->has("room") && o->getValue<std::string>("room").empty()) o->remove("room");
    o->set("estimate", full->optValue<std::string>("card_source", "") == "local");
    return o;
}

void CheckinPlugin::registerKioskRoutes() {
    using namespace klinikbox::schema;
    auto& r = ctx_->router();
    // Registers the browser that calls it as a kiosk device (an admin does this once on the
    // kiosk itself): the token lives only in an HttpOnly cookie scoped to the check-in API.
    r.add("POST", "/api/v1/checkin/kiosks", Access::only({Role::Admin}), [this](Request& req) {
        JsonInput in(req.json(), {"name"});
        const auto name = in.str("name", 60);
        if (name.empty()) throw JsonInput::invalid("name", "a name for the kiosk");
        const std::string tok = randomToken(32);
        long long id = 0;
        ctx_->store().write([&](db::Connection& c) {
            c.prepare("INSERT INTO checkin_kiosks(name, token_hash, created_at, created_by) VALUES(?,?,?,?)")
                .bind(1, name).bind(2, sha256Hex(tok)).bind(3, now()).bind(4, req.principal->username).exec();
            id = c.lastInsertId();
            ctx_->audit().record(req, {"checkin.kiosk.register", "", "administration", "ok", "kiosk " + std::to_string(id) + ": " + name}, c);
        });
        Object::Ptr o = new Object;
        o->set("id", id);
        o->set("name", name);
        auto resp = Response::json(o, 201);
        resp.headers.emplace_back("Set-Cookie", std::string(kDeviceCookie) + "=" + tok +
                                                    "; Path=/api/v1/checkin/; Max-Age=315360000; HttpOnly; Secure; SameSite=Strict");
        return resp;
    }, RouteSpec{.summary = "Register this browser as a kiosk device (sets its HttpOnly device cookie)", .tag = "checkin", .body = object({req("name", text(60))}), .status = 201});

    r.add("GET", "/api/v1/checkin/kiosks", Access::only(kStaff), [this](Request&) {
        Array::Ptr a = new Array;
        ctx_->store().read([&](db::Connection& c) {
            auto st = c.prepare("SELECT id, name, created_at, created_by FROM checkin_kiosks WHERE revoked_at IS NULL ORDER BY id");
            while (st.step()) {
                Object::Ptr o = new Object;
                o->set("id", st.getInt(0));
                o->set("name", st.getText(1));
                o->set("created_at", st.getInt(2));
                o->set("created_by", st.getText(3));
                a->add(o);
            }
        });
        Object::Ptr o = new Object;
        o->set("kiosks", a);
        return Response::json(o);
    }, RouteSpec{.summary = "The registered kiosk devices", .tag = "checkin", .status = 200});

    r.add("DELETE", "/api/v1/checkin/kiosks/{id}", Access::only({Role::Admin}), [this](Request& req) {
        const long long id = req.intParam("id");
        int changed = 0;
        ctx_->store().write([&](db::Connection& c) {
            c.prepare("UPDATE checkin_kiosks SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL").bind(1, now()).bind(2, id).exec();
            changed = c.changes();
            if (changed) ctx_->audit().record(req, {"checkin.kiosk.revoke", "", "administration", "ok", "kiosk " + std::to_string(id)}, c);
        });
        if (!changed) throw Problem::notFound("no such kiosk");
        return Response::noContent();
    }, RouteSpec{.summary = "Revoke a kiosk device", .tag = "checkin", .status = 204, .path = {{"id", integer(1, 9'000'000'000'000'000'000LL), true, ""}}, .problems = {404}});

    // What the kiosk page needs to know about the browser it runs in: whether it is a
    // registered kiosk (then also the phone code to show), the languages and the idle time.
    r.add("GET", "/api/v1/checkin/device", Access::anyone(), [this](Request& req) {
        Object::Ptr o = new Object;
        const auto device = deviceOf(req);
        o->set("kiosk", device.has_value());
        if (device) {
            o->set("name", device->name);
            const long long step = now() / kCodeStep;
            o->set("phone_code", phoneCode(step));
            o->set("phone_code_seconds", (step + 1) * kCodeStep - now());
        }
        Array::Ptr langs = new Array;
        for (const auto& l : languages_) langs->add(l);
        o->set("languages", langs);
        o->set("idle_seconds", idleSeconds_);
        return Response::json(o);
    }, RouteSpec{.summary = "The kiosk page's setup: registered kiosk or not, the phone code it shows, languages, idle time", .tag = "checkin", .status = 200});
}

}  // namespace checkin::plugin
