// Long because it holds every staff use case of referrals (drafts, sending, answering, the
// directory) plus the inbound endpoint's audit and events and the two outbox deliverers;
// the XML, the store and the state machine live in Bodies, Referrals and Directory.
#include "Workflow.h"

#include <klinikbox/HsaId.h>
#include <klinikbox/JsonInput.h>
#include <klinikbox/Personnummer.h>
#include <klinikbox/Problem.h>
#include <klinikbox/RivTa.h>

#include <Poco/Base64Decoder.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Timestamp.h>

#include <sstream>

namespace klinikbox::referral {

namespace {

constexpr std::size_t kText = 8000;

Problem notFound() { return Problem(404, "/problems/no-such-referral", "Remissen finns inte"); }

// The bytes of a request's content_base64 member; 400 when it is not base64.
std::string contentBytes(const std::string& text) {
    std::istringstream in(text);
    Poco::Base64Decoder dec(in);
    std::string out;
    try {
        out.assign(std::istreambuf_iterator<char>(dec), std::istreambuf_iterator<char>());
    } catch (const std::exception&) {
        throw JsonInput::invalid("content_base64", "not valid base64");
    }
    return out;
}

Poco::JSON::Object::Ptr receiverJson(const Receiver& r) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("hsa_id", r.hsaId);
    o->set("name", r.name);
    o->set("receives", r.receives);
    o->set("endpoint_url", r.endpointUrl);
    o->set("contract_version", r.contractVersion);
    o->set("supported", majorVersion(r.contractVersion) == kContractMajor);
    return o;
}

}  // namespace

Settings settingsFrom(const Poco::JSON::Object::Ptr& cfg) {
    Settings s;
    if (auto units = cfg->getArray("units"))
        for (std::size_t i = 0; i < units->size(); ++i) s.units.insert(units->getElement<std::string>(static_cast<unsigned>(i)));
    s.unitName = cfg->optValue<std::string>("unit_name", "");
    s.clientCert = cfg->optValue<std::string>("client_cert", "");
    s.clientKey = cfg->optValue<std::string>("client_key", "");
    s.caBundle = cfg->optValue<std::string>("ca", "");
    s.timeoutMs = cfg->optValue<int>("timeout_seconds", 10) * 1000;
    s.overdueDays = cfg->optValue<int>("overdue_days", 7);
    s.maxAttachmentBytes = static_cast<std::size_t>(cfg->optValue<int>("max_attachment_kb", 2048)) * 1024;
    s.maxAttachments = cfg->optValue<int>("max_attachments", 5);
    return s;
}

Poco::JSON::Object::Ptr toJson(const Referral& r, bool full, std::chrono::year_month_day today) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("id", r.id);
    o->set("direction", r.direction);
    o->set("request_id", r.requestId);
    o->set("state", r.state);
    o->set("version", r.version);
    o->set("sender_unit", r.senderUnit);
    o->set("sender_unit_name", r.senderUnitName);
    o->set("receiver_hsa", r.receiverHsa);
    o->set("priority", r.priority);
    o->set("created_at", r.createdAt);
    o->set("updated_at", r.updatedAt);
    if (r.sentAt) o->set("sent_at", *r.sentAt);
    if (!full) {
        // Lists show the patient masked; the full number needs the referral itself.
        const auto p = Personnummer::parse(r.patient, today);
        o->set("patient_masked", std::holds_alternative<Personnummer>(p) ? std::get<Personnummer>(p).masked() : "************");
        return o;
    }
    o->set("patient", r.patient);
    o->set("coordination_number", r.coordination);
    o->set("practitioner_hsa", r.practitionerHsa);
    o->set("practitioner_name", r.practitionerName);
    o->set("question", r.question);
    o->set("anamnesis", r.anamnesis);
    o->set("status", r.status);
    o->set("requested", r.requested);
    o->set("patient_informed", r.patientInformed);
    Poco::JSON::Array::Ptr answers = new Poco::JSON::Array;
    for (const auto& a : r.answers) {
        Poco::JSON::Object::Ptr x = new Poco::JSON::Object;
        x->set("answer_id", a.answerId);
        x->set("code", a.code);
        x->set("text", a.text);
        x->set("forward_to", a.forwardTo);
        x->set("direction", a.direction);
        x->set("created_at", a.createdAt);
        answers->add(x);
    }
    o->set("answers", answers);
    Poco::JSON::Array::Ptr atts = new Poco::JSON::Array;
    for (std::size_t i = 0; i < r.attachments.size(); ++i) {
        Poco::JSON::Object::Ptr x = new Poco::JSON::Object;
        x->set("index", static_cast<int>(i));
        x->set("name", r.attachments[i].name);
        x->set("media_type", r.attachments[i].mediaType);
        atts->add(x);
    }
    o->set("attachments", atts);
    return o;
}

