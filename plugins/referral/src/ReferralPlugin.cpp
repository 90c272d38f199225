// The referral plugin: registration of the outbox channels, the staff and admin routes, the
// inbound RIV-TA endpoint and the console pages. The work is in Workflow and its parts.
#include <klinikbox/Schema.h>
#include "Workflow.h"

#include <klinikbox/Plugin.h>
#include <klinikbox/Problem.h>

#include <memory>

namespace {

using namespace klinikbox;
using namespace klinikbox::referral;

class ReferralPlugin final : public Plugin {
public:
    void start(PluginContext& ctx) override {
        auto settings = settingsFrom(ctx.config());
        if (settings.units.empty()) ctx.log().warning("referral: no units configured; nothing can be sent or received");
        flow_ = std::make_unique<Workflow>(ctx, settings);
        auto* f = flow_.get();

        ctx.outbox().registerChannel("referral.request", [f](const QueuedMessage& m) { return f->deliverRequest(m); });
        ctx.outbox().registerChannel("referral.answer", [f](const QueuedMessage& m) { return f->deliverAnswer(m); });

        auto& r = ctx.router();
        using namespace klinikbox::schema;
        // A referral id is a random UUID (Referrals.cpp, newUuid).
        const auto kReferralId = pattern("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", 36, "f2c23b5a-4008-44b3-83c9-159f4a884bcb");
        const auto staff = Access::only({Role::Staff, Role::Admin});
        const auto admin = Access::only({Role::Admin});
        const auto needUnits = [f, units = settings.units](Request&) {
            if (units.empty()) throw Problem(503, "/problems/not-configured", "Remisser är inte konfigurerade");
        };
        auto json = [](auto fn) { return [fn](Request& req) { return Response::json(fn(req)); }; };

        r.add("POST", "/api/v1/referral/referrals", staff,
              [f, needUnits](Request& req) {
                  needUnits(req);
                  return Response::json(f->createDraft(req), 201);
              },
              RouteSpec{.summary = "Save a new draft referral", .tag = "referral", .body = object({req("patient", personnummer()), opt("practitioner_hsa", hsaId()), opt("practitioner_name", text(64, 0)), req("receiver_hsa", hsaId()), opt("priority", oneOf({"normal", "akut"})), req("question", text(8000)), opt("anamnesis", text(8000, 0)), opt("status", text(8000, 0)), opt("requested", text(8000, 0)), opt("patient_informed", boolean())}), .status = 201, .problems = {503}});
        r.add("PATCH", "/api/v1/referral/referrals/{id}", staff, json([f](Request& q) { return f->updateDraft(q); }),
              RouteSpec{.summary = "Change a draft referral, or one the receiver asked to complete (KOM)", .tag = "referral", .body = object({opt("patient", personnummer()), opt("practitioner_hsa", hsaId()), opt("practitioner_name", text(64, 0)), opt("receiver_hsa", hsaId()), opt("priority", oneOf({"normal", "akut"})), opt("question", text(8000)), opt("anamnesis", text(8000, 0)), opt("status", text(8000, 0)), opt("requested", text(8000, 0)), opt("patient_informed", boolean())}), .status = 200, .path = {{"id", kReferralId, true, ""}}, .problems = {409}});
        r.add("POST", "/api/v1/referral/referrals/{id}/attachments", staff,
              json([f](Request& q) { return f->addAttachment(q); }),
              RouteSpec{.summary = "Attach a PDF, JPEG or PNG to a draft", .tag = "referral", .body = object({req("name", text(200)), req("content_base64", described(text(40'000'000), "the file, base64-encoded"))}), .status = 200, .path = {{"id", kReferralId, true, ""}}, .problems = {409, 413, 415, 422}});
        r.add("GET", "/api/v1/referral/referrals/{id}/attachments/{index}", staff, [f](Request& q) { return f->attachment(q); },
              RouteSpec{.summary = "One attachment of a referral", .tag = "referral", .responseType = "application/octet-stream", .status = 200, .path = {{"id", kReferralId, true, ""}, {"index", integer(0, 100), true, ""}}});
        r.add("POST", "/api/v1/referral/referrals/{id}/send", staff, json([f](Request& q) { return f->send(q); }),
              RouteSpec{.summary = "Send a draft (or a completed referral) through the outbox", .tag = "referral", .status = 200, .path = {{"id", kReferralId, true, ""}}, .problems = {409, 422}});
        r.add("GET", "/api/v1/referral/referrals/{id}", staff, json([f](Request& q) { return f->read(q); }),
              RouteSpec{.summary = "A referral with its answers", .tag = "referral", .status = 200, .path = {{"id", kReferralId, true, ""}}});
        r.add("POST", "/api/v1/referral/referrals/{id}/answer", staff, json([f](Request& q) { return f->answer(q); }),
              RouteSpec{.summary = "Answer an incoming referral: BEK, AVV, VID, KOM, DSV, PSV or SSV", .tag = "referral", .body = object({req("code", oneOf({"BEK", "AVV", "VID", "KOM", "DSV", "PSV", "SSV"})), opt("text", text(8000, 0)), opt("forward_to", text(31, 0))}), .status = 200, .path = {{"id", kReferralId, true, ""}}, .problems = {409, 422}});
        r.add("POST", "/api/v1/referral/referrals/{id}/cancel", staff, json([f](Request& q) { return f->cancel(q); }),
              RouteSpec{.summary = "Cancel (AVB) a referral this clinic sent, with a reason", .tag = "referral", .body = object({req("text", text(8000))}), .status = 200, .path = {{"id", kReferralId, true, ""}}, .problems = {409}});
        r.add("POST", "/api/v1/referral/referrals/{id}/invitation", staff, json([f](Request& q) { return f->invite(q); }),
              RouteSpec{.summary = "Ask the booking plugin to invite the patient (event referral.invitation.requested)", .tag = "referral", .status = 200, .path = {{"id", kReferralId, true, ""}}, .problems = {409}});
        r.add("GET", "/api/v1/referral/outgoing", staff, json([f](Request& q) { return f->list(q, "out"); }),
              RouteSpec{.summary = "Outgoing referrals (patients masked)", .tag = "referral", .status = 200});
        r.add("GET", "/api/v1/referral/incoming", staff, json([f](Request& q) { return f->list(q, "in"); }),
              RouteSpec{.summary = "Incoming referrals (patients masked)", .tag = "referral", .status = 200});
        r.add("GET", "/api/v1/referral/overdue", staff, json([f](Request& q) { return f->overdueList(q); }),
              RouteSpec{.summary = "Sent referrals without confirmation after overdue_days", .tag = "referral", .status = 200});

        r.add("GET", "/api/v1/referral/figures", Access::only({Role::Staff, Role::Admin}),
              json([f](Request& q) { return f->figures(q); }),
              RouteSpec{.summary = "The dashboard's figures: incoming referrals to answer, overdue outgoing ones", .tag = "referral", .status = 200});
        r.add("GET", "/api/v1/referral/receivers", Access::only({Role::Staff, Role::Admin}),
              json([f](Request& q) { return f->receivers(q); }), RouteSpec{.summary = "The receiver directory", .tag = "referral", .status = 200});
        r.add("PUT", "/api/v1/referral/receivers/{hsa}", admin, json([f](Request& q) { return f->putReceiver(q); }),
              RouteSpec{.summary = "Add or change a receiver", .tag = "referral", .body = object({req("name", text(200)), opt("receives", text(500, 0)), req("endpoint_url", pattern("^https://", 500, "https://remiss.example.se/rivta")), opt("contract_version", text(10, 0))}), .status = 200, .path = {{"hsa", hsaId(), true, ""}}});
        r.add("DELETE", "/api/v1/referral/receivers/{hsa}", admin, [f](Request& q) { return f->deleteReceiver(q); },
              RouteSpec{.summary = "Remove a receiver", .tag = "referral", .status = 204, .path = {{"hsa", hsaId(), true, ""}}});
        r.add("POST", "/api/v1/referral/receivers/import", admin, json([f](Request& q) { return f->importReceivers(q); }),
              RouteSpec{.summary = "Import receivers from an HSA catalogue export (CSV or JSON)", .tag = "referral", .body = object({req("format", oneOf({"csv", "json"})), req("content", text(4u << 20))}), .status = 200, .problems = {422}});

        ctx.addGauge("overdue_referrals", "Sent referrals without confirmation or answer after overdue_days.",
                     [f] { return static_cast<double>(f->overdueCount()); });

        // The RIV-TA producer: served only on the producer listener (mutual TLS, client CA).
        for (const char* op : {"ProcessRequest", "ProcessRequestConfirmation", "ProcessRequestOutcome"})
            r.add("POST", std::string("/api/v1/referral/rivta/") + op, Access::service(),
                  [f](Request& q) { return f->inbound(q); },
                  RouteSpec{.summary = std::string("RIV-TA ") + op + " 2.2 (producer listener only)", .tag = "referral", .responseType = "text/xml", .status = 200, .problems = {400, 403, 500}, .bodyType = "text/xml"});

        ctx.addConsolePage(ConsolePage{"outgoing", "Remisser", "referrals.js", Access::only({Role::Staff, Role::Admin})});
        ctx.addConsolePage(ConsolePage{"directory", "Remissmottagare", "directory.js", Access::only({Role::Staff, Role::Admin})});
    }

private:
    std::unique_ptr<Workflow> flow_;
};

}  // namespace

KB_PLUGIN(ReferralPlugin)
