// The check-in plugin's state and the resources it serves, one file each:
//   CheckinPlugin.cpp  registration only: settings, outbox channels, routes, console page
//   Visits.cpp         loading visits and payments, the kiosk's lookup throttle
//   Arrivals.cpp       checking a patient in: the booking lookup, the fee, the visit's JSON
//   Payments.cpp       paying (Swish, desk, invoice), refunds and the fee reports to e-frikort
//   Receipts.cpp       the receipt, shown and mailed
//   KioskRoutes.cpp    the patient's routes (kiosk and phone), Swish's callback
//   DeskRoutes.cpp     the reception's routes: desk check-in, payments, refunds, the day report
// The pure rules live in FeeRules (fees and exemptions) and Swish (the payment API client).
#pragma once

#include "FeeRules.h"
#include "Support.h"
#include "Swish.h"

#include <klinikbox/JsonInput.h>
#include <klinikbox/Personnummer.h>
#include <klinikbox/Plugin.h>
#include <klinikbox/Problem.h>
#include <klinikbox/Secrets.h>

#include <Poco/JSON/Array.h>

#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace checkin::plugin {

class CheckinPlugin final : public Plugin {
public:
    // CheckinPlugin.cpp: reads the settings and wires the channels, routes and page.
    void start(PluginContext& ctx) override;

private:
    PluginContext* ctx_ = nullptr;
    std::string unit_, clinicName_, smtpHost_, mailFrom_;
    int before_ = 60, after_ = 20, smtpPort_ = 25;
    checkin::FeeRules rules_;
    bool swishEnabled_ = false;
    checkin::SwishSettings swish_;
    std::mutex limitMu_;
    std::map<std::string, std::pair<long long, int>> misses_;  // address -> (window start, failed lookups)

    [[nodiscard]] long long now() const { return duration_cast<seconds>(ctx_->clock().now().time_since_epoch()).count(); }

    // An unattended kiosk must not become a way to test personnummer: 20 misses per address
    // in 10 minutes, then 429.
    void limit(const Request& req, bool miss);

    std::optional<Visit> loadVisit(db::Connection& c, const std::string& where, const std::string& key);

    std::optional<Payment> livePayment(db::Connection& c, long long visitId);

    Visit visitByToken(const Request& req);

    // ---- check-in ----

    Object::Ptr checkIn(const Request& req, const std::string& patientText, const std::string& channel);

    Visit visitByTokenValue(const std::string& tok);

    static long long parseIso(const std::string& s);
    static year_month_day parseDay(const std::string& s);
    // HH:MM in Stockholm time (the offset of the booking's day).
    static std::string clockOf(long long utc);

    Object::Ptr sessionJson(const Visit& v, const std::string& tok);

    Object::Ptr statusJson(const Visit& v);

    static Object::Ptr paymentJson(const Payment& p);

    // ---- payments ----

    // Marks a payment paid and queues the fee report in the same transaction (once).
    bool applyPaid(long long paymentId, const std::string& reference, const std::string& by);

    void applyStatus(long long paymentId, const std::string& status);

    // Never trusts a callback or a waiting kiosk: asks Swish for the truth.
    void confirmSwish(const Payment& p);

    Object::Ptr pay(const Request& req, const Visit& v, const std::string& method, const std::string& by);

    // ---- receipts ----

    Object::Ptr receiptJson(const Visit& v);

    DeliveryResult mailReceipt(const QueuedMessage& m);

    // The outbox's deliverer of fee reports: the e-frikort plugin registers in its hook;
    // a failing hook means "try again later".
    DeliveryResult report(const std::string& event, const QueuedMessage& m);

    // ---- routes ----

    void registerPatientRoutes();

    void registerStaffRoutes();
};

}  // namespace checkin::plugin
