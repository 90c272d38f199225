// The check-in plugin: the patient checks in by personnummer (kiosk or phone), is matched to
// today's booking through the booking plugin (checkin.lookup), gets the right fee (the
// region's rules, a Lua override on checkin.fee, the frikort via checkin.quote) and pays
// (Swish, at the desk or by invoice). A paid fee is reported once through the outbox
// (checkin.fee.paid), so the e-frikort plugin registers it exactly once.
#include "FeeRules.h"
#include "Swish.h"

#include <klinikbox/JsonInput.h>
#include <klinikbox/Personnummer.h>
#include <klinikbox/Plugin.h>
#include <klinikbox/Problem.h>
#include <klinikbox/Secrets.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/MailMessage.h>
#include <Poco/Net/MailRecipient.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SMTPClientSession.h>


#include <map>
#include <mutex>
#include <sstream>

namespace {

using namespace klinikbox;
using namespace std::chrono;
using Poco::JSON::Array;
using Poco::JSON::Object;

const std::set<Role> kStaff = {Role::Staff, Role::Admin};

std::string token() { return randomToken(24); }

std::string json(const Object& o) {
    std::ostringstream s;
    o.stringify(s);
    return s.str();
}

std::string kronor(long long ore) {
    std::string s = std::to_string(ore / 100);
    if (ore % 100) s += "," + std::string(ore % 100 < 10 ? "0" : "") + std::to_string(ore % 100);
    return s + " kr";
}

struct Visit {
    long long id = 0, bookingId = 0, feeOre = 0, chargeOre = 0;
    std::string patient, unit, date, start, room, tariff, exemptReason, cardStatus, cardSource, channel;
    std::optional<long long> leftOre;
    bool counts = true, optinRequired = false;
    long long arrivedAt = 0;
};

struct Payment {
    long long id = 0, visitId = 0, amountOre = 0, refundedOre = 0, createdAt = 0;
    std::string method, status, instructionId, reference;
};

class CheckinPlugin final : public Plugin {
public:
    void start(PluginContext& ctx) override {
        ctx_ = &ctx;
        const auto c = ctx.config();
        unit_ = c->getValue<std::string>("care_unit");
        clinicName_ = c->getValue<std::string>("clinic_name");
        before_ = c->getValue<int>("window_before_minutes");
        after_ = c->getValue<int>("window_after_minutes");
        rules_ = checkin::parseFeeRules(c->getObject("fees"));
        if (auto s = c->getObject("swish")) {
            swishEnabled_ = s->getValue<bool>("enabled");
            swish_.baseUrl = s->getValue<std::string>("url");
            swish_.payeeAlias = s->getValue<std::string>("payee_alias");
            swish_.clientCert = s->getValue<std::string>("client_cert");
            swish_.clientKey = s->getValue<std::string>("client_key");
            swish_.caBundle = s->getValue<std::string>("ca_bundle");
            swish_.callbackUrl = s->getValue<std::string>("callback_url");
            if (swishEnabled_ && (swish_.payeeAlias.empty() || swish_.callbackUrl.rfind("https://", 0) != 0))
                throw std::runtime_error("swish.enabled needs payee_alias and an https callback_url");
        }
        if (auto e = c->getObject("email")) {
            smtpHost_ = e->getValue<std::string>("smtp_host");
            smtpPort_ = e->getValue<int>("smtp_port");
            mailFrom_ = e->getValue<std::string>("from");
        }
        if (unit_.empty()) ctx.log().warning("checkin: care_unit is not set; the kiosk cannot check anyone in");

        ctx.outbox().registerChannel("checkin.feereport", [this](const QueuedMessage& m) { return report("checkin.fee.paid", m); });
        ctx.outbox().registerChannel("checkin.feerefund", [this](const QueuedMessage& m) { return report("checkin.fee.refunded", m); });
        ctx.outbox().registerChannel("checkin.receipt", [this](const QueuedMessage& m) { return mailReceipt(m); });
        registerPatientRoutes();
        registerStaffRoutes();
        ctx.addConsolePage({"day", "Incheckning och betalning", "day.js", Access::only(kStaff)});
    }

private:
    PluginContext* ctx_ = nullptr;
    std::string unit_, clinicName_, smtpHost_, mailFrom_;
    int before_ = 60, after_ = 20, smtpPort_ = 25;
    checkin::FeeRules rules_;
    bool swishEnabled_ = false;
    checkin::SwishSettings swish_;
    std::mutex limitMu_;
    std::map<std::string, std::pair<long long, int>> misses_;  // address -> (window start, failed lookups)

    [[nodiscard]] long long now() const { return duration_cast<seconds>(ctx_->clock().now().time_since_epoch()).count(); }

    // An unattended kiosk must not become a way to test personnummer: 20 misses per address
    // in 10 minutes, then 429.
    void limit(const Request& req, bool miss) {
        std::lock_guard lock(limitMu_);
        auto& [start, count] = misses_[req.remoteAddress];
        if (now() - start > 600) {
            start = now();
            count = 0;
        }
        if (miss) ++count;
        if (count > 20) throw Problem(429, "/problems/too-many-attempts", "För många försök", "Vänta en stund eller fråga i receptionen.");
        if (misses_.size() > 10000) misses_.clear();
    }

