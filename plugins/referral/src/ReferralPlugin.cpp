// The referral plugin: registration of the outbox channels, the staff and admin routes, the
// inbound RIV-TA endpoint and the console pages. The work is in Workflow and its parts.
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
              RouteDoc{"Save a new draft referral", "referral", nullptr, nullptr});
        r.add("PATCH", "/api/v1/referral/referrals/{id}", staff, json([f](Request& q) { return f->updateDraft(q); }),
              RouteDoc{"Change a draft referral", "referral", nullptr, nullptr});
        r.add("POST", "/api/v1/referral/referrals/{id}/attachments", staff,
              json([f](Request& q) { return f->addAttachment(q); }),
              RouteDoc{"Attach a PDF, JPEG or PNG to a draft", "referral", nullptr, nullptr});
        r.add("GET", "/api/v1/referral/referrals/{id}/attachments/{index}", staff, [f](Request& q) { return f->attachment(q); },
              RouteDoc{"One attachment of a referral", "referral", nullptr, nullptr});
        r.add("POST", "/api/v1/referral/referrals/{id}/send", staff, json([f](Request& q) { return f->send(q); }),
              RouteDoc{"Send a draft (or a completed referral) through the outbox", "referral", nullptr, nullptr});
        r.add("GET", "/api/v1/referral/referrals/{id}", staff, json([f](Request& q) { return f->read(q); }),
              RouteDoc{"A referral with its answers", "referral", nullptr, nullptr});
        r.add("POST", "/api/v1/referral/referrals/{id}/answer", staff, json([f](Request& q) { return f->answer(q); }),
              RouteDoc{"Answer an incoming referral: BEK, AVV, VID, KOM, DSV, PSV or SSV", "referral", nullptr, nullptr});
        r.add("POST", "/api/v1/referral/referrals/{id}/invitation", staff, json([f](Request& q) { return f->invite(q); }),
              RouteDoc{"Ask the booking plugin to invite the patient (event referral.invitation.requested)", "referral", nullptr,
                       nullptr});
        r.add("GET", "/api/v1/referral/outgoing", staff, json([f](Request& q) { return f->list(q, "out"); }),
              RouteDoc{"Outgoing referrals (patients masked)", "referral", nullptr, nullptr});
        r.add("GET", "/api/v1/referral/incoming", staff, json([f](Request& q) { return f->list(q, "in"); }),
              RouteDoc{"Incoming referrals (patients masked)", "referral", nullptr, nullptr});
        r.add("GET", "/api/v1/referral/overdue", staff, json([f](Request& q) { return f->overdueList(q); }),
              RouteDoc{"Sent referrals without confirmation after overdue_days", "referral", nullptr, nullptr});

        r.add("GET", "/api/v1/referral/figures", Access::only({Role::Staff, Role::Admin}),
              json([f](Request& q) { return f->figures(q); }),
              RouteDoc{"The dashboard's figures: incoming referrals to answer, overdue outgoing ones", "referral", nullptr, nullptr});
        r.add("GET", "/api/v1/referral/receivers", Access::only({Role::Staff, Role::Admin}),
              json([f](Request& q) { return f->receivers(q); }), RouteDoc{"The receiver directory", "referral", nullptr, nullptr});
        r.add("PUT", "/api/v1/referral/receivers/{hsa}", admin, json([f](Request& q) { return f->putReceiver(q); }),
              RouteDoc{"Add or change a receiver", "referral", nullptr, nullptr});
        r.add("DELETE", "/api/v1/referral/receivers/{hsa}", admin, [f](Request& q) { return f->deleteReceiver(q); },
              RouteDoc{"Remove a receiver", "referral", nullptr, nullptr});
        r.add("POST", "/api/v1/referral/receivers/import", admin, json([f](Request& q) { return f->importReceivers(q); }),
              RouteDoc{"Import receivers from an HSA catalogue export (CSV or JSON)", "referral", nullptr, nullptr});

        ctx.addGauge("overdue_referrals", "Sent referrals without confirmation or answer after overdue_days.",
                     [f] { return static_cast<double>(f->overdueCount()); });

        // The RIV-TA producer: served only on the producer listener (mutual TLS, client CA).
        for (const char* op : {"ProcessRequest", "ProcessRequestConfirmation", "ProcessRequestOutcome"})
            r.add("POST", std::string("/api/v1/referral/rivta/") + op, Access::service(),
                  [f](Request& q) { return f->inbound(q); },
                  RouteDoc{std::string("RIV-TA ") + op + " 2.2 (producer listener only)", "referral", nullptr, nullptr});

        ctx.addConsolePage(ConsolePage{"outgoing", "Remisser", "referrals.js", Access::only({Role::Staff, Role::Admin})});
        ctx.addConsolePage(ConsolePage{"directory", "Remissmottagare", "directory.js", Access::only({Role::Staff, Role::Admin})});
    }

private:
    std::unique_ptr<Workflow> flow_;
};

}  // namespace

KB_PLUGIN(ReferralPlugin)