long long Workflow::now() const {
    return std::chrono::duration_cast<std::chrono::seconds>(ctx_.clock().now().time_since_epoch()).count();
}

void Workflow::audit(const Request& req, const std::string& action, const std::string& patient, const std::string& details,
                     db::Connection* tx) {
    AuditEntry e{action, patient, "vård", "ok", details};
    if (tx != nullptr) ctx_.audit().record(req, e, *tx);
    else ctx_.audit().record(req, e);
}

Referral Workflow::load(db::Connection& c, const std::string& id, const std::string& direction) {
    auto r = get(c, id);
    if (!r || (!direction.empty() && r->direction != direction)) throw notFound();
    return *r;
}

Referral Workflow::fromJson(const Poco::JSON::Object::Ptr& obj, Referral r, bool partial) {
    JsonInput in(obj, {"patient", "practitioner_hsa", "practitioner_name", "receiver_hsa", "priority", "question", "anamnesis",
                       "status", "requested", "patient_informed"});
    auto text = [&](const char* name, std::string& into, bool required) {
        if (required && !partial) into = in.str(name, kText);
        else if (auto v = in.optStr(name, kText)) into = *v;
        else if (in.has(name)) into.clear();
    };
    if (!partial || in.has("patient")) {
        const auto p = Personnummer::parse(in.str("patient", 20), ctx_.clock().today());
        if (!std::holds_alternative<Personnummer>(p))
            throw JsonInput::invalid("patient", std::string(describeSv(std::get<PersonnummerError>(p))));
        r.patient = std::get<Personnummer>(p).twelveDigits();
        r.coordination = std::get<Personnummer>(p).isCoordinationNumber();
    }
    if (auto v = in.optStr("practitioner_hsa", 31)) {
        if (!HsaId::parse(*v)) throw JsonInput::invalid("practitioner_hsa", "not an HSA-id");
        r.practitionerHsa = *v;
    }
    if (auto v = in.optStr("practitioner_name", 64)) r.practitionerName = *v;
    if (!partial || in.has("receiver_hsa")) {
        r.receiverHsa = in.str("receiver_hsa", 31);
        if (!HsaId::parse(r.receiverHsa)) throw JsonInput::invalid("receiver_hsa", "not an HSA-id");
    }
    if (auto v = in.optStr("priority", 10)) {
        if (*v != "normal" && *v != "akut") throw JsonInput::invalid("priority", "must be normal or akut");
        r.priority = *v;
    }
    text("question", r.question, true);
    text("anamnesis", r.anamnesis, false);
    text("status", r.status, false);
    text("requested", r.requested, false);
    if (auto v = in.optBoolean("patient_informed")) r.patientInformed = *v;
    return r;
}