    std::optional<Visit> loadVisit(db::Connection& c, const std::string& where, const std::string& key) {
        auto st = c.prepare("SELECT id, booking_id, patient, care_unit, visit_date, start_at, room, tariff, fee_ore, charge_ore, counts,"
                            " exempt_reason, card_status, card_source, left_ore, optin_required, channel, arrived_at FROM checkin_visits WHERE " +
                            where);
        st.bind(1, key);
        if (!st.step()) return std::nullopt;
        Visit v;
        v.id = st.getInt(0);
        v.bookingId = st.getInt(1);
        v.patient = st.getText(2);
        v.unit = st.getText(3);
        v.date = st.getText(4);
        v.start = st.getText(5);
        v.room = st.getText(6);
        v.tariff = st.getText(7);
        v.feeOre = st.getInt(8);
        v.chargeOre = st.getInt(9);
        v.counts = st.getInt(10) == 1;
        v.exemptReason = st.getText(11);
        v.cardStatus = st.getText(12);
        v.cardSource = st.getText(13);
        v.leftOre = st.getOptionalInt(14);
        v.optinRequired = st.getInt(15) == 1;
        v.channel = st.getText(16);
        v.arrivedAt = st.getInt(17);
        return v;
    }

    std::optional<Payment> livePayment(db::Connection& c, long long visitId) {
        auto st = c.prepare("SELECT id, visit_id, amount_ore, refunded_ore, created_at, method, status, COALESCE(instruction_id,''),"
                            " COALESCE(payment_reference,'') FROM checkin_payments WHERE visit_id = ? ORDER BY"
                            " CASE WHEN status IN ('created','paid','invoiced') THEN 0 ELSE 1 END, id DESC LIMIT 1");
        st.bind(1, visitId);
        if (!st.step()) return std::nullopt;
        return Payment{st.getInt(0), st.getInt(1), st.getInt(2), st.getInt(3), st.getInt(4), st.getText(5), st.getText(6), st.getText(7),
                       st.getText(8)};
    }

    Visit visitByToken(const Request& req) {
        std::optional<Visit> v;
        ctx_->store().read([&](db::Connection& c) { v = loadVisit(c, "token_hash = ?", sha256Hex(req.pathParams.at("token"))); });
        if (!v) throw Problem(404, "/problems/checkin-session", "Incheckningen hittades inte", "Börja om vid skärmen eller fråga i receptionen.");
        return *v;
    }

    // ---- check-in ----

