// The first-run wizard's API (/api/v1/setup/*): the clinic, its host names and certificate,
// the region's trust anchor. Each step is saved when the technician presses "next", and
// /api/v1/setup/status tells a reloaded page which steps are done. The last step, the first
// admin, is /api/v1/auth/setup. Every route takes the one-time setup token in its body
// (auth/SetupGate.h) and is refused once an account exists.
#pragma once

#include "auth/Accounts.h"
#include "auth/SetupGate.h"
#include "server/Box.h"

#include <memory>

namespace klinikbox::server {

void installSetupWizard(Box& box, std::shared_ptr<auth::SetupGate> gate);

}  // namespace klinikbox::server
