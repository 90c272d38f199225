// The hooks the check-in plugin calls: the day's bookings of a patient, and marking one arrived.
#include "BookingPlugin.h"

#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <sstream>

namespace booking {

void BookingPlugin::registerHooks() {
    ctx_->events().hook("checkin.lookup", HookSpec{"booking:lookup", Phase::Decide, {}, {}}, [this](Event& e) {
        const std::string patient = e.payload->optValue<std::string>("patient", "");
        const std::string unit = e.payload->optValue<std::string>("care_unit", "");
        const auto day = today();
        const auto from = booking::dayStart(day);
        const auto to = from + hours{26};
        Array::Ptr arr = new Array;
        ctx_->store().read([&](db::Connection& c) {
            auto st = c.prepare(std::string(kBookingSelect) + kPatientBookingsAtUnitBetween);
            st.bind(1, patient).bind(2, unit).bind(3, toSec(from)).bind(4, toSec(to));
            while (st.step()) {
                const auto b = readBooking(st);
                if (booking::localDate(fromSec(b.start)) != day) continue;
                Object::Ptr o = new Object;
                o->set("booking_id", b.id);
                o->set("start", isoLocal(fromSec(b.start)));
                o->set("end", isoLocal(fromSec(b.end)));
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

}  // namespace booking