    Object::Ptr checkIn(const Request& req, const std::string& patientText, const std::string& channel) {
        const auto today = ctx_->clock().today();
        const auto parsed = Personnummer::parse(patientText, today);
        if (const auto* e = std::get_if<PersonnummerError>(&parsed))
            throw Problem(400, "/problems/invalid-personnummer", "Personnumret stämmer inte", std::string(describeSv(*e)));
        const auto pnr = std::get<Personnummer>(parsed);
        const std::string patient = pnr.twelveDigits();
        if (unit_.empty()) throw Problem(503, "/problems/checkin-not-configured", "Incheckningen är inte igång", "Fråga i receptionen.");
        limit(req, false);

        Object::Ptr lookup = new Object;
        lookup->set("patient", patient);
        lookup->set("care_unit", unit_);
        lookup->set("now", now());
        lookup->set("window_before_minutes", before_);
        lookup->set("window_after_minutes", after_);
        Event ev{"checkin.lookup", lookup, req.principal, req.requestId};
        const auto out = ctx_->events().publishSync(ev);
        if (out.vetoed || out.failed)
            throw Problem(503, "/problems/checkin-lookup-failed", "Vi kan inte hämta din bokning just nu", "Fråga i receptionen.");
        Array::Ptr bookings = ev.payload->getArray("bookings");
        // Match the window: now within [start - before, start + after].
        std::vector<Object::Ptr> inWindow, early, late;
        for (std::size_t i = 0; bookings && i < bookings->size(); ++i) {
            const auto b = bookings->getObject(static_cast<unsigned>(i));
            const long long start = parseIso(b->getValue<std::string>("start"));
            if (now() < start - before_ * 60LL) early.push_back(b);
            else if (now() > start + after_ * 60LL) late.push_back(b);
            else inWindow.push_back(b);
        }
        if (inWindow.empty()) {
            if (!early.empty())
                throw Problem(409, "/problems/checkin-early", "Du är tidigt ute",
                              "Din tid är kl. " + early.front()->getValue<std::string>("start").substr(11, 5) +
                                  ". Du kan checka in från kl. " + clockOf(parseIso(early.front()->getValue<std::string>("start")) - before_ * 60LL) + ".");
            if (!late.empty())
                throw Problem(409, "/problems/checkin-late", "Din tid har passerat",
                              "Din tid var kl. " + late.back()->getValue<std::string>("start").substr(11, 5) + ". Gå till receptionen.");
            limit(req, true);
            ctx_->audit().record(req, {"checkin.lookup", patient, "vård", "ok", "no booking today at " + unit_});
            throw Problem(404, "/problems/checkin-unknown", "Vi hittar ingen bokning idag", "Kontrollera personnumret eller gå till receptionen.");
        }
        if (inWindow.size() > 1)
            throw Problem(409, "/problems/checkin-ambiguous", "Du har flera tider nu", "Gå till receptionen så hjälper vi dig.");
        const auto b = inWindow.front();
        const long long bookingId = b->getValue<long long>("booking_id");
        const std::string tok = token();

        // Already checked in (the patient came back to the screen): a new session for the same visit.
        bool existing = false;
        ctx_->store().write([&](db::Connection& c) {
            if (auto v = loadVisit(c, "booking_id = ?", std::to_string(bookingId))) {
                c.prepare("UPDATE checkin_visits SET token_hash = ? WHERE id = ?").bind(1, sha256Hex(tok)).bind(2, v->id).exec();
                existing = true;
            }
        });
        if (existing) {
            ctx_->audit().record(req, {"checkin.resume", patient, "vård", "ok", "booking " + std::to_string(bookingId)});
            return sessionJson(visitByTokenValue(tok), tok);
        }

        // The fee: the region's rules, then the clinic's Lua override, then the frikort.
        const std::string date = b->getValue<std::string>("start").substr(0, 10);
        const auto visitDay = parseDay(date);
        checkin::Visit vi{b->optValue<std::string>("visit_type", ""), b->optValue<std::string>("profession", ""),
                          b->optValue<std::string>("visit_form", ""), pnr.ageOn(visitDay)};
        auto fee = checkin::feeFor(rules_, vi);
        Object::Ptr feeEv = new Object;
        feeEv->set("patient", patient);
        feeEv->set("visit_form", vi.visitForm);
        feeEv->set("visit_type", vi.visitType);
        feeEv->set("profession", vi.profession);
        feeEv->set("date", date);
        feeEv->set("age", vi.age);
        feeEv->set("frikort", false);
        feeEv->set("fee_ore", fee.feeOre);
        feeEv->set("counts_toward_ceiling", fee.counts);
        if (!fee.exemptReason.empty()) feeEv->set("fee_exemption", fee.exemptReason);
        Event fe{"checkin.fee", feeEv, req.principal, req.requestId};
        const auto fo = ctx_->events().publishSync(fe);
        if (fo.vetoed || fo.failed)
            throw Problem(422, "/problems/fee-refused", "Avgiften kunde inte bestämmas", fo.reason + " Gå till receptionen.");
        if (fe.payload->has("fee_ore") && fe.payload->get("fee_ore").isInteger())
            fee.feeOre = std::max<long long>(0, fe.payload->getValue<long long>("fee_ore"));
        fee.counts = fe.payload->optValue<bool>("counts_toward_ceiling", fee.counts);
        fee.exemptReason = fe.payload->optValue<std::string>("fee_exemption", fee.exemptReason);
        if (!fee.exemptReason.empty()) fee.feeOre = 0;

        Visit v;
        v.bookingId = bookingId;
        v.patient = patient;
        v.unit = unit_;
        v.date = date;
        v.start = b->getValue<std::string>("start");
        v.room = b->optValue<std::string>("room", "");
        v.tariff = fee.tariff;
        v.feeOre = fee.feeOre;
        v.chargeOre = fee.feeOre;
        v.counts = fee.counts;
        v.exemptReason = fee.exemptReason;
        v.channel = channel;
        if (fee.feeOre > 0) {
            Object::Ptr q = new Object;
            q->set("patient", patient);
            q->set("care_unit", unit_);
            q->set("date", date);
            q->set("fee_ore", fee.feeOre);
            q->set("counts_toward_ceiling", fee.counts);
            Event qe{"checkin.quote", q, req.principal, req.requestId};
            const auto qo = ctx_->events().publishSync(qe);
            if (!qo.vetoed && !qo.failed && qe.payload->has("charge_ore")) {
                v.chargeOre = std::clamp<long long>(qe.payload->getValue<long long>("charge_ore"), 0, fee.feeOre);
                v.cardStatus = qe.payload->optValue<std::string>("card_status", "");
                v.cardSource = qe.payload->optValue<std::string>("source", "");
                if (qe.payload->has("left_ore") && qe.payload->get("left_ore").isInteger())
                    v.leftOre = qe.payload->getValue<long long>("left_ore");
                v.optinRequired = qe.payload->optValue<bool>("optin_required", false);
                if (v.chargeOre == 0 && (v.cardStatus == "FINAL" || v.cardStatus == "PRELIMINARY")) v.exemptReason = "frikort";
            }
        }
        try {
            ctx_->store().write([&](db::Connection& c) {
                auto ins = c.prepare(
                    "INSERT INTO checkin_visits(booking_id, token_hash, patient, care_unit, visit_date, start_at, room, tariff, fee_ore,"
                    " charge_ore, counts, exempt_reason, card_status, card_source, left_ore, optin_required, channel, arrived_at)"
                    " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
                ins.bind(1, bookingId).bind(2, sha256Hex(tok)).bind(3, patient).bind(4, unit_).bind(5, date).bind(6, v.start)
                    .bind(7, v.room).bind(8, v.tariff).bind(9, v.feeOre).bind(10, v.chargeOre).bind(11, v.counts ? 1 : 0)
                    .bind(12, v.exemptReason).bind(13, v.cardStatus).bind(14, v.cardSource);
                if (v.leftOre) ins.bind(15, *v.leftOre);
                else ins.bindNull(15);
                ins.bind(16, v.optinRequired ? 1 : 0).bind(17, channel).bind(18, now()).exec();
                ctx_->audit().record(req, {"checkin.arrive", patient, "vård", "ok",
                                           "booking " + std::to_string(bookingId) + " via " + channel + ", fee " + std::to_string(v.chargeOre)},
                                     c);
            });
        } catch (const db::ConstraintError&) {
            throw Problem(409, "/problems/checkin-busy", "Incheckningen pågår redan", "Försök igen om en stund.");
        }
        // The booking is marked arrived (sync), and subscribers (reports) hear about it.
        Object::Ptr arrived = new Object;
        for (const char* k : {"booking_id", "care_unit", "practitioner", "profession", "visit_form", "visit_type", "start"})
            if (b->has(k)) arrived->set(k, b->get(k));
        arrived->set("patient", patient);
        arrived->set("arrived_at", now());
        Event ae{"checkin.arrived", arrived, req.principal, req.requestId};
        (void)ctx_->events().publishSync(ae);
        ctx_->events().publish(Event{"checkin.arrived", arrived, req.principal, req.requestId});
        return sessionJson(visitByTokenValue(tok), tok);
    }

    Visit visitByTokenValue(const std::string& tok) {
        std::optional<Visit> v;
        ctx_->store().read([&](db::Connection& c) { v = loadVisit(c, "token_hash = ?", sha256Hex(tok)); });
        return *v;
    }

    static long long parseIso(const std::string& s) {
        // "YYYY-MM-DDTHH:MM:SS+HH:00"
        if (s.size() < 25) throw std::runtime_error("bad time " + s);
        const year_month_day d{year{std::stoi(s.substr(0, 4))}, month{static_cast<unsigned>(std::stoi(s.substr(5, 2)))},
                               day{static_cast<unsigned>(std::stoi(s.substr(8, 2)))}};
        long long t = sys_seconds{sys_days{d}}.time_since_epoch().count() + std::stoi(s.substr(11, 2)) * 3600LL +
                      std::stoi(s.substr(14, 2)) * 60LL + std::stoi(s.substr(17, 2));
        const int off = std::stoi(s.substr(20, 2)) * 3600 + std::stoi(s.substr(23, 2)) * 60;
        return s[19] == '+' ? t - off : t + off;
    }
    static year_month_day parseDay(const std::string& s) {
        return year_month_day{year{std::stoi(s.substr(0, 4))}, month{static_cast<unsigned>(std::stoi(s.substr(5, 2)))},
                              day{static_cast<unsigned>(std::stoi(s.substr(8, 2)))}};
    }
    // HH:MM in Stockholm time (the offset of the booking's day).
    static std::string clockOf(long long utc) {
        const sys_seconds t{seconds{utc}};
        const int y = static_cast<int>(year_month_day{floor<days>(t)}.year());
        auto lastSunday = [](int yy, unsigned m) {
            const sys_days last{year_month_day_last{year{yy}, month_day_last{month{m}}}};
            return last - days{(weekday{last}.c_encoding() + 7) % 7};
        };
        const bool summer = t >= sys_seconds{lastSunday(y, 3)} + hours{1} && t < sys_seconds{lastSunday(y, 10)} + hours{1};
        const auto local = t + hours{summer ? 2 : 1};
        const hh_mm_ss hms{local - floor<days>(local)};
        char b[8];
        std::snprintf(b, sizeof b, "%02d:%02d", static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()));
        return b;
    }

