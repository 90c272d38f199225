// The e-frikort plugin: hooks the check-in plugin's events (quote, opt-in, fee paid, fee
// refunded), registers fees in eFrikort through the outbox, keeps the local ledger, and shows
// staff a patient's card (national and local).
#include <klinikbox/Schema.h>
#include "Ledger.h"
#include "Soap.h"

#include <klinikbox/JsonInput.h>
#include <klinikbox/Personnummer.h>
#include <klinikbox/Plugin.h>
#include <klinikbox/Problem.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>

#include <sstream>

namespace {

using namespace klinikbox;
using namespace std::chrono;
using Poco::JSON::Array;
using Poco::JSON::Object;

std::string str(const Object::Ptr& o, const std::string& k) { return o->optValue<std::string>(k, ""); }

class EfrikortPlugin final : public Plugin {
public:
    void start(PluginContext& ctx) override {
        ctx_ = &ctx;
        const auto c = ctx.config();
        party_.carePrincipalId = str(c, "care_principal_id");
        party_.careProviderName = str(c, "care_provider_name");
        party_.careProviderId = str(c, "care_provider_id");
        party_.careUnitName = str(c, "care_unit_name");
        party_.careUnitId = str(c, "care_unit_id");
        party_.employeeId = str(c, "employee_id");
        endpoint_.urlPattern = str(c, "service_url");
        endpoint_.clientCert = str(c, "client_cert");
        endpoint_.clientKey = str(c, "client_key");
        endpoint_.caBundle = str(c, "ca_bundle");
        endpoint_.timeoutMs = c->getValue<int>("timeout_ms");
        if (auto a = c->getArray("ceilings"))
            for (std::size_t i = 0; i < a->size(); ++i) {
                const auto o = a->getObject(static_cast<unsigned>(i));
                const auto from = efrikort::parseDate(o->getValue<std::string>("from"));
                if (!from) throw std::runtime_error("ceilings[" + std::to_string(i) + "].from is not a date");
                ceilings_.push_back({*from, o->getValue<long long>("amount_ore")});
            }
        configured_ = !party_.carePrincipalId.empty() && !endpoint_.clientCert.empty();
        if (!configured_) ctx.log().warning("efrikort: care_principal_id or client_cert is not set; only the local ledger is used");

        HookSpec quote{"efrikort:quote", Phase::Decide, {}, {}};
        quote.budget = milliseconds(endpoint_.timeoutMs + 1000);  // one call to eFrikort
        ctx.events().hook("checkin.quote", quote, [this](Event& e) { onQuote(e); });
        ctx.events().hook("checkin.optin", HookSpec{"efrikort:optin", Phase::Finalize, {}, {}}, [this](Event& e) { onOptIn(e); });
        ctx.events().hook("checkin.fee.paid", HookSpec{"efrikort:register", Phase::Finalize, {}, {}},
                          [this](Event& e) { onPaid(e); });
        ctx.events().hook("checkin.fee.refunded", HookSpec{"efrikort:correct", Phase::Finalize, {}, {}},
                          [this](Event& e) { onRefunded(e); });
        ctx.outbox().registerChannel("efrikort.register", [this](const QueuedMessage& m) { return deliverRegister(m); });
        ctx.outbox().registerChannel("efrikort.correct", [this](const QueuedMessage& m) { return deliverCorrect(m); });
        ctx.outbox().registerChannel("efrikort.optin", [this](const QueuedMessage& m) { return deliverOptIn(m); });

        ctx.router().add("GET", "/api/v1/efrikort/patients/{patient}", Access::only({Role::Staff, Role::Admin}),
                         [this](Request& req) { return patientView(req); },
                         RouteSpec{.summary = "A patient's frikort: the national card (if reachable) and this clinic's local ledger", .tag = "efrikort", .status = 200, .path = {{"patient", klinikbox::schema::personnummer(), true, ""}}});
        ctx.addConsolePage({"card", "E-frikort", "card.js", Access::only({Role::Staff, Role::Admin})});
    }

private:
    PluginContext* ctx_ = nullptr;
    efrikort::Party party_;
    efrikort::Endpoint endpoint_;
    std::vector<efrikort::Ceiling> ceilings_;
    bool configured_ = false;

