// The wire side of the workflow: the inbound endpoint (audit and events around
// Producer's handleInbound) and the outbox deliverers that POST requests and answers.
#include "Workflow.h"

#include <klinikbox/Problem.h>
#include <klinikbox/RivTa.h>

#include <Poco/DateTimeFormatter.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Timestamp.h>

namespace klinikbox::referral {

namespace {

std::string stamp(long long epoch) {
    return Poco::DateTimeFormatter::format(Poco::Timestamp::fromEpochTime(static_cast<std::time_t>(epoch)), "%Y%m%d%H%M%S");
}

Poco::JSON::Object::Ptr parsePayload(const std::string& payload) {
    return Poco::JSON::Parser().parse(payload).extract<Poco::JSON::Object::Ptr>();
}

}  // namespace

Response Workflow::inbound(Request& req) {
    ProducerSettings ps{s_.units, s_.maxInboundBytes};
    const auto a = handleInbound(ctx_.store(), ps, req.body, now());
    const std::string peer = req.peer ? req.peer->subject : std::string("?");
    if (a.operation.empty() || !a.refusal.empty()) {
        ctx_.audit().recordSystem(AuditEntry{"referral.receive", "", "vård", "denied", "refused from " + peer.substr(0, 200)});
        ctx_.log().warning("referral: refused an inbound message: " + a.refusal);
    } else {
        ctx_.audit().recordSystem(AuditEntry{"referral.receive", a.patient, "vård", "ok",
                                             a.operation + (a.code.empty() ? "" : " " + a.code) +
                                                 (a.changed ? "" : " (redelivery)") + " from " + peer.substr(0, 200)});
        if (a.changed) {
            Poco::JSON::Object::Ptr p = new Poco::JSON::Object;
            p->set("referral_id", a.referralId);
            p->set("request_id", a.requestId);
            p->set("unit", a.unit);
            if (a.operation == "ProcessRequest") {
                ctx_.events().publish(Event{"referral.received", p, std::nullopt, req.requestId});
            } else {
                p->set("code", a.code);
                p->set("direction", "in");
                ctx_.events().publish(Event{"referral.answered", p, std::nullopt, req.requestId});
            }
        }
    }
    return Response::text(a.envelope, "text/xml; charset=utf-8", a.status);
}

DeliveryResult Workflow::post(const Receiver& to, const std::string& operation, const std::string& body) {
    if (majorVersion(to.contractVersion) != kContractMajor)
        return DeliveryResult::failed("the receiver speaks contract version " + to.contractVersion);
    // The directory holds the ProcessRequest address; the other operations are its siblings.
    std::string url = to.endpointUrl;
    if (const auto slash = url.rfind('/'); slash != std::string::npos && url.substr(slash + 1) == "ProcessRequest")
        url = url.substr(0, slash + 1) + operation;
    rivta::Endpoint e{url, s_.clientCert, s_.clientKey, s_.caBundle, s_.timeoutMs};
    rivta::HttpAnswer answer;
    try {
        answer = rivta::post(e, soapAction(operation), rivta::envelope(to.hsaId, body));
    } catch (const rivta::TransportError& err) {
        return DeliveryResult::retry(err.what());
    }
    try {
        const auto r = parseResult(answer.body);
        if (r.code == "OK" || r.code == "INFO") return DeliveryResult::delivered(r.message);
        // A validation error will not go away by retrying; an application error may.
        if (r.errorCode == "VALIDATION_ERROR") return DeliveryResult::failed("VALIDATION_ERROR: " + r.message);
        return DeliveryResult::retry(r.errorCode + ": " + r.message);
    } catch (const rivta::SoapFault& f) {
        return DeliveryResult::retry("SOAP fault " + f.code() + ": " + f.what());
    } catch (const std::exception& ex) {
        return DeliveryResult::retry("HTTP " + std::to_string(answer.status) + ": unreadable answer");
    }
}

DeliveryResult Workflow::deliverRequest(const QueuedMessage& m) {
    const auto p = parsePayload(m.payload);
    const auto id = p->getValue<std::string>("referral_id");
    const auto forwardTo = p->optValue<std::string>("to", "");
    Referral r;
    std::optional<Receiver> to;
    RequestBody body;
    bool gone = false;
    ctx_.store().read([&](db::Connection& c) {
        auto x = get(c, id);
        if (!x) {
            gone = true;
            return;
        }
        r = *x;
        to = receiver(c, forwardTo.empty() ? r.receiverHsa : forwardTo);
        body = toBody(c, r, stamp(r.updatedAt));
    });
    if (gone) return DeliveryResult::failed("the referral no longer exists");
    if (!to) return DeliveryResult::failed("the receiver is not in the directory");
    if (!forwardTo.empty()) body.receiverHsa = forwardTo;  // forwarded: the original sender stays the requester
    else if (r.state != "sending") return DeliveryResult::delivered("already " + r.state);
    auto result = post(*to, "ProcessRequest", requestBody(body));
    if (result.kind == DeliveryResult::Kind::Delivered && forwardTo.empty()) {
        ctx_.store().write([&](db::Connection& c) {
            auto cur = get(c, id);
            if (cur && cur->state == "sending") transition(c, id, "sent", now());
        });
        ctx_.audit().recordSystem(AuditEntry{"referral.sent", r.patient, "vård", "ok", "to " + to->hsaId});
    }
    return result;
}

DeliveryResult Workflow::deliverAnswer(const QueuedMessage& m) {
    const auto answerId = parsePayload(m.payload)->getValue<std::string>("answer_id");
    AnswerBody a;
    std::optional<Receiver> to;
    bool gone = true;
    ctx_.store().read([&](db::Connection& c) {
        auto s = c.prepare(
            "SELECT a.code, a.text, a.forward_to, a.created_at, r.id, a.author FROM referral_answers a JOIN referral_referrals r ON "
            "r.id = a.referral_id WHERE a.answer_id = ?");
        s.bind(1, answerId);
        if (!s.step()) return;
        gone = false;
        const auto r = get(c, s.getText(4));
        a.requestId = r->requestId;
        a.answerId = answerId;
        a.code = s.getText(0);
        a.text = s.getText(1);
        a.forwardToHsa = s.getText(2);
        a.timestamp = stamp(s.getInt(3));
        a.requestVersion = r->version;
        a.patient = r->patient;
        a.coordinationNumber = r->coordination;
        const auto author = s.getText(5).empty() ? s_.unitName.substr(0, 64) : s.getText(5);
        if (r->direction == "out") {
            // Our cancellation (AVB) of a referral we sent: to its receiver, or to the unit it
            // was last forwarded to.
            a.responder = Party{r->senderUnit, r->senderUnitName, "", author};
            a.recipientHsa = r->receiverHsa;
            for (const auto& x : r->answers)
                if (x.code == "VID" && x.direction == "in" && !x.forwardTo.empty()) a.recipientHsa = x.forwardTo;
            to = receiver(c, a.recipientHsa);
            return;
        }
        a.responder = Party{r->receiverHsa, s_.unitName, "", author};
        a.recipientHsa = r->senderUnit;
        to = receiver(c, r->senderUnit);
    });
    if (gone) return DeliveryResult::failed("the answer no longer exists");
    if (!to) return DeliveryResult::failed("the unit " + a.recipientHsa + " is not in the directory");
    const std::string op = isConfirmationCode(a.code) ? "ProcessRequestConfirmation" : "ProcessRequestOutcome";
    return post(*to, op, answerBody(a));
}

}  // namespace klinikbox::referral
