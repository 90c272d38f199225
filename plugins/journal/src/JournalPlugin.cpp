// The shared journal plugin: registration of the booking/check-in subscriptions, the log
// channel, the staff routes (assignment, relation, consent, emergency access, records), the
// auditor's routes (log review, patient log extract) and the console pages. The work is in
// Journal and LogReview.
#include <klinikbox/Schema.h>
#include "Journal.h"
#include "LogReview.h"

#include <klinikbox/JsonInput.h>
#include <klinikbox/Plugin.h>

#include <memory>

namespace {

using namespace klinikbox;
using namespace klinikbox::journal;

void onlyQuery(const Request& req, std::initializer_list<const char*> allowed) {
    for (const auto& [k, v] : req.query) {
        bool ok = false;
        for (const char* a : allowed) ok = ok || k == a;
        if (!ok) throw Problem::badRequest("/problems/unknown-parameter", "unknown query parameter '" + k + "'");
    }
}

std::string dateQuery(const Request& req, const char* name) {
    const auto v = req.queryParam(name);
    if (!v) return {};
    const auto day = Clock::parseDate(*v);
    if (!day) throw Problem::badRequest("/problems/invalid-date", std::string(name) + " ska skrivas ÅÅÅÅ-MM-DD.");
    // The NPÖ contract's dates are of the years 1900-2099: another year was sent, refused by
    // the service, and answered as its outage (503).
    if (day->year() < std::chrono::year{1900} || day->year() > std::chrono::year{2099})
        throw Problem::badRequest("/problems/invalid-date", std::string(name) + " ska ligga mellan 1900-01-01 och 2099-12-31.");
    return v->substr(0, 4) + v->substr(5, 2) + v->substr(8, 2);
}

class JournalPlugin final : public Plugin {
public:
    void start(PluginContext& ctx) override {
        journal_ = std::make_unique<Journal>(ctx, settingsFrom(ctx.config()));
        review_ = std::make_unique<LogReview>(ctx, journal_->settings().reviewSample);
        auto* j = journal_.get();
        auto* lr = review_.get();
        auto* c = &ctx;

        ctx.events().subscribeBatch({"booking.created", "booking.cancelled", "booking.rebooked", "checkin.arrived"}, "relations",
                                    [j](const std::vector<const Event*>& events) { j->onVisitEvents(events); });
        ctx.outbox().registerChannel(kLogChannel, [j](const QueuedMessage& m) { return j->deliverLogs(m); });

        auto& r = ctx.router();
        const auto staff = Access::only({Role::Staff});
        const auto auditor = Access::only({Role::Auditor});
        const std::string base = "/api/v1/journal";
        using namespace klinikbox::schema;
        const std::vector<ParamSpec> pnr = {{"patient", personnummer(), true, ""}};
        const std::vector<ParamSpec> period = {{"from", date(), true, ""}, {"to", date(), true, ""}};

        r.add("GET", base + "/assignment", staff, [j](Request& req) { return Response::json(j->assignment(req)); },
              RouteSpec{.summary = "The user's assignment (care unit and purpose) and the units to choose from", .tag = "journal", .status = 200});
        r.add("PUT", base + "/assignment", staff,
              [j](Request& req) {
                  JsonInput in(req.json(), {"care_unit"});
                  return Response::json(j->chooseAssignment(req, in.str("care_unit", 31)));
              },
              RouteSpec{.summary = "Choose the assignment (medarbetaruppdrag) the user reads shared records in", .tag = "journal", .body = object({req("care_unit", text(31))}), .status = 200, .problems = {403, 422}});
        r.add("GET", base + "/patients/{patient}", staff,
              [j, c](Request& req) {
                  onlyQuery(req, {});
                  return Response::json(j->status(req, patientParam(req, "patient", c->clock().today())));
              },
              RouteSpec{.summary = "The access-control state for a patient: relation and emergency access (no record content)", .tag = "journal", .status = 200, .path = pnr, .problems = {409}});
        r.add("POST", base + "/patients/{patient}/relation", staff,
              [j, c](Request& req) {
                  const auto p = patientParam(req, "patient", c->clock().today());
                  JsonInput in(req.json(), {"reason"});
                  return Response::json(j->assertRelation(req, p, in.optStr("reason", 500).value_or("")));
              },
              RouteSpec{.summary = "Assert a patient relationship with a reason (flagged for log review)", .tag = "journal", .body = object({opt("reason", text(500, 0))}), .status = 200, .path = pnr, .problems = {409, 422}});
        r.add("POST", base + "/patients/{patient}/consent", staff,
              [j, c](Request& req) {
                  const auto p = patientParam(req, "patient", c->clock().today());
                  JsonInput in(req.json(), {"end_date"});
                  return Response::json(j->registerConsent(req, p, in.optStr("end_date", 10).value_or("")), 201);
              },
              RouteSpec{.summary = "Register the patient's consent (RegisterExtendedConsent, NationalLevel)", .tag = "journal", .body = object({opt("end_date", text(10, 0))}), .status = 201, .path = pnr, .problems = {409, 422, 502, 503}});
        r.add("POST", base + "/patients/{patient}/emergency", staff,
              [j, c](Request& req) {
                  const auto p = patientParam(req, "patient", c->clock().today());
                  JsonInput in(req.json(), {"reason"});
                  return Response::json(j->registerEmergency(req, p, in.optStr("reason", 500).value_or("")), 201);
              },
              RouteSpec{.summary = "Emergency access (nödåtkomst) with a mandatory reason, time-limited", .tag = "journal", .body = object({opt("reason", text(500, 0))}), .status = 201, .path = pnr, .problems = {409, 422}});
        r.add("GET", base + "/patients/{patient}/records/{kind}", staff,
              [j, c](Request& req) {
                  const auto p = patientParam(req, "patient", c->clock().today());
                  onlyQuery(req, {"from", "to", "provider"});
                  const auto& k = req.pathParams.at("kind");
                  Kind kind = Kind::Notes;
                  if (k == "diagnoses") kind = Kind::Diagnoses;
                  else if (k == "alerts") kind = Kind::Alerts;
                  else if (k != "notes") throw Problem::notFound("Okänd informationsmängd.");
                  Query q{p, dateQuery(req, "from"), dateQuery(req, "to"), req.queryParam("provider").value_or("")};
                  if (q.from.empty() != q.to.empty())
                      throw Problem::badRequest("/problems/invalid-period", "Ange både from och to, eller ingen av dem.");
                  if (!q.from.empty() && q.to < q.from) throw Problem::badRequest("/problems/invalid-period", "Perioden slutar före den börjar.");
                  if (q.provider.size() > 31 || !hsaLike(q.provider))
                      throw Problem::badRequest("/problems/invalid-provider", "provider ska vara ett HSA-id.");
                  auto resp = Response::json(j->records(req, p, kind, q));
                  resp.headers.emplace_back("Cache-Control", "no-store");
                  return resp;
              },
              RouteSpec{.summary = "Other providers' notes, diagnoses or alerts, after the PDL checks", .tag = "journal", .status = 200, .query = {{"from", date(), false, ""}, {"to", date(), false, ""}, {"provider", text(31, 0), false, ""}}, .path = {{"patient", personnummer(), true, ""}, {"kind", text(20), true, "notes, diagnoses or alerts (another kind: 404)"}}, .problems = {404, 409, 422, 502, 503}});

        r.add("GET", base + "/review", auditor, [lr](Request& req) { return Response::json(lr->review(req, periodParam(req))); },
              RouteSpec{.summary = "Log review (loggkontroll) of a period: without booking, emergency, random sample", .tag = "journal", .status = 200, .query = period});
        r.add("POST", base + "/review/{id}", auditor,
              [lr](Request& req) {
                  JsonInput in(req.json(), {"comment"});
                  return Response::json(lr->markReviewed(req, req.intParam("id"), in.str("comment", 1000)));
              },
              RouteSpec{.summary = "Mark an access as reviewed with a comment", .tag = "journal", .body = object({req("comment", text(1000))}), .status = 200, .path = {{"id", integer(1, 9'000'000'000'000'000'000LL), true, ""}}});
        r.add("GET", base + "/extract/{patient}", auditor,
              [lr, c](Request& req) { return Response::json(lr->extract(req, patientParam(req, "patient", c->clock().today()), periodParam(req))); },
              RouteSpec{.summary = "The patient's log extract for a period (JSON)", .tag = "journal", .status = 200, .query = period, .path = pnr});
        r.add("GET", base + "/extract/{patient}/print", auditor,
              [lr, c](Request& req) {
                  auto resp = Response::text(lr->extractHtml(req, patientParam(req, "patient", c->clock().today()), periodParam(req)),
                                             "text/html; charset=utf-8");
                  resp.headers.emplace_back("Cache-Control", "no-store");
                  resp.headers.emplace_back("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
                  return resp;
              },
              RouteSpec{.summary = "The patient's log extract as a printable page", .tag = "journal", .responseType = "text/html", .status = 200, .query = period, .path = pnr});

        ctx.addConsolePage(ConsolePage{"journal", "Sammanhållen journal", "journal.js", staff});
        ctx.addConsolePage(ConsolePage{"review", "Loggkontroll journal", "review.js", auditor});
        if (journal_->settings().units.empty()) ctx.log().warning("journal: no care_units configured; nobody can choose an assignment");
        if (journal_->settings().consentUrl.empty() || journal_->settings().blocksUrl.empty() || journal_->settings().npoUrl.empty())
            ctx.log().warning("journal: national services are not configured; every access is refused (fail closed)");
    }

private:
    static bool hsaLike(const std::string& s) {
        for (char ch : s)
            if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-') return false;
        return true;
    }
    std::unique_ptr<Journal> journal_;
    std::unique_ptr<LogReview> review_;
};

}  // namespace

KB_PLUGIN(JournalPlugin)
