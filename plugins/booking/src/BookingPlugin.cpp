// The booking plugin: registration of its routes, hooks, outbox channels and console pages.
// Everything goes through the PluginContext (SDK only). The domain rules that need no
// database (holidays, local time, slot generation, iCalendar) live in Calendar/Schedule/ICal.
#include "Calendar.h"
#include "ICal.h"
#include "Messages.h"
#include "Schedule.h"

#include <klinikbox/HsaId.h>
#include <klinikbox/JsonInput.h>
#include <klinikbox/Personnummer.h>
#include <klinikbox/Plugin.h>
#include <klinikbox/Problem.h>
#include <klinikbox/Secrets.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>

#include <openssl/rand.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

namespace {

using namespace klinikbox;
using namespace std::chrono;
using Poco::JSON::Array;
using Poco::JSON::Object;
using booking::isoDate;
using booking::isoStockholm;

const std::set<Role> kStaff = {Role::Staff, Role::Admin};
const std::set<Role> kAdmin = {Role::Admin};
constexpr const char* kPurposeCare = "vård";

// ---- small helpers ---------------------------------------------------------------------

// A VIP code a patient can type: 10 characters without look-alikes (0/O, 1/I/L).
std::string vipCode() {
    static const char* a = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    unsigned char raw[10];
    if (RAND_bytes(raw, sizeof raw) != 1) throw std::runtime_error("no randomness available");
    std::string o;
    for (unsigned char c : raw) o += a[c % 31];
    return o.substr(0, 5) + "-" + o.substr(5);
}

std::string normaliseCode(const std::string& s) {
    std::string o;
    for (char c : s) {
        if (c == '-' || c == ' ') continue;
        o += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return o;
}

long long toSec(sys_seconds t) { return t.time_since_epoch().count(); }
sys_seconds fromSec(long long s) { return sys_seconds{seconds{s}}; }

std::string joinInts(const std::set<int>& v) {
    std::string o;
    for (int i : v) o += (o.empty() ? "" : ",") + std::to_string(i);
    return o;
}

std::vector<std::string> splitList(const std::string& s, char sep = ',') {
    std::vector<std::string> out;
    std::string cur;
    for (char c : s) {
        if (c == sep) {
            if (!cur.empty()) out.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    if (!cur.empty()) out.push_back(cur);
    return out;
}

Problem invalid(const std::string& field, const std::string& detail) { return JsonInput::invalid(field, detail); }

std::string requireHsa(const JsonInput& in, const std::string& field) {
    const auto text = in.str(field, 64);
    if (!HsaId::parse(text)) throw invalid(field, "'" + text + "' is not an HSA-id (e.g. SE2321000016-A1B2)");
    return text;
}

std::string queryHsa(const Request& req, const std::string& name, bool required = true) {
    const auto v = req.queryParam(name);
    if (!v || v->empty()) {
        if (!required) return {};
        throw Problem::badRequest("/problems/missing-parameter", "the query parameter '" + name + "' is required");
    }
    if (!HsaId::parse(*v)) throw Problem::badRequest("/problems/invalid-parameter", "'" + name + "' is not an HSA-id");
    return *v;
}

year_month_day queryDate(const Request& req, const std::string& name, std::optional<year_month_day> def) {
    const auto v = req.queryParam(name);
    if (!v || v->empty()) {
        if (def) return *def;
        throw Problem::badRequest("/problems/missing-parameter", "the query parameter '" + name + "' is required (YYYY-MM-DD)");
    }
    const auto d = booking::parseDate(*v);
    if (!d) throw Problem::badRequest("/problems/invalid-parameter", "'" + name + "' must be a date YYYY-MM-DD");
    return *d;
}

Array::Ptr stringArray(const std::vector<std::string>& v) {
    Array::Ptr a = new Array;
    for (const auto& s : v) a->add(s);
    return a;
}

std::vector<std::string> readStringArray(const JsonInput& in, const std::string& field, std::size_t maxItems,
                                         std::size_t maxLen, bool required) {
    std::vector<std::string> out;
    if (!in.has(field)) {
        if (required) throw invalid(field, "is required");
        return out;
    }
    const auto v = in.object()->get(field);
    if (v.type() != typeid(Array::Ptr)) throw invalid(field, "expected an array of strings");
    const auto arr = v.extract<Array::Ptr>();
    if (arr->size() > maxItems) throw invalid(field, "at most " + std::to_string(maxItems) + " items");
    for (std::size_t i = 0; i < arr->size(); ++i) {
        const auto e = arr->get(static_cast<unsigned>(i));
        if (!e.isString()) throw invalid(field, "item " + std::to_string(i) + " must be a string");
        const auto s = e.convert<std::string>();
        if (s.empty() || s.size() > maxLen)
            throw invalid(field, "item " + std::to_string(i) + " must be 1.." + std::to_string(maxLen) + " characters");
        out.push_back(s);
    }
    return out;
}

// ---- settings ---------------------------------------------------------------------------

struct Settings {
    int horizonDays = 90;
    int cancelLatestHours = 24;
    bool closeOnEves = true;
    std::vector<int> reminderHours{24, 2};
    int invitationValidDays = 30;
    std::string publicUrl, clinicPhone;
    booking::SmsSettings sms;
    booking::EmailSettings email;

    static Settings from(const Object::Ptr& c) {
        Settings s;
        s.horizonDays = c->getValue<int>("horizon_days");
        s.cancelLatestHours = c->getValue<int>("cancel_latest_hours");
        s.closeOnEves = c->getValue<bool>("close_on_eves");
        s.reminderHours.clear();
        if (auto a = c->getArray("reminder_hours"))
            for (std::size_t i = 0; i < a->size(); ++i) s.reminderHours.push_back(a->getElement<int>(static_cast<unsigned>(i)));
        s.invitationValidDays = c->getValue<int>("invitation_valid_days");
        s.publicUrl = c->getValue<std::string>("public_url");
        while (!s.publicUrl.empty() && s.publicUrl.back() == '/') s.publicUrl.pop_back();
        s.clinicPhone = c->getValue<std::string>("clinic_phone");
        if (auto sms = c->getObject("sms")) {
            s.sms.gatewayUrl = sms->getValue<std::string>("gateway_url");
            s.sms.token = sms->getValue<std::string>("token");
            s.sms.sender = sms->getValue<std::string>("sender");
        }
        if (auto em = c->getObject("email")) {
            s.email.host = em->getValue<std::string>("smtp_host");
            s.email.port = em->getValue<int>("smtp_port");
            s.email.from = em->getValue<std::string>("from");
        }
        return s;
    }
};

// ---- the loaded view of one booking -------------------------------------------------------

struct BookingRow {
    long long id = 0, slotId = 0;
    std::string patient, status, channel, purpose, reason, note, phone, email, guardian;
    long long start = 0, end = 0;
    std::string unit, unitName, address, practitioner, practitionerName, profession;
    std::string visitType, visitTypeName, visitForm, timeTypeId, timeTypeName, careTypeId, careTypeName;
    std::string room;
    long long createdAt = 0;
    std::string createdBy;
    std::optional<long long> rebookedTo;
    std::string triage;
    std::optional<long long> urgencyDays;
};

constexpr const char* kBookingSelect =
    "SELECT b.id, b.slot_id, b.patient, b.status, b.channel, b.purpose, b.reason, b.note, b.phone, b.email, b.guardian,"
    " s.start_at, s.end_at, s.unit, u.name, u.address, s.practitioner, p.name, p.profession,"
    " v.id, v.name, v.visit_form, v.time_type_id, v.time_type_name, v.care_type_id, v.care_type_name,"
    " COALESCE(r.name, ''), b.created_at, b.created_by, b.rebooked_to, b.triage, b.urgency_days"
    " FROM booking_bookings b JOIN booking_slots s ON s.id = b.slot_id"
    " JOIN booking_units u ON u.hsa_id = s.unit JOIN booking_practitioners p ON p.hsa_id = s.practitioner"
    " JOIN booking_visit_types v ON v.id = s.visit_type LEFT JOIN booking_rooms r ON r.id = s.room_id ";

BookingRow readBooking(db::Statement& st) {
    BookingRow b;
    b.id = st.getInt(0);
    b.slotId = st.getInt(1);
    b.patient = st.getText(2);
    b.status = st.getText(3);
    b.channel = st.getText(4);
    b.purpose = st.getText(5);
    b.reason = st.getText(6);
    b.note = st.getText(7);
    b.phone = st.getText(8);
    b.email = st.getText(9);
    b.guardian = st.getText(10);
    b.start = st.getInt(11);
    b.end = st.getInt(12);
    b.unit = st.getText(13);
    b.unitName = st.getText(14);
    b.address = st.getText(15);
    b.practitioner = st.getText(16);
    b.practitionerName = st.getText(17);
    b.profession = st.getText(18);
    b.visitType = st.getText(19);
    b.visitTypeName = st.getText(20);
    b.visitForm = st.getText(21);
    b.timeTypeId = st.getText(22);
    b.timeTypeName = st.getText(23);
    b.careTypeId = st.getText(24);
    b.careTypeName = st.getText(25);
    b.room = st.getText(26);
    b.createdAt = st.getInt(27);
    b.createdBy = st.getText(28);
    b.rebookedTo = st.getOptionalInt(29);
    b.triage = st.getText(30);
    b.urgencyDays = st.getOptionalInt(31);
    return b;
}

std::optional<BookingRow> loadBooking(db::Connection& c, long long id) {
    auto st = c.prepare(std::string(kBookingSelect) + "WHERE b.id = ?");
    st.bind(1, id);
    if (!st.step()) return std::nullopt;
    return readBooking(st);
}

// The event payload (contracts: booking.created/cancelled/rebooked/noshow).
Object::Ptr eventPayload(const BookingRow& b) {
    Object::Ptr o = new Object;
    o->set("booking_id", b.id);
    o->set("patient", b.patient);
    o->set("care_unit", b.unit);
    o->set("care_unit_name", b.unitName);
    o->set("practitioner", b.practitioner);
    o->set("practitioner_name", b.practitionerName);
    o->set("profession", b.profession);
    o->set("visit_form", b.visitForm);
    o->set("visit_type", b.visitType);
    o->set("visit_type_name", b.visitTypeName);
    o->set("start", isoStockholm(fromSec(b.start)));
    o->set("end", isoStockholm(fromSec(b.end)));
    o->set("location", b.room.empty() ? b.address : b.room + ", " + b.address);
    return o;
}

// ---- the plugin -------------------------------------------------------------------------

class BookingPlugin final : public Plugin {
public:
    void start(PluginContext& ctx) override {
        ctx_ = &ctx;
        s_ = Settings::from(ctx.config());
        registerChannels();
        registerHooks();
        registerSetupRoutes();
        registerAvailabilityRoutes();
        registerBookingRoutes();
        registerVipRoutes();
        registerInvitationRoutes();
        registerICalRoutes();
        ctx.addConsolePage({"day", "Bokningar", "day.js", Access::only(kStaff)});
        ctx.addConsolePage({"setup", "Scheman", "setup.js", Access::only(kAdmin)});
        ctx.addConsolePage({"patients", "Kallelser och VIP-koder", "patients.js", Access::only(kStaff)});
    }

private:
    PluginContext* ctx_ = nullptr;
    Settings s_;
    std::mutex genMu_;
    std::set<std::string> generatedDays_;  // dates whose slots exist (generation is idempotent)
    std::mutex vipMu_;
    std::map<std::string, std::pair<long long, int>> vipFailures_;  // address -> (window start, failures)

    [[nodiscard]] long long now() const { return toSec(floor<seconds>(ctx_->clock().now())); }
    [[nodiscard]] year_month_day today() const { return booking::stockholmDate(fromSec(now())); }
    [[nodiscard]] std::string who(const Request& req) const {
        return req.principal ? req.principal->username : std::string("patient");
    }

    std::string parsePatient(const std::string& text, const std::string& field = "patient") const {
        const auto r = Personnummer::parse(text, today());
        if (const auto* e = std::get_if<PersonnummerError>(&r))
            throw invalid(field, std::string(describeSv(*e)) + " (" + std::string(toString(*e)) + ")");
        return std::get<Personnummer>(r).twelveDigits();
    }

    void audit(const Request& req, const std::string& action, const std::string& patient, const std::string& details,
               db::Connection* tx = nullptr, const std::string& outcome = "ok") {
        AuditEntry e{action, patient, kPurposeCare, outcome, details};
        if (tx) ctx_->audit().record(req, e, *tx);
        else ctx_->audit().record(req, e);
    }

    // ---- slots ----

    std::vector<booking::ScheduleRule> loadRules(db::Connection& c) {
        std::vector<booking::ScheduleRule> rules;
        auto st = c.prepare(
            "SELECT s.id, s.practitioner, p.unit, s.visit_type, v.minutes, s.weekdays, s.start_min, s.end_min, s.breaks,"
            " s.valid_from, s.valid_to, COALESCE(s.room_id, 0) FROM booking_schedules s"
            " JOIN booking_practitioners p ON p.hsa_id = s.practitioner JOIN booking_visit_types v ON v.id = s.visit_type");
        while (st.step()) {
            booking::ScheduleRule r;
            r.id = st.getInt(0);
            r.practitioner = st.getText(1);
            r.unit = st.getText(2);
            r.visitType = st.getText(3);
            r.slotMinutes = static_cast<int>(st.getInt(4));
            for (const auto& d : splitList(st.getText(5))) r.weekdays.insert(std::stoi(d));
            r.start = static_cast<int>(st.getInt(6));
            r.end = static_cast<int>(st.getInt(7));
            for (const auto& b : splitList(st.getText(8))) {
                const auto dash = b.find('-');
                r.breaks.push_back({std::stoi(b.substr(0, dash)), std::stoi(b.substr(dash + 1))});
            }
            r.validFrom = *booking::parseDate(st.getText(9));
            r.validTo = *booking::parseDate(st.getText(10));
            r.roomId = st.getInt(11);
            rules.push_back(std::move(r));
        }
        return rules;
    }

    // Makes sure the slots of [from, to] exist. Idempotent (UNIQUE practitioner+start), so a
    // restart or two requests at once only cost time.
    void ensureSlots(year_month_day from, year_month_day to) {
        std::lock_guard lock(genMu_);
        std::vector<year_month_day> missing;
        for (sys_days d{from}; d <= sys_days{to}; d += days{1})
            if (!generatedDays_.count(isoDate(year_month_day{d}))) missing.emplace_back(d);
        if (missing.empty()) return;
        ctx_->store().write([&](db::Connection& c) {
            booking::ClosedDays closed;
            closed.closeOnEves = s_.closeOnEves;
            auto cd = c.prepare("SELECT unit, date FROM booking_closed_days");
            while (cd.step()) closed.unitDates.insert(cd.getText(0) + "|" + cd.getText(1));
            const auto rules = loadRules(c);
            const auto slots = booking::generateSlots(rules, missing.front(), missing.back(), closed);
            auto ins = c.prepare(
                "INSERT OR IGNORE INTO booking_slots(schedule_id, practitioner, unit, visit_type, room_id, start_at, end_at)"
                " VALUES(?,?,?,?,?,?,?)");
            for (const auto& s : slots) {
                ins.reset();
                ins.bind(1, s.scheduleId).bind(2, s.practitioner).bind(3, s.unit).bind(4, s.visitType);
                if (s.roomId) ins.bind(5, s.roomId);
                else ins.bindNull(5);
                ins.bind(6, toSec(s.start)).bind(7, toSec(s.end)).exec();
            }
        });
        for (const auto& d : missing) generatedDays_.insert(isoDate(d));
    }
    void forgetGeneratedDays() {
        std::lock_guard lock(genMu_);
        generatedDays_.clear();
    }

    year_month_day horizonEnd() const { return year_month_day{sys_days{today()} + days{s_.horizonDays}}; }

    // Free slots: not withdrawn, in the future, without a live booking.
    Array::Ptr freeSlots(const std::string& unit, const std::string& visitType, const std::string& practitioner,
                         year_month_day from, year_month_day to, int limit) {
        ensureSlots(from, to);
        Array::Ptr arr = new Array;
        const auto start = booking::stockholmToUtc(from, 0).value_or(sys_seconds{sys_days{from}});
        const auto end = booking::stockholmToUtc(year_month_day{sys_days{to} + days{1}}, 0)
                             .value_or(sys_seconds{sys_days{to} + days{1}});
        ctx_->store().read([&](db::Connection& c) {
            auto st = c.prepare(
                "SELECT s.id, s.start_at, s.end_at, s.practitioner, p.name, p.profession, s.visit_type, v.name, v.visit_form,"
                " COALESCE(r.name, '') FROM booking_slots s JOIN booking_practitioners p ON p.hsa_id = s.practitioner"
                " JOIN booking_visit_types v ON v.id = s.visit_type LEFT JOIN booking_rooms r ON r.id = s.room_id"
                " WHERE s.unit = ?1 AND s.withdrawn = 0 AND s.start_at >= ?2 AND s.start_at < ?3 AND s.start_at > ?4"
                " AND (?5 = '' OR s.visit_type = ?5) AND (?6 = '' OR s.practitioner = ?6)"
                " AND NOT EXISTS (SELECT 1 FROM booking_bookings b WHERE b.slot_id = s.id AND b.status IN ('booked','arrived','noshow'))"
                " ORDER BY s.start_at, s.practitioner LIMIT ?7");
            st.bind(1, unit).bind(2, toSec(start)).bind(3, toSec(end)).bind(4, now()).bind(5, visitType).bind(6, practitioner)
                .bind(7, limit);
            while (st.step()) {
                Object::Ptr o = new Object;
                o->set("slot_id", st.getInt(0));
                o->set("startTimeInclusive", isoStockholm(fromSec(st.getInt(1))));
                o->set("endTimeExclusive", isoStockholm(fromSec(st.getInt(2))));
                o->set("performer", st.getText(3));
                o->set("performerName", st.getText(4));
                o->set("profession", st.getText(5));
                o->set("timeTypeID", st.getText(6));
                o->set("timeTypeName", st.getText(7));
                o->set("visit_form", st.getText(8));
                o->set("resourceName", st.getText(9));
                arr->add(o);
            }
        });
        return arr;
    }

    // ---- JSON of a booking (crm:scheduling names) ----

    Object::Ptr bookingJson(const BookingRow& b) const {
        Object::Ptr o = new Object;
        o->set("bookingId", b.id);
        o->set("slot_id", b.slotId);
        o->set("subject_of_care", b.patient);
        o->set("status", b.status);
        o->set("healthcare_facility", b.unit);
        o->set("healthcare_facility_name", b.unitName);
        o->set("address", b.address);
        o->set("performer", b.practitioner);
        o->set("performerName", b.practitionerName);
        o->set("profession", b.profession);
        o->set("resourceName", b.room);
        o->set("startTimeInclusive", isoStockholm(fromSec(b.start)));
        o->set("endTimeExclusive", isoStockholm(fromSec(b.end)));
        o->set("timeTypeID", b.timeTypeId);
        o->set("timeTypeName", b.timeTypeName);
        o->set("careTypeID", b.careTypeId);
        o->set("careTypeName", b.careTypeName);
        o->set("visit_type", b.visitType);
        o->set("visit_type_name", b.visitTypeName);
        o->set("visit_form", b.visitForm);
        o->set("purpose", b.purpose);
        o->set("reason", b.reason);
        o->set("note", b.note);
        o->set("phone", b.phone);
        o->set("email", b.email);
        o->set("guardian", b.guardian);
        o->set("channel", b.channel);
        o->set("isInvitation", b.channel == "invitation");
        const bool live = b.status == "booked";
        const bool inTime = now() < b.start - static_cast<long long>(s_.cancelLatestHours) * 3600;
        o->set("cancel_booking_allowed", live && inTime);
        o->set("rebooking_allowed", live && inTime);
        if (b.rebookedTo) o->set("rebooked_to", *b.rebookedTo);
        o->set("triage", b.triage);
        if (b.urgencyDays) o->set("urgency_days", *b.urgencyDays);
        return o;
    }

    // ---- messages through the outbox ----

    void queueMessages(db::Connection& c, const BookingRow& b, const std::string& kind) {
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
    std::string messageText(const BookingRow& b, const std::string& kind, const std::string& link = {}) const {
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

    Deliverer deliverer(bool sms) {
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

    void registerChannels() {
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

    // ---- hooks for the check-in plugin ----

    void registerHooks() {
        ctx_->events().hook("checkin.lookup", HookSpec{"booking:lookup", Phase::Decide, {}, {}}, [this](Event& e) {
            const std::string patient = e.payload->optValue<std::string>("patient", "");
            const std::string unit = e.payload->optValue<std::string>("care_unit", "");
            const auto day = today();
            const auto from = booking::stockholmToUtc(day, 0).value_or(sys_seconds{sys_days{day}});
            const auto to = from + hours{26};
            Array::Ptr arr = new Array;
            ctx_->store().read([&](db::Connection& c) {
                auto st = c.prepare(std::string(kBookingSelect) +
                                    "WHERE b.patient = ? AND s.unit = ? AND s.start_at >= ? AND s.start_at < ?"
                                    " AND b.status IN ('booked','arrived') ORDER BY s.start_at");
                st.bind(1, patient).bind(2, unit).bind(3, toSec(from)).bind(4, toSec(to));
                while (st.step()) {
                    const auto b = readBooking(st);
                    if (booking::stockholmDate(fromSec(b.start)) != day) continue;
                    Object::Ptr o = new Object;
                    o->set("booking_id", b.id);
                    o->set("start", isoStockholm(fromSec(b.start)));
                    o->set("end", isoStockholm(fromSec(b.end)));
                    o->set("visit_type", b.visitType);
                    o->set("visit_type_name", b.visitTypeName);
                    o->set("visit_form", b.visitForm);
                    o->set("profession", b.profession);
                    o->set("practitioner", b.practitioner);
                    o->set("practitioner_name", b.practitionerName);
                    o->set("care_unit", b.unit);
                    o->set("room", b.room);
                    o->set("status", b.status);
                    arr->add(o);
                }
            });
            e.payload->set("bookings", arr);
            ctx_->audit().recordSystem({"booking.read", patient, kPurposeCare, "ok", "checkin lookup"});
        });
        ctx_->events().hook("checkin.arrived", HookSpec{"booking:arrived", Phase::Finalize, {}, {}}, [this](Event& e) {
            const long long id = e.payload->optValue<long long>("booking_id", 0);
            const std::string patient = e.payload->optValue<std::string>("patient", "");
            int changed = 0;
            ctx_->store().write([&](db::Connection& c) {
                auto st = c.prepare("UPDATE booking_bookings SET status='arrived', changed_at=? WHERE id=? AND patient=? AND status='booked'");
                st.bind(1, now()).bind(2, id).bind(3, patient).exec();
                changed = c.changes();
            });
            if (changed) ctx_->audit().recordSystem({"booking.arrived", patient, kPurposeCare, "ok", "booking " + std::to_string(id)});
        });
    }

    // ---- setup (admin) ----

    void registerSetupRoutes() {
        auto& r = ctx_->router();
        r.add("GET", "/api/v1/booking/setup", Access::only(kStaff), [this](Request&) {
            Object::Ptr o = new Object;
            ctx_->store().read([&](db::Connection& c) {
                auto list = [&](const char* sql, const std::vector<std::string>& names) {
                    Array::Ptr a = new Array;
                    auto st = c.prepare(sql);
                    while (st.step()) {
                        Object::Ptr row = new Object;
                        for (int i = 0; i < static_cast<int>(names.size()); ++i) {
                            if (st.isNull(i)) row->set(names[static_cast<std::size_t>(i)], Poco::Dynamic::Var());
                            else if (st.columnType(i) == 1) row->set(names[static_cast<std::size_t>(i)], st.getInt(i));
                            else row->set(names[static_cast<std::size_t>(i)], st.getText(i));
                        }
                        a->add(row);
                    }
                    return a;
                };
                o->set("units", list("SELECT hsa_id, name, address FROM booking_units ORDER BY name", {"hsa_id", "name", "address"}));
                o->set("practitioners", list("SELECT hsa_id, name, profession, unit FROM booking_practitioners ORDER BY name",
                                             {"hsa_id", "name", "profession", "unit"}));
                o->set("rooms", list("SELECT id, unit, name FROM booking_rooms ORDER BY unit, name", {"id", "unit", "name"}));
                o->set("visit_types",
                       list("SELECT id, name, visit_form, minutes, profession, time_type_id, time_type_name, care_type_id,"
                            " care_type_name, vip_bookable FROM booking_visit_types ORDER BY name",
                            {"id", "name", "visit_form", "minutes", "profession", "time_type_id", "time_type_name",
                             "care_type_id", "care_type_name", "vip_bookable"}));
                o->set("schedules",
                       list("SELECT id, practitioner, visit_type, room_id, weekdays, start_min, end_min, breaks, valid_from,"
                            " valid_to FROM booking_schedules ORDER BY practitioner, id",
                            {"id", "practitioner", "visit_type", "room_id", "weekdays", "start_min", "end_min", "breaks",
                             "valid_from", "valid_to"}));
                o->set("closed_days", list("SELECT unit, date, reason FROM booking_closed_days ORDER BY date",
                                           {"unit", "date", "reason"}));
            });
            return Response::json(o);
        }, RouteDoc{"Units, practitioners, rooms, visit types, schedules and closed days", "booking", nullptr, nullptr});

        r.add("POST", "/api/v1/booking/units", Access::only(kAdmin), [this](Request& req) {
            JsonInput in(req.json(), {"hsa_id", "name", "address"});
            const auto hsa = requireHsa(in, "hsa_id");
            const auto name = in.str("name", 120);
            const auto address = in.optStr("address", 200).value_or("");
            insertOrConflict(req, "INSERT INTO booking_units(hsa_id, name, address) VALUES(?,?,?)", {hsa, name, address},
                             "a care unit with HSA-id " + hsa + " exists already", "booking.unit.create", hsa);
            return created(hsa);
        }, RouteDoc{"Add a care unit (vårdenhet)", "booking", nullptr, nullptr});

        r.add("POST", "/api/v1/booking/practitioners", Access::only(kAdmin), [this](Request& req) {
            JsonInput in(req.json(), {"hsa_id", "name", "profession", "unit"});
            const auto hsa = requireHsa(in, "hsa_id");
            const auto name = in.str("name", 120);
            const auto profession = in.str("profession", 60);
            const auto unit = requireHsa(in, "unit");
            requireExists("SELECT 1 FROM booking_units WHERE hsa_id = ?", unit, "unit", "no care unit " + unit);
            insertOrConflict(req, "INSERT INTO booking_practitioners(hsa_id, name, profession, unit) VALUES(?,?,?,?)",
                             {hsa, name, profession, unit}, "a practitioner with HSA-id " + hsa + " exists already",
                             "booking.practitioner.create", hsa);
            return created(hsa);
        }, RouteDoc{"Add a practitioner (performer)", "booking", nullptr, nullptr});

        r.add("POST", "/api/v1/booking/rooms", Access::only(kAdmin), [this](Request& req) {
            JsonInput in(req.json(), {"unit", "name"});
            const auto unit = requireHsa(in, "unit");
            const auto name = in.str("name", 60);
            requireExists("SELECT 1 FROM booking_units WHERE hsa_id = ?", unit, "unit", "no care unit " + unit);
            long long id = 0;
            try {
                ctx_->store().write([&](db::Connection& c) {
                    c.prepare("INSERT INTO booking_rooms(unit, name) VALUES(?,?)").bind(1, unit).bind(2, name).exec();
                    id = c.lastInsertId();
                    ctx_->audit().record(req, {"booking.room.create", "", "administration", "ok", unit + ": " + name}, c);
                });
            } catch (const db::ConstraintError&) {
                throw Problem::conflict("/problems/exists", "the unit has a room named " + name);
            }
            Object::Ptr o = new Object;
            o->set("id", id);
            return Response::json(o, 201);
        }, RouteDoc{"Add a room (resource)", "booking", nullptr, nullptr});

        r.add("POST", "/api/v1/booking/visittypes", Access::only(kAdmin), [this](Request& req) {
            JsonInput in(req.json(), {"id", "name", "visit_form", "minutes", "profession", "time_type_id", "time_type_name",
                                      "care_type_id", "care_type_name", "vip_bookable"});
            const auto id = in.str("id", 40);
            for (char ch : id)
                if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_')
                    throw invalid("id", "letters, digits, '-' and '_' only");
            const auto name = in.str("name", 80);
            const auto form = in.str("visit_form", 10);
            if (form != "physical" && form != "video" && form != "phone")
                throw invalid("visit_form", "one of physical, video, phone");
            const auto minutes = in.integer("minutes", 5, 480);
            const auto profession = in.str("profession", 60);
            const auto ttId = in.optStr("time_type_id", 40).value_or(id);
            const auto ttName = in.optStr("time_type_name", 80).value_or(name);
            const auto ctId = in.optStr("care_type_id", 40).value_or("1");
            const auto ctName = in.optStr("care_type_name", 80).value_or("Öppenvård");
            const bool vip = in.optBoolean("vip_bookable").value_or(false);
            try {
                ctx_->store().write([&](db::Connection& c) {
                    c.prepare("INSERT INTO booking_visit_types(id, name, visit_form, minutes, profession, time_type_id,"
                              " time_type_name, care_type_id, care_type_name, vip_bookable) VALUES(?,?,?,?,?,?,?,?,?,?)")
                        .bind(1, id).bind(2, name).bind(3, form).bind(4, minutes).bind(5, profession).bind(6, ttId)
                        .bind(7, ttName).bind(8, ctId).bind(9, ctName).bind(10, vip ? 1 : 0).exec();
                    ctx_->audit().record(req, {"booking.visittype.create", "", "administration", "ok", id}, c);
                });
            } catch (const db::ConstraintError&) {
                throw Problem::conflict("/problems/exists", "a visit type with id " + id + " exists already");
            }
            return created(id);
        }, RouteDoc{"Add a visit type (timeType/careType, visit form, length)", "booking", nullptr, nullptr});

        r.add("POST", "/api/v1/booking/schedules", Access::only(kAdmin), [this](Request& req) {
            JsonInput in(req.json(), {"practitioner", "visit_type", "room_id", "weekdays", "start", "end", "breaks",
                                      "valid_from", "valid_to"});
            booking::ScheduleRule rule;
            rule.practitioner = requireHsa(in, "practitioner");
            rule.visitType = in.str("visit_type", 40);
            rule.roomId = in.optInteger("room_id", 1, 1'000'000'000).value_or(0);
            if (!in.has("weekdays") || in.object()->get("weekdays").type() != typeid(Array::Ptr))
                throw invalid("weekdays", "expected an array of ISO weekdays (1 = Monday ... 7 = Sunday)");
            const auto wd = in.object()->getArray("weekdays");
            for (std::size_t i = 0; i < wd->size(); ++i) {
                const auto v = wd->get(static_cast<unsigned>(i));
                if (!v.isInteger()) throw invalid("weekdays", "expected integers 1..7");
                rule.weekdays.insert(v.convert<int>());
            }
            const auto start = booking::parseClock(in.str("start", 5));
            const auto end = booking::parseClock(in.str("end", 5));
            if (!start) throw invalid("start", "a time HH:MM");
            if (!end) throw invalid("end", "a time HH:MM");
            rule.start = *start;
            rule.end = *end;
            for (const auto& b : readStringArray(in, "breaks", 10, 11, false)) {
                const auto dash = b.find('-');
                const auto bs = dash == std::string::npos ? std::nullopt : booking::parseClock(b.substr(0, dash));
                const auto be = dash == std::string::npos ? std::nullopt : booking::parseClock(b.substr(dash + 1));
                if (!bs || !be) throw invalid("breaks", "each break is \"HH:MM-HH:MM\", got '" + b + "'");
                rule.breaks.push_back({*bs, *be});
            }
            const auto vf = booking::parseDate(in.str("valid_from", 10));
            const auto vt = booking::parseDate(in.str("valid_to", 10));
            if (!vf) throw invalid("valid_from", "a date YYYY-MM-DD");
            if (!vt) throw invalid("valid_to", "a date YYYY-MM-DD");
            rule.validFrom = *vf;
            rule.validTo = *vt;
            long long id = 0;
            ctx_->store().write([&](db::Connection& c) {
                auto vt2 = c.prepare("SELECT minutes FROM booking_visit_types WHERE id = ?");
                vt2.bind(1, rule.visitType);
                if (!vt2.step()) throw invalid("visit_type", "no visit type " + rule.visitType);
                rule.slotMinutes = static_cast<int>(vt2.getInt(0));
                auto pr = c.prepare("SELECT unit FROM booking_practitioners WHERE hsa_id = ?");
                pr.bind(1, rule.practitioner);
                if (!pr.step()) throw invalid("practitioner", "no practitioner " + rule.practitioner);
                rule.unit = pr.getText(0);
                if (rule.roomId) {
                    auto rm = c.prepare("SELECT 1 FROM booking_rooms WHERE id = ? AND unit = ?");
                    rm.bind(1, rule.roomId).bind(2, rule.unit);
                    if (!rm.step()) throw invalid("room_id", "no such room at the practitioner's unit");
                }
                if (const auto why = checkRule(rule); !why.empty()) {
                    Problem p = Problem::badRequest("/problems/invalid-schedule", why.front());
                    p.with("errors", stringArray(why));
                    throw p;
                }
                // Two rules of one practitioner must not overlap (one slot per start time).
                for (const auto& other : loadRules(c)) {
                    if (other.practitioner != rule.practitioner) continue;
                    const bool days = std::any_of(rule.weekdays.begin(), rule.weekdays.end(),
                                                  [&](int d) { return other.weekdays.count(d) > 0; });
                    const bool period = sys_days{rule.validFrom} <= sys_days{other.validTo} &&
                                        sys_days{other.validFrom} <= sys_days{rule.validTo};
                    const bool hours_ = rule.start < other.end && other.start < rule.end;
                    if (days && period && hours_)
                        throw Problem::conflict("/problems/schedule-overlap",
                                                "the practitioner already has schedule " + std::to_string(other.id) +
                                                    " on these days and hours");
                }
                std::string breaks;
                for (const auto& b : rule.breaks)
                    breaks += (breaks.empty() ? "" : ",") + std::to_string(b.start) + "-" + std::to_string(b.end);
                auto ins = c.prepare(
                    "INSERT INTO booking_schedules(practitioner, visit_type, room_id, weekdays, start_min, end_min, breaks,"
                    " valid_from, valid_to, created_at) VALUES(?,?,?,?,?,?,?,?,?,?)");
                ins.bind(1, rule.practitioner).bind(2, rule.visitType);
                if (rule.roomId) ins.bind(3, rule.roomId);
                else ins.bindNull(3);
                ins.bind(4, joinInts(rule.weekdays)).bind(5, rule.start).bind(6, rule.end).bind(7, breaks)
                    .bind(8, isoDate(rule.validFrom)).bind(9, isoDate(rule.validTo)).bind(10, now()).exec();
                id = c.lastInsertId();
                ctx_->audit().record(req, {"booking.schedule.create", "", "administration", "ok",
                                           "schedule " + std::to_string(id) + " for " + rule.practitioner}, c);
            });
            forgetGeneratedDays();
            Object::Ptr o = new Object;
            o->set("id", id);
            return Response::json(o, 201);
        }, RouteDoc{"Add a weekly schedule (opening hours, breaks, validity) for a practitioner", "booking", nullptr, nullptr});

        r.add("DELETE", "/api/v1/booking/schedules/{id}", Access::only(kAdmin), [this](Request& req) {
            const long long id = req.intParam("id");
            long long kept = 0;
            ctx_->store().write([&](db::Connection& c) {
                auto ex = c.prepare("SELECT 1 FROM booking_schedules WHERE id = ?");
                ex.bind(1, id);
                if (!ex.step()) throw Problem::notFound("no schedule " + std::to_string(id));
                // Free future slots disappear; booked ones stay (staff rebook or cancel them).
                c.prepare("UPDATE booking_slots SET withdrawn = 1 WHERE schedule_id = ? AND start_at > ? AND NOT EXISTS"
                          " (SELECT 1 FROM booking_bookings b WHERE b.slot_id = booking_slots.id AND b.status IN ('booked','arrived','noshow'))")
                    .bind(1, id).bind(2, now()).exec();
                auto k = c.prepare("SELECT COUNT(*) FROM booking_slots WHERE schedule_id = ? AND withdrawn = 0 AND start_at > ?");
                k.bind(1, id).bind(2, now());
                if (k.step()) kept = k.getInt(0);
                // The rule ends today, so it generates nothing new.
                c.prepare("UPDATE booking_schedules SET valid_to = ? WHERE id = ?").bind(1, isoDate(today())).bind(2, id).exec();
                ctx_->audit().record(req, {"booking.schedule.end", "", "administration", "ok",
                                           "schedule " + std::to_string(id) + ", " + std::to_string(kept) + " booked future slots kept"}, c);
            });
            Object::Ptr o = new Object;
            o->set("booked_slots_kept", kept);
            return Response::json(o);
        }, RouteDoc{"End a schedule: its free future slots are withdrawn, booked ones kept", "booking", nullptr, nullptr});

        r.add("POST", "/api/v1/booking/closeddays", Access::only(kAdmin), [this](Request& req) {
            JsonInput in(req.json(), {"unit", "date", "reason"});
            const auto unit = requireHsa(in, "unit");
            const auto date = booking::parseDate(in.str("date", 10));
            if (!date) throw invalid("date", "a date YYYY-MM-DD");
            const auto reason = in.optStr("reason", 120).value_or("");
            long long affected = 0;
            try {
                ctx_->store().write([&](db::Connection& c) {
                    c.prepare("INSERT INTO booking_closed_days(unit, date, reason) VALUES(?,?,?)")
                        .bind(1, unit).bind(2, isoDate(*date)).bind(3, reason).exec();
                    const auto from = booking::stockholmToUtc(*date, 0).value_or(sys_seconds{sys_days{*date}});
                    c.prepare("UPDATE booking_slots SET withdrawn = 1 WHERE unit = ? AND start_at >= ? AND start_at < ? AND NOT EXISTS"
                              " (SELECT 1 FROM booking_bookings b WHERE b.slot_id = booking_slots.id AND b.status IN ('booked','arrived','noshow'))")
                        .bind(1, unit).bind(2, toSec(from)).bind(3, toSec(from + hours{24})).exec();
                    auto k = c.prepare("SELECT COUNT(*) FROM booking_bookings b JOIN booking_slots s ON s.id = b.slot_id"
                                       " WHERE s.unit = ? AND s.start_at >= ? AND s.start_at < ? AND b.status = 'booked'");
                    k.bind(1, unit).bind(2, toSec(from)).bind(3, toSec(from + hours{24}));
                    if (k.step()) affected = k.getInt(0);
                    ctx_->audit().record(req, {"booking.closedday.create", "", "administration", "ok", unit + " " + isoDate(*date)}, c);
                });
            } catch (const db::ConstraintError&) {
                throw Problem::conflict("/problems/exists", "that day is already closed");
            }
            Object::Ptr o = new Object;
            o->set("bookings_on_that_day", affected);
            return Response::json(o, 201);
        }, RouteDoc{"Close a unit for a day (free slots withdrawn; existing bookings are reported)", "booking", nullptr, nullptr});

        r.add("GET", "/api/v1/booking/holidays", Access::loggedIn(), [this](Request& req) {
            const int year = static_cast<int>(req.intQuery("year", static_cast<int>(today().year()), 2000, 2200));
            Array::Ptr a = new Array;
            for (const auto& h : booking::swedishHolidays(year)) {
                Object::Ptr o = new Object;
                o->set("date", isoDate(h.date));
                o->set("name", h.name);
                o->set("eve", h.eve);
                o->set("closed", !h.eve || s_.closeOnEves);
                a->add(o);
            }
            Object::Ptr o = new Object;
            o->set("year", year);
            o->set("holidays", a);
            return Response::json(o);
        }, RouteDoc{"Swedish public holidays and closed eves of a year (computed)", "booking", nullptr, nullptr});
    }

    void insertOrConflict(const Request& req, const std::string& sql, const std::vector<std::string>& values,
                          const std::string& conflict, const std::string& action, const std::string& what) {
        try {
            ctx_->store().write([&](db::Connection& c) {
                auto st = c.prepare(sql);
                for (std::size_t i = 0; i < values.size(); ++i) st.bind(static_cast<int>(i + 1), values[i]);
                st.exec();
                ctx_->audit().record(req, {action, "", "administration", "ok", what}, c);
            });
        } catch (const db::ConstraintError&) {
            throw Problem::conflict("/problems/exists", conflict);
        }
    }
    void requireExists(const std::string& sql, const std::string& value, const std::string& field, const std::string& why) {
        bool found = false;
        ctx_->store().read([&](db::Connection& c) {
            auto st = c.prepare(sql);
            st.bind(1, value);
            found = st.step();
        });
        if (!found) throw invalid(field, why);
    }
    static Response created(const std::string& id) {
        Object::Ptr o = new Object;
        o->set("id", id);
        return Response::json(o, 201);
    }

    // ---- availability (no patient data) ----

    void registerAvailabilityRoutes() {
        auto& r = ctx_->router();
        r.add("GET", "/api/v1/booking/availabledates", Access::only(kStaff), [this](Request& req) {
            const auto unit = queryHsa(req, "unit");
            const auto visitType = req.queryParam("visit_type").value_or("");
            const auto from = queryDate(req, "from", today());
            const auto to = std::min(sys_days{queryDate(req, "to", horizonEnd())}, sys_days{horizonEnd()});
            if (sys_days{from} > to) throw Problem::badRequest("/problems/invalid-parameter", "'from' is after 'to'");
            ensureSlots(from, year_month_day{to});
            std::set<std::string> dates;
            const auto slots = freeSlots(unit, visitType, "", from, year_month_day{to}, 5000);
            for (std::size_t i = 0; i < slots->size(); ++i)
                dates.insert(slots->getObject(static_cast<unsigned>(i))->getValue<std::string>("startTimeInclusive").substr(0, 10));
            Object::Ptr o = new Object;
            o->set("healthcare_facility", unit);
            o->set("dates", stringArray({dates.begin(), dates.end()}));
            return Response::json(o);
        }, RouteDoc{"GetAvailableDates: dates with free slots at a unit", "booking", nullptr, nullptr});

        r.add("GET", "/api/v1/booking/timeslots", Access::only(kStaff), [this](Request& req) {
            const auto unit = queryHsa(req, "unit");
            const auto date = queryDate(req, "date", std::nullopt);
            const auto days_ = static_cast<int>(req.intQuery("days", 1, 1, 14));
            const auto to = year_month_day{sys_days{date} + days{days_ - 1}};
            const auto practitioner = queryHsa(req, "practitioner", false);
            Object::Ptr o = new Object;
            o->set("healthcare_facility", unit);
            o->set("timeslots", freeSlots(unit, req.queryParam("visit_type").value_or(""), practitioner, date, to, 1000));
            return Response::json(o);
        }, RouteDoc{"GetAvailableTimeslots: free slots at a unit on a date", "booking", nullptr, nullptr});
    }

    // ---- booking: the one path every channel uses ----

    struct BookInput {
        long long slotId = 0;
        std::string patient, purpose, reason, note, phone, email, guardian, channel, triage;
        std::optional<long long> invitationId;
        std::optional<int> urgencyDays;
    };

    // Runs booking.requested (hooks may change slot_id, note, purpose or veto), then inserts
    // the booking, its audit record and its messages in one transaction.
    BookingRow book(const Request& req, BookInput in, std::optional<long long> replaces = std::nullopt) {
        Object::Ptr payload;
        auto describe = [&](long long slotId) {
            Object::Ptr p = new Object;
            bool found = false;
            ctx_->store().read([&](db::Connection& c) {
                auto st = c.prepare(
                    "SELECT s.start_at, s.end_at, s.unit, s.practitioner, p.profession, v.visit_form, v.id, v.name, s.withdrawn"
                    " FROM booking_slots s JOIN booking_practitioners p ON p.hsa_id = s.practitioner"
                    " JOIN booking_visit_types v ON v.id = s.visit_type WHERE s.id = ?");
                st.bind(1, slotId);
                if (!st.step() || st.getInt(8)) return;
                found = true;
                if (st.getInt(0) <= now())
                    throw Problem(409, "/problems/slot-passed", "Tiden har passerat", "the slot has already started");
                p->set("start", isoStockholm(fromSec(st.getInt(0))));
                p->set("end", isoStockholm(fromSec(st.getInt(1))));
                p->set("care_unit", st.getText(2));
                p->set("practitioner", st.getText(3));
                p->set("profession", st.getText(4));
                p->set("visit_form", st.getText(5));
                p->set("visit_type", st.getText(6));
                p->set("visit_type_name", st.getText(7));
            });
            if (!found) throw Problem(404, "/problems/no-such-slot", "Tiden finns inte", "no slot " + std::to_string(slotId));
            return p;
        };
        payload = describe(in.slotId);
        payload->set("patient", in.patient);
        payload->set("slot_id", in.slotId);
        payload->set("channel", in.channel);
        payload->set("note", in.note);
        payload->set("purpose", in.purpose);
        if (!in.reason.empty()) payload->set("reason", in.reason);
        if (in.urgencyDays) payload->set("urgency_days", *in.urgencyDays);
        if (!in.guardian.empty()) payload->set("guardian", in.guardian);
        Event ev{"booking.requested", payload, req.principal, req.requestId};
        const std::string practitioner = payload->getValue<std::string>("practitioner");
        const auto outcome = ctx_->events().publishSync(ev);
        // A hook that broke (error, timeout, memory) also refuses: fail closed.
        if (outcome.failed)
            throw Problem(422, "/problems/hook-failed", "Bokningen kunde inte kontrolleras", outcome.reason).with("hook", outcome.hook);
        if (outcome.vetoed)
            throw Problem(422, "/problems/booking-refused", "Bokningen godtogs inte", outcome.reason).with("hook", outcome.hook);
        // What a hook may change: the slot (another time), the practitioner (the same time
        // and visit type with another practitioner: routing), the note and the purpose; it may
        // add triage and urgency_days, which are stored. The patient and the channel stay.
        const long long routed = ev.payload->optValue<long long>("slot_id", in.slotId);
        if (routed != in.slotId) {
            (void)describe(routed);
            in.slotId = routed;
        }
        const std::string toPractitioner = ev.payload->optValue<std::string>("practitioner", practitioner);
        if (toPractitioner != practitioner) {
            std::optional<long long> other;
            ctx_->store().read([&](db::Connection& c) {
                auto st = c.prepare(
                    "SELECT o.id FROM booking_slots s JOIN booking_slots o ON o.start_at = s.start_at AND o.visit_type = s.visit_type"
                    " AND o.practitioner = ? AND o.withdrawn = 0 WHERE s.id = ? AND NOT EXISTS (SELECT 1 FROM booking_bookings b"
                    " WHERE b.slot_id = o.id AND b.status IN ('booked','arrived','noshow'))");
                st.bind(1, toPractitioner).bind(2, in.slotId);
                if (st.step()) other = st.getInt(0);
            });
            if (!other)
                throw Problem(409, "/problems/no-slot-for-routing", "Ingen ledig tid hos den vårdgivaren",
                              "a hook routed the booking to " + toPractitioner + ", who has no free slot of this type at that time");
            in.slotId = *other;
        }
        in.note = ev.payload->optValue<std::string>("note", in.note).substr(0, 500);
        in.purpose = ev.payload->optValue<std::string>("purpose", in.purpose).substr(0, 500);
        in.triage = ev.payload->optValue<std::string>("triage", "").substr(0, 60);
        if (ev.payload->has("urgency_days") && ev.payload->get("urgency_days").isInteger())
            in.urgencyDays = std::clamp(ev.payload->getValue<int>("urgency_days"), 0, 365);

        BookingRow b;
        try {
            ctx_->store().write([&](db::Connection& c) {
                if (replaces) {
                    c.prepare("UPDATE booking_bookings SET status='rebooked', changed_at=? WHERE id=? AND status='booked'")
                        .bind(1, now()).bind(2, *replaces).exec();
                    if (c.changes() != 1)
                        throw Problem::conflict("/problems/booking-changed", "the booking is no longer booked");
                }
                auto ins = c.prepare(
                    "INSERT INTO booking_bookings(slot_id, patient, status, channel, purpose, reason, note, phone, email, guardian,"
                    " invitation_id, created_at, created_by, changed_at, triage, urgency_days)"
                    " VALUES(?,?,'booked',?,?,?,?,?,?,?,?,?,?,?,?,?)");
                ins.bind(1, in.slotId).bind(2, in.patient).bind(3, in.channel).bind(4, in.purpose).bind(5, in.reason)
                    .bind(6, in.note).bind(7, in.phone).bind(8, in.email).bind(9, in.guardian);
                if (in.invitationId) ins.bind(10, *in.invitationId);
                else ins.bindNull(10);
                ins.bind(11, now()).bind(12, who(req)).bind(13, now()).bind(14, in.triage);
                if (in.urgencyDays) ins.bind(15, *in.urgencyDays);
                else ins.bindNull(15);
                ins.exec();
                const long long id = c.lastInsertId();
                if (replaces)
                    c.prepare("UPDATE booking_bookings SET rebooked_to=? WHERE id=?").bind(1, id).bind(2, *replaces).exec();
                b = *loadBooking(c, id);
                audit(req, replaces ? "booking.rebook" : "booking.create", b.patient,
                      "booking " + std::to_string(id) + (replaces ? " replaces " + std::to_string(*replaces) : "") + " via " + in.channel,
                      &c);
                queueMessages(c, b, replaces ? "rebooked" : "confirmation");
                // Reminders follow the (new) time; the old booking's are skipped when due.
                queueReminders(c, b);
            });
        } catch (const db::ConstraintError&) {
            throw Problem(409, "/problems/slot-taken", "Tiden är redan bokad", "the slot was booked by someone else");
        }
        return b;
    }

    void queueReminders(db::Connection& c, const BookingRow& b) {
        const auto phone = booking::normalisePhone(b.phone);
        for (int h : s_.reminderHours) {
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

    void publish(const std::string& name, const BookingRow& b, const Request& req,
                 const std::function<void(Object&)>& extra = {}) {
        auto p = eventPayload(b);
        if (extra) extra(*p);
        ctx_->events().publish(Event{name, p, req.principal, req.requestId});
    }

    BookInput readBookInput(const JsonInput& in, const std::string& channel) const {
        BookInput b;
        b.slotId = in.integer("slot_id", 1, 9'000'000'000'000'000'000LL);
        b.patient = parsePatient(in.str("patient", 20));
        b.purpose = in.optStr("purpose", 500).value_or("");
        b.reason = in.optStr("reason", 1000).value_or("");
        b.note = in.optStr("note", 500).value_or("");
        b.phone = in.optStr("phone", 30).value_or("");
        if (!b.phone.empty() && !booking::normalisePhone(b.phone)) throw invalid("phone", "not a phone number");
        b.email = in.optStr("email", 254).value_or("");
        if (!b.email.empty() && !booking::plausibleEmail(b.email)) throw invalid("email", "not an e-mail address");
        if (const auto g = in.optStr("guardian", 20); g && !g->empty()) b.guardian = parsePatient(*g, "guardian");
        if (const auto u = in.optInteger("urgency_days", 0, 365)) b.urgencyDays = static_cast<int>(*u);
        b.channel = channel;
        return b;
    }

    BookingRow requireBooking(long long id) {
        std::optional<BookingRow> b;
        ctx_->store().read([&](db::Connection& c) { b = loadBooking(c, id); });
        if (!b) throw Problem::notFound("no booking " + std::to_string(id));
        return *b;
    }

    void checkChangeAllowed(const Request& req, const BookingRow& b, bool late) const {
        if (b.status != "booked")
            throw Problem::conflict("/problems/booking-not-active", "the booking is " + b.status + ", not booked");
        const long long latest = b.start - static_cast<long long>(s_.cancelLatestHours) * 3600;
        if (now() >= latest && !(late && req.principal && req.principal->role == Role::Admin))
            throw Problem(409, "/problems/too-late", "För sent att ändra",
                          "bookings can be changed until " + std::to_string(s_.cancelLatestHours) +
                              " hours before they start (an admin may pass \"late\": true)");
    }

    BookingRow cancel(const Request& req, const BookingRow& b, const std::string& by) {
        BookingRow out;
        ctx_->store().write([&](db::Connection& c) {
            c.prepare("UPDATE booking_bookings SET status='cancelled', changed_at=? WHERE id=? AND status='booked'")
                .bind(1, now()).bind(2, b.id).exec();
            if (c.changes() != 1) throw Problem::conflict("/problems/booking-changed", "the booking is no longer booked");
            out = *loadBooking(c, b.id);
            audit(req, "booking.cancel", b.patient, "booking " + std::to_string(b.id) + " cancelled by " + by, &c);
            queueMessages(c, out, "cancelled");
        });
        publish("booking.cancelled", out, req, [&](Object& o) { o.set("cancelled_by", by); });
        return out;
    }

    void registerBookingRoutes() {
        auto& r = ctx_->router();
        r.add("POST", "/api/v1/booking/bookings", Access::only(kStaff), [this](Request& req) {
            JsonInput in(req.json(), {"slot_id", "patient", "purpose", "reason", "note", "phone", "email", "guardian", "urgency_days"});
            const auto b = book(req, readBookInput(in, "console"));
            publish("booking.created", b, req);
            return Response::json(bookingJson(b), 201);
        }, RouteDoc{"MakeBooking: book a slot for a patient (runs booking.requested hooks)", "booking", nullptr, nullptr});

        r.add("GET", "/api/v1/booking/bookings/{id}", Access::only(kStaff), [this](Request& req) {
            const auto b = requireBooking(req.intParam("id"));
            audit(req, "booking.read", b.patient, "booking " + std::to_string(b.id));
            return Response::json(bookingJson(b));
        }, RouteDoc{"GetBookingDetails", "booking", nullptr, nullptr});

        r.add("POST", "/api/v1/booking/bookings/{id}/cancel", Access::only(kStaff), [this](Request& req) {
            JsonInput in(req.json(), {"late", "by"});
            const auto b = requireBooking(req.intParam("id"));
            checkChangeAllowed(req, b, in.optBoolean("late").value_or(false));
            const auto by = in.optStr("by", 10).value_or("staff");
            if (by != "staff" && by != "patient") throw invalid("by", "staff or patient");
            return Response::json(bookingJson(cancel(req, b, by)));
        }, RouteDoc{"CancelBooking (until the configured latest time)", "booking", nullptr, nullptr});

        r.add("POST", "/api/v1/booking/bookings/{id}/rebook", Access::only(kStaff), [this](Request& req) {
            JsonInput in(req.json(), {"slot_id", "late"});
            const auto old = requireBooking(req.intParam("id"));
            checkChangeAllowed(req, old, in.optBoolean("late").value_or(false));
            BookInput bi;
            bi.slotId = in.integer("slot_id", 1, 9'000'000'000'000'000'000LL);
            bi.patient = old.patient;
            bi.purpose = old.purpose;
            bi.reason = old.reason;
            bi.note = old.note;
            bi.phone = old.phone;
            bi.email = old.email;
            bi.guardian = old.guardian;
            bi.triage = old.triage;
            if (old.urgencyDays) bi.urgencyDays = static_cast<int>(*old.urgencyDays);
            bi.channel = old.channel;
            const auto b = book(req, bi, old.id);
            publish("booking.rebooked", b, req, [&](Object& o) {
                o.set("old_booking_id", old.id);
                o.set("old_start", isoStockholm(fromSec(old.start)));
                o.set("old_end", isoStockholm(fromSec(old.end)));
            });
            return Response::json(bookingJson(b), 201);
        }, RouteDoc{"UpdateBooking: move a booking to another slot (the old slot is freed)", "booking", nullptr, nullptr});

        r.add("POST", "/api/v1/booking/bookings/{id}/noshow", Access::only(kStaff), [this](Request& req) {
            const auto b = requireBooking(req.intParam("id"));
            if (b.status != "booked") throw Problem::conflict("/problems/booking-not-active", "the booking is " + b.status);
            if (now() < b.start) throw Problem::conflict("/problems/not-started", "a booking can be marked no-show once it has started");
            long long count = 0;
            BookingRow out;
            ctx_->store().write([&](db::Connection& c) {
                c.prepare("UPDATE booking_bookings SET status='noshow', changed_at=? WHERE id=? AND status='booked'")
                    .bind(1, now()).bind(2, b.id).exec();
                if (c.changes() != 1) throw Problem::conflict("/problems/booking-changed", "the booking changed meanwhile");
                auto n = c.prepare("SELECT COUNT(*) FROM booking_bookings WHERE patient = ? AND status = 'noshow'");
                n.bind(1, b.patient);
                if (n.step()) count = n.getInt(0);
                out = *loadBooking(c, b.id);
                audit(req, "booking.noshow", b.patient, "booking " + std::to_string(b.id) + ", no-show number " + std::to_string(count), &c);
            });
            publish("booking.noshow", out, req, [&](Object& o) { o.set("noshow_count", count); });
            auto o = bookingJson(out);
            o->set("noshow_count", count);
            return Response::json(o);
        }, RouteDoc{"Mark a booking as a no-show (publishes booking.noshow with the patient's count)", "booking", nullptr, nullptr});

        r.add("GET", "/api/v1/booking/patients/{patient}/schedule", Access::only(kStaff), [this](Request& req) {
            const auto patient = parsePatient(req.pathParams.at("patient"));
            const bool all = req.queryParam("include_past").value_or("") == "true";
            Array::Ptr arr = new Array;
            long long noshows = 0;
            ctx_->store().read([&](db::Connection& c) {
                auto st = c.prepare(std::string(kBookingSelect) + "WHERE b.patient = ? AND (? OR s.end_at > ?) ORDER BY s.start_at");
                st.bind(1, patient).bind(2, all ? 1 : 0).bind(3, now());
                while (st.step()) arr->add(bookingJson(readBooking(st)));
                auto n = c.prepare("SELECT COUNT(*) FROM booking_bookings WHERE patient = ? AND status = 'noshow'");
                n.bind(1, patient);
                if (n.step()) noshows = n.getInt(0);
            });
            audit(req, "booking.read", patient, "schedule of the patient");
            Object::Ptr o = new Object;
            o->set("subject_of_care", patient);
            o->set("noshow_count", noshows);
            o->set("bookings", arr);
            return Response::json(o);
        }, RouteDoc{"GetSubjectOfCareSchedule: a patient's bookings", "booking", nullptr, nullptr});

        // Day and week views: every slot of the unit with its booking; each patient shown is logged.
        r.add("GET", "/api/v1/booking/calendar", Access::only(kStaff), [this](Request& req) {
            const auto unit = queryHsa(req, "unit");
            const auto from = queryDate(req, "date", today());
            const auto n = static_cast<int>(req.intQuery("days", 1, 1, 7));
            const auto practitioner = queryHsa(req, "practitioner", false);
            const auto to = year_month_day{sys_days{from} + days{n - 1}};
            ensureSlots(from, to);
            const auto start = booking::stockholmToUtc(from, 0).value_or(sys_seconds{sys_days{from}});
            const auto end = booking::stockholmToUtc(year_month_day{sys_days{to} + days{1}}, 0).value_or(start + days{n});
            Array::Ptr arr = new Array;
            std::set<std::string> patients;
            ctx_->store().read([&](db::Connection& c) {
                auto st = c.prepare(
                    "SELECT s.id, s.start_at, s.end_at, s.practitioner, p.name, v.id, v.name, v.visit_form, COALESCE(r.name,''),"
                    " b.id, b.patient, b.status, b.channel FROM booking_slots s"
                    " JOIN booking_practitioners p ON p.hsa_id = s.practitioner JOIN booking_visit_types v ON v.id = s.visit_type"
                    " LEFT JOIN booking_rooms r ON r.id = s.room_id"
                    " LEFT JOIN booking_bookings b ON b.slot_id = s.id AND b.status IN ('booked','arrived','noshow')"
                    " WHERE s.unit = ?1 AND s.start_at >= ?2 AND s.start_at < ?3 AND (?4 = '' OR s.practitioner = ?4)"
                    " AND (s.withdrawn = 0 OR b.id IS NOT NULL) ORDER BY s.start_at, p.name");
                st.bind(1, unit).bind(2, toSec(start)).bind(3, toSec(end)).bind(4, practitioner);
                while (st.step()) {
                    Object::Ptr o = new Object;
                    o->set("slot_id", st.getInt(0));
                    o->set("start", isoStockholm(fromSec(st.getInt(1))));
                    o->set("end", isoStockholm(fromSec(st.getInt(2))));
                    o->set("practitioner", st.getText(3));
                    o->set("practitioner_name", st.getText(4));
                    o->set("visit_type", st.getText(5));
                    o->set("visit_type_name", st.getText(6));
                    o->set("visit_form", st.getText(7));
                    o->set("room", st.getText(8));
                    if (!st.isNull(9)) {
                        o->set("booking_id", st.getInt(9));
                        o->set("patient", st.getText(10));
                        o->set("status", st.getText(11));
                        o->set("channel", st.getText(12));
                        patients.insert(st.getText(10));
                    } else {
                        o->set("status", "free");
                    }
                    arr->add(o);
                }
            });
            for (const auto& p : patients) audit(req, "booking.read", p, "calendar " + unit + " from " + isoDate(from));
            Object::Ptr o = new Object;
            o->set("healthcare_facility", unit);
            o->set("from", isoDate(from));
            o->set("days", n);
            o->set("slots", arr);
            return Response::json(o);
        }, RouteDoc{"Day or week view of a unit: every slot and its booking", "booking", nullptr, nullptr});
    }

    // ---- VIP codes ----

    // At most 10 wrong codes per address in 10 minutes.
    void vipThrottle(const Request& req, bool failed) {
        std::lock_guard lock(vipMu_);
        auto& [start, count] = vipFailures_[req.remoteAddress];
        if (now() - start > 600) {
            start = now();
            count = 0;
        }
        if (failed) ++count;
        if (count >= 10)
            throw Problem(429, "/problems/too-many-attempts", "För många försök",
                          "too many wrong codes from this address; try again in 10 minutes");
        if (vipFailures_.size() > 10000) vipFailures_.clear();
    }

    struct Vip {
        long long id = 0;
        std::string patient;
        std::set<std::string> visitTypes;
        long long maxActive = 0, horizonDays = 0;
    };

    Vip checkVip(const Request& req, const std::string& code, const std::string& patient) {
        vipThrottle(req, false);
        std::optional<Vip> v;
        ctx_->store().read([&](db::Connection& c) {
            auto st = c.prepare("SELECT id, patient, visit_types, max_active, horizon_days FROM booking_vip_codes"
                                " WHERE code_hash = ? AND revoked_at IS NULL AND expires_at > ?");
            st.bind(1, sha256Hex(normaliseCode(code))).bind(2, now());
            if (!st.step()) return;
            Vip x;
            x.id = st.getInt(0);
            x.patient = st.getText(1);
            for (const auto& t : splitList(st.getText(2))) x.visitTypes.insert(t);
            x.maxActive = st.getInt(3);
            x.horizonDays = st.getInt(4);
            v = x;
        });
        if (!v || v->patient != patient) {
            vipThrottle(req, true);
            ctx_->audit().record(req, {"booking.vip.refused", "", kPurposeCare, "denied", "wrong, expired or revoked VIP code"});
            throw Problem(403, "/problems/vip-code", "Koden gäller inte",
                          "the code is wrong, expired, revoked or belongs to another patient");
        }
        return *v;
    }

    void registerVipRoutes() {
        auto& r = ctx_->router();
        r.add("POST", "/api/v1/booking/vipcodes", Access::only(kStaff), [this](Request& req) {
            JsonInput in(req.json(), {"patient", "visit_types", "max_active", "horizon_days", "valid_days"});
            const auto patient = parsePatient(in.str("patient", 20));
            const auto types = readStringArray(in, "visit_types", 20, 40, true);
            if (types.empty()) throw invalid("visit_types", "at least one visit type");
            const auto maxActive = in.optInteger("max_active", 1, 10).value_or(1);
            const auto horizon = in.optInteger("horizon_days", 1, 365).value_or(30);
            const auto validDays = in.optInteger("valid_days", 1, 730).value_or(365);
            const std::string code = vipCode();
            long long id = 0;
            ctx_->store().write([&](db::Connection& c) {
                std::string list;
                for (const auto& t : types) {
                    auto st = c.prepare("SELECT vip_bookable FROM booking_visit_types WHERE id = ?");
                    st.bind(1, t);
                    if (!st.step()) throw invalid("visit_types", "no visit type " + t);
                    if (!st.getInt(0)) throw invalid("visit_types", t + " is not open for VIP booking (vip_bookable)");
                    list += (list.empty() ? "" : ",") + t;
                }
                c.prepare("INSERT INTO booking_vip_codes(code_hash, patient, visit_types, max_active, horizon_days, expires_at,"
                          " created_at, created_by) VALUES(?,?,?,?,?,?,?,?)")
                    .bind(1, sha256Hex(normaliseCode(code))).bind(2, patient).bind(3, list).bind(4, maxActive)
                    .bind(5, horizon).bind(6, now() + validDays * 86400).bind(7, now()).bind(8, who(req)).exec();
                id = c.lastInsertId();
                audit(req, "booking.vip.create", patient, "VIP code " + std::to_string(id), &c);
            });
            Object::Ptr o = new Object;
            o->set("id", id);
            o->set("code", code);
            o->set("expires", isoStockholm(fromSec(now() + validDays * 86400)));
            o->set("link", s_.publicUrl + "/plugins/booking/vip.html");
            return Response::json(o, 201);
        }, RouteDoc{"Give a patient a VIP code (shown once) for direct booking of some visit types", "booking", nullptr, nullptr});

        r.add("GET", "/api/v1/booking/vipcodes", Access::only(kStaff), [this](Request& req) {
            const auto patient = parsePatient(req.queryParam("patient").value_or(""));
            Array::Ptr arr = new Array;
            ctx_->store().read([&](db::Connection& c) {
                auto st = c.prepare("SELECT id, visit_types, max_active, horizon_days, expires_at, revoked_at, created_by"
                                    " FROM booking_vip_codes WHERE patient = ? ORDER BY id DESC");
                st.bind(1, patient);
                while (st.step()) {
                    Object::Ptr o = new Object;
                    o->set("id", st.getInt(0));
                    o->set("visit_types", stringArray(splitList(st.getText(1))));
                    o->set("max_active", st.getInt(2));
                    o->set("horizon_days", st.getInt(3));
                    o->set("expires", isoStockholm(fromSec(st.getInt(4))));
                    o->set("revoked", !st.isNull(5));
                    o->set("active", st.isNull(5) && st.getInt(4) > now());
                    o->set("created_by", st.getText(6));
                    arr->add(o);
                }
            });
            audit(req, "booking.vip.read", patient, "VIP codes of the patient");
            Object::Ptr o = new Object;
            o->set("codes", arr);
            return Response::json(o);
        }, RouteDoc{"A patient's VIP codes (never the codes themselves)", "booking", nullptr, nullptr});

        r.add("POST", "/api/v1/booking/vipcodes/{id}/revoke", Access::only(kStaff), [this](Request& req) {
            const long long id = req.intParam("id");
            ctx_->store().write([&](db::Connection& c) {
                auto st = c.prepare("SELECT patient FROM booking_vip_codes WHERE id = ?");
                st.bind(1, id);
                if (!st.step()) throw Problem::notFound("no VIP code " + std::to_string(id));
                const auto patient = st.getText(0);
                c.prepare("UPDATE booking_vip_codes SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL").bind(1, now()).bind(2, id).exec();
                audit(req, "booking.vip.revoke", patient, "VIP code " + std::to_string(id), &c);
            });
            return Response::noContent();
        }, RouteDoc{"Revoke a VIP code", "booking", nullptr, nullptr});

        // The patient's side (no login): the code and the personnummer together.
        r.add("POST", "/api/v1/booking/vip/availability", Access::anyone(), [this](Request& req) {
            JsonInput in(req.json(), {"code", "patient"});
            const auto patient = parsePatient(in.str("patient", 20));
            const auto vip = checkVip(req, in.str("code", 20), patient);
            Array::Ptr slots = new Array;
            Array::Ptr types = new Array;
            const auto to = year_month_day{sys_days{today()} + days{vip.horizonDays}};
            ctx_->store().read([&](db::Connection& c) {
                for (const auto& t : vip.visitTypes) {
                    auto st = c.prepare("SELECT name, visit_form FROM booking_visit_types WHERE id = ?");
                    st.bind(1, t);
                    if (!st.step()) continue;
                    Object::Ptr o = new Object;
                    o->set("id", t);
                    o->set("name", st.getText(0));
                    o->set("visit_form", st.getText(1));
                    types->add(o);
                }
            });
            std::vector<std::string> units;
            ctx_->store().read([&](db::Connection& c) {
                auto st = c.prepare("SELECT hsa_id FROM booking_units");
                while (st.step()) units.push_back(st.getText(0));
            });
            for (const auto& u : units)
                for (const auto& t : vip.visitTypes) {
                    const auto a = freeSlots(u, t, "", today(), to, 100);
                    for (std::size_t i = 0; i < a->size(); ++i) {
                        auto o = a->getObject(static_cast<unsigned>(i));
                        o->remove("performer");  // the patient sees the profession, not staff HSA-ids
                        o->set("healthcare_facility", u);
                        slots->add(o);
                    }
                }
            ctx_->audit().record(req, {"booking.vip.use", patient, kPurposeCare, "ok", "availability, VIP code " + std::to_string(vip.id)});
            Object::Ptr o = new Object;
            o->set("visit_types", types);
            o->set("timeslots", slots);
            return Response::json(o);
        }, RouteDoc{"VIP: the times a code lets its patient book", "booking", nullptr, nullptr});

        r.add("POST", "/api/v1/booking/vip/book", Access::anyone(), [this](Request& req) {
            JsonInput in(req.json(), {"code", "patient", "slot_id", "phone", "email"});
            const auto patient = parsePatient(in.str("patient", 20));
            const auto vip = checkVip(req, in.str("code", 20), patient);
            BookInput bi = readBookInput(in, "vip");
            std::string visitType;
            long long start = 0, active = 0;
            ctx_->store().read([&](db::Connection& c) {
                auto st = c.prepare("SELECT visit_type, start_at FROM booking_slots WHERE id = ?");
                st.bind(1, bi.slotId);
                if (st.step()) {
                    visitType = st.getText(0);
                    start = st.getInt(1);
                }
                auto n = c.prepare("SELECT COUNT(*) FROM booking_bookings b JOIN booking_slots s ON s.id = b.slot_id"
                                   " WHERE b.patient = ? AND b.channel = 'vip' AND b.status = 'booked' AND s.start_at > ?");
                n.bind(1, patient).bind(2, now());
                if (n.step()) active = n.getInt(0);
            });
            if (!vip.visitTypes.count(visitType))
                throw Problem(403, "/problems/vip-visit-type", "Koden gäller inte den tiden", "the code does not cover this visit type");
            if (start > now() + vip.horizonDays * 86400)
                throw Problem(403, "/problems/vip-horizon", "Tiden ligger för långt fram",
                              "the code lets you book " + std::to_string(vip.horizonDays) + " days ahead");
            if (active >= vip.maxActive)
                throw Problem(409, "/problems/vip-limit", "Du har redan bokade tider",
                              "the code allows " + std::to_string(vip.maxActive) + " booked times at once");
            const auto b = book(req, bi);
            publish("booking.created", b, req);
            Object::Ptr o = new Object;
            o->set("bookingId", b.id);
            o->set("startTimeInclusive", isoStockholm(fromSec(b.start)));
            o->set("healthcare_facility_name", b.unitName);
            o->set("address", b.address);
            o->set("visit_form", b.visitForm);
            return Response::json(o, 201);
        }, RouteDoc{"VIP: book with a code", "booking", nullptr, nullptr});
    }

    // ---- invitations (kallelser) ----

    struct Invitation {
        long long id = 0;
        std::string patient, unit, unitName, address, visitType, visitTypeName, purpose, kind, phone, email;
        std::string questions, answers;
        std::optional<long long> bookingId;
        long long expires = 0;
    };

    std::optional<Invitation> loadInvitation(db::Connection& c, const std::string& where, const std::string& key) {
        auto st = c.prepare("SELECT i.id, i.patient, i.unit, u.name, u.address, i.visit_type, v.name, i.purpose, i.kind,"
                            " i.phone, i.email, i.questions, COALESCE(i.answers, ''), i.booking_id, i.expires_at"
                            " FROM booking_invitations i JOIN booking_units u ON u.hsa_id = i.unit"
                            " JOIN booking_visit_types v ON v.id = i.visit_type WHERE " + where);
        st.bind(1, key);
        if (!st.step()) return std::nullopt;
        Invitation x;
        x.id = st.getInt(0);
        x.patient = st.getText(1);
        x.unit = st.getText(2);
        x.unitName = st.getText(3);
        x.address = st.getText(4);
        x.visitType = st.getText(5);
        x.visitTypeName = st.getText(6);
        x.purpose = st.getText(7);
        x.kind = st.getText(8);
        x.phone = st.getText(9);
        x.email = st.getText(10);
        x.questions = st.getText(11);
        x.answers = st.getText(12);
        x.bookingId = st.getOptionalInt(13);
        x.expires = st.getInt(14);
        return x;
    }

    // The patient opens the link and proves who they are with their personnummer.
    Invitation openInvitation(const Request& req, const std::string& patientText) {
        const auto token = req.pathParams.at("token");
        const auto patient = parsePatient(patientText);
        std::optional<Invitation> inv;
        ctx_->store().read([&](db::Connection& c) { inv = loadInvitation(c, "i.token_hash = ?", sha256Hex(token)); });
        vipThrottle(req, false);
        if (!inv || inv->patient != patient) {
            vipThrottle(req, true);
            ctx_->audit().record(req, {"booking.invitation.refused", "", kPurposeCare, "denied", "wrong link or personnummer"});
            throw Problem(403, "/problems/invitation", "Kallelsen hittades inte",
                          "the link and the personnummer do not match an invitation");
        }
        if (inv->expires <= now()) throw Problem(410, "/problems/invitation-expired", "Kallelsen har gått ut", "the invitation has expired");
        return *inv;
    }

    Object::Ptr invitationJson(const Invitation& inv, bool forPatient) {
        Object::Ptr o = new Object;
        o->set("id", inv.id);
        o->set("isInvitation", true);
        o->set("kind", inv.kind);
        o->set("purpose", inv.purpose);
        o->set("healthcare_facility", inv.unit);
        o->set("healthcare_facility_name", inv.unitName);
        o->set("address", inv.address);
        o->set("visit_type", inv.visitType);
        o->set("visit_type_name", inv.visitTypeName);
        o->set("expires", isoStockholm(fromSec(inv.expires)));
        Poco::JSON::Parser p;
        o->set("questions", p.parse(inv.questions));
        if (!inv.answers.empty()) {
            Poco::JSON::Parser p2;
            o->set("answers", p2.parse(inv.answers));
        }
        if (!forPatient) o->set("subject_of_care", inv.patient);
        if (inv.bookingId) {
            const auto b = requireBooking(*inv.bookingId);
            Object::Ptr bo = new Object;
            bo->set("bookingId", b.id);
            bo->set("status", b.status);
            bo->set("startTimeInclusive", isoStockholm(fromSec(b.start)));
            bo->set("endTimeExclusive", isoStockholm(fromSec(b.end)));
            bo->set("visit_form", b.visitForm);
            bo->set("cancel_booking_allowed", b.status == "booked" && now() < b.start - static_cast<long long>(s_.cancelLatestHours) * 3600);
            o->set("booking", bo);
        }
        return o;
    }

    void queueInvitationMessage(db::Connection& c, const Invitation& inv, const std::string& token) {
        const std::string link = s_.publicUrl + "/plugins/booking/invite.html#" + token;
        const std::string text = "Du har fått en kallelse från " + inv.unitName + ". Öppna länken och ange ditt personnummer: " + link;
        Object o;
        o.set("kind", "invitation");
        o.set("text", text);
        auto q = [&](const std::string& channel, const std::string& to) {
            o.set("to", to);
            std::ostringstream js;
            o.stringify(js);
            ctx_->outbox().enqueue(c, {channel, js.str(), "invitation-" + std::to_string(inv.id) + "-" + channel});
        };
        if (const auto phone = booking::normalisePhone(inv.phone)) q("booking.invsms", *phone);
        if (!inv.email.empty()) q("booking.invemail", inv.email);
    }

    void registerInvitationRoutes() {
        ctx_->outbox().registerChannel("booking.invsms", [this](const QueuedMessage& m) {
            Poco::JSON::Parser p;
            const auto o = p.parse(m.payload).extract<Object::Ptr>();
            return booking::sendSms(s_.sms, o->getValue<std::string>("to"), o->getValue<std::string>("text"));
        });
        ctx_->outbox().registerChannel("booking.invemail", [this](const QueuedMessage& m) {
            Poco::JSON::Parser p;
            const auto o = p.parse(m.payload).extract<Object::Ptr>();
            return booking::sendEmail(s_.email, o->getValue<std::string>("to"), "Kallelse", o->getValue<std::string>("text"));
        });
        auto& r = ctx_->router();
        r.add("POST", "/api/v1/booking/invitations", Access::only(kStaff), [this](Request& req) {
            JsonInput in(req.json(), {"patient", "unit", "visit_type", "purpose", "questions", "kind", "slot_id", "phone", "email"});
            Invitation inv;
            inv.patient = parsePatient(in.str("patient", 20));
            inv.unit = requireHsa(in, "unit");
            inv.visitType = in.str("visit_type", 40);
            inv.purpose = in.str("purpose", 500);
            inv.kind = in.optStr("kind", 10).value_or("open");
            if (inv.kind != "open" && inv.kind != "timed") throw invalid("kind", "open or timed");
            const auto questions = readStringArray(in, "questions", 20, 300, false);
            Array qa;
            for (const auto& q : questions) qa.add(q);
            std::ostringstream qs;
            qa.stringify(qs);
            inv.questions = qs.str();
            inv.phone = in.optStr("phone", 30).value_or("");
            if (!inv.phone.empty() && !booking::normalisePhone(inv.phone)) throw invalid("phone", "not a phone number");
            inv.email = in.optStr("email", 254).value_or("");
            if (!inv.email.empty() && !booking::plausibleEmail(inv.email)) throw invalid("email", "not an e-mail address");
            if (inv.phone.empty() && inv.email.empty()) throw invalid("phone", "a phone number or an e-mail address is needed to send the invitation");
            requireExists("SELECT 1 FROM booking_visit_types WHERE id = ?", inv.visitType, "visit_type", "no visit type " + inv.visitType);
            requireExists("SELECT 1 FROM booking_units WHERE hsa_id = ?", inv.unit, "unit", "no care unit " + inv.unit);
            std::optional<BookingRow> timed;
            if (inv.kind == "timed") {
                BookInput bi;
                bi.slotId = in.integer("slot_id", 1, 9'000'000'000'000'000'000LL);
                bi.patient = inv.patient;
                bi.purpose = inv.purpose;
                bi.phone = inv.phone;
                bi.email = inv.email;
                bi.channel = "invitation";
                timed = book(req, bi);
                publish("booking.created", *timed, req);
            } else if (in.has("slot_id")) {
                throw invalid("slot_id", "only a timed invitation has a slot; an open one lets the patient choose");
            }
            const std::string token = randomToken();
            inv.expires = timed ? timed->start : now() + static_cast<long long>(s_.invitationValidDays) * 86400;
            ctx_->store().write([&](db::Connection& c) {
                auto ins = c.prepare("INSERT INTO booking_invitations(token_hash, patient, unit, visit_type, purpose, questions, kind,"
                                     " booking_id, phone, email, expires_at, created_at, created_by) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)");
                ins.bind(1, sha256Hex(token)).bind(2, inv.patient).bind(3, inv.unit).bind(4, inv.visitType).bind(5, inv.purpose)
                    .bind(6, inv.questions).bind(7, inv.kind);
                if (timed) ins.bind(8, timed->id);
                else ins.bindNull(8);
                ins.bind(9, inv.phone).bind(10, inv.email).bind(11, inv.expires).bind(12, now()).bind(13, who(req)).exec();
                inv.id = c.lastInsertId();
                if (timed)
                    c.prepare("UPDATE booking_bookings SET invitation_id = ? WHERE id = ?").bind(1, inv.id).bind(2, timed->id).exec();
                std::optional<Invitation> full = loadInvitation(c, "i.id = ?", std::to_string(inv.id));
                queueInvitationMessage(c, *full, token);
                audit(req, "booking.invitation.create", inv.patient, "invitation " + std::to_string(inv.id) + " (" + inv.kind + ")", &c);
            });
            Object::Ptr o = new Object;
            o->set("id", inv.id);
            o->set("link", s_.publicUrl + "/plugins/booking/invite.html#" + token);
            if (timed) o->set("bookingId", timed->id);
            return Response::json(o, 201);
        }, RouteDoc{"Send an invitation (kallelse): timed (a booked time) or open (the patient chooses)", "booking", nullptr, nullptr});

        r.add("GET", "/api/v1/booking/invitations", Access::only(kStaff), [this](Request& req) {
            const auto unit = queryHsa(req, "unit");
            Array::Ptr arr = new Array;
            std::set<std::string> patients;
            ctx_->store().read([&](db::Connection& c) {
                auto st = c.prepare("SELECT i.id FROM booking_invitations i WHERE i.unit = ? ORDER BY i.id DESC LIMIT 200");
                st.bind(1, unit);
                std::vector<long long> ids;
                while (st.step()) ids.push_back(st.getInt(0));
                for (auto id : ids)
                    if (auto inv = loadInvitation(c, "i.id = ?", std::to_string(id))) {
                        arr->add(invitationJson(*inv, false));
                        patients.insert(inv->patient);
                    }
            });
            for (const auto& p : patients) audit(req, "booking.invitation.read", p, "invitation list of " + unit);
            Object::Ptr o = new Object;
            o->set("invitations", arr);
            return Response::json(o);
        }, RouteDoc{"The unit's invitations with their answers and bookings", "booking", nullptr, nullptr});

        r.add("POST", "/api/v1/booking/invite/{token}/open", Access::anyone(), [this](Request& req) {
            JsonInput in(req.json(), {"patient"});
            const auto inv = openInvitation(req, in.str("patient", 20));
            auto o = invitationJson(inv, true);
            if (inv.kind == "open" && !inv.bookingId) {
                const auto to = std::min(sys_days{horizonEnd()}, floor<days>(fromSec(inv.expires)));
                o->set("timeslots", freeSlots(inv.unit, inv.visitType, "", today(), year_month_day{to}, 60));
            }
            ctx_->audit().record(req, {"booking.invitation.open", inv.patient, kPurposeCare, "ok", "invitation " + std::to_string(inv.id)});
            return Response::json(o);
        }, RouteDoc{"Patient: open an invitation (link + personnummer)", "booking", nullptr, nullptr});

        r.add("POST", "/api/v1/booking/invite/{token}/book", Access::anyone(), [this](Request& req) {
            JsonInput in(req.json(), {"patient", "slot_id"});
            const auto inv = openInvitation(req, in.str("patient", 20));
            if (inv.kind != "open") throw Problem::conflict("/problems/invitation-timed", "this invitation already has a time");
            if (inv.bookingId) {
                const auto existing = requireBooking(*inv.bookingId);
                if (existing.status == "booked") throw Problem::conflict("/problems/invitation-used", "a time is already booked");
            }
            BookInput bi;
            bi.slotId = in.integer("slot_id", 1, 9'000'000'000'000'000'000LL);
            bi.patient = inv.patient;
            bi.purpose = inv.purpose;
            bi.phone = inv.phone;
            bi.email = inv.email;
            bi.channel = "invitation";
            bi.invitationId = inv.id;
            std::string slotType;
            ctx_->store().read([&](db::Connection& c) {
                auto st = c.prepare("SELECT visit_type FROM booking_slots WHERE id = ? AND unit = ?");
                st.bind(1, bi.slotId).bind(2, inv.unit);
                if (st.step()) slotType = st.getText(0);
            });
            if (slotType != inv.visitType) throw Problem::badRequest("/problems/wrong-slot", "the slot is not one the invitation offers");
            const auto b = book(req, bi);
            ctx_->store().write([&](db::Connection& c) {
                c.prepare("UPDATE booking_invitations SET booking_id = ? WHERE id = ?").bind(1, b.id).bind(2, inv.id).exec();
            });
            publish("booking.created", b, req);
            Object::Ptr o = new Object;
            o->set("bookingId", b.id);
            o->set("startTimeInclusive", isoStockholm(fromSec(b.start)));
            return Response::json(o, 201);
        }, RouteDoc{"Patient: choose a time for an open invitation", "booking", nullptr, nullptr});

        r.add("POST", "/api/v1/booking/invite/{token}/answers", Access::anyone(), [this](Request& req) {
            JsonInput in(req.json(), {"patient", "answers"});
            const auto inv = openInvitation(req, in.str("patient", 20));
            Poco::JSON::Parser p;
            const auto questions = p.parse(inv.questions).extract<Array::Ptr>();
            const auto answers = readStringArray(in, "answers", 20, 2000, true);
            if (answers.size() != questions->size())
                throw invalid("answers", "expected " + std::to_string(questions->size()) + " answers, one per question");
            Array a;
            for (const auto& s : answers) a.add(s);
            std::ostringstream as;
            a.stringify(as);
            ctx_->store().write([&](db::Connection& c) {
                c.prepare("UPDATE booking_invitations SET answers = ? WHERE id = ?").bind(1, as.str()).bind(2, inv.id).exec();
                ctx_->audit().record(req, {"booking.invitation.answer", inv.patient, kPurposeCare, "ok", "invitation " + std::to_string(inv.id)}, c);
            });
            return Response::noContent();
        }, RouteDoc{"Patient: answer the invitation's questions before the visit", "booking", nullptr, nullptr});

        r.add("POST", "/api/v1/booking/invite/{token}/cancel", Access::anyone(), [this](Request& req) {
            JsonInput in(req.json(), {"patient"});
            const auto inv = openInvitation(req, in.str("patient", 20));
            if (!inv.bookingId) throw Problem::conflict("/problems/no-booking", "no time is booked");
            const auto b = requireBooking(*inv.bookingId);
            checkChangeAllowed(req, b, false);
            cancel(req, b, "patient");
            return Response::noContent();
        }, RouteDoc{"Patient: cancel the time of an invitation (until the latest time)", "booking", nullptr, nullptr});
    }

    // ---- iCalendar feeds ----

    void registerICalRoutes() {
        auto& r = ctx_->router();
        r.add("POST", "/api/v1/booking/practitioners/{hsa}/icalfeed", Access::only(kStaff), [this](Request& req) {
            const auto hsa = req.pathParams.at("hsa");
            const std::string token = randomToken();
            ctx_->store().write([&](db::Connection& c) {
                auto st = c.prepare("SELECT 1 FROM booking_practitioners WHERE hsa_id = ?");
                st.bind(1, hsa);
                if (!st.step()) throw Problem::notFound("no practitioner " + hsa);
                c.prepare("INSERT INTO booking_ical_feeds(practitioner, token_hash, created_at) VALUES(?,?,?)"
                          " ON CONFLICT(practitioner) DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at")
                    .bind(1, hsa).bind(2, sha256Hex(token)).bind(3, now()).exec();
                ctx_->audit().record(req, {"booking.ical.create", "", "administration", "ok", "feed of " + hsa + " (replaces an earlier one)"}, c);
            });
            Object::Ptr o = new Object;
            o->set("url", s_.publicUrl + "/api/v1/booking/ical/" + token + ".ics");
            return Response::json(o, 201);
        }, RouteDoc{"Create (or replace) a practitioner's secret iCalendar feed URL", "booking", nullptr, nullptr});

        r.add("DELETE", "/api/v1/booking/practitioners/{hsa}/icalfeed", Access::only(kStaff), [this](Request& req) {
            const auto hsa = req.pathParams.at("hsa");
            ctx_->store().write([&](db::Connection& c) {
                c.prepare("DELETE FROM booking_ical_feeds WHERE practitioner = ?").bind(1, hsa).exec();
                ctx_->audit().record(req, {"booking.ical.revoke", "", "administration", "ok", "feed of " + hsa}, c);
            });
            return Response::noContent();
        }, RouteDoc{"Revoke a practitioner's iCalendar feed", "booking", nullptr, nullptr});

        r.add("GET", "/api/v1/booking/ical/{token}", Access::anyone(), [this](Request& req) {
            std::string token = req.pathParams.at("token");
            if (token.size() > 4 && token.compare(token.size() - 4, 4, ".ics") == 0) token.resize(token.size() - 4);
            std::string practitioner, name;
            std::vector<booking::CalendarEvent> events;
            ctx_->store().read([&](db::Connection& c) {
                auto f = c.prepare("SELECT f.practitioner, p.name FROM booking_ical_feeds f JOIN booking_practitioners p"
                                   " ON p.hsa_id = f.practitioner WHERE f.token_hash = ?");
                f.bind(1, sha256Hex(token));
                if (!f.step()) return;
                practitioner = f.getText(0);
                name = f.getText(1);
                auto st = c.prepare(std::string(kBookingSelect) +
                                    "WHERE s.practitioner = ? AND s.start_at > ? AND b.status IN ('booked','arrived','noshow')"
                                    " ORDER BY s.start_at LIMIT 2000");
                st.bind(1, practitioner).bind(2, now() - 30 * 86400);
                while (st.step()) {
                    const auto b = readBooking(st);
                    events.push_back({"booking-" + std::to_string(b.id) + "@klinikbox", fromSec(b.start), fromSec(b.end),
                                      fromSec(b.createdAt), "Bokad tid: " + b.visitTypeName,
                                      b.visitForm == "video" ? "Video" : (b.room.empty() ? b.unitName : b.room + ", " + b.unitName),
                                      false});
                }
            });
            if (practitioner.empty()) throw Problem::notFound("no such calendar feed (it may have been revoked)");
            Response res = Response::text(booking::renderCalendar("Bokningar " + name, events), "text/calendar; charset=utf-8");
            res.headers.emplace_back("Cache-Control", "no-store");
            return res;
        }, RouteDoc{"A practitioner's bookings as iCalendar (secret URL; no patient identities)", "booking", nullptr, nullptr});
    }
};

}  // namespace

KB_PLUGIN(BookingPlugin)