    Object::Ptr sessionJson(const Visit& v, const std::string& tok) {
        auto o = statusJson(v);
        if (!tok.empty()) o->set("token", tok);
        return o;
    }

    Object::Ptr statusJson(const Visit& v) {
        Object::Ptr o = new Object;
        o->set("time", v.start.substr(11, 5));
        o->set("room", v.room);
        o->set("fee_ore", v.feeOre);
        o->set("charge_ore", v.chargeOre);
        o->set("exempt_reason", v.exemptReason);
        o->set("card_status", v.cardStatus);
        o->set("card_source", v.cardSource);
        if (v.leftOre) o->set("left_ore", *v.leftOre);
        o->set("optin_required", v.optinRequired);
        Array::Ptr methods = new Array;
        if (v.chargeOre > 0) {
            if (swishEnabled_) methods->add("swish");
            methods->add("desk");
            methods->add("invoice");
        }
        o->set("methods", methods);
        std::optional<Payment> p;
        ctx_->store().read([&](db::Connection& c) { p = livePayment(c, v.id); });
        std::string state = v.chargeOre == 0 ? "nothing_to_pay" : "unpaid";
        if (p) {
            o->set("payment", paymentJson(*p));
            if (p->status == "paid") state = "paid";
            else if (p->status == "invoiced") state = "invoiced";
            else if (p->status == "created") state = p->method == "desk" ? "pay_at_desk" : "waiting";
        }
        o->set("state", state);
        return o;
    }

    static Object::Ptr paymentJson(const Payment& p) {
        Object::Ptr o = new Object;
        o->set("id", p.id);
        o->set("method", p.method);
        o->set("status", p.status);
        o->set("amount_ore", p.amountOre);
        o->set("refunded_ore", p.refundedOre);
        if (!p.reference.empty()) o->set("reference", p.reference);
        return o;
    }

    // ---- payments ----

