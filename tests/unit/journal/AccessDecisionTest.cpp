// The PDL access decision as a table: relation × consent × emergency × block × service
// outage → shown or refused, with the reason. Every combination is listed once.
#include "AccessDecision.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace klinikbox::journal;

namespace {
struct Row {
    Relation relation;
    Consent consent;
    bool emergency;
    Blocks blocks;
    bool shown;
    std::string reason;  // refusal code, or basis when shown
    bool blockedHidden;
    bool review;
};

// Expected outcome computed by hand from the rules in docs/security.md (PDL section):
// relation first, then consent (service down refuses), then blocks (service down refuses).
std::vector<Row> table() {
    std::vector<Row> rows;
    for (auto rel : {Relation::None, Relation::Booking, Relation::Asserted})
        for (auto con : {Consent::None, Consent::Consent, Consent::Emergency, Consent::Unavailable})
            for (bool em : {false, true})
                for (auto bl : {Blocks::None, Blocks::SomeBlocked, Blocks::Unavailable}) {
                    Row r{rel, con, em, bl, false, "", false, false};
                    if (rel == Relation::None) r.reason = "no-relation";
                    else if (con == Consent::Unavailable) r.reason = "consent-service-unavailable";
                    else if (con == Consent::None && !em) r.reason = "no-consent";
                    else if (bl == Blocks::Unavailable) r.reason = "block-service-unavailable";
                    else {
                        r.shown = true;
                        r.reason = con == Consent::Consent ? "consent" : "emergency";
                        r.blockedHidden = bl == Blocks::SomeBlocked;
                        r.review = r.reason == "emergency" || rel == Relation::Asserted;
                    }
                    rows.push_back(r);
                }
    return rows;
}
}  // namespace

TEST(JournalAccessDecision, EveryRowOfTheTableGivesTheExpectedOutcome) {
    const auto rows = table();
    ASSERT_EQ(rows.size(), 72u);
    for (const auto& r : rows) {
        const auto d = decide(AccessFacts{r.relation, r.consent, r.emergency, r.blocks});
        const auto label = std::string(toString(r.relation)) + "/" + std::to_string(static_cast<int>(r.consent)) + "/" +
                           (r.emergency ? "emergency" : "-") + "/" + std::to_string(static_cast<int>(r.blocks));
        EXPECT_EQ(d.shown, r.shown) << label;
        EXPECT_EQ(d.shown ? d.basis : std::string(toString(d.refusal)), r.reason) << label;
        EXPECT_EQ(d.blockedHidden, r.blockedHidden) << label;
        EXPECT_EQ(d.flagForReview, r.review) << label;
        if (!d.shown) {
            EXPECT_FALSE(describeSv(d.refusal).empty()) << label;
        }
    }
}

TEST(JournalAccessDecision, NamedRowsReadAsTheLawSays) {
    // Consent and a booking: shown on consent, not flagged.
    auto d = decide({Relation::Booking, Consent::Consent, false, Blocks::None});
    EXPECT_TRUE(d.shown);
    EXPECT_EQ(d.basis, "consent");
    EXPECT_FALSE(d.flagForReview);
    // Emergency access does not replace the patient relationship.
    d = decide({Relation::None, Consent::None, true, Blocks::None});
    EXPECT_FALSE(d.shown);
    EXPECT_EQ(d.refusal, Refusal::NoRelation);
    // A consent service outage refuses even with emergency access asserted (fail closed).
    d = decide({Relation::Booking, Consent::Unavailable, true, Blocks::None});
    EXPECT_EQ(d.refusal, Refusal::ConsentUnavailable);
    // A block service outage refuses even with consent.
    d = decide({Relation::Booking, Consent::Consent, false, Blocks::Unavailable});
    EXPECT_EQ(d.refusal, Refusal::BlocksUnavailable);
    // Emergency: shown, blocked parts still hidden, flagged for review.
    d = decide({Relation::Booking, Consent::None, true, Blocks::SomeBlocked});
    EXPECT_TRUE(d.shown);
    EXPECT_EQ(d.basis, "emergency");
    EXPECT_TRUE(d.blockedHidden);
    EXPECT_TRUE(d.flagForReview);
    // Before the fetch the box already refuses without a relation or consent.
    EXPECT_EQ(decideBeforeFetch(Relation::Asserted, Consent::None, false).refusal, Refusal::NoConsent);
}
