// Reminders: what the patient is told and when (booking.sms and booking.email outbox channels,
// the message texts, the video link from the video plugin, the reminder schedule).
#include "BookingPlugin.h"

#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <sstream>

namespace booking {

void BookingPlugin::queueMessages(db::Connection& c, const BookingRow& b, const std::string& kind) {
    auto queue = [&](const std::string& channel, const std::string& to, const std::string& key,
                     sys_seconds notBefore) {
        Object o;
        o.set("booking_id", b.id);
        o.set("kind", kind);
        o.set("to", to);
        o.set("start_at", b.start);
        std::ostringstream js;
        o.stringify(js);
        OutboundMessage m{channel, js.str(), key};
        m.notBefore = notBefore;
        ctx_->outbox().enqueue(c, m);
    };
    const auto phone = booking::normalisePhone(b.phone);
    const std::string base = "booking-" + std::to_string(b.id) + "-" + kind;
    if (phone) queue("booking.sms", *phone, base + "-sms", {});
    if (!b.email.empty()) queue("booking.email", b.email, base + "-email", {});
}

// The text of a message: time and place only.
std::string BookingPlugin::messageText(const BookingRow& b, const std::string& kind, const std::string& link) const {
    const std::string when = booking::swedishWhen(fromSec(b.start));
    const std::string where = b.visitForm == "video"  ? "Videobesök – länken kommer i ett eget meddelande."
                              : b.visitForm == "phone" ? "Vi ringer dig."
                                                       : b.unitName + ", " + b.address + ".";
    const std::string call = s_.clinicPhone.empty() ? "" : " Frågor eller avbokning: ring " + s_.clinicPhone + ".";
    if (kind == "cancelled") return "Din tid " + when + " hos " + b.unitName + " är avbokad." + call;
    if (kind == "reminder") return "Påminnelse: du har en tid " + when + ". " + where + call;
    if (kind == "videolink") return "Länk till ditt videobesök " + when + ": " + link + call;
    if (kind == "rebooked") return "Din tid är flyttad till " + when + ". " + where + call;
    return "Du har fått en tid " + when + ". " + where + call;
}

Deliverer BookingPlugin::deliverer(bool sms) {
    return [this, sms](const QueuedMessage& m) -> DeliveryResult {
        Poco::JSON::Parser p;
        const auto o = p.parse(m.payload).extract<Object::Ptr>();
        const std::string kind = o->getValue<std::string>("kind");
        std::optional<BookingRow> b;
        ctx_->store().read([&](db::Connection& c) { b = loadBooking(c, o->getValue<long long>("booking_id")); });
        if (!b) return DeliveryResult::delivered("skipped: the booking no longer exists");
        if ((kind == "reminder" || kind == "videolink") && (b->status != "booked" || b->start != o->getValue<long long>("start_at")))
            return DeliveryResult::delivered("skipped: the booking was cancelled or moved");
        const std::string text = messageText(*b, kind, o->optValue<std::string>("link", ""));
        const std::string to = o->getValue<std::string>("to");
        if (sms) return booking::sendSms(s_.sms, to, text);
        return booking::sendEmail(s_.email, to, "Din tid hos " + b->unitName, text + "\n\nDetta meddelande går inte att svara på.");
    };
}

void BookingPlugin::registerChannels() {
    ctx_->outbox().registerChannel("booking.sms", deliverer(true));
    ctx_->outbox().registerChannel("booking.email", deliverer(false));
    // The video plugin's join link goes to the patient by the booking's own channels.
    ctx_->events().subscribe("video.link", "booking:video-link", [this](const Event& e) {
        const long long id = e.payload->optValue<long long>("booking_id", 0);
        const std::string url = e.payload->optValue<std::string>("patient_join_url", "");
        if (!id || url.rfind("https://", 0) != 0) return;
        ctx_->store().write([&](db::Connection& c) {
            const auto b = loadBooking(c, id);
            if (!b || b->status != "booked") return;
            const auto phone = booking::normalisePhone(b->phone);
            const std::string key = "booking-" + std::to_string(id) + "-videolink-" + sha256Hex(url).substr(0, 16);
            for (const auto& [channel, to] : std::vector<std::pair<std::string, std::string>>{
                     {"booking.sms", phone.value_or("")}, {"booking.email", b->email}}) {
                if (to.empty()) continue;
                Object o;
                o.set("booking_id", id);
                o.set("kind", "videolink");
                o.set("to", to);
                o.set("start_at", b->start);
                o.set("link", url);
                std::ostringstream js;
                o.stringify(js);
                ctx_->outbox().enqueue(c, {channel, js.str(), key + "-" + channel.substr(8)});
            }
        });
    });
}

void BookingPlugin::queueReminders(db::Connection& c, const BookingRow& b, const std::vector<int>& hours) {
    const auto phone = booking::normalisePhone(b.phone);
    for (int h : hours) {
        const long long at = b.start - static_cast<long long>(h) * 3600;
        if (at <= now()) continue;
        const std::string key = "booking-" + std::to_string(b.id) + "-reminder-" + std::to_string(h);
        auto q = [&](const std::string& channel, const std::string& to, const std::string& k) {
            Object o;
            o.set("booking_id", b.id);
            o.set("kind", "reminder");
            o.set("to", to);
            o.set("start_at", b.start);
            std::ostringstream js;
            o.stringify(js);
            OutboundMessage m{channel, js.str(), k};
            m.notBefore = fromSec(at);
            ctx_->outbox().enqueue(c, m);
        };
        if (phone) q("booking.sms", *phone, key + "-sms");
        if (!b.email.empty()) q("booking.email", b.email, key + "-email");
    }
}

std::optional<std::vector<int>> BookingPlugin::remindersOf(const Object::Ptr& payload) {
    if (!payload->has("reminders") || payload->get("reminders").type() != typeid(Poco::JSON::Array::Ptr)) return std::nullopt;
    const auto a = payload->getArray("reminders");
    if (!a || a->size() > 10) return std::nullopt;
    std::vector<int> hours;
    for (std::size_t i = 0; i < a->size(); ++i) {
        const auto v = a->get(static_cast<unsigned>(i));
        if (!v.isInteger()) return std::nullopt;
        const long long h = v.convert<long long>();
        if (h < 1 || h > 8760) return std::nullopt;
        if (std::find(hours.begin(), hours.end(), static_cast<int>(h)) == hours.end()) hours.push_back(static_cast<int>(h));
    }
    return hours;
}

}  // namespace booking
