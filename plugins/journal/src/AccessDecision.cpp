#include "AccessDecision.h"

namespace klinikbox::journal {

AccessDecision decideBeforeFetch(Relation relation, Consent consent, bool emergencyActive) {
    AccessDecision d;
    // Order matters: the relation is local and checked first; a service that could not be
    // asked refuses (fail closed) before anything that depends on its answer.
    if (relation == Relation::None) {
        d.refusal = Refusal::NoRelation;
        return d;
    }
    if (consent == Consent::Unavailable) {
        d.refusal = Refusal::ConsentUnavailable;
        return d;
    }
    const bool emergency = consent == Consent::Emergency || emergencyActive;
    if (consent == Consent::None && !emergency) {
        d.refusal = Refusal::NoConsent;
        return d;
    }
    d.shown = true;
    // A valid consent is the basis whenever there is one: an emergency access asserted for
    // a patient who has consented is itself logged and reviewed, the reads rest on consent.
    d.basis = consent == Consent::Consent ? "consent" : "emergency";
    d.flagForReview = d.basis == "emergency" || relation == Relation::Asserted;
    return d;
}

AccessDecision decide(const AccessFacts& f) {
    auto d = decideBeforeFetch(f.relation, f.consent, f.emergencyActive);
    if (!d.shown) return d;
    if (f.blocks == Blocks::Unavailable) {
        AccessDecision r;
        r.refusal = Refusal::BlocksUnavailable;
        return r;
    }
    d.blockedHidden = f.blocks == Blocks::SomeBlocked;
    return d;
}

std::string_view toString(Refusal r) {
    switch (r) {
        case Refusal::None: return "none";
        case Refusal::NoRelation: return "no-relation";
        case Refusal::ConsentUnavailable: return "consent-service-unavailable";
        case Refusal::NoConsent: return "no-consent";
        case Refusal::BlocksUnavailable: return "block-service-unavailable";
    }
    return "none";
}

std::string_view describeSv(Refusal r) {
    switch (r) {
        case Refusal::None: return "";
        case Refusal::NoRelation:
            return "Det finns ingen aktiv patientrelation mellan din vårdenhet och patienten (ingen bokning eller besök). "
                   "Registrera en patientrelation med skäl först.";
        case Refusal::ConsentUnavailable:
            return "Samtyckestjänsten svarar inte, så samtycket kan inte kontrolleras. Ingen information visas.";
        case Refusal::NoConsent:
            return "Patienten har inte lämnat samtycke. Registrera samtycke, eller nödåtkomst om patienten inte kan ta ställning.";
        case Refusal::BlocksUnavailable:
            return "Spärrtjänsten svarar inte, så spärrar kan inte kontrolleras. Ingen information visas.";
    }
    return "";
}

std::string_view toString(Relation r) {
    switch (r) {
        case Relation::None: return "none";
        case Relation::Booking: return "booking";
        case Relation::Asserted: return "asserted";
    }
    return "none";
}

}  // namespace klinikbox::journal
