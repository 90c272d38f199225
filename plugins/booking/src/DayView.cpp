// The day and week view of a unit: every slot in the range with its live booking, written
// straight into the response text, and one audit record listing every patient shown.
#include "DayView.h"

#include <klinikbox/Schema.h>

#include "BookingPlugin.h"
#include "JsonOut.h"

#include <algorithm>
#include <functional>
#include <string_view>
#include <unordered_map>

namespace booking {

namespace {

// Looks a std::string key up by a string_view (the column text) without making a string.
struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
template <class V>
using TextMap = std::unordered_map<std::string, V, TextHash, std::equal_to<>>;

struct Practitioner {
    std::string hsaId, name;
};
struct VisitType {
    std::string id, name, form;
};

// The small tables a view names its slots from, read in the view's own read transaction.
struct Names {
    TextMap<Practitioner> practitioners;
    TextMap<VisitType> visitTypes;
    std::unordered_map<long long, std::string> rooms;

    explicit Names(db::Connection& c) {
        auto p = c.prepare("SELECT hsa_id, name FROM booking_practitioners");
        while (p.step()) {
            std::string id = p.getText(0);
            practitioners.emplace(id, Practitioner{id, p.getText(1)});
        }
        auto v = c.prepare("SELECT id, name, visit_form FROM booking_visit_types");
        while (v.step()) {
            std::string id = v.getText(0);
            visitTypes.emplace(id, VisitType{id, v.getText(1), v.getText(2)});
        }
        auto r = c.prepare("SELECT id, name FROM booking_rooms");
        while (r.step()) rooms.emplace(r.getInt(0), r.getText(1));
    }
};

// One row of the view, held until every row of its start time is read.
struct Row {
    long long slotId = 0, start = 0, end = 0;
    const Practitioner* practitioner = nullptr;
    const VisitType* visitType = nullptr;
    const std::string* room = nullptr;
    bool booked = false;
    long long bookingId = 0;
    std::string patient, status, channel;
};

}  // namespace

void BookingPlugin::registerDayViewRoutes() {
    using namespace klinikbox::schema;
    auto& r = ctx_->router();
    // Day and week views: every slot of the unit with its booking; each patient shown is logged.
    r.add("GET", "/api/v1/booking/calendar", Access::only(kStaff), [this](Request& req) {
        const auto unit = queryHsa(req, "unit");
        const auto from = queryDate(req, "date", today());
        const auto n = static_cast<int>(req.intQuery("days", 1, 1, 7));
        const auto practitioner = queryHsa(req, "practitioner", false);
        const auto to = year_month_day{sys_days{from} + days{n - 1}};
        ensureSlots(from, to);
        const auto start = booking::dayStart(from);
        const auto end = booking::dayStart(year_month_day{sys_days{to} + days{1}});
        // Written straight into the response text (the keys in the order Poco's objects
        // wrote them): a day of a busy unit holds hundreds of slots. Reserved as large as the
        // largest view so far, so the text is not copied while it grows.
        JsonOut out(std::max<std::size_t>(4096, calendarBytes_.load(std::memory_order_relaxed)));
        out.beginObject().field("days", n).field("from", isoDate(from)).field("healthcare_facility", unit);
        out.key("slots").beginArray();
        std::set<std::string> patients;
        const long long nowSec = now();
        const long long changeWindow = static_cast<long long>(s_.cancelLatestHours) * 3600;
        static const std::string noRoom;
        char time[booking::kIsoLocalSize];
        const auto text = [&](long long sec) {
            booking::formatIsoLocal(fromSec(sec), time);
            return std::string_view(time, booking::kIsoLocalSize);
        };
        const auto write = [&](const Row& row) {
            out.beginObject();
            if (row.booked) {
                out.field("booking_id", row.bookingId);
                // Inside the patients' limit staff give a reason for a change.
                out.field("change_needs_reason", nowSec >= row.start - changeWindow);
                out.field("channel", row.channel);
            }
            out.field("end", text(row.end));
            if (row.booked) out.field("patient", row.patient);
            out.field("practitioner", row.practitioner->hsaId).field("practitioner_name", row.practitioner->name);
            out.field("room", *row.room);
            out.field("slot_id", row.slotId).field("start", text(row.start));
            out.field("status", row.booked ? std::string_view(row.status) : std::string_view("free"));
            out.field("visit_form", row.visitType->form).field("visit_type", row.visitType->id)
                .field("visit_type_name", row.visitType->name);
            out.endObject();
        };
        ctx_->store().read([&](db::Connection& c) {
            const Names names(c);
            // The rows of one start time (one per practitioner), ordered by name when the
            // next start time begins.
            std::vector<Row> group;
            std::string lastPatient;
            const auto flush = [&] {
                std::sort(group.begin(), group.end(), [](const Row& a, const Row& b) {
                    if (a.practitioner->name != b.practitioner->name) return a.practitioner->name < b.practitioner->name;
                    return a.practitioner->hsaId < b.practitioner->hsaId;
                });
                for (const auto& row : group) write(row);
                group.clear();
            };
            auto st = c.prepare(kDayViewSlots);
            st.bind(1, unit).bind(2, toSec(start)).bind(3, toSec(end)).bind(4, practitioner);
            while (st.step()) {
                // A slot of a practitioner or visit type no longer in the register is not
                // shown (the join the view always had).
                const auto p = names.practitioners.find(st.getTextView(3));
                const auto v = names.visitTypes.find(st.getTextView(4));
                if (p == names.practitioners.end() || v == names.visitTypes.end()) continue;
                Row row;
                row.slotId = st.getInt(0);
                row.start = st.getInt(1);
                row.end = st.getInt(2);
                if (!group.empty() && group.front().start != row.start) flush();
                row.practitioner = &p->second;
                row.visitType = &v->second;
                row.room = &noRoom;
                if (!st.isNull(5)) {
                    const auto room = names.rooms.find(st.getInt(5));
                    if (room != names.rooms.end()) row.room = &room->second;
                }
                row.booked = !st.isNull(6);
                if (row.booked) {
                    row.bookingId = st.getInt(6);
                    row.patient = st.getTextView(7);
                    row.status = st.getTextView(8);
                    row.channel = st.getTextView(9);
                    if (row.patient != lastPatient) lastPatient = *patients.insert(row.patient).first;
                }
                group.push_back(std::move(row));
            }
            flush();
        });
        out.endArray().endObject();
        if (out.str().size() > calendarBytes_.load(std::memory_order_relaxed))
            calendarBytes_.store(std::min<std::size_t>(out.str().size() + out.str().size() / 8, kCalendarReserveMax),
                                 std::memory_order_relaxed);
        // One record of the view that lists every patient shown (PDL: each patient's log
        // extract finds it through the record's subjects).
        ctx_->audit().recordSubjects(req, AuditEntry{"booking.read", "", kPurposeCare, "ok", "calendar " + unit + " from " + isoDate(from)},
                                     std::vector<std::string>(patients.begin(), patients.end()));
        return Response::text(out.take(), "application/json");
    }, RouteSpec{.summary = "Day or week view of a unit: every slot and its booking", .tag = "booking", .status = 200, .query = {{"unit", hsaId(), true, ""}, {"date", date(), false, ""}, {"days", integer(1, 7), false, ""}, {"practitioner", hsaId(), false, ""}}});
}

}  // namespace booking
