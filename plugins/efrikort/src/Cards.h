// A patient's card: what to charge at check-in (the national card decides; when eFrikort
// cannot be reached, this clinic's local ledger does, marked as local) and the staff view of
// the national card beside the local ledger. Reads only; every lookup is audit-logged.
#pragma once

#include "Settings.h"

#include <klinikbox/Events.h>
#include <klinikbox/PluginContext.h>
#include <klinikbox/Http.h>

namespace efrikort {

class Cards {
public:
    Cards(klinikbox::PluginContext& ctx, const Settings& settings) : ctx_(ctx), settings_(settings) {}

    // checkin.quote (Decide): sets charge_ore, card_status, left_ore, source, optin_required
    // and note on the event's payload.
    void onQuote(klinikbox::Event& e);
    // GET /api/v1/efrikort/patients/{patient}
    klinikbox::Response patientView(klinikbox::Request& req);

    // The local window from what this clinic charged (counted fees, not deleted).
    [[nodiscard]] Window localWindow(const std::string& patient);

private:
    klinikbox::PluginContext& ctx_;
    const Settings& settings_;
};

}  // namespace efrikort