    [[nodiscard]] long long now() const { return duration_cast<seconds>(ctx_->clock().now().time_since_epoch()).count(); }
    [[nodiscard]] efrikort::Date today() const { return ctx_->clock().today(); }

    efrikort::Result soap(const std::string& contract, const std::string& body) {
        if (!configured_) throw std::runtime_error("eFrikort is not configured");
        return efrikort::call(endpoint_, contract, efrikort::envelope(party_.carePrincipalId, body));
    }

    // The local window from what this clinic charged (counted fees, not deleted).
    efrikort::Window localWindow(const std::string& patient) {
        std::vector<efrikort::Fee> fees;
        ctx_->store().read([&](db::Connection& c) {
            auto st = c.prepare("SELECT visit_date, charged_ore - refunded_ore FROM efrikort_ledger"
                                " WHERE patient = ? AND counts = 1 AND state != 'deleted'");
            st.bind(1, patient);
            while (st.step())
                if (auto d = efrikort::parseDate(st.getText(0))) fees.push_back({*d, st.getInt(1)});
        });
        return efrikort::windowOn(fees, today(), ceilings_);
    }

    // checkin.quote: what to charge. The national card decides; when eFrikort cannot be
    // reached the local ledger does, marked as local.
    void onQuote(Event& e) {
        const std::string patient = str(e.payload, "patient");
        const long long fee = e.payload->optValue<long long>("fee_ore", 0);
        const bool counts = e.payload->optValue<bool>("counts_toward_ceiling", true);
        efrikort::CardStatus status = efrikort::CardStatus::Unknown;
        std::optional<long long> left;
        std::string source = "national", note;
        bool optin = false;
        try {
            const auto r = soap("GetCardForPerson", efrikort::getCardBody(party_, patient, false));
            if (r.code == "OPTINREQUIRED" || r.code == "OPTOUT") {
                optin = true;
                source = "local";
                note = "Patienten är inte ansluten till e-frikort; fråga om samtycke. Beloppet bygger på mottagningens egna uppgifter.";
            } else if (r.code == "OK" || r.code == "INFO") {
                if (r.hasCard) {
                    status = efrikort::parseCardStatus(r.cardStatus);
                    left = r.amountToLimitOre;
                    // An expired card's amount is of a window that is over: a new one starts.
                    if (status == efrikort::CardStatus::Expired) left = efrikort::ceilingOn(ceilings_, today());
                } else {
                    status = efrikort::CardStatus::None;
                    left = efrikort::ceilingOn(ceilings_, today());
                }
            } else {
                source = "local";
                note = "e-frikort svarade " + r.code + ": " + r.text;
            }
        } catch (const std::exception& ex) {
            source = "local";
            note = "e-frikort kunde inte nås; beloppet bygger på mottagningens egna uppgifter.";
            ctx_->log().warning(std::string("efrikort: GetCardForPerson failed: ") + ex.what());
        }
        if (source == "local") {
            const auto w = localWindow(patient);
            left = w.leftOre;
            status = w.frikort ? efrikort::CardStatus::Final : efrikort::CardStatus::BelowLimit;
        }
        const long long charge = efrikort::chargeFor(fee, counts, status, left);
        e.payload->set("charge_ore", charge);
        e.payload->set("card_status", source == "local" && status == efrikort::CardStatus::Final ? "FINAL" : efrikort::toString(status));
        if (left) e.payload->set("left_ore", *left);
        else e.payload->set("left_ore", Poco::Dynamic::Var());
        e.payload->set("source", source);
        e.payload->set("optin_required", optin);
        e.payload->set("note", note);
        ctx_->audit().recordSystem({"efrikort.read", patient, "vård", "ok", std::string("card looked up (") + source + ")"});
    }

    void onOptIn(Event& e) {
        const std::string patient = str(e.payload, "patient");
        ctx_->store().write([&](db::Connection& c) {
            c.prepare("INSERT INTO efrikort_optins(patient, state, created_at) VALUES(?, 'pending', ?) ON CONFLICT(patient) DO NOTHING")
                .bind(1, patient).bind(2, now()).exec();
            Object o;
            o.set("patient", patient);
            std::ostringstream js;
            o.stringify(js);
            ctx_->outbox().enqueue(c, {"efrikort.optin", js.str(), "optin-" + patient + "-" + efrikort::isoDate(today())});
        });
        e.payload->set("queued", true);
        ctx_->audit().recordSystem({"efrikort.optin", patient, "vård", "ok", "the patient consented at check-in"});
    }

