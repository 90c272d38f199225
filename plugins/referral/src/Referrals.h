// The referral store and its state machine: drafts, sent and received referrals, the answers
// that move them along the contract's codes, and the overdue list. Functions take the caller's
// transaction (db::Connection) so the plugin can commit the change, its audit record and its
// outbox message together; unit tests call them on a plain SQLite database.
#pragma once

#include "Bodies.h"

#include <klinikbox/Db.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace klinikbox::referral {

// States: draft, sending (queued in the outbox), sent, then the answer codes
// BEK VID KOM AVB AVV DSV PSV SSV.
[[nodiscard]] bool isState(std::string_view s);
// Whether `code` may follow `from`. Drafts only become "sending", "sending" only "sent".
[[nodiscard]] bool allowed(std::string_view from, std::string_view to);

class IllegalTransition : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct AnswerRow {
    std::string answerId, code, text, forwardTo, direction;
    long long createdAt = 0;
};

struct Referral {
    std::string id, direction, requestId, state;
    int version = 1;
    std::string patient;
    bool coordination = false;
    std::string senderUnit, senderUnitName, practitionerHsa, practitionerName, receiverHsa, priority;
    std::string question, anamnesis, status, requested;
    bool patientInformed = false;
    long long createdAt = 0, updatedAt = 0;
    std::optional<long long> sentAt;
    std::vector<AnswerRow> answers;
    std::vector<Attachment> attachments;  // only filled by get(..., withAttachments)
};

// A fresh uuid v4 (text).
[[nodiscard]] std::string newUuid();

// Inserts a draft (direction out). `r.id` and `r.requestId` are set here.
std::string insertDraft(db::Connection& c, Referral r, long long now);
// Replaces a draft's content, or that of a referral the receiver asked to complete (KOM):
// it is then sent again as a new version. Refuses anything else.
void updateDraft(db::Connection& c, const Referral& r, long long now);
void addAttachment(db::Connection& c, const std::string& id, const Attachment& a);
[[nodiscard]] std::optional<Referral> get(db::Connection& c, const std::string& id, bool withAttachments = false);
[[nodiscard]] std::optional<Referral> byRequestId(db::Connection& c, const std::string& direction, const std::string& requestId);
[[nodiscard]] std::vector<Referral> list(db::Connection& c, const std::string& direction, int limit = 500);
// Moves a referral to `to` (checked by `allowed`); throws IllegalTransition.
void transition(db::Connection& c, const std::string& id, const std::string& to, long long now);
// The ProcessRequest body of a stored outgoing referral.
[[nodiscard]] RequestBody toBody(db::Connection& c, const Referral& r, const std::string& timestamp);

enum class Applied { Applied, Duplicate, Unknown, Illegal };
// Records an answer (ours or theirs) and moves the referral. An answer id already recorded is
// a Duplicate (no change); an answer that the state machine refuses is Illegal (no change).
Applied applyAnswer(db::Connection& c, const std::string& direction, const AnswerBody& a, long long now);
// A sender's cancellation (AVB) of its own referral: `direction` "out" when we cancel one we
// sent, "in" when the sender of one we received cancels it. The cancelling unit
// (a.responder.unitHsa) must be the referral's sender, else it is Unknown; a cancellation the
// state machine refuses (or any other code) is Illegal; an answer id already recorded a Duplicate.
Applied applyCancellation(db::Connection& c, const std::string& direction, const AnswerBody& a, long long now);
// Stores an incoming referral; returns its id and whether it was already there (a redelivery).
std::pair<std::string, bool> storeIncoming(db::Connection& c, const RequestBody& r, long long now);

// Outgoing referrals sent more than `days` ago and still not confirmed.
[[nodiscard]] std::vector<Referral> overdue(db::Connection& c, long long now, int days);

// Content type from the first bytes: application/pdf, image/jpeg, image/png, or "".
[[nodiscard]] std::string sniffMediaType(std::string_view bytes);

}  // namespace klinikbox::referral
