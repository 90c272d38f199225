// Arrivals: checking a patient in (the booking lookup through checkin.lookup, the fee through
// checkin.fee and checkin.quote), and the JSON the kiosk and the desk see of a visit.
#include "CheckinPlugin.h"

#include <Poco/JSON/Parser.h>

#include <sstream>

namespace checkin::plugin {

Object::Ptr CheckinPlugin::checkIn(const Request& req, const std::string& patientText, const std::string& channel) {
    const auto today = ctx_->clock().today();
    const auto parsed = Personnummer::parse(patientText, today);
    if (const auto* e = std::get_if<PersonnummerError>(&parsed))
        throw Problem(400, "/problems/invalid-personnummer", "Personnumret stämmer inte", std::string(describeSv(*e)))
            .with("reason", std::string(toString(*e)));
    const auto pnr = std::get<Personnummer>(parsed);
    const std::string patient = pnr.twelveDigits();
    if (unit_.empty()) throw Problem(503, "/problems/checkin-not-configured", "Incheckningen är inte igång", "Fråga i receptionen.");

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
    // Match the window: now within [start - before, start + after]. At the kiosk and on the
    // phone only visits at the clinic count: a video visit is joined from its link.
    const bool physical = channel != "desk";
    std::vector<Object::Ptr> inWindow, early, late;
    bool video = false;
    for (std::size_t i = 0; bookings && i < bookings->size(); ++i) {
        const auto b = bookings->getObject(static_cast<unsigned>(i));
        if (physical && b->optValue<std::string>("visit_form", "") == "video") {
            video = true;
            continue;
        }
        const long long start = startOf(b);
        if (now() < start - before_ * 60LL) early.push_back(b);
        else if (now() > start + after_ * 60LL) late.push_back(b);
        else inWindow.push_back(b);
    }
    if (inWindow.empty()) {
        if (!early.empty())
            throw Problem(409, "/problems/checkin-early", "Du är tidigt ute",
                          "Din tid är kl. " + clockOf(startOf(early.front())) +
                              ". Du kan checka in från kl. " + clockOf(startOf(early.front()) - before_ * 60LL) + ".")
                .with("time", clockOf(startOf(early.front())))
                .with("from", clockOf(startOf(early.front()) - before_ * 60LL));
        if (!late.empty())
            throw Problem(409, "/problems/checkin-late", "Din tid har passerat",
                          "Din tid var kl. " + clockOf(startOf(late.back())) + ". Gå till receptionen.")
                .with("time", clockOf(startOf(late.back())));
        if (video) {
            ctx_->audit().record(req, {"checkin.lookup", patient, "vård", "denied", "video visit today: not checked in at " + channel});
            throw Problem(409, "/problems/checkin-video-visit", "Ditt besök idag är ett videobesök",
                          "Du behöver inte checka in här. Använd länken i din kallelse när det är dags.");
        }
        ctx_->audit().record(req, {"checkin.lookup", patient, "vård", "ok", "no booking today at " + unit_});
        throw Problem(404, "/problems/checkin-unknown", "Vi hittar ingen bokning idag", "Kontrollera personnumret eller gå till receptionen.");
    }
    if (inWindow.size() > 1)
        throw Problem(409, "/problems/checkin-ambiguous", "Du har flera tider nu", "Gå till receptionen så hjälper vi dig.");
    const auto b = inWindow.front();
    const long long bookingId = b->getValue<long long>("booking_id");
    const std::string tok = token();

    // Already checked in (the patient came back to the screen): a new session for the same visit.
    // The answer is the visit as this write left it: read back by its token afterwards, a
    // second attempt at the same time (a double tap, the kiosk and the phone) could already
    // have given it another token.
    std::optional<Visit> resumed;
    ctx_->store().write([&](db::Connection& c) {
        resumed = loadVisit(c, "booking_id = ?", std::to_string(bookingId));
        if (resumed)
            c.prepare("UPDATE checkin_visits SET token_hash = ? WHERE id = ?").bind(1, sha256Hex(tok)).bind(2, resumed->id).exec();
    });
    if (resumed) {
        ctx_->audit().record(req, {"checkin.resume", patient, "vård", "ok", "booking " + std::to_string(bookingId)});
        return sessionJson(*resumed, tok);
    }

    // The fee: the region's rules, then the clinic's Lua override, then the frikort.
    // The start as the box writes times (Swedish time with its offset), whatever offset the
    // lookup hook wrote: the visit's day, its time on the kiosk and in the day report, and
    // the order of the day's visits are read from this text.
    const std::string startText = Clock::localIso(std::chrono::system_clock::time_point(std::chrono::seconds(startOf(b))));
    const std::string date = startText.substr(0, 10);
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
    // The tariff's fee and the exemption travel separately, so a stricter hook that removes
    // the region's exemption knows what the visit costs.
    feeEv->set("tariff_fee_ore", fee.tariffFeeOre);
    feeEv->set("tariff", fee.tariff);
    feeEv->set("counts_toward_ceiling", fee.counts);
    if (!fee.exemptReason.empty()) feeEv->set("fee_exemption", fee.exemptReason);
    Event fe{"checkin.fee", feeEv, req.principal, req.requestId};
    const auto fo = ctx_->events().publishSync(fe);
    if (fo.vetoed || fo.failed)
        throw Problem(422, "/problems/fee-refused", "Avgiften kunde inte bestämmas", fo.reason + " Gå till receptionen.");
    const long long sentFee = fee.feeOre;
    const bool wasExempt = !fee.exemptReason.empty();
    if (fe.payload->has("fee_ore") && fe.payload->get("fee_ore").isInteger())
        fee.feeOre = std::max<long long>(0, fe.payload->getValue<long long>("fee_ore"));
    fee.counts = fe.payload->optValue<bool>("counts_toward_ceiling", fee.counts);
    // A removed fee_exemption (nil in Lua) removes the exemption; an empty one too.
    fee.exemptReason = fe.payload->has("fee_exemption") && fe.payload->get("fee_exemption").isString()
                           ? fe.payload->getValue<std::string>("fee_exemption")
                           : std::string();
    if (!fee.exemptReason.empty()) fee.feeOre = 0;
    // The exemption was removed but the fee left as the rules' 0: the tariff's fee applies.
    else if (wasExempt && fee.feeOre == sentFee) fee.feeOre = fee.tariffFeeOre;

    Visit v;
    v.bookingId = bookingId;
    v.patient = patient;
    v.unit = unit_;
    v.date = date;
    v.start = startText;
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
    std::optional<Visit> created;
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
            created = loadVisit(c, "id = ?", std::to_string(c.lastInsertId()));
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
    if (!created) throw std::logic_error("the visit just inserted was not found in its own transaction");
    return sessionJson(*created, tok);
}

long long CheckinPlugin::startOf(const Object::Ptr& booking) const {
    // A lookup hook's answer is another plugin's text: ISO 8601 with any offset is read; a
    // start that is no time fails the lookup (503, "ask at the reception"), never the kiosk.
    const auto text = booking->has("start") && booking->get("start").isString() ? booking->getValue<std::string>("start") : "";
    const auto t = Clock::parseInstant(text);
    if (!t) {
        ctx_->log().warning("checkin: the checkin.lookup answer has a booking whose start is not an ISO 8601 time with an offset: '" +
                            text.substr(0, 40) + "'");
        throw Problem(503, "/problems/checkin-lookup-failed", "Vi kan inte hämta din bokning just nu", "Fråga i receptionen.");
    }
    return std::chrono::duration_cast<std::chrono::seconds>(t->time_since_epoch()).count();
}

year_month_day CheckinPlugin::parseDay(const std::string& s) {
    return year_month_day{year{std::stoi(s.substr(0, 4))}, month{static_cast<unsigned>(std::stoi(s.substr(5, 2)))},
                          day{static_cast<unsigned>(std::stoi(s.substr(8, 2)))}};
}

// HH:MM in the box's local time.
std::string CheckinPlugin::clockOf(long long utc) {
    const sys_seconds t{seconds{utc}};
    const auto local = t + seconds{Clock::localOffsetSeconds(t)};
    const hh_mm_ss hms{local - floor<days>(local)};
    char b[8];
    std::snprintf(b, sizeof b, "%02d:%02d", static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()));
    return b;
}

Object::Ptr CheckinPlugin::sessionJson(const Visit& v, const std::string& tok) {
    auto o = statusJson(v, tok);
    if (!tok.empty()) o->set("token", tok);
    return o;
}

Object::Ptr CheckinPlugin::statusJson(const Visit& v, const std::string& sessionToken) {
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
        auto pj = paymentJson(*p);
        if (auto sw = swishView(*p, sessionToken)) pj->set("swish", sw);
        o->set("payment", pj);
        if (p->status == "paid") state = "paid";
        else if (p->status == "invoiced") state = "invoiced";
        else if (p->status == "created") state = p->method == "desk" ? "pay_at_desk" : "waiting";
    }
    o->set("state", state);
    return o;
}

}  // namespace checkin::plugin