    // checkin.fee.paid: the ledger row and the registration, once per payment.
    void onPaid(Event& e) {
        const std::string paymentId = str(e.payload, "payment_id");
        const std::string patient = str(e.payload, "patient");
        if (paymentId.empty() || patient.size() != 12) throw std::invalid_argument("checkin.fee.paid needs payment_id and patient");
        const long long charged = e.payload->optValue<long long>("charged_ore", 0);
        const bool counts = e.payload->optValue<bool>("counts_toward_ceiling", true);
        const std::string date = str(e.payload, "visit_date");
        if (!efrikort::parseDate(date)) throw std::invalid_argument("checkin.fee.paid: visit_date is not a date");
        // Never register 0 kr or fees outside the protection.
        const bool register_ = counts && charged > 0;
        ctx_->store().write([&](db::Connection& c) {
            auto ins = c.prepare(
                "INSERT INTO efrikort_ledger(payment_id, patient, care_unit, visit_date, fee_ore, charged_ore, counts, state, created_at)"
                " VALUES(?,?,?,?,?,?,?,?,?) ON CONFLICT(payment_id) DO NOTHING");
            ins.bind(1, paymentId).bind(2, patient).bind(3, str(e.payload, "care_unit")).bind(4, date)
                .bind(5, e.payload->optValue<long long>("fee_ore", charged)).bind(6, charged).bind(7, counts ? 1 : 0)
                .bind(8, register_ ? "pending" : "not_registered").bind(9, now()).exec();
            if (c.changes() == 0 || !register_) return;  // already known: the message was queued then
            ctx_->outbox().enqueue(c, {"efrikort.register", paymentId, "register-" + paymentId});
        });
    }

    void onRefunded(Event& e) {
        const std::string paymentId = str(e.payload, "payment_id");
        const std::string refundId = str(e.payload, "refund_id");
        const long long refunded = e.payload->optValue<long long>("refunded_ore", 0);
        ctx_->store().write([&](db::Connection& c) {
            auto st = c.prepare("SELECT 1 FROM efrikort_ledger WHERE payment_id = ?");
            st.bind(1, paymentId);
            if (!st.step()) return;  // a fee that was never paid through us
            Object o;
            o.set("payment_id", paymentId);
            o.set("refunded_ore", refunded);
            std::ostringstream js;
            o.stringify(js);
            ctx_->outbox().enqueue(c, {"efrikort.correct", js.str(), "correct-" + paymentId + "-" + refundId});
        });
    }

    struct Row {
        std::string patient, date, state, transactionId, careUnit;
        long long charged = 0, refunded = 0, createdAt = 0;
    };
    std::optional<Row> row(const std::string& paymentId) {
        std::optional<Row> r;
        ctx_->store().read([&](db::Connection& c) {
            auto st = c.prepare("SELECT patient, visit_date, state, COALESCE(transaction_id, ''), charged_ore, refunded_ore, created_at, care_unit"
                                " FROM efrikort_ledger WHERE payment_id = ?");
            st.bind(1, paymentId);
            if (st.step()) r = Row{st.getText(0), st.getText(1), st.getText(2), st.getText(3), st.getText(7), st.getInt(4), st.getInt(5), st.getInt(6)};
        });
        return r;
    }

    void mark(const std::string& paymentId, const std::string& state, const std::string& tx, const std::string& error) {
        ctx_->store().write([&](db::Connection& c) {
            auto st = c.prepare("UPDATE efrikort_ledger SET state = ?, transaction_id = COALESCE(NULLIF(?, ''), transaction_id),"
                                " last_error = ?, registered_at = CASE WHEN ? = 'registered' THEN ? ELSE registered_at END WHERE payment_id = ?");
            st.bind(1, state).bind(2, tx).bind(3, error).bind(4, state).bind(5, now()).bind(6, paymentId).exec();
        });
    }

