#include "Cards.h"

#include <klinikbox/Personnummer.h>
#include <klinikbox/Problem.h>

#include <Poco/JSON/Array.h>

namespace efrikort {

using namespace klinikbox;
using Poco::JSON::Array;
using Poco::JSON::Object;

namespace {
std::string str(const Object::Ptr& o, const std::string& k) { return o->optValue<std::string>(k, ""); }
}  // namespace

Window Cards::localWindow(const std::string& patient) {
    std::vector<Fee> fees;
    ctx_.store().read([&](db::Connection& c) {
        auto st = c.prepare("SELECT visit_date, charged_ore - refunded_ore FROM efrikort_ledger"
                            " WHERE patient = ? AND counts = 1 AND state != 'deleted'");
        st.bind(1, patient);
        while (st.step())
            if (auto d = parseDate(st.getText(0))) fees.push_back({*d, st.getInt(1)});
    });
    return windowOn(fees, ctx_.clock().today(), settings_.ceilings);
}

void Cards::onQuote(Event& e) {
    const std::string patient = str(e.payload, "patient");
    const long long fee = e.payload->optValue<long long>("fee_ore", 0);
    const bool counts = e.payload->optValue<bool>("counts_toward_ceiling", true);
    const auto today = ctx_.clock().today();
    CardStatus status = CardStatus::Unknown;
    std::optional<long long> left;
    std::string source = "national", note;
    bool optin = false;
    try {
        const auto r = soap(settings_, "GetCardForPerson", getCardBody(settings_.party, patient, false));
        if (r.code == "OPTINREQUIRED" || r.code == "OPTOUT") {
            optin = true;
            source = "local";
            note = "Patienten är inte ansluten till e-frikort; fråga om samtycke. Beloppet bygger på mottagningens egna uppgifter.";
        } else if (r.code == "OK" || r.code == "INFO") {
            if (r.hasCard) {
                status = parseCardStatus(r.cardStatus);
                left = r.amountToLimitOre;
                // An expired card's amount is of a window that is over: a new one starts.
                if (status == CardStatus::Expired) left = ceilingOn(settings_.ceilings, today);
            } else {
                status = CardStatus::None;
                left = ceilingOn(settings_.ceilings, today);
            }
        } else {
            source = "local";
            note = "e-frikort svarade " + r.code + ": " + r.text;
        }
    } catch (const std::exception& ex) {
        source = "local";
        note = "e-frikort kunde inte nås; beloppet bygger på mottagningens egna uppgifter.";
        ctx_.log().warning(std::string("efrikort: GetCardForPerson failed: ") + ex.what());
    }
    if (source == "local") {
        const auto w = localWindow(patient);
        left = w.leftOre;
        status = w.frikort ? CardStatus::Final : CardStatus::BelowLimit;
    }
    const long long charge = chargeFor(fee, counts, status, left);
    e.payload->set("charge_ore", charge);
    e.payload->set("card_status", source == "local" && status == CardStatus::Final ? "FINAL" : toString(status));
    if (left) e.payload->set("left_ore", *left);
    else e.payload->set("left_ore", Poco::Dynamic::Var());
    e.payload->set("source", source);
    e.payload->set("optin_required", optin);
    e.payload->set("note", note);
    ctx_.audit().recordSystem({"efrikort.read", patient, "vård", "ok", std::string("card looked up (") + source + ")"});
}

Response Cards::patientView(Request& req) {
    const auto parsed = Personnummer::parse(req.pathParams.at("patient"), ctx_.clock().today());
    if (const auto* err = std::get_if<PersonnummerError>(&parsed))
        throw Problem::badRequest("/problems/invalid-personnummer", std::string(describeSv(*err)));
    const std::string patient = std::get<Personnummer>(parsed).twelveDigits();
    Object::Ptr o = new Object;
    o->set("patient", patient);
    Object::Ptr national = new Object;
    try {
        const auto r = soap(settings_, "GetCardForPerson", getCardBody(settings_.party, patient, false));
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
        local->set("window_start", isoDate(*w.start));
        local->set("window_end", isoDate(w.end));
    }
    local->set("note", "Bara avgifter som den här mottagningen har tagit ut.");
    Array::Ptr rows = new Array;
    ctx_.store().read([&](db::Connection& c) {
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
    ctx_.audit().record(req, {"efrikort.read", patient, "vård", "ok", "card and local ledger"});
    return Response::json(o);
}

}  // namespace efrikort
