// The inbound RIV-TA endpoint (see Producer.h).
#include "Producer.h"

#include "Referrals.h"

#include <klinikbox/Clock.h>
#include <klinikbox/Personnummer.h>

namespace klinikbox::referral {

namespace {

ProducerAnswer fault(int status, const std::string& code, const std::string& text) {
    ProducerAnswer a;
    a.status = status;
    a.envelope = rivta::faultEnvelope(code, text);
    a.refusal = text;
    return a;
}

ProducerAnswer result(const std::string& op, const std::string& code, const std::string& errorCode, const std::string& message) {
    ProducerAnswer a;
    a.envelope = rivta::envelope("", resultBody(op, code, errorCode, message));
    if (code != "OK") a.refusal = message;
    return a;
}

// "Today" is the box's (its clock, its time zone), as everywhere else a personnummer is read.
bool validPatient(const std::string& pnr, long long now) {
    if (pnr.size() != 12) return false;
    const auto today = Clock::localDate(std::chrono::system_clock::time_point(std::chrono::seconds(now)));
    return std::holds_alternative<Personnummer>(Personnummer::parse(pnr, today));
}

}  // namespace

ProducerAnswer handleInbound(Store& store, const ProducerSettings& settings, const std::string& envelopeXml, long long now) {
    if (envelopeXml.size() > settings.maxBytes) return fault(413, "soap:Client", "the message is larger than the limit");
    Inbound in;
    try {
        in = parseInbound(envelopeXml, settings.maxBytes);
    } catch (const rivta::SoapFault&) {
        return fault(400, "soap:Client", "a fault is not a request");
    } catch (const rivta::XmlError& e) {
        return fault(400, "soap:Client", std::string("not an acceptable SOAP message: ") + e.what());
    } catch (const BodyError& e) {
        return fault(400, "soap:Client", e.what());
    }
    if (!settings.ownUnits.contains(in.logicalAddress))
        return fault(400, "soap:Client", "the LogicalAddress is not a care unit of this box");
    const auto& op = in.operation;
    const std::string patient = op == "ProcessRequest" ? in.request.patient : in.answer.patient;
    if (!validPatient(patient, now)) return result(op, "ERROR", "VALIDATION_ERROR", "the patient's personId is not valid");
    ProducerAnswer out;
    try {
        if (op == "ProcessRequest") {
            const auto& r = in.request;
            if (r.receiverHsa != in.logicalAddress)
                return result(op, "ERROR", "VALIDATION_ERROR", "the recipient is not the LogicalAddress");
            if (r.question.empty() || r.sender.unitHsa.empty())
                return result(op, "ERROR", "VALIDATION_ERROR", "the request has no question or no sender unit");
            if (r.requestId.rfind(r.sender.unitHsa + "#", 0) != 0)
                return result(op, "ERROR", "VALIDATION_ERROR", "the requestId does not start with the sender unit");
            for (const auto& a : r.attachments)
                if (sniffMediaType(a.bytes).empty() || sniffMediaType(a.bytes) != a.mediaType)
                    return result(op, "ERROR", "VALIDATION_ERROR", "an attachment is not a PDF, JPEG or PNG as declared");
            std::pair<std::string, bool> stored;
            store.write([&](db::Connection& c) { stored = storeIncoming(c, r, now); });
            out = result(op, "OK", "", stored.second ? "already received" : "");
            out.referralId = stored.first;
            out.changed = !stored.second;
            out.requestId = r.requestId;
        } else {
            const auto& a = in.answer;
            if (a.recipientHsa != in.logicalAddress)
                return result(op, "ERROR", "VALIDATION_ERROR", "the recipient is not the LogicalAddress");
            Applied applied = Applied::Unknown;
            std::string id;
            store.write([&](db::Connection& c) {
                // AVB from the sender of a referral we received cancels it; every other answer
                // concerns a referral we sent.
                const auto theirs = a.code == "AVB" ? byRequestId(c, "in", a.requestId) : std::nullopt;
                if (theirs && theirs->senderUnit == a.responder.unitHsa) {
                    applied = applyCancellation(c, "in", a, now);
                    id = theirs->id;
                    return;
                }
                applied = applyAnswer(c, "in", a, now);
                if (auto r = byRequestId(c, "out", a.requestId)) id = r->id;
            });
            if (applied == Applied::Unknown) return result(op, "ERROR", "APPLICATION_ERROR", "no referral with that requestId");
            if (applied == Applied::Illegal)
                return result(op, "ERROR", "APPLICATION_ERROR", "the answer does not follow the referral's state");
            out = result(op, "OK", "", applied == Applied::Duplicate ? "already received" : "");
            out.referralId = id;
            out.changed = applied == Applied::Applied;
            out.code = a.code;
            out.requestId = a.requestId;
        }
    } catch (const db::Error&) {
        return fault(500, "soap:Server", "the message could not be stored");
    }
    out.operation = op;
    out.patient = patient;
    out.unit = in.logicalAddress;
    return out;
}

}  // namespace klinikbox::referral
