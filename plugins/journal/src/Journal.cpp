#include "Journal.h"

#include "DocBook.h"

#include <klinikbox/Personnummer.h>
#include <klinikbox/Secrets.h>

#include <Poco/JSON/Array.h>

namespace klinikbox::journal {

using Poco::JSON::Array;
using Poco::JSON::Object;

namespace {

Object::Ptr section(const Object::Ptr& cfg, const std::string& name) {
    auto o = cfg ? cfg->getObject(name) : nullptr;
    return o ? o : Object::Ptr(new Object);
}

std::string resourceTypeOf(Kind k) {
    switch (k) {
        case Kind::Notes: return "Journalanteckning";
        case Kind::Diagnoses: return "Diagnos";
        case Kind::Alerts: return "Uppmärksamhetsinformation";
    }
    return "Journalanteckning";
}

// A reason as people read it: the white space around it dropped (ASCII and the no-break
// space), and its length counted in characters, as the database's CHECK (length(reason) >= 5)
// counts them. "ååå" is three characters in six bytes: counted in bytes it passed this check,
// failed the database's after the consent service had registered the emergency (a 500, no
// audit record, and the records open). Five spaces are no reason.
std::string trimmedReason(const std::string& raw) {
    std::size_t b = 0, e = raw.size();
    const auto space = [&](std::size_t i, bool back) -> std::size_t {  // bytes of a space at i (or ending at i)
        const unsigned char c = static_cast<unsigned char>(raw[i]);
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') return 1;
        if (!back && i + 1 < raw.size() && c == 0xC2 && static_cast<unsigned char>(raw[i + 1]) == 0xA0) return 2;
        if (back && i >= 1 && c == 0xA0 && static_cast<unsigned char>(raw[i - 1]) == 0xC2) return 2;
        return 0;
    };
    while (b < e) {
        const std::size_t n = space(b, false);
        if (!n) break;
        b += n;
    }
    while (e > b) {
        const std::size_t n = space(e - 1, true);
        if (!n) break;
        e -= n;
    }
    return raw.substr(b, e - b);
}

std::size_t characters(const std::string& s) {
    std::size_t n = 0;
    for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    return n;
}
}  // namespace

JournalSettings settingsFrom(const Object::Ptr& cfg) {
    JournalSettings s;
    s.systemHsaId = cfg->optValue<std::string>("system_hsa_id", "SE2321000016-KBOX");
    s.careProviderId = cfg->optValue<std::string>("care_provider_id", "");
    if (auto units = cfg->getArray("care_units"))
        for (std::size_t i = 0; i < units->size(); ++i) {
            auto u = units->getObject(static_cast<unsigned>(i));
            if (u) s.units.push_back({u->optValue<std::string>("hsa_id", ""), u->optValue<std::string>("name", "")});
        }
    s.window.daysBefore = cfg->optValue<int>("relation_days_before", 30);
    s.window.daysAfter = cfg->optValue<int>("relation_days_after", 14);
    s.emergencyHours = cfg->optValue<int>("emergency_hours", 4);
    s.reviewSample = cfg->optValue<int>("review_sample_size", 10);
    const auto v = section(cfg, "services");
    s.npoUrl = v->optValue<std::string>("npo_url", "");
    s.npoAddress = v->optValue<std::string>("npo_logical_address", kNationalAggregator);
    s.consentUrl = v->optValue<std::string>("consent_url", "");
    s.blocksUrl = v->optValue<std::string>("blocks_url", "");
    s.logUrl = v->optValue<std::string>("log_url", "");
    s.nationalAddress = v->optValue<std::string>("national_logical_address", "SE165565594230-1000");
    s.tls = rivta::Endpoint{"", v->optValue<std::string>("client_cert", ""), v->optValue<std::string>("client_key", ""),
                            v->optValue<std::string>("ca", ""), v->optValue<int>("timeout_ms", 10000)};
    return s;
}

std::string patientParam(const Request& req, const std::string& name, std::chrono::year_month_day today) {
    const auto parsed = Personnummer::parse(req.pathParams.at(name), today);
    if (const auto* err = std::get_if<PersonnummerError>(&parsed))
        throw Problem::badRequest("/problems/invalid-personnummer", std::string(describeSv(*err)));
    return std::get<Personnummer>(parsed).twelveDigits();
}

Journal::Journal(PluginContext& ctx, JournalSettings s) : ctx_(ctx), s_(std::move(s)) {
    auto ep = [this](const std::string& url) {
        auto e = s_.tls;
        e.url = url;
        return e;
    };
    consent_ = std::make_unique<ConsentClient>(ep(s_.consentUrl), s_.nationalAddress);
    blocks_ = std::make_unique<BlockClient>(ep(s_.blocksUrl), s_.nationalAddress);
    npo_ = std::make_unique<NpoClient>(s_.npoUrl, s_.tls, s_.npoAddress);
    log_ = std::make_unique<LogClient>(ep(s_.logUrl), s_.nationalAddress);
}

long long Journal::now() const {
    return std::chrono::duration_cast<std::chrono::seconds>(ctx_.clock().now().time_since_epoch()).count();
}

void Journal::onVisitEvents(const std::vector<const Event*>& events) {
    const auto today = ctx_.clock().today();
    const auto at = now();
    // applyVisitEvent checks a payload before its first write, so skipping one that fails
    // its checks leaves nothing of it in the transaction.
    const auto applyAll = [&](const std::vector<const Event*>& some) {
        ctx_.store().write([&](db::Connection& c) {
            for (const auto* e : some) {
                try {
                    applyVisitEvent(c, e->name, e->payload, today, at);
                } catch (const std::invalid_argument& ex) {
                    ctx_.log().warning("journal: ignoring " + e->name + ": " + ex.what());
                }
            }
        });
    };
    try {
        applyAll(events);
    } catch (const std::exception& ex) {
        if (events.size() == 1) throw;
        // The transaction itself failed (a database error, not a payload): each event again
        // on its own, so one that cannot be written does not take the others with it.
        ctx_.log().warning("journal: " + std::to_string(events.size()) + " visit events in one write failed (" + ex.what() +
                           "), writing them one at a time");
        std::size_t lost = 0;
        for (const auto* e : events) {
            try {
                applyAll({e});
            } catch (const std::exception& one) {
                ++lost;
                ctx_.log().error("journal: " + e->name + " not recorded: " + one.what());
            }
        }
        // The bus counts the subscription's failure (the console's hook statistics).
        if (lost) throw std::runtime_error(std::to_string(lost) + " of " + std::to_string(events.size()) + " visit events not recorded");
    }
}

Journal::Reader Journal::reader(const Request& req) {
    Reader r;
    r.userId = req.principal->userId;
    r.username = req.principal->username;
    if (req.principal->hsaId.empty())
        throw Problem(409, "/problems/journal-no-hsa-id", "Användaren saknar HSA-id",
                      "Ditt konto har inget HSA-id. Be administratören lägga till det innan du läser sammanhållen journal.");
    std::optional<Assignment> a;
    ctx_.store().read([&](db::Connection& c) { a = assignmentOf(c, r.userId); });
    if (!a || !findUnit(s_.units, a->careUnit))
        throw Problem(409, "/problems/journal-no-assignment", "Inget medarbetaruppdrag valt",
                      "Välj vårdenhet och syfte (medarbetaruppdrag) innan du öppnar sammanhållen journal.");
    r.assignment = *a;
    r.actor = Actor{req.principal->hsaId, s_.careProviderId, a->careUnit};
    return r;
}

Object::Ptr Journal::assignment(Request& req) {
    std::optional<Assignment> a;
    ctx_.store().read([&](db::Connection& c) { a = assignmentOf(c, req.principal->userId); });
    Object::Ptr o = new Object;
    Array::Ptr units = new Array;
    for (const auto& u : s_.units) {
        Object::Ptr x = new Object;
        x->set("hsa_id", u.hsaId);
        x->set("name", u.name);
        units->add(x);
    }
    o->set("units", units);
    o->set("purpose", kPurpose);
    o->set("has_hsa_id", !req.principal->hsaId.empty());
    if (a && findUnit(s_.units, a->careUnit)) {
        Object::Ptr x = new Object;
        x->set("care_unit", a->careUnit);
        x->set("care_unit_name", a->careUnitName);
        x->set("purpose", a->purpose);
        o->set("assignment", x);
    } else {
        o->set("assignment", Poco::Dynamic::Var());
    }
    return o;
}

Object::Ptr Journal::chooseAssignment(Request& req, const std::string& careUnit) {
    const auto unit = findUnit(s_.units, careUnit);
    if (!unit) throw Problem::badRequest("/problems/unknown-care-unit", "Vårdenheten finns inte bland klinikens vårdenheter.");
    ctx_.store().write([&](db::Connection& c) {
        journal::chooseAssignment(c, req.principal->userId, req.principal->username, *unit, now());
        ctx_.audit().record(req, {"journal.assignment", "", "vård", "ok", "assignment " + unit->hsaId + " / " + kPurpose}, c);
    });
    return assignment(req);
}

bool Journal::emergencyActive(const std::string& patient, const Reader& r) {
    bool active = false;
    ctx_.store().read([&](db::Connection& c) {
        auto st = c.prepare("SELECT 1 FROM journal_assertions WHERE kind = 'emergency' AND patient = ? AND care_unit = ? "
                            "AND user_id = ? AND registered_at <= ? AND ends_at > ? LIMIT 1");
        st.bind(1, patient).bind(2, r.assignment.careUnit).bind(3, r.userId).bind(4, now()).bind(5, now());
        active = st.step();
    });
    return active;
}

void Journal::logAccess(const Request& req, const Reader& r, const std::string& patient, const AccessRow& a) {
    const auto t = now();
    ctx_.store().write([&](db::Connection& c) {
        c.prepare("INSERT INTO journal_accesses(at, user_id, username, employee_id, care_unit, care_unit_name, purpose, patient, what, "
                  "relation, basis, outcome, refusal, shown_count, blocked_count, flagged) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .bind(1, t).bind(2, r.userId).bind(3, r.username).bind(4, r.actor.employeeId).bind(5, r.assignment.careUnit)
            .bind(6, r.assignment.careUnitName).bind(7, r.assignment.purpose).bind(8, patient).bind(9, a.what).bind(10, a.relation)
            .bind(11, a.basis).bind(12, a.outcome).bind(13, a.refusal).bind(14, a.shown).bind(15, a.blocked)
            .bind(16, a.flagged ? 1 : 0).exec();
        const auto details = "unit " + r.assignment.careUnit + ", purpose " + r.assignment.purpose + ", " + a.what + ", relation " +
                             a.relation + (a.basis.empty() ? "" : ", basis " + a.basis) +
                             (a.refusal.empty() ? "" : ", refused " + a.refusal) + ", shown " + std::to_string(a.shown) +
                             ", blocked " + std::to_string(a.blocked);
        ctx_.audit().record(req, {"journal." + a.what, patient, "vård", a.outcome == "refused" ? "denied" : "ok", details}, c);
        if (a.resourceType.empty()) return;
        LogRecord l{newUuid(), s_.systemHsaId, a.outcome == "registered" ? "Registrera" : "Läsa", xsDateTime(ctx_.clock().now()),
                    kPurpose, r.actor.employeeId, r.actor.careProviderId, r.actor.careUnitId, patient, a.resourceType,
                    a.basis == "emergency" ? "nödåtkomst" : a.basis};
        c.prepare("INSERT INTO journal_national_log(log_id, record, created_at) VALUES(?, ?, ?)").bind(1, l.logId).bind(2, toJson(l))
            .bind(3, t).exec();
        (void)ctx_.outbox().enqueue(c, OutboundMessage{kLogChannel, l.logId, l.logId, {}});
    });
}

void Journal::refuse(const Request& req, const Reader& r, const std::string& patient, const std::string& what, Relation rel,
                     Refusal why, const std::string& detail) {
    logAccess(req, r, patient, AccessRow{what, std::string(toString(rel)), "", "refused", std::string(toString(why)), 0, 0, false, ""});
    const bool outage = why == Refusal::ConsentUnavailable || why == Refusal::BlocksUnavailable;
    if (!detail.empty()) ctx_.log().warning("journal: refused (" + std::string(toString(why)) + "): " + maskPersonnummerInText(detail));
    throw Problem(outage ? 503 : 403, "/problems/journal-access-refused", "Åtkomst nekad", std::string(describeSv(why)))
        .with("reason", std::string(toString(why)));
}

Object::Ptr Journal::status(Request& req, const std::string& patient) {
    const auto r = reader(req);
    Relation rel = Relation::None;
    Object::Ptr o = new Object;
    ctx_.store().read([&](db::Connection& c) { rel = relationOf(c, patient, r.assignment.careUnit, s_.window, now()); });
    o->set("relation", std::string(toString(rel)));
    o->set("care_unit", r.assignment.careUnit);
    o->set("purpose", r.assignment.purpose);
    Array::Ptr em = new Array;
    ctx_.store().read([&](db::Connection& c) {
        auto st = c.prepare("SELECT ends_at, reason FROM journal_assertions WHERE kind = 'emergency' AND patient = ? AND care_unit = ? "
                            "AND user_id = ? AND ends_at > ? ORDER BY ends_at DESC LIMIT 1");
        st.bind(1, patient).bind(2, r.assignment.careUnit).bind(3, r.userId).bind(4, now());
        if (st.step()) {
            o->set("emergency_until", st.getInt(0));
            o->set("emergency_reason", st.getText(1));
        }
    });
    // Only local facts: nothing from other providers, but reading it is still an access to
    // the patient's data, so it is audit-logged.
    ctx_.audit().record(req, {"journal.status", patient, "vård", "ok", "unit " + r.assignment.careUnit + ", relation " + std::string(toString(rel))});
    return o;
}

Object::Ptr Journal::assertRelation(Request& req, const std::string& patient, const std::string& given) {
    const auto r = reader(req);
    const std::string reason = trimmedReason(given);
    if (characters(reason) < 5) throw Problem::badRequest("/problems/reason-required", "Ange ett skäl (minst 5 tecken) för patientrelationen.");
    ctx_.store().write([&](db::Connection& c) {
        journal::assertRelation(c, patient, r.assignment.careUnit, r.userId, r.username, reason, s_.window, now());
        ctx_.audit().record(req, {"journal.relation", patient, "vård", "ok", "asserted relation for unit " + r.assignment.careUnit}, c);
    });
    return status(req, patient);
}

Object::Ptr Journal::registerConsent(Request& req, const std::string& patient, const std::string& endDate) {
    const auto r = reader(req);
    ConsentRegistration reg{newUuid(), false, patient, r.actor, xsDateTime(ctx_.clock().now()), "", xsDateTime(ctx_.clock().now()), ""};
    std::optional<long long> endsAt;
    if (!endDate.empty()) {
        const auto day = Clock::parseDate(endDate);
        if (!day) throw Problem::badRequest("/problems/invalid-date", "Slutdatum ska skrivas ÅÅÅÅ-MM-DD.");
        if (!Clock::inRange(*day))
            throw Problem::badRequest("/problems/invalid-date", "Slutdatum kan vara högst 2199-12-31; lämna det tomt för ett samtycke tills vidare.");
        // The consent ends with its last day in the box's time zone (23:59:59 Swedish time, as
        // reg.endDate tells the consent service), not an hour or two later at UTC midnight.
        const auto next = Clock::localMidnight(std::chrono::year_month_day{std::chrono::sys_days{*day} + std::chrono::days{1}});
        endsAt = std::chrono::duration_cast<std::chrono::seconds>(next.time_since_epoch()).count() - 1;
        if (*endsAt <= now()) throw Problem::badRequest("/problems/invalid-date", "Slutdatum har redan passerat.");
        reg.endDate = endDate + "T23:59:59";
    }
    try {
        consent_->registerConsent(reg);
    } catch (const ServiceError& e) {
        ctx_.log().warning(std::string("journal: consent registration failed: ") + e.what());
        throw Problem(503, "/problems/consent-service-unavailable", "Samtycket kunde inte registreras",
                      "Samtyckestjänsten svarar inte eller vägrade. Samtycket är inte registrerat; försök igen.");
    }
    ctx_.store().write([&](db::Connection& c) {
        c.prepare("INSERT INTO journal_assertions(assertion_id, kind, patient, care_unit, user_id, username, registered_at, ends_at) "
                  "VALUES(?, 'consent', ?, ?, ?, ?, ?, ?)")
            .bind(1, reg.assertionId).bind(2, patient).bind(3, r.assignment.careUnit).bind(4, r.userId).bind(5, r.username)
            .bind(6, now()).bind(7, endsAt).exec();
    });
    logAccess(req, r, patient, AccessRow{"consent", "", "consent", "registered", "", 0, 0, false, "Samtycke"});
    Object::Ptr o = new Object;
    o->set("assertion_id", reg.assertionId);
    o->set("registered_by", r.username);
    o->set("end_date", endDate.empty() ? Poco::Dynamic::Var() : Poco::Dynamic::Var(endDate));
    return o;
}

Object::Ptr Journal::registerEmergency(Request& req, const std::string& patient, const std::string& given) {
    const auto r = reader(req);
    const std::string reason = trimmedReason(given);
    if (characters(reason) < 5) throw Problem::badRequest("/problems/emergency-reason-required", "Nödåtkomst kräver ett skäl (minst 5 tecken).");
    const auto t = ctx_.clock().now();
    const auto until = t + std::chrono::hours(s_.emergencyHours);
    ConsentRegistration reg{newUuid(), true, patient, r.actor, xsDateTime(t), xsDateTime(until), xsDateTime(t), reason};
    try {
        consent_->registerConsent(reg);
    } catch (const ServiceError& e) {
        ctx_.log().warning(std::string("journal: emergency registration failed: ") + e.what());
        throw Problem(503, "/problems/consent-service-unavailable", "Nödåtkomsten kunde inte registreras",
                      "Samtyckestjänsten svarar inte. Nödåtkomsten är inte registrerad och ingen information visas.");
    }
    const auto endsAt = std::chrono::duration_cast<std::chrono::seconds>(until.time_since_epoch()).count();
    ctx_.store().write([&](db::Connection& c) {
        c.prepare("INSERT INTO journal_assertions(assertion_id, kind, patient, care_unit, user_id, username, reason, registered_at, ends_at) "
                  "VALUES(?, 'emergency', ?, ?, ?, ?, ?, ?, ?)")
            .bind(1, reg.assertionId).bind(2, patient).bind(3, r.assignment.careUnit).bind(4, r.userId).bind(5, r.username)
            .bind(6, reason).bind(7, now()).bind(8, endsAt).exec();
    });
    logAccess(req, r, patient, AccessRow{"emergency", "", "emergency", "registered", "", 0, 0, true, "Samtycke"});
    Object::Ptr o = new Object;
    o->set("assertion_id", reg.assertionId);
    o->set("emergency_until", endsAt);
    return o;
}

Object::Ptr Journal::records(Request& req, const std::string& patient, Kind kind, const Query& q) {
    const auto r = reader(req);
    const std::string what(toString(kind));
    Relation rel = Relation::None;
    ctx_.store().read([&](db::Connection& c) { rel = relationOf(c, patient, r.assignment.careUnit, s_.window, now()); });
    const bool emergency = emergencyActive(patient, r);
    Consent consent = Consent::None;
    std::string why;
    if (rel != Relation::None) consent = consent_->check(r.actor, patient, why);  // no relation: ask nobody
    auto d = decideBeforeFetch(rel, consent, emergency);
    if (!d.shown) refuse(req, r, patient, what, rel, d.refusal, why);

    Fetched f;
    try {
        f = npo_->fetch(kind, q);
    } catch (const ServiceError& e) {
        logAccess(req, r, patient, AccessRow{what, std::string(toString(rel)), "", "refused", "npo-unavailable", 0, 0, false, ""});
        ctx_.log().warning(std::string("journal: ") + maskPersonnummerInText(e.what()));
        throw Problem(503, "/problems/npo-unavailable", "Sammanhållen journal svarar inte",
                      "Informationen kunde inte hämtas just nu (tjänsten svarar inte). Försök igen.")
            .with("reason", "npo-unavailable");
    }
    // Only the access-control header is looked at until the checks have passed. Records
    // without an accountable care unit are never shown (the contract's rule).
    std::vector<const Record*> candidates;
    int withoutUnit = 0;
    for (const auto& rec : f.records) {
        if (rec.accountableUnit.empty() || rec.accountableProvider.empty() || rec.blockTime.empty()) {
            ++withoutUnit;
            continue;
        }
        if (!q.provider.empty() && rec.accountableProvider != q.provider) continue;
        candidates.push_back(&rec);
    }
    std::vector<BlockQuery> entities;
    for (const auto* rec : candidates) entities.push_back({rec->accountableUnit, rec->accountableProvider, rec->blockTime});
    std::vector<bool> blocked;
    Blocks blockState = Blocks::None;
    try {
        blocked = blocks_->check(r.actor, patient, entities);
        for (bool b : blocked)
            if (b) blockState = Blocks::SomeBlocked;
    } catch (const ServiceError& e) {
        blockState = Blocks::Unavailable;
        why = e.what();
    }
    d = decide(AccessFacts{rel, consent, emergency, blockState});
    if (!d.shown) refuse(req, r, patient, what, rel, d.refusal, why);

    Array::Ptr items = new Array;
    int blockedCount = 0;
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        if (blocked[i]) {
            ++blockedCount;
            continue;
        }
        const auto& rec = *candidates[i];
        Object::Ptr x = new Object;
        x->set("id", rec.id);
        x->set("time", rec.time);
        x->set("title", rec.title);
        x->set("code", rec.code);
        x->set("author", rec.author);
        x->set("unit_name", rec.unitName);
        x->set("care_unit", rec.accountableUnit);
        x->set("care_provider", rec.accountableProvider);
        x->set("source_system", rec.sourceSystem);
        if (kind == Kind::Notes) x->set("content", renderNote(rec.text));
        else x->set("text", rec.text);
        items->add(x);
    }
    logAccess(req, r, patient,
              AccessRow{what, std::string(toString(rel)), d.basis, "shown", "", static_cast<int>(items->size()), blockedCount,
                        d.flagForReview, resourceTypeOf(kind)});
    Object::Ptr o = new Object;
    o->set("kind", what);
    o->set("basis", d.basis);
    o->set("relation", std::string(toString(rel)));
    o->set("emergency", d.basis == "emergency");
    o->set("records", items);
    o->set("blocked_count", blockedCount);
    o->set("blocked_message", blockedCount ? "Det finns spärrad information som inte visas." : "");
    o->set("without_care_unit_count", withoutUnit);
    o->set("pages", f.pages);
    Array::Ptr sources = new Array;
    for (const auto& s : f.sources) {
        Object::Ptr x = new Object;
        x->set("logical_address", s.logicalAddress);
        x->set("status", s.statusCode);
        sources->add(x);
    }
    o->set("sources", sources);
    return o;
}

DeliveryResult Journal::deliverLogs(const QueuedMessage& m) {
    std::lock_guard lock(deliverMu_);  // one batch at a time: a record is never sent twice at once
    bool pending = false;
    std::vector<LogRecord> batch;
    ctx_.store().read([&](db::Connection& c) {
        auto one = c.prepare("SELECT 1 FROM journal_national_log WHERE log_id = ? AND sent_at IS NULL");
        one.bind(1, m.payload);
        pending = one.step();
        if (!pending) return;
        auto st = c.prepare("SELECT record FROM journal_national_log WHERE sent_at IS NULL AND log_id <> ? ORDER BY created_at, log_id LIMIT ?");
        st.bind(1, m.payload).bind(2, static_cast<long long>(kMaxLogsPerCall - 1));
        auto mine = c.prepare("SELECT record FROM journal_national_log WHERE log_id = ?");
        mine.bind(1, m.payload);
        if (mine.step()) batch.push_back(logRecordFromJson(mine.getText(0)));
        while (st.step()) batch.push_back(logRecordFromJson(st.getText(0)));
    });
    if (!pending) return DeliveryResult::delivered("already sent in an earlier batch");
    try {
        log_->store(batch);
    } catch (const ServiceError& e) {
        return DeliveryResult::retry(e.what());
    }
    ctx_.store().write([&](db::Connection& c) {
        auto st = c.prepare("UPDATE journal_national_log SET sent_at = ? WHERE log_id = ?");
        for (const auto& l : batch) {
            st.reset();
            st.bind(1, now()).bind(2, l.logId).exec();
        }
    });
    return DeliveryResult::delivered(std::to_string(batch.size()) + " log records");
}

}  // namespace klinikbox::journal