Poco::JSON::Object::Ptr Workflow::createDraft(Request& req) {
    Referral r;
    r.senderUnit = !req.principal->careUnit.empty() && s_.units.contains(req.principal->careUnit) ? req.principal->careUnit
                                                                                                   : *s_.units.begin();
    r.senderUnitName = s_.unitName;
    r.practitionerHsa = req.principal->hsaId;
    r.practitionerName = req.principal->username;
    r.priority = "normal";
    r = fromJson(req.json(), r, false);
    std::string id;
    ctx_.store().write([&](db::Connection& c) {
        if (!receiver(c, r.receiverHsa))
            throw JsonInput::invalid("receiver_hsa", "the receiver is not in the directory");
        id = insertDraft(c, r, now());
        audit(req, "referral.create", r.patient, "draft " + id, &c);
    });
    Poco::JSON::Object::Ptr out;
    ctx_.store().read([&](db::Connection& c) { out = toJson(load(c, id), true); });
    return out;
}

Poco::JSON::Object::Ptr Workflow::updateDraft(Request& req) {
    const auto id = req.pathParams.at("id");
    Poco::JSON::Object::Ptr out;
    const auto body = req.json();
    ctx_.store().write([&](db::Connection& c) {
        auto r = fromJson(body, load(c, id, "out"), true);
        if (!receiver(c, r.receiverHsa)) throw JsonInput::invalid("receiver_hsa", "the receiver is not in the directory");
        try {
            referral::updateDraft(c, r, now());
        } catch (const IllegalTransition&) {
            throw Problem(409, "/problems/not-a-draft", "Remissen är redan skickad och kan inte ändras");
        }
        audit(req, "referral.update", r.patient, "draft " + id, &c);
        out = toJson(load(c, id), true);
    });
    return out;
}

Poco::JSON::Object::Ptr Workflow::addAttachment(Request& req) {
    const auto id = req.pathParams.at("id");
    JsonInput in(req.json(), {"name", "content_base64"});
    const auto name = in.str("name", 200);
    // The decoded size is what counts; base64 text past twice the limit (room for line breaks)
    // is too large without decoding it. The route's schema bounds the text itself.
    const auto tooLarge = [this] {
        return Problem(413, "/problems/attachment-too-large", "Bilagan är för stor",
                       "at most " + std::to_string(s_.maxAttachmentBytes / 1024) + " kB");
    };
    const auto b64 = in.str("content_base64", 40'000'000);
    if (b64.size() > s_.maxAttachmentBytes * 2 + 1024) throw tooLarge();
    Attachment a{"", name, contentBytes(b64)};
    if (a.bytes.empty()) throw JsonInput::invalid("content_base64", "the attachment is empty");
    if (a.bytes.size() > s_.maxAttachmentBytes) throw tooLarge();
    a.mediaType = sniffMediaType(a.bytes);
    if (a.mediaType.empty())
        throw Problem(415, "/problems/attachment-type", "Bilagan måste vara PDF, JPEG eller PNG");
    Poco::JSON::Object::Ptr out;
    ctx_.store().write([&](db::Connection& c) {
        const auto r = load(c, id, "out");
        if (r.state != "draft" && r.state != "KOM")
            throw Problem(409, "/problems/not-a-draft", "Remissen är redan skickad och kan inte ändras");
        if (static_cast<int>(r.attachments.size()) >= s_.maxAttachments)
            throw Problem(422, "/problems/too-many-attachments", "Remissen har redan så många bilagor som tillåts");
        referral::addAttachment(c, id, a);
        audit(req, "referral.attach", r.patient, a.mediaType, &c);
        out = toJson(load(c, id), true);
    });
    return out;
}

