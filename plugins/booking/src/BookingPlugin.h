// The booking plugin's state and the resources it serves, one file each:
//   BookingPlugin.cpp  registration only: channels, hooks, routes, console pages
//   Setup.cpp          units, practitioners, visit types, rooms, schedules, closed days (admin)
//   Availability.cpp   slot generation and the free dates and times (no patient data)
//   Bookings.cpp       booking, rebooking, cancelling and no-shows: the one path every channel uses
//   DayView.cpp        the day and week view of a unit (every slot and its booking)
//   Reminders.cpp      what the patient is told and when: outbox channels, texts, reminders
//   VipCodes.cpp       codes that let a patient book beyond the normal rules
//   Invitations.cpp    kallelser (invitations): a link by which a patient books a given visit
//   Feeds.cpp          a practitioner's bookings as an iCalendar feed
//   CheckinHooks.cpp   the hooks the check-in plugin calls (lookup, arrived)
//   PluginRequests.cpp what other plugins ask through sync events: booking.book (a slot for a
//                      patient: the waiting list), referral.invitation.requested (a kallelse)
//   Patients.cpp       what every resource does with a patient: personnummer, PDL audit record
//   BookingRow, Settings, Support: the loaded booking, the settings, the shared helpers
// The pure rules (holidays, local time, slots, iCalendar text, message texts) live in
// Calendar, Schedule, ICal and Messages.
#pragma once

#include "BookingRow.h"
#include "Calendar.h"
#include "ICal.h"
#include "Messages.h"
#include "Schedule.h"
#include "Settings.h"
#include "Support.h"

#include <klinikbox/AttemptLimiter.h>
#include <klinikbox/HsaId.h>
#include <klinikbox/JsonInput.h>
#include <klinikbox/Personnummer.h>
#include <klinikbox/Plugin.h>
#include <klinikbox/Secrets.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace booking {

class BookingPlugin final : public Plugin {
public:
    // BookingPlugin.cpp: the registration.
    void start(PluginContext& ctx) override;

private:
    PluginContext* ctx_ = nullptr;
    Settings s_;
    // The largest calendar view so far (bytes), what the next one reserves: growing a text of
    // hundreds of KiB copies it each time it doubles. A large block is mapped, not touched,
    // until written, so reserving for a week costs a day view no resident memory.
    std::atomic<std::size_t> calendarBytes_{0};
    static constexpr std::size_t kCalendarReserveMax = 4u << 20;
    std::mutex genMu_;
    std::set<std::string> generatedDays_;  // dates whose slots exist (generation is idempotent)
    // Wrong invitation links and wrong VIP codes share one counter per address (vipThrottle).
    std::unique_ptr<AttemptLimiter> wrongCodes_;

    [[nodiscard]] long long now() const { return toSec(floor<seconds>(ctx_->clock().now())); }
    [[nodiscard]] year_month_day today() const { return booking::localDate(fromSec(now())); }
    [[nodiscard]] std::string who(const Request& req) const {
        return req.principal ? req.principal->username : std::string("patient");
    }

    std::string parsePatient(const std::string& text, const std::string& field = "patient") const;

    void audit(const Request& req, const std::string& action, const std::string& patient, const std::string& details,
               db::Connection* tx = nullptr, const std::string& outcome = "ok");

    // ---- slots ----

    std::vector<booking::ScheduleRule> loadRules(db::Connection& c);

    // Makes sure the slots of [from, to] exist. Idempotent (UNIQUE practitioner+start), so a
    // restart or two requests at once only cost time. A slot a schedule makes where a
    // withdrawn one (of an ended schedule) lies takes its place; one that would overlap
    // another slot of the practitioner's still in use (booked under an ended schedule with
    // other visit lengths) is not made: the practitioner is never offered twice at once.
    void ensureSlots(year_month_day from, year_month_day to);
    void forgetGeneratedDays();
    void forgetGeneratedDay(year_month_day day);
    // After a booking leaves a slot (cancelled, rebooked): a slot that its schedule no
    // longer covers (the schedule ended before that day) or on a day the unit has closed
    // since is withdrawn rather than offered again. Returns the slot's local day when it
    // was withdrawn: call forgetGeneratedDay with it after the write, so a schedule that
    // replaced the ended one fills the time it frees.
    std::optional<year_month_day> releaseSlot(db::Connection& c, long long slotId);
    // With close_on_eves, the free future slots on the eves that were made while it was off
    // are withdrawn (at start: the settings page restarts the plugin); booked ones stay.
    void withdrawSlotsOnClosedEves();

    year_month_day horizonEnd() const { return year_month_day{sys_days{today()} + days{s_.horizonDays}}; }

    // Free slots: not withdrawn, in the future, without a live booking.
    Array::Ptr freeSlots(const std::string& unit, const std::string& visitType, const std::string& practitioner,
                         year_month_day from, year_month_day to, int limit);

    // ---- JSON of a booking (crm:scheduling names) ----

    Object::Ptr bookingJson(const BookingRow& b) const;

    // ---- messages through the outbox ----

    void queueMessages(db::Connection& c, const BookingRow& b, const std::string& kind);

