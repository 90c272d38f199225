// What other plugins ask of the booking plugin through sync events (they never link to it):
//
// booking.book: the booking facility other plugins use. A plugin that declares
// `publish: [booking.book]` publishes it synchronously (native: ctx.events().publishSync,
// Lua: kb.events.publish_sync) with {slot_id, patient, idempotency_key, phone?, email?,
// note?, purpose?}; the booking plugin books through the same path as every other channel
// (booking.requested hooks, the one-live-booking-per-slot rule, audit, messages) and writes
// the outcome into the payload it hands back:
//   booked:   booking_id, status, start, end, care_unit, practitioner, again (true when the
//             key had already booked: the same key books at most once)
//   refused:  problem {type, title, status, detail}, e.g. /problems/slot-taken
// Nothing is written back when the booking plugin is not running, so a caller can tell
// "nobody answered" from a refusal.
//
// referral.invitation.requested: the referral plugin asks for an open invitation (kallelse)
// of a received referral's patient, with {patient, care_unit, referring_unit_name,
// visit_type, phone?, email?}; answered with invitation_id, or problem as above.
#include "BookingPlugin.h"

namespace booking {

namespace {

std::optional<BookingRow> bookingWithKey(PluginContext& ctx, const std::string& key) {
    std::optional<BookingRow> b;
    ctx.store().read([&](db::Connection& c) {
        auto st = c.prepare("SELECT id FROM booking_bookings WHERE request_key = ?");
        st.bind(1, key);
        if (st.step()) b = loadBooking(c, st.getInt(0));
    });
    return b;
}

Object::Ptr problemJson(const Problem& p) {
    Object::Ptr o = new Object;
    o->set("type", p.type());
    o->set("title", p.title());
    o->set("status", p.status());
    o->set("detail", p.detail());
    return o;
}

}  // namespace

void BookingPlugin::registerPluginRequests() {
    // Booking runs booking.requested's own hooks and a database write: a budget far above
    // theirs, so a slow disk never turns a made booking into a failed request (and a retry
    // with the same key answers the booking made anyway).
    ctx_->events().hook("booking.book", HookSpec{"book", Phase::Finalize, {}, {}, std::chrono::seconds(10)},
                        [this](Event& e) { answerBookRequest(e); });
    ctx_->events().hook("referral.invitation.requested",
                        HookSpec{"invite", Phase::Finalize, {}, {}, std::chrono::seconds(10)},
                        [this](Event& e) { answerReferralInvitation(e); });
}

void BookingPlugin::answerBookRequest(Event& e) {
    Request req;
    req.principal = e.principal;
    req.requestId = e.requestId;
    req.method = "EVENT";
    req.path = "booking.book";
    auto answer = [&](const BookingRow& b, bool again) {
        e.payload->set("booking_id", b.id);
        e.payload->set("status", b.status);
        e.payload->set("slot_id", b.slotId);
        e.payload->set("start", isoLocal(fromSec(b.start)));
        e.payload->set("end", isoLocal(fromSec(b.end)));
        e.payload->set("care_unit", b.unit);
        e.payload->set("practitioner", b.practitioner);
        e.payload->set("again", again);
    };
    std::string patient, key;
    try {
        JsonInput in(e.payload, {"slot_id", "patient", "idempotency_key", "phone", "email", "note", "purpose"});
        key = in.str("idempotency_key", 100);
        if (key.empty()) throw invalid("idempotency_key", "a key naming this request is required");
        BookInput bi;
        bi.slotId = in.integer("slot_id", 1, 9'000'000'000'000'000'000LL);
        bi.patient = patient = parsePatient(in.str("patient", 20));
        bi.note = in.optStr("note", 500).value_or("");
        bi.purpose = in.optStr("purpose", 500).value_or("");
        bi.phone = in.optStr("phone", 30).value_or("");
        if (!bi.phone.empty() && !booking::normalisePhone(bi.phone)) throw invalid("phone", "not a phone number", "phone");
        bi.email = in.optStr("email", 254).value_or("");
        if (!bi.email.empty() && !booking::plausibleEmail(bi.email)) throw invalid("email", "not an e-mail address", "email");
        bi.channel = "plugin";
        bi.requestKey = key;
        bi.createdBy = e.principal ? e.principal->username : "plugin";
        if (const auto done = bookingWithKey(*ctx_, key)) {
            // A key names one request: reused for another patient or slot it books nothing.
            if (done->patient != bi.patient || done->slotId != bi.slotId)
                throw Problem(409, "/problems/idempotency-key-reused", "Nyckeln är redan använd",
                              "idempotency_key " + key + " already booked another patient or slot");
            answer(*done, true);
            return;
        }
        try {
            const auto b = book(req, bi, std::nullopt, "booking.book " + key);
            answer(b, false);
            publish("booking.created", b, req);
        } catch (const Problem& p) {
            // Two requests with one key at once: the second meets the first's booking.
            if (p.type() != "/problems/slot-taken") throw;
            const auto done = bookingWithKey(*ctx_, key);
            if (!done) throw;
            answer(*done, true);
        }
    } catch (const Problem& p) {
        e.payload->set("problem", problemJson(p));
        audit(req, "booking.create", patient, "booking.book " + key + " refused: " + p.type(), nullptr, "failed");
    }
}

void BookingPlugin::answerReferralInvitation(Event& e) {
    Request req;
    req.principal = e.principal;
    req.requestId = e.requestId;
    req.method = "EVENT";
    req.path = "referral.invitation.requested";
    const auto& p = e.payload;
    std::string patient = p->optValue<std::string>("patient", "");
    try {
        // The invitation names the referring unit, never the referral's clinical text.
        Object::Ptr body = new Object;
        body->set("patient", patient);
        body->set("unit", p->optValue<std::string>("care_unit", ""));
        body->set("kind", "open");
        body->set("purpose", "Remiss från " + p->optValue<std::string>("referring_unit_name", "annan vårdgivare"));
        for (const char* k : {"visit_type", "phone", "email"})
            if (p->has(k)) body->set(k, p->get(k));
        JsonInput in(body, {"patient", "unit", "kind", "purpose", "visit_type", "phone", "email"});
        const auto inv = createInvitation(req, in);
        e.payload->set("invitation_id", inv->getValue<long long>("id"));
    } catch (const Problem& pr) {
        e.payload->set("problem", problemJson(pr));
        audit(req, "booking.invitation.create", patient, "referral invitation refused: " + pr.type(), nullptr, "failed");
    }
}

}  // namespace booking