Poco::JSON::Object::Ptr Workflow::send(Request& req) {
    const auto id = req.pathParams.at("id");
    Referral r;
    std::optional<Receiver> to;
    ctx_.store().read([&](db::Connection& c) {
        r = load(c, id, "out");
        to = receiver(c, r.receiverHsa);
    });
    if (r.state != "draft" && r.state != "KOM")
        throw Problem(409, "/problems/already-sent", "Remissen är redan skickad");
    if (!to) throw Problem(422, "/problems/unknown-receiver", "Mottagaren finns inte i katalogen");
    if (majorVersion(to->contractVersion) != kContractMajor)
        throw Problem(422, "/problems/receiver-version", "Mottagaren använder en annan version av remisstjänsten",
                      "the receiver speaks version " + to->contractVersion + "; this box speaks 2.x");
    // The sync hook may validate (veto) or enrich: priority, requested and anamnesis.
    Poco::JSON::Object::Ptr payload = new Poco::JSON::Object;
    payload->set("referral_id", r.id);
    payload->set("receiver_hsa", r.receiverHsa);
    payload->set("receiver_name", to->name);
    payload->set("priority", r.priority);
    payload->set("question", r.question);
    payload->set("anamnesis", r.anamnesis);
    payload->set("status", r.status);
    payload->set("requested", r.requested);
    payload->set("patient_informed", r.patientInformed);
    payload->set("attachments", static_cast<int>(r.attachments.size()));
    Event ev{"referral.sending", payload, req.principal, req.requestId};
    const auto outcome = ctx_.events().publishSync(ev);
    if (outcome.failed)
        throw Problem(422, "/problems/hook-failed", "Remissen kunde inte kontrolleras", outcome.reason).with("hook", outcome.hook);
    if (outcome.vetoed)
        throw Problem(422, "/problems/referral-refused", "Remissen godtogs inte", outcome.reason).with("hook", outcome.hook);
    const auto pr = ev.payload->optValue<std::string>("priority", r.priority);
    const auto requested = ev.payload->optValue<std::string>("requested", r.requested);
    const auto anamnesis = ev.payload->optValue<std::string>("anamnesis", r.anamnesis);
    if ((pr != "normal" && pr != "akut") || requested.size() > kText || anamnesis.size() > kText)
        throw Problem(422, "/problems/hook-failed", "Remissen kunde inte kontrolleras", "a hook set an invalid value");
    Poco::JSON::Object::Ptr out;
    ctx_.store().write([&](db::Connection& c) {
        auto cur = load(c, id, "out");
        if (cur.state != r.state) throw Problem(409, "/problems/already-sent", "Remissen är redan skickad");
        auto st = c.prepare("UPDATE referral_referrals SET priority = ?, requested = ?, anamnesis = ? WHERE id = ?");
        st.bind(1, pr).bind(2, requested).bind(3, anamnesis).bind(4, id);
        st.exec();
        transition(c, id, "sending", now());
        cur = load(c, id);
        Poco::JSON::Object::Ptr msg = new Poco::JSON::Object;
        msg->set("referral_id", id);
        msg->set("version", cur.version);
        std::ostringstream p;
        msg->stringify(p);
        ctx_.outbox().enqueue(c, OutboundMessage{"referral.request", p.str(), cur.requestId + "#v" + std::to_string(cur.version)});
        audit(req, "referral.send", cur.patient, "to " + cur.receiverHsa, &c);
        out = toJson(cur, true);
    });
    return out;
}

Poco::JSON::Object::Ptr Workflow::read(Request& req) {
    Poco::JSON::Object::Ptr out;
    ctx_.store().read([&](db::Connection& c) { out = toJson(load(c, req.pathParams.at("id")), true); });
    audit(req, "referral.read", out->getValue<std::string>("patient"), "referral " + req.pathParams.at("id"));
    return out;
}

Response Workflow::attachment(Request& req) {
    const auto index = req.intParam("index", 0, 100);
    Referral r;
    ctx_.store().read([&](db::Connection& c) {
        auto full = get(c, req.pathParams.at("id"), true);
        if (!full) throw notFound();
        r = *full;
    });
    if (index >= static_cast<long long>(r.attachments.size()))
        throw Problem(404, "/problems/no-such-attachment", "Bilagan finns inte");
    audit(req, "referral.read", r.patient, "attachment " + std::to_string(index));
    const auto& a = r.attachments[static_cast<std::size_t>(index)];
    auto resp = Response::text(a.bytes, a.mediaType);
    resp.headers.emplace_back("Content-Disposition", "attachment");
    resp.headers.emplace_back("X-Content-Type-Options", "nosniff");
    return resp;
}

