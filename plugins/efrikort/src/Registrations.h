// The local ledger's rows and their registration in eFrikort: a fee paid at check-in becomes
// a ledger row and one RegisterTransaction; a refund is recorded once and corrects the
// registered transaction (UpdateTransaction, or DeleteTransaction when all was refunded); a
// patient's opt-in at check-in is sent as RegisterOptIn and releases the fees that waited for
// it. Every call to eFrikort goes through the outbox, so a dead network or a killed box only
// delays it.
#pragma once

#include "Settings.h"

#include <klinikbox/Events.h>
#include <klinikbox/Outbox.h>
#include <klinikbox/PluginContext.h>

#include <mutex>
#include <optional>
#include <string>

namespace efrikort {

class Registrations {
public:
    Registrations(klinikbox::PluginContext& ctx, const Settings& settings) : ctx_(ctx), settings_(settings) {}

    // Event hooks (Finalize): each writes the ledger and queues its message in one transaction.
    void onPaid(klinikbox::Event& e);      // checkin.fee.paid
    void onRefunded(klinikbox::Event& e);  // checkin.fee.refunded
    void onOptIn(klinikbox::Event& e);     // checkin.optin

    // Outbox channels efrikort.register, efrikort.correct, efrikort.optin.
    klinikbox::DeliveryResult deliverRegister(const klinikbox::QueuedMessage& m);
    klinikbox::DeliveryResult deliverCorrect(const klinikbox::QueuedMessage& m);
    klinikbox::DeliveryResult deliverOptIn(const klinikbox::QueuedMessage& m);

    struct Row {
        std::string patient, date, state, transactionId, careUnit;
        long long charged = 0, refunded = 0, createdAt = 0;
    };
    [[nodiscard]] std::optional<Row> row(const std::string& paymentId);

private:
    klinikbox::PluginContext& ctx_;
    const Settings& settings_;
    // Corrections of one box are sent one at a time: each sends the amount left as read just
    // before the call, so the last call eFrikort receives carries the latest amount.
    std::mutex correcting_;

    [[nodiscard]] long long now() const;
    void mark(const std::string& paymentId, const std::string& state, const std::string& tx, const std::string& error);
};

}  // namespace efrikort
