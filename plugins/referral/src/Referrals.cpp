// The referral store and state machine (see Referrals.h).
#include "Referrals.h"

#include <Poco/UUIDGenerator.h>

#include <array>
#include <utility>

namespace klinikbox::referral {

namespace {

constexpr std::array<std::string_view, 11> kStates = {"draft", "sending", "sent", "BEK", "VID", "KOM",
                                                       "AVB",   "AVV",     "DSV",  "PSV", "SSV"};

const char* kColumns =
    "id, direction, request_id, state, version, patient, coordination, sender_unit, sender_unit_name, "
    "practitioner_hsa, practitioner_name, receiver_hsa, priority, question, anamnesis, status_text, requested, "
    "patient_informed, created_at, updated_at, sent_at";

Referral readRow(db::Statement& s) {
    Referral r;
    r.id = s.getText(0);
    r.direction = s.getText(1);
    r.requestId = s.getText(2);
    r.state = s.getText(3);
    r.version = static_cast<int>(s.getInt(4));
    r.patient = s.getText(5);
    r.coordination = s.getInt(6) != 0;
    r.senderUnit = s.getText(7);
    r.senderUnitName = s.getText(8);
    r.practitionerHsa = s.getText(9);
    r.practitionerName = s.getText(10);
    r.receiverHsa = s.getText(11);
    r.priority = s.getText(12);
    r.question = s.getText(13);
    r.anamnesis = s.getText(14);
    r.status = s.getText(15);
    r.requested = s.getText(16);
    r.patientInformed = s.getInt(17) != 0;
    r.createdAt = s.getInt(18);
    r.updatedAt = s.getInt(19);
    r.sentAt = s.getOptionalInt(20);
    return r;
}

void loadAnswers(db::Connection& c, Referral& r) {
    auto s = c.prepare(
        "SELECT answer_id, code, text, forward_to, direction, created_at FROM referral_answers WHERE referral_id = ? "
        "ORDER BY id");
    s.bind(1, r.id);
    while (s.step()) r.answers.push_back(AnswerRow{s.getText(0), s.getText(1), s.getText(2), s.getText(3), s.getText(4), s.getInt(5)});
}

}  // namespace

bool isState(std::string_view s) {
    for (auto st : kStates)
        if (st == s) return true;
    return false;
}

bool allowed(std::string_view from, std::string_view to) {
    auto in = [](std::string_view x, std::initializer_list<std::string_view> set) {
        for (auto s : set)
            if (s == x) return true;
        return false;
    };
    if (from == "draft") return to == "sending";
    if (from == "sending") return to == "sent";
    // A completed (KOM) referral is sent again as a new version.
    if (from == "KOM") return in(to, {"sending", "BEK", "AVV", "AVB"});
    if (from == "sent") return in(to, {"BEK", "VID", "KOM", "AVB", "AVV"});
    // After forwarding the new receiver confirms, rejects or forwards again.
    if (from == "VID") return in(to, {"BEK", "AVV", "VID", "KOM", "AVB"});
    if (from == "BEK") return in(to, {"DSV", "PSV", "SSV", "AVB"});
    if (from == "DSV" || from == "PSV") return in(to, {"DSV", "PSV", "SSV"});
    return false;  // AVB, AVV and SSV are final
}

std::string newUuid() { return Poco::UUIDGenerator::defaultGenerator().createRandom().toString(); }

std::string insertDraft(db::Connection& c, Referral r, long long now) {
    r.id = newUuid();
    r.requestId = r.senderUnit + "#" + r.id;
    auto s = c.prepare(
        "INSERT INTO referral_referrals (id, direction, request_id, state, version, patient, coordination, sender_unit, "
        "sender_unit_name, practitioner_hsa, practitioner_name, receiver_hsa, priority, question, anamnesis, status_text, "
        "requested, patient_informed, created_at, updated_at) VALUES (?, 'out', ?, 'draft', 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "?, ?, ?, ?, ?, ?)");
    s.bind(1, r.id).bind(2, r.requestId).bind(3, r.patient).bind(4, r.coordination ? 1 : 0).bind(5, r.senderUnit);
    s.bind(6, r.senderUnitName).bind(7, r.practitionerHsa).bind(8, r.practitionerName).bind(9, r.receiverHsa);
    s.bind(10, r.priority).bind(11, r.question).bind(12, r.anamnesis).bind(13, r.status).bind(14, r.requested);
    s.bind(15, r.patientInformed ? 1 : 0).bind(16, now).bind(17, now);
    s.exec();
    return r.id;
}

void updateDraft(db::Connection& c, const Referral& r, long long now) {
    auto s = c.prepare(
        "UPDATE referral_referrals SET patient = ?, coordination = ?, practitioner_hsa = ?, practitioner_name = ?, "
        "receiver_hsa = ?, priority = ?, question = ?, anamnesis = ?, status_text = ?, requested = ?, patient_informed = ?, "
        "updated_at = ? WHERE id = ? AND direction = 'out' AND state IN ('draft', 'KOM')");
    s.bind(1, r.patient).bind(2, r.coordination ? 1 : 0).bind(3, r.practitionerHsa).bind(4, r.practitionerName);
    s.bind(5, r.receiverHsa).bind(6, r.priority).bind(7, r.question).bind(8, r.anamnesis).bind(9, r.status);
    s.bind(10, r.requested).bind(11, r.patientInformed ? 1 : 0).bind(12, now).bind(13, r.id);
    s.exec();
    if (c.changes() != 1) throw IllegalTransition("only a draft or a referral to complete (KOM) can be changed");
}

void addAttachment(db::Connection& c, const std::string& id, const Attachment& a) {
    auto s = c.prepare("INSERT INTO referral_attachments (referral_id, name, media_type, bytes) VALUES (?, ?, ?, ?)");
    s.bind(1, id).bind(2, a.name).bind(3, a.mediaType).bindBlob(4, a.bytes);
    s.exec();
}

std::optional<Referral> get(db::Connection& c, const std::string& id, bool withAttachments) {
    auto s = c.prepare(std::string("SELECT ") + kColumns + " FROM referral_referrals WHERE id = ?");
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    auto r = readRow(s);
    loadAnswers(c, r);
    auto a = c.prepare("SELECT name, media_type, bytes FROM referral_attachments WHERE referral_id = ? ORDER BY id");
    a.bind(1, id);
    while (a.step()) r.attachments.push_back(Attachment{a.getText(1), a.getText(0), withAttachments ? a.getText(2) : std::string()});
    return r;
}

std::optional<Referral> byRequestId(db::Connection& c, const std::string& direction, const std::string& requestId) {
    auto s = c.prepare("SELECT id FROM referral_referrals WHERE direction = ? AND request_id = ?");
    s.bind(1, direction).bind(2, requestId);
    if (!s.step()) return std::nullopt;
    return get(c, s.getText(0));
}

std::vector<Referral> list(db::Connection& c, const std::string& direction, int limit) {
    auto s = c.prepare(std::string("SELECT ") + kColumns +
                       " FROM referral_referrals WHERE direction = ? ORDER BY created_at DESC, rowid DESC LIMIT ?");
    s.bind(1, direction).bind(2, limit);
    std::vector<Referral> out;
    while (s.step()) out.push_back(readRow(s));
    return out;
}

void transition(db::Connection& c, const std::string& id, const std::string& to, long long now) {
    const auto r = get(c, id);
    if (!r) throw IllegalTransition("no such referral");
    if (!allowed(r->state, to)) throw IllegalTransition("a referral in state " + r->state + " cannot become " + to);
    auto s = c.prepare(
        "UPDATE referral_referrals SET state = ?, updated_at = ?, sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END, "
        "version = CASE WHEN state = 'KOM' AND ? = 'sending' THEN version + 1 ELSE version END WHERE id = ?");
    s.bind(1, to).bind(2, now).bind(3, to).bind(4, now).bind(5, to).bind(6, id);
    s.exec();
}

RequestBody toBody(db::Connection& c, const Referral& r, const std::string& timestamp) {
    RequestBody b;
    b.requestId = r.requestId;
    b.version = r.version;
    b.timestamp = timestamp;
    b.patient = r.patient;
    b.coordinationNumber = r.coordination;
    b.sender = Party{r.senderUnit, r.senderUnitName, r.practitionerHsa, r.practitionerName};
    b.receiverHsa = r.receiverHsa;
    b.priority = r.priority;
    b.question = r.question;
    b.anamnesis = r.anamnesis;
    b.status = r.status;
    b.requestedActivity = r.requested;
    b.patientInformed = r.patientInformed;
    if (auto full = get(c, r.id, true)) b.attachments = full->attachments;
    return b;
}

Applied applyAnswer(db::Connection& c, const std::string& direction, const AnswerBody& a, long long now) {
    // Answers we send concern referrals we received, and the other way round.
    const std::string referralDirection = direction == "in" ? "out" : "in";
    const auto r = byRequestId(c, referralDirection, a.requestId);
    if (!r) return Applied::Unknown;
    auto dup = c.prepare("SELECT 1 FROM referral_answers WHERE answer_id = ?");
    dup.bind(1, a.answerId);
    if (dup.step()) return Applied::Duplicate;
    if (!allowed(r->state, a.code)) return Applied::Illegal;
    auto ins = c.prepare(
        "INSERT INTO referral_answers (referral_id, answer_id, code, text, forward_to, direction, created_at, author) VALUES (?, "
        "?, ?, ?, ?, ?, ?, ?)");
    ins.bind(1, r->id).bind(2, a.answerId).bind(3, a.code).bind(4, a.text).bind(5, a.forwardToHsa).bind(6, direction).bind(7, now);
    ins.bind(8, a.responder.practitionerName);
    ins.exec();
    transition(c, r->id, a.code, now);
    return Applied::Applied;
}

Applied applyCancellation(db::Connection& c, const std::string& direction, const AnswerBody& a, long long now) {
    const auto r = byRequestId(c, direction, a.requestId);
    if (!r || r->senderUnit != a.responder.unitHsa) return Applied::Unknown;
    auto dup = c.prepare("SELECT 1 FROM referral_answers WHERE answer_id = ?");
    dup.bind(1, a.answerId);
    if (dup.step()) return Applied::Duplicate;
    if (a.code != "AVB" || !allowed(r->state, "AVB")) return Applied::Illegal;
    auto ins = c.prepare(
        "INSERT INTO referral_answers (referral_id, answer_id, code, text, forward_to, direction, created_at, author) VALUES (?, "
        "?, 'AVB', ?, '', ?, ?, ?)");
    ins.bind(1, r->id).bind(2, a.answerId).bind(3, a.text).bind(4, direction).bind(5, now).bind(6, a.responder.practitionerName);
    ins.exec();
    transition(c, r->id, "AVB", now);
    return Applied::Applied;
}

std::pair<std::string, bool> storeIncoming(db::Connection& c, const RequestBody& b, long long now) {
    if (auto existing = byRequestId(c, "in", b.requestId)) {
        if (b.version > existing->version && existing->state == "KOM") {
            // A completed referral: the new version replaces the content and goes back to "sent".
            auto s = c.prepare(
                "UPDATE referral_referrals SET version = ?, question = ?, anamnesis = ?, status_text = ?, requested = ?, "
                "state = 'sent', updated_at = ? WHERE id = ?");
            s.bind(1, b.version).bind(2, b.question).bind(3, b.anamnesis).bind(4, b.status).bind(5, b.requestedActivity);
            s.bind(6, now).bind(7, existing->id);
            s.exec();
            return {existing->id, false};
        }
        return {existing->id, true};
    }
    const auto id = newUuid();
    auto s = c.prepare(
        "INSERT INTO referral_referrals (id, direction, request_id, state, version, patient, coordination, sender_unit, "
        "sender_unit_name, practitioner_hsa, practitioner_name, receiver_hsa, priority, question, anamnesis, status_text, "
        "requested, patient_informed, created_at, updated_at, sent_at) VALUES (?, 'in', ?, 'sent', ?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "?, ?, ?, ?, ?, ?, ?, ?)");
    s.bind(1, id).bind(2, b.requestId).bind(3, b.version).bind(4, b.patient).bind(5, b.coordinationNumber ? 1 : 0);
    s.bind(6, b.sender.unitHsa).bind(7, b.sender.unitName).bind(8, b.sender.practitionerHsa).bind(9, b.sender.practitionerName);
    s.bind(10, b.receiverHsa).bind(11, b.priority == "akut" ? "akut" : "normal").bind(12, b.question).bind(13, b.anamnesis);
    s.bind(14, b.status).bind(15, b.requestedActivity).bind(16, b.patientInformed ? 1 : 0).bind(17, now).bind(18, now).bind(19, now);
    s.exec();
    for (const auto& a : b.attachments) addAttachment(c, id, a);
    return {id, false};
}

std::vector<Referral> overdue(db::Connection& c, long long now, int days) {
    auto s = c.prepare(std::string("SELECT ") + kColumns +
                       " FROM referral_referrals WHERE direction = 'out' AND state = 'sent' AND sent_at < ? ORDER BY sent_at");
    s.bind(1, now - static_cast<long long>(days) * 86400);
    std::vector<Referral> out;
    while (s.step()) out.push_back(readRow(s));
    return out;
}

std::string sniffMediaType(std::string_view b) {
    if (b.starts_with("%PDF-")) return "application/pdf";
    if (b.size() >= 3 && static_cast<unsigned char>(b[0]) == 0xFF && static_cast<unsigned char>(b[1]) == 0xD8 &&
        static_cast<unsigned char>(b[2]) == 0xFF)
        return "image/jpeg";
    if (b.starts_with(std::string_view("\x89PNG\r\n\x1a\n", 8))) return "image/png";
    return {};
}

}  // namespace klinikbox::referral