Poco::JSON::Object::Ptr Workflow::list(Request& req, const std::string& direction) {
    Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
    ctx_.store().read([&](db::Connection& c) {
        const auto today = ctx_.clock().today();
        for (const auto& r : referral::list(c, direction)) items->add(toJson(r, false, today));
    });
    audit(req, "referral.list", "", direction + ": " + std::to_string(items->size()) + " referrals (masked)");
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("items", items);
    o->set("now", now());
    return o;
}

Poco::JSON::Object::Ptr Workflow::overdueList(Request& req) {
    Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
    ctx_.store().read([&](db::Connection& c) {
        const auto today = ctx_.clock().today();
        for (const auto& r : overdue(c, now(), s_.overdueDays)) items->add(toJson(r, false, today));
    });
    audit(req, "referral.list", "", "overdue: " + std::to_string(items->size()) + " referrals (masked)");
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("items", items);
    o->set("overdue_days", s_.overdueDays);
    return o;
}

std::size_t Workflow::overdueCount() {
    std::size_t n = 0;
    ctx_.store().read([&](db::Connection& c) { n = overdue(c, now(), s_.overdueDays).size(); });
    return n;
}

Poco::JSON::Object::Ptr Workflow::answer(Request& req) {
    const auto id = req.pathParams.at("id");
    JsonInput in(req.json(), {"code", "text", "forward_to"});
    const auto code = in.str("code", 3);
    if (!isConfirmationCode(code) && !isOutcomeCode(code))
        throw JsonInput::invalid("code", "must be one of BEK VID KOM AVB AVV DSV PSV SSV");
    if (code == "AVB") throw JsonInput::invalid("code", "AVB cancels a referral; only its sender can");
    const auto text = in.optStr("text", kText).value_or("");
    if ((code == "AVV" || code == "KOM" || isOutcomeCode(code)) && text.empty())
        throw JsonInput::invalid("text", "a rejection, a completion request and an answer need a text");
    const auto forwardTo = in.optStr("forward_to", 31).value_or("");
    if (code == "VID" && !HsaId::parse(forwardTo)) throw JsonInput::invalid("forward_to", "forwarding needs the receiver's HSA-id");
    Poco::JSON::Object::Ptr out;
    std::string patient;
    ctx_.store().write([&](db::Connection& c) {
        const auto r = load(c, id, "in");
        if (code == "VID") {
            const auto fwd = receiver(c, forwardTo);
            if (!fwd) throw JsonInput::invalid("forward_to", "the receiver is not in the directory");
            if (majorVersion(fwd->contractVersion) != kContractMajor)
                throw Problem(422, "/problems/receiver-version", "Mottagaren använder en annan version av remisstjänsten");
        }
        AnswerBody a;
        a.requestId = r.requestId;
        a.answerId = r.receiverHsa + "#" + newUuid();
        a.code = code;
        a.text = text;
        a.forwardToHsa = forwardTo;
        a.patient = r.patient;
        a.responder.practitionerName = req.principal->username.substr(0, 64);
        const auto applied = applyAnswer(c, "out", a, now());
        if (applied == Applied::Illegal)
            throw Problem(409, "/problems/illegal-transition", "Det svaret går inte att ge i remissens nuvarande läge",
                          "state " + r.state + " cannot become " + code);
        Poco::JSON::Object::Ptr msg = new Poco::JSON::Object;
        msg->set("answer_id", a.answerId);
        std::ostringstream p;
        msg->stringify(p);
        ctx_.outbox().enqueue(c, OutboundMessage{"referral.answer", p.str(), a.answerId});
        if (code == "VID") {
            Poco::JSON::Object::Ptr f = new Poco::JSON::Object;
            f->set("referral_id", id);
            f->set("to", forwardTo);
            std::ostringstream fp;
            f->stringify(fp);
            ctx_.outbox().enqueue(c, OutboundMessage{"referral.request", fp.str(), r.requestId + "#fwd#" + forwardTo});
        }
        audit(req, "referral.answer", r.patient, code, &c);
        patient = r.patient;
        out = toJson(load(c, id), true);
    });
    Poco::JSON::Object::Ptr ev = new Poco::JSON::Object;
    ev->set("referral_id", id);
    ev->set("code", code);
    ev->set("direction", "out");
    ctx_.events().publish(Event{"referral.answered", ev, req.principal, req.requestId});
    return out;
}