    // Marks a payment paid and queues the fee report in the same transaction (once).
    bool applyPaid(long long paymentId, const std::string& reference, const std::string& by) {
        bool changed = false;
        std::string patient;
        ctx_->store().write([&](db::Connection& c) {
            c.prepare("UPDATE checkin_payments SET status = 'paid', paid_at = ?, payment_reference = NULLIF(?, '')"
                      " WHERE id = ? AND status IN ('created', 'invoiced')")
                .bind(1, now()).bind(2, reference).bind(3, paymentId).exec();
            if (c.changes() != 1) return;
            changed = true;
            auto st = c.prepare("SELECT v.patient, v.care_unit, v.visit_date, v.fee_ore, p.amount_ore, v.counts, v.booking_id"
                                " FROM checkin_payments p JOIN checkin_visits v ON v.id = p.visit_id WHERE p.id = ?");
            st.bind(1, paymentId);
            if (!st.step()) return;
            Object o;
            o.set("payment_id", "checkin-" + std::to_string(paymentId));
            o.set("patient", st.getText(0));
            o.set("care_unit", st.getText(1));
            o.set("visit_date", st.getText(2));
            o.set("fee_ore", st.getInt(3));
            o.set("charged_ore", st.getInt(4));
            o.set("counts_toward_ceiling", st.getInt(5) == 1);
            o.set("booking_id", st.getInt(6));
            ctx_->outbox().enqueue(c, {"checkin.feereport", json(o), "fee-" + std::to_string(paymentId)});
            patient = st.getText(0);
        });
        // Its own transaction, after ours (a second writer inside ours would wait for it).
        if (changed) ctx_->audit().recordSystem({"checkin.paid", patient, "vård", "ok", "payment " + std::to_string(paymentId) + " by " + by});
        return changed;
    }

    void applyStatus(long long paymentId, const std::string& status) {
        ctx_->store().write([&](db::Connection& c) {
            c.prepare("UPDATE checkin_payments SET status = ? WHERE id = ? AND status = 'created'").bind(1, status).bind(2, paymentId).exec();
        });
    }

    // Never trusts a callback or a waiting kiosk: asks Swish for the truth.
    void confirmSwish(const Payment& p) {
        if (p.method != "swish" || p.status != "created" || p.instructionId.empty()) return;
        const auto a = checkin::getPayment(swish_, p.instructionId);
        if (a.status == 404) return applyStatus(p.id, "error");
        if (a.status != 200 || !a.body) return;
        const auto st = a.body->optValue<std::string>("status", "");
        if (st == "PAID") applyPaid(p.id, a.body->optValue<std::string>("paymentReference", ""), "swish");
        else if (st == "DECLINED") applyStatus(p.id, "declined");
        else if (st == "CANCELLED") applyStatus(p.id, "cancelled");
        else if (st == "ERROR") applyStatus(p.id, "error");
    }

    Object::Ptr pay(const Request& req, const Visit& v, const std::string& method, const std::string& by) {
        if (v.chargeOre <= 0) throw Problem(409, "/problems/nothing-to-pay", "Inget att betala", "Besöket är avgiftsfritt.");
        if (method == "swish" && !swishEnabled_) throw Problem(409, "/problems/swish-off", "Swish används inte här", "Välj ett annat sätt.");
        Payment p;
        p.method = method;
        p.amountOre = v.chargeOre;
        p.instructionId = method == "swish" ? checkin::newInstructionId() : "";
        try {
            ctx_->store().write([&](db::Connection& c) {
                auto ins = c.prepare("INSERT INTO checkin_payments(visit_id, method, amount_ore, status, instruction_id, created_at, created_by)"
                                     " VALUES(?,?,?,?,?,?,?)");
                ins.bind(1, v.id).bind(2, method).bind(3, v.chargeOre).bind(4, method == "invoice" ? "invoiced" : "created");
                if (p.instructionId.empty()) ins.bindNull(5);
                else ins.bind(5, p.instructionId);
                ins.bind(6, now()).bind(7, by).exec();
                p.id = c.lastInsertId();
                ctx_->audit().record(req, {"checkin.pay", v.patient, "vård", "ok", method + " " + std::to_string(v.chargeOre)}, c);
            });
        } catch (const db::ConstraintError&) {
            // One live payment per visit: a second tap shows the first one's state.
            return statusJson(v);
        }
        if (method == "swish") {
            try {
                const auto a = checkin::createPayment(swish_, p.instructionId, v.chargeOre, "Besök " + v.date.substr(8, 2) + "/" + v.date.substr(5, 2),
                                                      "KB" + std::to_string(p.id));
                if (a.status != 201) {
                    applyStatus(p.id, "error");
                    throw Problem(502, "/problems/swish-refused", "Swish tog inte emot betalningen",
                                  a.errors.empty() ? "HTTP " + std::to_string(a.status) : a.errors);
                }
            } catch (const Problem&) {
                throw;
            } catch (const std::exception& e) {
                // The request may or may not have reached Swish: ask before giving up.
                try {
                    const auto a = checkin::getPayment(swish_, p.instructionId);
                    if (a.status != 200) applyStatus(p.id, "error");
                } catch (...) {
                    applyStatus(p.id, "error");
                }
                throw Problem(503, "/problems/swish-unreachable", "Swish svarar inte", "Betala i receptionen eller försök igen.");
            }
        }
        return statusJson(v);
    }

    // ---- receipts ----

    Object::Ptr receiptJson(const Visit& v) {
        auto o = statusJson(v);
        o->set("clinic", clinicName_);
        o->set("date", v.date);
        o->set("tariff", v.tariff);
        o->set("fee_text", kronor(v.feeOre));
        o->set("charge_text", kronor(v.chargeOre));
        o->set("receipt_no", "KB-" + v.date.substr(0, 4) + "-" + std::to_string(v.id));
        return o;
    }