    // RegisterTransaction, at most once per payment. A retry first asks eFrikort whether an
    // earlier attempt got through (the box may have died before storing the answer): a
    // transaction of ours with the same date and amount registered after the fee was
    // charged is adopted instead of registering again.
    DeliveryResult deliverRegister(const QueuedMessage& m) {
        const std::string paymentId = m.payload;
        const auto r = row(paymentId);
        if (!r) return DeliveryResult::failed("no ledger row for payment " + paymentId);
        if (r->state == "registered" || r->state == "deleted") return DeliveryResult::delivered("already " + r->state);
        const long long amount = r->charged - r->refunded;
        if (amount <= 0) {
            mark(paymentId, "not_registered", "", "refunded before registration");
            return DeliveryResult::delivered("nothing left to register");
        }
        if (m.attempt > 1) {
            const auto ext = soap("GetExtendedCardForPerson", efrikort::getCardBody(party_, r->patient, true));
            std::set<std::string> known;
            ctx_->store().read([&](db::Connection& c) {
                auto st = c.prepare("SELECT transaction_id FROM efrikort_ledger WHERE patient = ? AND transaction_id IS NOT NULL");
                st.bind(1, r->patient);
                while (st.step()) known.insert(st.getText(0));
            });
            for (const auto& t : ext.transactions)
                if (t.status != "DELETED" && t.date == r->date && t.ore == amount && !known.count(t.id) &&
                    (party_.careUnitName.empty() || t.careUnit == party_.careUnitName)) {
                    mark(paymentId, "registered", t.id, "");
                    ctx_->audit().recordSystem({"efrikort.register", r->patient, "vård", "ok", "adopted " + t.id + " after a retry"});
                    return DeliveryResult::delivered("an earlier attempt had registered it: " + t.id);
                }
        }
        const auto res = soap("RegisterTransaction", efrikort::registerTransactionBody(party_, r->patient, r->date, amount));
        if (res.code == "OK" || res.code == "INFO") {
            mark(paymentId, "registered", res.transactionId, "");
            ctx_->audit().recordSystem({"efrikort.register", r->patient, "vård", "ok", "payment " + paymentId + " -> " + res.transactionId});
            return DeliveryResult::delivered("transactionId " + res.transactionId);
        }
        if (res.code == "OPTINREQUIRED" || res.code == "OPTOUT") {
            mark(paymentId, "optin_required", "", res.code);
            return DeliveryResult::delivered("waiting for the patient's opt-in (" + res.code + ")");
        }
        mark(paymentId, "failed", "", res.code + ": " + res.text);
        return DeliveryResult::failed(res.code + ": " + res.text);
    }

    DeliveryResult deliverCorrect(const QueuedMessage& m) {
        Poco::JSON::Parser p;
        const auto o = p.parse(m.payload).extract<Object::Ptr>();
        const std::string paymentId = str(o, "payment_id");
        const long long refunded = o->getValue<long long>("refunded_ore");
        auto r = row(paymentId);
        if (!r) return DeliveryResult::failed("no ledger row for payment " + paymentId);
        const long long total = std::min(r->charged, r->refunded + refunded);
        ctx_->store().write([&](db::Connection& c) {
            c.prepare("UPDATE efrikort_ledger SET refunded_ore = ? WHERE payment_id = ? AND refunded_ore < ?")
                .bind(1, total).bind(2, paymentId).bind(3, total).exec();
        });
        r = row(paymentId);
        if (r->state == "pending") return DeliveryResult::retry("the fee is not registered yet");
        if (r->state != "registered") return DeliveryResult::delivered("not registered nationally; the local ledger is corrected");
        const long long remaining = r->charged - r->refunded;
        efrikort::Result res;
        if (remaining <= 0) {
            res = soap("DeleteTransaction", efrikort::deleteTransactionBody(party_, r->transactionId, "Återbetald"));
            if (res.code == "OK" || res.code == "INFO") mark(paymentId, "deleted", "", "");
        } else {
            res = soap("UpdateTransaction",
                       efrikort::updateTransactionBody(party_, r->transactionId, r->date, remaining, "Delvis återbetald"));
        }
        if (res.code == "OK" || res.code == "INFO") {
            ctx_->audit().recordSystem({"efrikort.correct", r->patient, "vård", "ok", "payment " + paymentId + " now " + std::to_string(remaining)});
            return DeliveryResult::delivered(remaining <= 0 ? "deleted" : "updated");
        }
        return DeliveryResult::failed(res.code + ": " + res.text);
    }