// The sender cancels (AVB) a referral it sent, with a reason; the receiver (or the one it was
// forwarded to) gets the ProcessRequestConfirmation through the outbox.
Poco::JSON::Object::Ptr Workflow::cancel(Request& req) {
    const auto id = req.pathParams.at("id");
    JsonInput in(req.json(), {"text"});
    const auto text = in.str("text", kText);
    Poco::JSON::Object::Ptr out;
    ctx_.store().write([&](db::Connection& c) {
        const auto r = load(c, id, "out");
        AnswerBody a;
        a.requestId = r.requestId;
        a.answerId = r.senderUnit + "#" + newUuid();
        a.code = "AVB";
        a.text = text;
        a.patient = r.patient;
        a.responder.unitHsa = r.senderUnit;
        a.responder.practitionerName = req.principal->username.substr(0, 64);
        if (applyCancellation(c, "out", a, now()) != Applied::Applied)
            throw Problem(409, "/problems/illegal-transition", "Remissen kan inte avbrytas i sitt nuvarande läge",
                          "state " + r.state + " cannot become AVB");
        Poco::JSON::Object::Ptr msg = new Poco::JSON::Object;
        msg->set("answer_id", a.answerId);
        std::ostringstream p;
        msg->stringify(p);
        ctx_.outbox().enqueue(c, OutboundMessage{"referral.answer", p.str(), a.answerId});
        audit(req, "referral.cancel", r.patient, "AVB to " + r.receiverHsa, &c);
        out = toJson(load(c, id), true);
    });
    Poco::JSON::Object::Ptr ev = new Poco::JSON::Object;
    ev->set("referral_id", id);
    ev->set("code", "AVB");
    ev->set("direction", "out");
    ctx_.events().publish(Event{"referral.answered", ev, req.principal, req.requestId});
    return out;
}

// The patient of an accepted incoming referral is invited (kallelse) by the booking
// plugin, which answers the sync event referral.invitation.requested: the staff choose the
// visit type and give the patient's mobile number or e-mail (the referral carries neither).
Poco::JSON::Object::Ptr Workflow::invite(Request& req) {
    const auto id = req.pathParams.at("id");
    JsonInput in(req.json(), {"visit_type", "phone", "email"});
    const auto visitType = in.str("visit_type", 40);
    const auto phone = in.optStr("phone", 30);
    const auto email = in.optStr("email", 254);
    if (!phone && !email) throw JsonInput::invalid("phone", "a mobile number or an e-mail address to send the invitation to");
    Referral r;
    ctx_.store().read([&](db::Connection& c) { r = load(c, id, "in"); });
    if (r.state != "BEK" && r.state != "DSV" && r.state != "PSV")
        throw Problem(409, "/problems/not-accepted", "Remissen måste vara accepterad innan patienten kallas");
    // No clinical text in it: the booking plugin names the referring unit only.
    Poco::JSON::Object::Ptr p = new Poco::JSON::Object;
    p->set("referral_id", r.id);
    p->set("request_id", r.requestId);
    p->set("patient", r.patient);
    p->set("care_unit", r.receiverHsa);
    p->set("priority", r.priority);
    p->set("referring_unit", r.senderUnit);
    p->set("referring_unit_name", r.senderUnitName);
    p->set("requested_by", req.principal->username);
    p->set("visit_type", visitType);
    if (phone) p->set("phone", *phone);
    if (email) p->set("email", *email);
    Event ev{"referral.invitation.requested", p, req.principal, req.requestId};
    const auto outcome = ctx_.events().publishSync(ev);
    if (outcome.vetoed)
        throw Problem(422, outcome.failed ? "/problems/hook-failed" : "/problems/invitation-refused",
                      "Kallelsen kunde inte skickas", outcome.reason)
            .with("hook", outcome.hook);
    if (ev.payload->has("problem")) {
        const auto pr = ev.payload->getObject("problem");
        audit(req, "referral.invite", r.patient, "invitation refused: " + pr->optValue<std::string>("type", ""));
        throw Problem(pr->optValue<int>("status", 422), pr->optValue<std::string>("type", "/problems/invitation-refused"),
                      pr->optValue<std::string>("title", "Kallelsen kunde inte skickas"), pr->optValue<std::string>("detail", ""));
    }
    if (!ev.payload->has("invitation_id"))
        throw Problem(503, "/problems/booking-unavailable", "Tidbokningen svarar inte",
                      "the booking plugin did not answer referral.invitation.requested");
    const auto invitation = ev.payload->getValue<long long>("invitation_id");
    audit(req, "referral.invite", r.patient, "invitation " + std::to_string(invitation) + " sent");
    // The same event, async, for scripts that follow referrals (kb.subscribe).
    ctx_.events().publish(Event{"referral.invitation.requested", ev.payload, req.principal, req.requestId});
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("requested", true);
    o->set("invitation_id", invitation);
    return o;
}

