// The e-frikort plugin: registration of the hooks on the check-in plugin's events (quote,
// opt-in, fee paid, fee refunded), the outbox channels that carry the calls to eFrikort, the
// staff route and the console page. The work is in Cards (what a patient's card says) and
// Registrations (the local ledger and its registration in eFrikort).
#include "Cards.h"
#include "Registrations.h"
#include "Settings.h"

#include <klinikbox/Plugin.h>
#include <klinikbox/Schema.h>

#include <memory>

namespace {

using namespace klinikbox;

class EfrikortPlugin final : public Plugin {
public:
    void start(PluginContext& ctx) override {
        settings_ = efrikort::settingsFrom(ctx.config());
        if (!settings_.configured())
            ctx.log().warning("efrikort: care_principal_id or client_cert is not set; only the local ledger is used");
        cards_ = std::make_unique<efrikort::Cards>(ctx, settings_);
        regs_ = std::make_unique<efrikort::Registrations>(ctx, settings_);
        auto* cards = cards_.get();
        auto* regs = regs_.get();

        HookSpec quote{"efrikort:quote", Phase::Decide, {}, {}};
        quote.budget = std::chrono::milliseconds(settings_.endpoint.timeoutMs + 1000);  // one call to eFrikort
        ctx.events().hook("checkin.quote", quote, [cards](Event& e) { cards->onQuote(e); });
        ctx.events().hook("checkin.optin", HookSpec{"efrikort:optin", Phase::Finalize, {}, {}}, [regs](Event& e) { regs->onOptIn(e); });
        ctx.events().hook("checkin.fee.paid", HookSpec{"efrikort:register", Phase::Finalize, {}, {}}, [regs](Event& e) { regs->onPaid(e); });
        ctx.events().hook("checkin.fee.refunded", HookSpec{"efrikort:correct", Phase::Finalize, {}, {}},
                          [regs](Event& e) { regs->onRefunded(e); });

        ctx.outbox().registerChannel("efrikort.register", [regs](const QueuedMessage& m) { return regs->deliverRegister(m); });
        ctx.outbox().registerChannel("efrikort.correct", [regs](const QueuedMessage& m) { return regs->deliverCorrect(m); });
        ctx.outbox().registerChannel("efrikort.optin", [regs](const QueuedMessage& m) { return regs->deliverOptIn(m); });

        ctx.router().add("GET", "/api/v1/efrikort/patients/{patient}", Access::only({Role::Staff, Role::Admin}),
                         [cards](Request& req) { return cards->patientView(req); },
                         RouteSpec{.summary = "A patient's frikort: the national card (if reachable) and this clinic's local ledger", .tag = "efrikort", .status = 200, .path = {{"patient", klinikbox::schema::personnummer(), true, ""}}});
        ctx.addConsolePage({"card", "E-frikort", "card.js", Access::only({Role::Staff, Role::Admin})});
    }

private:
    efrikort::Settings settings_;
    std::unique_ptr<efrikort::Cards> cards_;
    std::unique_ptr<efrikort::Registrations> regs_;
};

}  // namespace

KB_PLUGIN(EfrikortPlugin)