    DeliveryResult deliverOptIn(const QueuedMessage& m) {
        Poco::JSON::Parser p;
        const std::string patient = str(p.parse(m.payload).extract<Object::Ptr>(), "patient");
        const auto res = soap("RegisterOptIn", efrikort::registerOptInBody(party_, patient));
        if (res.code != "OK" && res.code != "INFO") return DeliveryResult::failed(res.code + ": " + res.text);
        ctx_->store().write([&](db::Connection& c) {
            c.prepare("UPDATE efrikort_optins SET state = 'registered', registered_at = ? WHERE patient = ?").bind(1, now()).bind(2, patient).exec();
            // Fees that waited for the consent are registered now.
            auto st = c.prepare("SELECT payment_id FROM efrikort_ledger WHERE patient = ? AND state = 'optin_required'");
            st.bind(1, patient);
            std::vector<std::string> waiting;
            while (st.step()) waiting.push_back(st.getText(0));
            for (const auto& id : waiting) {
                c.prepare("UPDATE efrikort_ledger SET state = 'pending' WHERE payment_id = ?").bind(1, id).exec();
                ctx_->outbox().enqueue(c, {"efrikort.register", id, "register-" + id + "-after-optin"});
            }
        });
        ctx_->audit().recordSystem({"efrikort.optin", patient, "vård", "ok", "RegisterOptIn accepted"});
        return DeliveryResult::delivered("opt-in registered");
    }

    Response patientView(Request& req) {
        const auto parsed = Personnummer::parse(req.pathParams.at("patient"), today());
        if (const auto* err = std::get_if<PersonnummerError>(&parsed))
            throw Problem::badRequest("/problems/invalid-personnummer", std::string(describeSv(*err)));
        const std::string patient = std::get<Personnummer>(parsed).twelveDigits();
        Object::Ptr o = new Object;
        o->set("patient", patient);
        Object::Ptr national = new Object;
        try {
            const auto r = soap("GetCardForPerson", efrikort::getCardBody(party_, patient, false));
            national->set("reachable", true);
            national->set("result", r.code);
            national->set("status", r.hasCard ? r.cardStatus : "NONE");
            if (r.amountToLimitOre) national->set("left_ore", *r.amountToLimitOre);
            if (r.currentAmountOre) national->set("paid_ore", *r.currentAmountOre);
        } catch (const std::exception& e) {
            national->set("reachable", false);
            national->set("error", std::string(e.what()));
        }
        o->set("national", national);
        const auto w = localWindow(patient);
        Object::Ptr local = new Object;
        local->set("paid_ore", w.paidOre);
        local->set("left_ore", w.leftOre);
        local->set("frikort", w.frikort);
        if (w.start) {
            local->set("window_start", efrikort::isoDate(*w.start));
            local->set("window_end", efrikort::isoDate(w.end));
        }
        local->set("note", "Bara avgifter som den här mottagningen har tagit ut.");
        Array::Ptr rows = new Array;
        ctx_->store().read([&](db::Connection& c) {
            auto st = c.prepare("SELECT visit_date, charged_ore, refunded_ore, counts, state, COALESCE(transaction_id, ''), last_error"
                                " FROM efrikort_ledger WHERE patient = ? ORDER BY visit_date DESC, id DESC LIMIT 100");
            st.bind(1, patient);
            while (st.step()) {
                Object::Ptr r = new Object;
                r->set("date", st.getText(0));
                r->set("charged_ore", st.getInt(1));
                r->set("refunded_ore", st.getInt(2));
                r->set("counts", st.getInt(3) == 1);
                r->set("state", st.getText(4));
                r->set("transaction_id", st.getText(5));
                r->set("error", st.getText(6));
                rows->add(r);
            }
        });
        local->set("fees", rows);
        o->set("local", local);
        ctx_->audit().record(req, {"efrikort.read", patient, "vård", "ok", "card and local ledger"});
        return Response::json(o);
    }
};

}  // namespace

KB_PLUGIN(EfrikortPlugin)