Poco::JSON::Object::Ptr Workflow::receivers(Request& req) {
    (void)req;
    Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
    ctx_.store().read([&](db::Connection& c) {
        for (const auto& r : referral::receivers(c)) items->add(receiverJson(r));
    });
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("items", items);
    return o;
}

Poco::JSON::Object::Ptr Workflow::putReceiver(Request& req) {
    JsonInput in(req.json(), {"name", "receives", "endpoint_url", "contract_version"});
    Receiver r{req.pathParams.at("hsa"), in.str("name", 200), in.optStr("receives", 500).value_or(""), in.str("endpoint_url", 500),
               in.optStr("contract_version", 10).value_or("2.2")};
    try {
        validate(r);
    } catch (const DirectoryError& e) {
        throw Problem(400, "/problems/invalid-field", "Uppgiften är inte giltig", e.what());
    }
    ctx_.store().write([&](db::Connection& c) { upsertReceiver(c, r); });
    ctx_.audit().record(req, AuditEntry{"referral.directory", "", "administration", "ok", "receiver " + r.hsaId});
    return receiverJson(r);
}

Response Workflow::deleteReceiver(Request& req) {
    bool removed = false;
    ctx_.store().write([&](db::Connection& c) { removed = removeReceiver(c, req.pathParams.at("hsa")); });
    if (!removed) throw Problem(404, "/problems/no-such-receiver", "Mottagaren finns inte i katalogen");
    ctx_.audit().record(req, AuditEntry{"referral.directory", "", "administration", "ok", "removed " + req.pathParams.at("hsa")});
    return Response::noContent();
}

Poco::JSON::Object::Ptr Workflow::importReceivers(Request& req) {
    JsonInput in(req.json(), {"format", "content"});
    const auto format = in.str("format", 4);
    const auto content = in.str("content", 4u << 20);
    std::vector<Receiver> rows;
    try {
        if (format == "csv") rows = parseCsv(content);
        else if (format == "json") rows = parseJson(content);
        else throw JsonInput::invalid("format", "must be csv or json");
    } catch (const DirectoryError& e) {
        throw Problem(400, "/problems/invalid-import", "Filen kunde inte läsas in", e.what());
    }
    ctx_.store().write([&](db::Connection& c) {
        for (const auto& r : rows) upsertReceiver(c, r);
    });
    ctx_.audit().record(req, AuditEntry{"referral.directory", "", "administration", "ok", "imported " + std::to_string(rows.size())});
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("imported", static_cast<int>(rows.size()));
    return o;
}

}  // namespace klinikbox::referral
