// The inbound RIV-TA endpoint: ProcessRequest, ProcessRequestConfirmation and
// ProcessRequestOutcome from other care providers. Checks the size, the XML (hardened parser:
// no DOCTYPE, no entities), the namespaces and the LogicalAddress against this box's units,
// stores what is new in one transaction, and answers with the contract's result codes
// (SOAP faults for technical errors). Nothing changes for a refused message.
#pragma once

#include "Bodies.h"

#include <klinikbox/Store.h>

#include <set>
#include <string>

namespace klinikbox::referral {

struct ProducerSettings {
    std::set<std::string> ownUnits;  // HSA-ids this box receives for
    std::size_t maxBytes = 4u << 20;
};

struct ProducerAnswer {
    int status = 200;
    std::string envelope;  // the SOAP answer (a result or a fault)
    // What happened, for the audit log and the events (empty operation: nothing stored).
    std::string operation, referralId, patient, code, requestId, unit;
    bool changed = false;    // something new was stored
    std::string refusal;     // why the message was refused (never health information)
};

// Handles one POSTed envelope. `now` is the box clock in epoch seconds.
[[nodiscard]] ProducerAnswer handleInbound(Store& store, const ProducerSettings& settings, const std::string& envelopeXml,
                                           long long now);

}  // namespace klinikbox::referral
