// The check-in plugin's state and the resources it serves, one file each:
//   CheckinPlugin.cpp  registration only: settings, outbox channels, routes, console page
//   Visits.cpp         loading visits and payments
//   Kiosks.cpp         kiosk devices, the phone code, the limits of anonymous check-in, what a patient sees
//   Arrivals.cpp       checking a patient in: the booking lookup, the fee, the visit's JSON
//   Payments.cpp       paying (Swish, desk, invoice), refunds and the fee reports to e-frikort
//   Reconciler.cpp     the background reconciler: asks Swish about every unsettled payment
//                      (with backoff) until it is final, also after a restart
//   SwishView.cpp      what the kiosk and the phone show of a Swish request: QR code, app link
//   Receipts.cpp       the receipt, shown and mailed
//   KioskRoutes.cpp    the patient's routes (kiosk and phone), Swish's callback
//   DeskRoutes.cpp     the reception's routes: desk check-in, payments, refunds
//   DayReport.cpp      the day report and the dashboard's figures of today
// The pure rules live in FeeRules (fees and exemptions), Swish (the payment API client) and
// QrCode (the QR code drawn by the box).
#pragma once

#include "FeeRules.h"
#include "Support.h"
#include "Swish.h"

#include <klinikbox/AttemptLimiter.h>
#include <klinikbox/DenialSummary.h>
#include <klinikbox/JsonInput.h>
#include <klinikbox/Personnummer.h>
#include <klinikbox/Plugin.h>
#include <klinikbox/Problem.h>
#include <klinikbox/Secrets.h>

#include <Poco/JSON/Array.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace checkin::plugin {

class CheckinPlugin final : public Plugin {
public:
    // CheckinPlugin.cpp: reads the settings and wires the channels, routes and page.
    void start(PluginContext& ctx) override;
    // Stops the reconciler (it returns within one Swish request's timeout).
    void stop() override;
    ~CheckinPlugin() override { stop(); }

private:
    PluginContext* ctx_ = nullptr;
    std::string unit_, clinicName_, smtpHost_, mailFrom_;
    int before_ = 60, after_ = 20, smtpPort_ = 25;
    checkin::FeeRules rules_;
    bool swishEnabled_ = false;
    checkin::SwishSettings swish_;
    std::thread reconciler_;
    std::mutex reconcileMu_;
    std::condition_variable reconcileCv_;
    bool stopping_ = false;
    // ---- kiosks and the limits of anonymous check-in (Kiosks.cpp) ----
    struct Kiosk {
        long long id = 0;
        std::string name;
    };
    std::vector<std::string> languages_;
    int idleSeconds_ = 60;
    std::string codeSecret_;  // per start; the phone codes change with it
    std::unique_ptr<AttemptLimiter> deviceLookups_, deviceMisses_, phoneLookups_, phoneMisses_;
    std::unique_ptr<DenialSummary> refusals_;

    [[nodiscard]] long long now() const { return duration_cast<seconds>(ctx_->clock().now().time_since_epoch()).count(); }

    void startKiosks(const Object::Ptr& settings);
    // The registered kiosk the request comes from (its device cookie), if any.
    std::optional<Kiosk> deviceOf(const Request& req);
    // The six-digit phone code of a five-minute step; valid are the current and the previous.
    [[nodiscard]] std::string phoneCode(long long step) const;
    [[nodiscard]] bool phoneCodeValid(const std::string& code) const;
    void recordRefusal(const Request& req, const std::string& key, const std::string& why);
    [[noreturn]] void tooMany(const Request& req, AttemptLimiter& limiter, const std::string& key);
    // The kiosk's and the phone's check-in: presence proven, every attempt counted.
    Object::Ptr anonymousCheckIn(const Request& req, const std::string& patient, const std::optional<std::string>& code,
                                 const std::optional<std::string>& channelAsked);
    // Only what the patient's screen shows of a visit (see Kiosks.cpp).
    static Object::Ptr patientView(const Object::Ptr& full);
    void registerKioskRoutes();

    std::optional<Visit> loadVisit(db::Connection& c, const std::string& where, const std::string& key);

    std::optional<Payment> livePayment(db::Connection& c, long long visitId);
    // The payment row matching `where` (one bound text parameter).
    std::optional<Payment> paymentWhere(db::Connection& c, const std::string& where, const std::string& key);

    Visit visitByToken(const Request& req);

    // ---- check-in ----

    Object::Ptr checkIn(const Request& req, const std::string& patientText, const std::string& channel);

    // The instant (Unix seconds) of a booking's "start" in a checkin.lookup answer; 503 when
    // it is not an ISO 8601 time with an offset.
    long long startOf(const Object::Ptr& booking) const;
    static year_month_day parseDay(const std::string& s);
    // HH:MM in the box's local time.
    static std::string clockOf(long long utc);

    Object::Ptr sessionJson(const Visit& v, const std::string& tok);

    // The visit's state; with the session token, a Swish request's app switch link returns the
    // phone to the receipt of this visit.
    Object::Ptr statusJson(const Visit& v, const std::string& sessionToken = "");

    static Object::Ptr paymentJson(const Payment& p);

    // ---- payments ----

    // Marks a payment paid and queues the fee report in the same transaction (once).
    bool applyPaid(long long paymentId, const std::string& reference, const std::string& by);

    void applyStatus(long long paymentId, const std::string& status);

    // Never trusts a callback or a waiting kiosk: asks Swish for the truth. Returns true when
    // the payment is final now; otherwise the reconciler (`reconciling`) schedules its next
    // query on the backoff schedule (a kiosk's polling or a callback leaves it as it is).
    bool confirmSwish(const Payment& p, bool reconciling = false);

    // payerAlias: empty for m-commerce (QR code or app switch), the payer's number for e-commerce.
    Object::Ptr pay(const Request& req, const Visit& v, const std::string& method, const std::string& by,
                    const std::string& payerAlias = "");

    // ---- the reconciler (Reconciler.cpp) ----

    void reconcileLoop();
    // Asks Swish about the unsettled Swish payments that are due (all of them when `all`);
    // returns how many are still unsettled.
    int reconcile(bool all);

    // ---- Swish at the kiosk (SwishView.cpp) ----

    // The QR code (SVG) and app switch link of a live m-commerce request, or the payer alias
    // of an e-commerce one.
    Object::Ptr swishView(const Payment& p, const std::string& sessionToken) const;

    // ---- receipts ----

    Object::Ptr receiptJson(const Visit& v);

    DeliveryResult mailReceipt(const QueuedMessage& m);

    // The outbox's deliverer of fee reports: the e-frikort plugin registers in its hook;
    // a failing hook means "try again later".
    DeliveryResult report(const std::string& event, const QueuedMessage& m);

    // ---- routes ----

    void registerPatientRoutes();

    void registerStaffRoutes();
    void registerDayReportRoutes();
};

}  // namespace checkin::plugin
