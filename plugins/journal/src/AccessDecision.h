// The PDL access decision for shared journal access (sammanhållen journalföring, the
// national shared record): a pure table from what the box knows about the patient
// relationship, consent, emergency access and blocks to "shown" or "refused, and why".
// No I/O here, so every row of the table is unit-tested; the caller gathers the facts.
#pragma once
#include <string>
#include <string_view>

namespace klinikbox::journal {

// The active patient relationship (aktuell vårdrelation) of the reader's care unit.
enum class Relation { None, Booking, Asserted };
// What CheckConsent answered; Unavailable when the consent service could not be asked.
enum class Consent { None, Consent, Emergency, Unavailable };
// What CheckBlocks answered for the fetched records; Unavailable when it could not be asked.
enum class Blocks { None, SomeBlocked, Unavailable };

struct AccessFacts {
    Relation relation = Relation::None;
    Consent consent = Consent::None;
    bool emergencyActive = false;  // an unexpired emergency assertion (nödåtkomst) with a reason
    Blocks blocks = Blocks::None;
};

enum class Refusal { None, NoRelation, ConsentUnavailable, NoConsent, BlocksUnavailable };

struct AccessDecision {
    bool shown = false;
    Refusal refusal = Refusal::None;
    std::string basis;            // "consent" or "emergency" when shown
    bool blockedHidden = false;   // some records are blocked: named as blocked, never shown
    bool flagForReview = false;   // emergency access, or a relation without a booking
};

// Step 1: may the box ask the services at all? Refuses without a relation.
[[nodiscard]] AccessDecision decideBeforeFetch(Relation relation, Consent consent, bool emergencyActive);
// The whole table, once CheckBlocks has answered (or failed) for the fetched records.
[[nodiscard]] AccessDecision decide(const AccessFacts& facts);

[[nodiscard]] std::string_view toString(Refusal r);   // stable code, e.g. "no-consent"
[[nodiscard]] std::string_view describeSv(Refusal r); // Swedish text for the console
[[nodiscard]] std::string_view toString(Relation r);

}  // namespace klinikbox::journal