    // The text of a message: time and place only.
    std::string messageText(const BookingRow& b, const std::string& kind, const std::string& link = {}) const;

    Deliverer deliverer(bool sms);

    void registerChannels();

    // ---- hooks for the check-in plugin ----

    void registerHooks();

    // ---- setup (admin) ----

    void registerSetupRoutes();

    void insertOrConflict(const Request& req, const std::string& sql, const std::vector<std::string>& values,
                          const std::string& conflict, const std::string& action, const std::string& what);
    void requireExists(const std::string& sql, const std::string& value, const std::string& field, const std::string& why);
    static Response created(const std::string& id);

    // ---- availability (no patient data) ----

    void registerAvailabilityRoutes();

    // ---- booking: the one path every channel uses ----

    struct BookInput {
        long long slotId = 0;
        std::string patient, purpose, reason, note, phone, email, guardian, channel, triage;
        std::optional<long long> invitationId;
        std::optional<int> urgencyDays;
        std::optional<std::vector<int>> reminderHours;  // set by a booking.requested hook
        std::string requestKey;  // booking.book: the requester's key (one booking per key)
        std::string createdBy;   // who booked when no person did (booking.book from a timer)
    };

    // Runs booking.requested (hooks may change slot_id, note, purpose or veto), then inserts
    // the booking, its audit record and its messages in one transaction.
    BookingRow book(const Request& req, BookInput in, std::optional<long long> replaces = std::nullopt,
                    const std::string& why = {});

    // The free slots of the same care unit and visit form on the same (Swedish) day as
    // `slotId`, still ahead: what a routing hook on booking.requested may choose from.
    Poco::JSON::Array::Ptr freeSlotsLike(long long slotId);
    // The reminder hours a booking.requested hook left in `reminders` (a list of whole hours
    // 1-8760; [] for none); nullopt when absent or not such a list (the settings apply).
    static std::optional<std::vector<int>> remindersOf(const Object::Ptr& payload);
    // Queues the reminders `hours` before the booking (the settings' reminder_hours unless
    // a booking.requested hook chose others).
    void queueReminders(db::Connection& c, const BookingRow& b, const std::vector<int>& hours);

    void publish(const std::string& name, const BookingRow& b, const Request& req,
                 const std::function<void(Object&)>& extra = {});

    BookInput readBookInput(const JsonInput& in, const std::string& channel) const;

    BookingRow requireBooking(long long id);

    // Patients may change a booking until `cancel_latest_hours` before it starts; staff may
    // change any booking that has not started, giving a reason inside that window. Returns
    // the text the audit record carries ("" when the change was in time).
    [[nodiscard]] std::string checkChangeAllowed(const Request& req, const BookingRow& b,
                                                 const std::optional<std::string>& staffReason) const;

    BookingRow cancel(const Request& req, const BookingRow& b, const std::string& by, const std::string& why = {});

    void registerBookingRoutes();

    // DayView.cpp: the day and week view of a unit.
    void registerDayViewRoutes();

    // PluginRequests.cpp: booking.book, by which another plugin (native or Lua) books a slot
    // for a patient and learns the outcome at once; referral.invitation.requested.
    void registerPluginRequests();
    void answerBookRequest(Event& e);

    // Figures.cpp: today's numbers and the week for the console's dashboard.
    void registerFigureRoutes();

    // ---- VIP codes ----

    // Invitations and VIP codes, one counter per address: 9 wrong tries in 10 minutes (from
    // the first) are answered; the 10th try, right or wrong, is refused with 429.
    void vipThrottle(const Request& req, bool failed);

    struct Vip {
        long long id = 0;
        std::string patient;
        std::set<std::string> visitTypes;
        long long maxActive = 0, horizonDays = 0;
    };

    Vip checkVip(const Request& req, const std::string& code, const std::string& patient);

    void registerVipRoutes();

    // ---- invitations (kallelser) ----

    struct Invitation {
        long long id = 0;
        std::string patient, unit, unitName, address, visitType, visitTypeName, purpose, kind, phone, email;
        std::string questions, answers;
        std::optional<long long> bookingId;
        long long expires = 0;
    };

    std::optional<Invitation> loadInvitation(db::Connection& c, const std::string& where, const std::string& key);

    // The patient opens the link and proves who they are with their personnummer.
    // The token comes in the body, never the path: paths reach access logs and proxies.
    Invitation openInvitation(const Request& req, const std::string& token, const std::string& patientText);

    Object::Ptr invitationJson(const Invitation& inv, bool forPatient);

    void queueInvitationMessage(db::Connection& c, const Invitation& inv, const std::string& token);

    // An invitation from the fields of POST /invitations (also what a referral asks for):
    // stored, its message queued, audit-logged. Returns {id, link, bookingId?}.
    Object::Ptr createInvitation(const Request& req, const JsonInput& in);
    // referral.invitation.requested (sync): a received referral's patient is invited.
    void answerReferralInvitation(Event& e);

    void registerInvitationRoutes();

    // ---- iCalendar feeds ----

    void registerICalRoutes();
};

}  // namespace booking
