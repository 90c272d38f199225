// The check-in plugin: the patient checks in by personnummer (kiosk or phone), is matched to
// today's booking through the booking plugin (checkin.lookup), gets the right fee (the
// region's rules, a Lua override on checkin.fee, the frikort via checkin.quote) and pays
// (Swish, at the desk or by invoice). A paid fee is reported once through the outbox
// (checkin.fee.paid), so the e-frikort plugin registers it exactly once.
// This file only reads the settings and wires things up; see CheckinPlugin.h for the rest.
#include "CheckinPlugin.h"

namespace checkin::plugin {

void CheckinPlugin::start(PluginContext& ctx) {
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
        swish_.timeoutMs = s->getValue<int>("timeout_ms");
        if (swishEnabled_ && swish_.payeeAlias.empty()) throw std::runtime_error("swish.enabled needs payee_alias");
        if (const auto why = checkin::callbackUrlProblem(swish_.callbackUrl); swishEnabled_ && !why.empty())
            throw std::runtime_error("swish.callback_url " + why);
    }
    if (auto e = c->getObject("email")) {
        smtpHost_ = e->getValue<std::string>("smtp_host");
        smtpPort_ = e->getValue<int>("smtp_port");
        mailFrom_ = e->getValue<std::string>("from");
    }
    startKiosks(c->getObject("kiosk"));
    if (unit_.empty()) ctx.log().warning("checkin: care_unit is not set; the kiosk cannot check anyone in");

    ctx.outbox().registerChannel("checkin.feereport", [this](const QueuedMessage& m) { return report("checkin.fee.paid", m); });
    ctx.outbox().registerChannel("checkin.feerefund", [this](const QueuedMessage& m) { return report("checkin.fee.refunded", m); });
    ctx.outbox().registerChannel("checkin.receipt", [this](const QueuedMessage& m) { return mailReceipt(m); });
    registerPatientRoutes();
    registerStaffRoutes();
    registerKioskRoutes();
    ctx.addConsolePage({"day", "Incheckning och betalning", "day.js", Access::only(kStaff)});
    if (swishEnabled_) reconciler_ = std::thread([this] { reconcileLoop(); });
    ctx.addConsolePage({"kiosks", "Kiosker", "kiosks.js", Access::only({Role::Admin})});
}

}  // namespace checkin::plugin

KB_PLUGIN(checkin::plugin::CheckinPlugin)
