#include "LogReview.h"

#include "Strings.h"

#include <klinikbox/Personnummer.h>
#include <klinikbox/RivTa.h>

#include <Poco/JSON/Array.h>

#include <ctime>

namespace klinikbox::journal {

using Poco::JSON::Array;
using Poco::JSON::Object;

namespace {

// When a day of the period starts: 00:00 in the box's time zone, the zone the review shows
// each access in (timeText), so that a period's first and last day are the days on screen.
long long dayStart(const std::string& text, const std::string& name, int plusDays = 0) {
    const auto ymd = Clock::parseDate(text);
    if (!ymd) throw Problem::badRequest("/problems/invalid-date", name + " ska skrivas ÅÅÅÅ-MM-DD.");
    if (!Clock::inRange(*ymd))
        throw Problem::badRequest("/problems/invalid-date", name + " ska ligga mellan 1900-01-01 och 2199-12-31.");
    const auto day = std::chrono::year_month_day{std::chrono::sys_days{*ymd} + std::chrono::days{plusDays}};
    return std::chrono::duration_cast<std::chrono::seconds>(Clock::localMidnight(day).time_since_epoch()).count();
}

std::string timeText(long long t) {
    const std::time_t tt = t;
    std::tm tm{};
    localtime_r(&tt, &tm);
    char b[32];
    std::strftime(b, sizeof b, "%Y-%m-%d %H:%M", &tm);
    return b;
}

Object::Ptr accessJson(db::Statement& st) {
    // id, at, username, care_unit, care_unit_name, patient, what, relation, basis, outcome, refusal,
    // shown_count, blocked_count, flagged, reviewed_at, reviewed_by, review_comment
    Object::Ptr o = new Object;
    o->set("id", st.getInt(0));
    o->set("at", timeText(st.getInt(1)));
    o->set("username", st.getText(2));
    o->set("care_unit", st.getText(3));
    o->set("care_unit_name", st.getText(4));
    o->set("patient", st.getText(5));
    o->set("what", st.getText(6));
    o->set("relation", st.getText(7));
    o->set("basis", st.getText(8));
    o->set("outcome", st.getText(9));
    o->set("refusal", st.getText(10));
    o->set("shown_count", st.getInt(11));
    o->set("blocked_count", st.getInt(12));
    o->set("flagged", st.getInt(13) != 0);
    o->set("reviewed", !st.isNull(14));
    o->set("reviewed_by", st.getOptionalText(15).value_or(""));
    o->set("review_comment", st.getOptionalText(16).value_or(""));
    return o;
}

constexpr const char* kCols =
    "SELECT id, at, username, care_unit, care_unit_name, patient, what, relation, basis, outcome, refusal, shown_count, "
    "blocked_count, flagged, reviewed_at, reviewed_by, review_comment FROM journal_accesses ";

}  // namespace

Period periodParam(const Request& req) {
    for (const auto& [k, v] : req.query)
        if (k != "from" && k != "to") throw Problem::badRequest("/problems/unknown-parameter", "unknown query parameter '" + k + "'");
    const auto from = req.queryParam("from"), to = req.queryParam("to");
    if (!from || !to) throw Problem::badRequest("/problems/period-required", "Ange period med from och to (ÅÅÅÅ-MM-DD).");
    Period p{dayStart(*from, "from"), dayStart(*to, "to", 1), *from, *to};
    if (p.until <= p.from) throw Problem::badRequest("/problems/invalid-period", "Perioden slutar före den börjar.");
    if (p.until - p.from > 2LL * 366 * 86400) throw Problem::badRequest("/problems/invalid-period", "Perioden får vara högst två år.");
    return p;
}

Object::Ptr LogReview::review(Request& req, const Period& p) {
    Object::Ptr o = new Object;
    auto list = [&](db::Connection& c, const std::string& where, const std::string& order, long long limit) {
        Array::Ptr a = new Array;
        auto st = c.prepare(std::string(kCols) + "WHERE at >= ? AND at < ? AND " + where + " ORDER BY " + order + " LIMIT ?");
        st.bind(1, p.from).bind(2, p.until).bind(3, limit);
        while (st.step()) a->add(accessJson(st));
        return a;
    };
    ctx_.store().read([&](db::Connection& c) {
        o->set("without_booking", list(c, "outcome = 'shown' AND relation <> 'booking'", "at", 1000));
        o->set("emergency", list(c, "(basis = 'emergency' OR what = 'emergency')", "at", 1000));
        // A random sample of the ordinary accesses of the period.
        o->set("sample", list(c, "outcome = 'shown' AND relation = 'booking' AND basis = 'consent'", "random()", sample_));
        o->set("refused", list(c, "outcome = 'refused'", "at", 1000));
    });
    o->set("from", p.fromText);
    o->set("to", p.toText);
    ctx_.audit().record(req, {"journal.review.read", "", "loggkontroll", "ok", "log review " + p.fromText + ".." + p.toText});
    return o;
}

Object::Ptr LogReview::markReviewed(Request& req, long long id, const std::string& comment) {
    Object::Ptr out;
    ctx_.store().write([&](db::Connection& c) {
        std::string patient;
        {
            auto st = c.prepare("SELECT patient FROM journal_accesses WHERE id = ?");
            st.bind(1, id);
            if (!st.step()) throw Problem::notFound("Ingen sådan åtkomst i loggen.");
            patient = st.getText(0);
        }
        const auto t = std::chrono::duration_cast<std::chrono::seconds>(ctx_.clock().now().time_since_epoch()).count();
        c.prepare("UPDATE journal_accesses SET reviewed_at = ?, reviewed_by = ?, review_comment = ? WHERE id = ?")
            .bind(1, t).bind(2, req.principal->username).bind(3, comment).bind(4, id).exec();
        ctx_.audit().record(req, {"journal.review.mark", patient, "loggkontroll", "ok", "access " + std::to_string(id) + " reviewed"}, c);
        auto st = c.prepare(std::string(kCols) + "WHERE id = ?");
        st.bind(1, id);
        if (st.step()) out = accessJson(st);
    });
    return out;
}

Object::Ptr LogReview::extract(Request& req, const std::string& patient, const Period& p) {
    Object::Ptr o = new Object;
    Array::Ptr a = new Array;
    ctx_.store().read([&](db::Connection& c) {
        // Accesses to the patient's information, not refusals (nothing was shown then).
        auto st = c.prepare("SELECT at, care_unit, care_unit_name, what, basis FROM journal_accesses WHERE patient = ? AND at >= ? AND at < ? "
                            "AND outcome IN ('shown', 'registered') ORDER BY at");
        st.bind(1, patient).bind(2, p.from).bind(3, p.until);
        while (st.step()) {
            Object::Ptr x = new Object;
            x->set("at", timeText(st.getInt(0)));
            x->set("care_unit", st.getText(1));
            x->set("care_unit_name", st.getText(2));
            x->set("what", std::string(whatSv(st.getText(3))));
            x->set("basis", std::string(basisSv(st.getText(4))));
            a->add(x);
        }
    });
    o->set("patient", Personnummer::parseOrThrow(patient, ctx_.clock().today()).formatted());
    o->set("from", p.fromText);
    o->set("to", p.toText);
    o->set("accesses", a);
    ctx_.audit().record(req, {"journal.extract", patient, "loggutdrag", "ok", "log extract " + p.fromText + ".." + p.toText});
    return o;
}

std::string LogReview::extractHtml(Request& req, const std::string& patient, const Period& p) {
    const auto o = extract(req, patient, p);
    auto esc = [](const std::string& s) { return rivta::xmlEscape(s); };
    std::string rows;
    const auto a = o->getArray("accesses");
    for (std::size_t i = 0; i < a->size(); ++i) {
        const auto x = a->getObject(static_cast<unsigned>(i));
        rows += "<tr><td>" + esc(x->getValue<std::string>("at")) + "</td><td>" + esc(x->getValue<std::string>("care_unit_name")) +
                " (" + esc(x->getValue<std::string>("care_unit")) + ")</td><td>" + esc(x->getValue<std::string>("what")) + "</td><td>" +
                esc(x->getValue<std::string>("basis")) + "</td></tr>";
    }
    if (rows.empty()) rows = "<tr><td colspan=\"4\">" + std::string(kSvNoAccesses) + "</td></tr>";
    return std::string("<!doctype html><html lang=\"sv\"><head><meta charset=\"utf-8\"><title>") + kSvExtractTitle +
           "</title><style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #888;"
           "padding:4px 8px;text-align:left}</style></head><body><main><h1>" + kSvExtractTitle + "</h1><p>" + kSvExtractPatient + " " +
           esc(o->getValue<std::string>("patient")) + "<br>" + kSvExtractPeriod + " " + esc(p.fromText) + " – " + esc(p.toText) +
           "</p><p>" + kSvExtractIntro + "</p><table><thead><tr><th>" + kSvWhen + "</th><th>" + kSvCareUnit + "</th><th>" + kSvWhat +
           "</th><th>" + kSvBasis + "</th></tr></thead><tbody>" + rows + "</tbody></table></main></body></html>";
}

}  // namespace klinikbox::journal