    DeliveryResult mailReceipt(const QueuedMessage& m) {
        if (smtpHost_.empty()) return DeliveryResult::failed("no SMTP server is configured (email.smtp_host)");
        Poco::JSON::Parser p;
        const auto o = p.parse(m.payload).extract<Object::Ptr>();
        try {
            Poco::Net::MailMessage msg;
            msg.setSender(mailFrom_);
            msg.addRecipient(Poco::Net::MailRecipient(Poco::Net::MailRecipient::PRIMARY_RECIPIENT, o->getValue<std::string>("to")));
            msg.setSubject(Poco::Net::MailMessage::encodeWord("Kvitto " + o->getValue<std::string>("receipt_no"), "UTF-8"));
            msg.setContentType("text/plain; charset=UTF-8");
            msg.setContent(o->getValue<std::string>("text"), Poco::Net::MailMessage::ENCODING_QUOTED_PRINTABLE);
            Poco::Net::SMTPClientSession s(smtpHost_, static_cast<Poco::UInt16>(smtpPort_));
            s.setTimeout(Poco::Timespan(10, 0));
            s.login();
            s.sendMessage(msg);
            s.close();
            return DeliveryResult::delivered("accepted by " + smtpHost_);
        } catch (const Poco::Net::SMTPException& e) {
            return DeliveryResult::retry("SMTP: " + e.displayText());
        }
    }

    // The outbox's deliverer of fee reports: the e-frikort plugin registers in its hook;
    // a failing hook means "try again later".
    DeliveryResult report(const std::string& event, const QueuedMessage& m) {
        Poco::JSON::Parser p;
        Event e{event, p.parse(m.payload).extract<Object::Ptr>(), std::nullopt, "outbox-" + std::to_string(m.id)};
        const auto out = ctx_->events().publishSync(e);
        if (out.failed || out.vetoed) return DeliveryResult::retry(out.hook + ": " + out.reason);
        return DeliveryResult::delivered();
    }

    // ---- routes ----

    void registerPatientRoutes() {
        auto& r = ctx_->router();
        // The kiosk and the patient's phone: no login; the personnummer finds today's booking.
        r.add("POST", "/api/v1/checkin/arrivals", Access::anyone(), [this](Request& req) {
            JsonInput in(req.json(), {"patient", "channel"});
            const auto channel = in.optStr("channel", 10).value_or("kiosk");
            if (channel != "kiosk" && channel != "phone") throw JsonInput::invalid("channel", "kiosk or phone");
            return Response::json(checkIn(req, in.str("patient", 20), channel), 201);
        }, RouteDoc{"Check in by personnummer (kiosk or phone): today's booking within the window, the fee, a session token", "checkin", nullptr, nullptr});

        r.add("GET", "/api/v1/checkin/arrivals/{token}", Access::anyone(), [this](Request& req) {
            const auto v = visitByToken(req);
            std::optional<Payment> p;
            ctx_->store().read([&](db::Connection& c) { p = livePayment(c, v.id); });
            if (p && p->method == "swish" && p->status == "created" && now() - p->createdAt >= 2) {
                try {
                    confirmSwish(*p);
                } catch (const std::exception& e) {
                    ctx_->log().warning(std::string("checkin: Swish status check failed: ") + e.what());
                }
            }
            return Response::json(statusJson(v));
        }, RouteDoc{"The check-in session's state (polled by the kiosk while the patient pays)", "checkin", nullptr, nullptr});

        r.add("POST", "/api/v1/checkin/arrivals/{token}/payment", Access::anyone(), [this](Request& req) {
            JsonInput in(req.json(), {"method"});
            const auto method = in.str("method", 10);
            if (method != "swish" && method != "desk" && method != "invoice") throw JsonInput::invalid("method", "swish, desk or invoice");
            const auto v = visitByToken(req);
            return Response::json(pay(req, v, method, "patient"), 201);
        }, RouteDoc{"Pay: Swish (the patient approves in the app), at the desk, or by invoice", "checkin", nullptr, nullptr});

        r.add("POST", "/api/v1/checkin/arrivals/{token}/optin", Access::anyone(), [this](Request& req) {
            JsonInput in(req.json(), {"consent"});
            if (!in.boolean("consent")) return Response::noContent();
            const auto v = visitByToken(req);
            Object::Ptr o = new Object;
            o->set("patient", v.patient);
            o->set("care_unit", v.unit);
            Event e{"checkin.optin", o, req.principal, req.requestId};
            const auto out = ctx_->events().publishSync(e);
            if (out.failed || out.vetoed) throw Problem(503, "/problems/optin-failed", "Samtycket kunde inte sparas", "Fråga i receptionen.");
            ctx_->audit().record(req, {"checkin.optin", v.patient, "vård", "ok", "consent to e-frikort"});
            return Response::noContent();
        }, RouteDoc{"The patient consents to e-frikort (opt-in)", "checkin", nullptr, nullptr});

        r.add("GET", "/api/v1/checkin/arrivals/{token}/receipt", Access::anyone(), [this](Request& req) {
            const auto v = visitByToken(req);
            ctx_->audit().record(req, {"checkin.receipt", v.patient, "vård", "ok", "receipt shown"});
            return Response::json(receiptJson(v));
        }, RouteDoc{"The receipt of a check-in (printable page: /plugins/checkin/receipt.html#<token>)", "checkin", nullptr, nullptr});

        r.add("POST", "/api/v1/checkin/arrivals/{token}/receipt", Access::anyone(), [this](Request& req) {
            JsonInput in(req.json(), {"email"});
            const auto email = in.str("email", 254);
            if (email.find('@') == std::string::npos || email.find(' ') != std::string::npos) throw JsonInput::invalid("email", "not an e-mail address");
            const auto v = visitByToken(req);
            const auto rc = receiptJson(v);
            const std::string text = "Kvitto " + rc->getValue<std::string>("receipt_no") + "\n" + clinicName_ + "\nDatum: " + v.date +
                                     "\nBesök: " + v.tariff + "\nAvgift: " + kronor(v.feeOre) + "\nBetalt: " +
                                     (rc->getValue<std::string>("state") == "paid" ? kronor(v.chargeOre) : "0 kr") +
                                     (v.exemptReason.empty() ? "" : "\nAvgiftsfritt: " + v.exemptReason) + "\n";
            Object o;
            o.set("to", email);
            o.set("receipt_no", rc->getValue<std::string>("receipt_no"));
            o.set("text", text);
            ctx_->store().write([&](db::Connection& c) {
                ctx_->outbox().enqueue(c, {"checkin.receipt", json(o), "receipt-" + std::to_string(v.id) + "-" + sha256Hex(email).substr(0, 12)});
                ctx_->audit().record(req, {"checkin.receipt", v.patient, "vård", "ok", "receipt e-mailed"}, c);
            });
            return Response::noContent();
        }, RouteDoc{"E-mail the receipt (through the outbox)", "checkin", nullptr, nullptr});

        // Swish calls back here; the body is only a hint: the status is read back from Swish.
        r.add("POST", "/api/v1/checkin/swish/callback", Access::anyone(), [this](Request& req) {
            std::string id;
            try {
                id = req.json()->optValue<std::string>("id", "");
            } catch (...) {
            }
            std::optional<Payment> p;
            ctx_->store().read([&](db::Connection& c) {
                auto st = c.prepare("SELECT id, visit_id, amount_ore, refunded_ore, created_at, method, status, instruction_id,"
                                    " COALESCE(payment_reference,'') FROM checkin_payments WHERE instruction_id = ?");
                st.bind(1, id);
                if (st.step())
                    p = Payment{st.getInt(0), st.getInt(1), st.getInt(2), st.getInt(3), st.getInt(4), st.getText(5), st.getText(6), st.getText(7), st.getText(8)};
            });
            if (p) {
                try {
                    confirmSwish(*p);
                } catch (const std::exception& e) {
                    ctx_->log().warning(std::string("checkin: Swish callback could not be confirmed: ") + e.what());
                }
            }
            return Response::noContent();
        }, RouteDoc{"Swish callback (confirmed by reading the payment back from Swish)", "checkin", nullptr, nullptr});
    }

