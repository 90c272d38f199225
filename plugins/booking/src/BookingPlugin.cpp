// The booking plugin: registration of its routes, hooks, outbox channels and console pages.
// Everything goes through the PluginContext (SDK only). Each resource lives in its own file
// (see BookingPlugin.h); this file only wires them up.
#include "BookingPlugin.h"

namespace booking {

void BookingPlugin::start(PluginContext& ctx) {
    ctx_ = &ctx;
    s_ = Settings::from(ctx.config());
    wrongCodes_ = std::make_unique<AttemptLimiter>(ctx.clock(), AttemptLimiter::Options{9, std::chrono::minutes(10), 10000});
    registerChannels();
    registerHooks();
    registerPluginRequests();
    registerSetupRoutes();
    registerAvailabilityRoutes();
    registerBookingRoutes();
    registerDayViewRoutes();
    registerVipRoutes();
    registerInvitationRoutes();
    registerICalRoutes();
    registerFigureRoutes();
    withdrawSlotsOnClosedEves();
    ctx.addConsolePage({"day", "Bokningar", "day.js", Access::only(kStaff)});
    ctx.addConsolePage({"setup", "Scheman", "setup.js", Access::only(kAdmin)});
    ctx.addConsolePage({"patients", "Kallelser och VIP-koder", "patients.js", Access::only(kStaff)});
}

}  // namespace booking

KB_PLUGIN(booking::BookingPlugin)