    void registerStaffRoutes() {
        auto& r = ctx_->router();
        r.add("POST", "/api/v1/checkin/desk/arrivals", Access::only(kStaff), [this](Request& req) {
            JsonInput in(req.json(), {"patient"});
            return Response::json(checkIn(req, in.str("patient", 20), "desk"), 201);
        }, RouteDoc{"Staff check a patient in at the desk", "checkin", nullptr, nullptr});

        r.add("POST", "/api/v1/checkin/visits/{id}/payment", Access::only(kStaff), [this](Request& req) {
            JsonInput in(req.json(), {"method"});
            const auto method = in.str("method", 10);
            if (method != "desk" && method != "invoice") throw JsonInput::invalid("method", "desk or invoice");
            std::optional<Visit> v;
            ctx_->store().read([&](db::Connection& c) { v = loadVisit(c, "id = ?", std::to_string(req.intParam("id"))); });
            if (!v) throw Problem::notFound("no visit");
            auto st = pay(req, *v, method, req.principal->username);
            std::optional<Payment> p;
            ctx_->store().read([&](db::Connection& c) { p = livePayment(c, v->id); });
            if (p && method == "desk" && p->status == "created") applyPaid(p->id, "", req.principal->username);
            return Response::json(statusJson(*v), 201);
        }, RouteDoc{"Staff take payment at the desk (paid at once) or send an invoice", "checkin", nullptr, nullptr});

        r.add("POST", "/api/v1/checkin/payments/{id}/paid", Access::only(kStaff), [this](Request& req) {
            const long long id = req.intParam("id");
            if (!applyPaid(id, "", req.principal->username))
                throw Problem::conflict("/problems/payment-state", "the payment is not waiting to be paid");
            ctx_->audit().record(req, {"checkin.paid", "", "vård", "ok", "payment " + std::to_string(id) + " marked paid"});
            return Response::noContent();
        }, RouteDoc{"Mark a desk payment or an invoice as paid", "checkin", nullptr, nullptr});

        r.add("POST", "/api/v1/checkin/payments/{id}/refund", Access::only({Role::Admin}), [this](Request& req) {
            JsonInput in(req.json(), {"amount_ore"});
            const long long id = req.intParam("id");
            std::optional<Payment> p;
            std::string patient;
            ctx_->store().read([&](db::Connection& c) {
                auto st = c.prepare("SELECT p.id, p.visit_id, p.amount_ore, p.refunded_ore, p.created_at, p.method, p.status,"
                                    " COALESCE(p.instruction_id,''), COALESCE(p.payment_reference,''), v.patient"
                                    " FROM checkin_payments p JOIN checkin_visits v ON v.id = p.visit_id WHERE p.id = ?");
                st.bind(1, id);
                if (st.step()) {
                    p = Payment{st.getInt(0), st.getInt(1), st.getInt(2), st.getInt(3), st.getInt(4), st.getText(5), st.getText(6), st.getText(7), st.getText(8)};
                    patient = st.getText(9);
                }
            });
            if (!p) throw Problem::notFound("no payment");
            if (p->status != "paid") throw Problem::conflict("/problems/payment-state", "only a paid payment can be refunded");
            const long long amount = in.integer("amount_ore", 1, p->amountOre - p->refundedOre);
            std::string refundId;
            if (p->method == "swish") {
                refundId = checkin::newInstructionId();
                const auto a = checkin::createRefund(swish_, refundId, p->reference, amount, "Återbetalning");
                if (a.status != 201) throw Problem(502, "/problems/swish-refused", "Swish tog inte emot återbetalningen", a.errors);
            }
            ctx_->store().write([&](db::Connection& c) {
                c.prepare("UPDATE checkin_payments SET refunded_ore = refunded_ore + ? WHERE id = ? AND refunded_ore + ? <= amount_ore")
                    .bind(1, amount).bind(2, id).bind(3, amount).exec();
                if (c.changes() != 1) throw Problem::conflict("/problems/refund-too-large", "more than was paid");
                c.prepare("INSERT INTO checkin_refunds(payment_id, instruction_id, amount_ore, status, created_at, created_by) VALUES(?,?,?,?,?,?)")
                    .bind(1, id).bind(2, refundId.empty() ? std::string("desk-") + std::to_string(now()) : refundId).bind(3, amount)
                    .bind(4, "done").bind(5, now()).bind(6, req.principal->username).exec();
                const long long refundRow = c.lastInsertId();
                Object o;
                o.set("payment_id", "checkin-" + std::to_string(id));
                o.set("refund_id", std::to_string(refundRow));
                o.set("refunded_ore", amount);
                ctx_->outbox().enqueue(c, {"checkin.feerefund", json(o), "refund-" + std::to_string(refundRow)});
                ctx_->audit().record(req, {"checkin.refund", patient, "vård", "ok", "payment " + std::to_string(id) + " refunded " + std::to_string(amount)}, c);
            });
            return Response::noContent();
        }, RouteDoc{"Refund a payment, fully or partly (the fee is corrected in eFrikort)", "checkin", nullptr, nullptr});

        r.add("GET", "/api/v1/checkin/day", Access::only(kStaff), [this](Request& req) {
            const std::string unit = req.queryParam("unit").value_or(unit_);
            const std::string date = req.queryParam("date").value_or([&] {
                const auto d = ctx_->clock().today();
                char b[16];
                std::snprintf(b, sizeof b, "%04d-%02u-%02u", static_cast<int>(d.year()), static_cast<unsigned>(d.month()),
                              static_cast<unsigned>(d.day()));
                return std::string(b);
            }());
            Array::Ptr rows = new Array;
            long long checkedIn = 0, exempt = 0, outstanding = 0, outstandingOre = 0;
            std::map<std::string, long long> byMethod;
            std::set<std::string> patients;
            ctx_->store().read([&](db::Connection& c) {
                auto st = c.prepare("SELECT id FROM checkin_visits WHERE care_unit = ? AND visit_date = ? ORDER BY start_at");
                st.bind(1, unit).bind(2, date);
                std::vector<long long> ids;
                while (st.step()) ids.push_back(st.getInt(0));
                for (auto id : ids) {
                    const auto v = *loadVisit(c, "id = ?", std::to_string(id));
                    const auto p = livePayment(c, v.id);
                    ++checkedIn;
                    patients.insert(v.patient);
                    Object::Ptr o = new Object;
                    o->set("visit_id", v.id);
                    o->set("time", v.start.substr(11, 5));
                    o->set("patient", v.patient);
                    o->set("tariff", v.tariff);
                    o->set("fee_ore", v.feeOre);
                    o->set("charge_ore", v.chargeOre);
                    o->set("exempt_reason", v.exemptReason);
                    o->set("card_status", v.cardStatus);
                    o->set("card_source", v.cardSource);
                    o->set("channel", v.channel);
                    if (p) o->set("payment", paymentJson(*p));
                    if (v.chargeOre == 0) ++exempt;
                    else if (p && p->status == "paid") byMethod[p->method] += p->amountOre - p->refundedOre;
                    else {
                        ++outstanding;
                        outstandingOre += v.chargeOre;
                    }
                    rows->add(o);
                }
            });
            for (const auto& p : patients) ctx_->audit().record(req, {"checkin.read", p, "vård", "ok", "day report " + date});
            Object::Ptr paid = new Object;
            for (const auto& [m, ore] : byMethod) paid->set(m, ore);
            Object::Ptr o = new Object;
            o->set("unit", unit);
            o->set("date", date);
            o->set("checked_in", checkedIn);
            o->set("exempt", exempt);
            o->set("outstanding", outstanding);
            o->set("outstanding_ore", outstandingOre);
            o->set("paid_ore_by_method", paid);
            o->set("visits", rows);
            return Response::json(o);
        }, RouteDoc{"Day report of a unit: checked in, paid by method, exempt, outstanding", "checkin", nullptr, nullptr});
    }
};

}  // namespace

KB_PLUGIN(CheckinPlugin)
