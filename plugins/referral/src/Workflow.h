// What staff and the outside world do with referrals, on top of the store: drafts, sending
// through the outbox, answering, the directory, the inbound endpoint, with the role checks
// done by the routes and every read and write of a referral audit-logged with its purpose.
#pragma once

#include "Directory.h"
#include "Producer.h"
#include "Referrals.h"

#include <klinikbox/PluginContext.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <set>
#include <string>

namespace klinikbox::referral {

struct Settings {
    std::set<std::string> units;  // this box's care units (HSA-ids); the first sends
    std::string unitName;
    std::string clientCert, clientKey, caBundle;  // for calls to receivers (mutual TLS)
    int timeoutMs = 10000;
    int overdueDays = 7;
    std::size_t maxAttachmentBytes = 2u << 20;
    int maxAttachments = 5;
    std::size_t maxInboundBytes = 16u << 20;
};
[[nodiscard]] Settings settingsFrom(const Poco::JSON::Object::Ptr& cfg);

class Workflow {
public:
    Workflow(PluginContext& ctx, Settings s) : ctx_(ctx), s_(std::move(s)) {}

    Poco::JSON::Object::Ptr createDraft(Request& req);
    Poco::JSON::Object::Ptr updateDraft(Request& req);
    Poco::JSON::Object::Ptr addAttachment(Request& req);
    Poco::JSON::Object::Ptr send(Request& req);
    Poco::JSON::Object::Ptr read(Request& req);
    Response attachment(Request& req);
    Poco::JSON::Object::Ptr list(Request& req, const std::string& direction);
    Poco::JSON::Object::Ptr overdueList(Request& req);
    // Figures.cpp: incoming referrals waiting for an answer and overdue outgoing ones
    // (counts only) for the console's dashboard.
    Poco::JSON::Object::Ptr figures(Request& req);
    Poco::JSON::Object::Ptr answer(Request& req);
    Poco::JSON::Object::Ptr cancel(Request& req);
    Poco::JSON::Object::Ptr invite(Request& req);

    Poco::JSON::Object::Ptr receivers(Request& req);
    Poco::JSON::Object::Ptr putReceiver(Request& req);
    Response deleteReceiver(Request& req);
    Poco::JSON::Object::Ptr importReceivers(Request& req);

    // The inbound endpoint (served on the producer listener only).
    Response inbound(Request& req);

    // Outbox deliverers.
    DeliveryResult deliverRequest(const QueuedMessage& m);
    DeliveryResult deliverAnswer(const QueuedMessage& m);

    [[nodiscard]] long long now() const;
    [[nodiscard]] std::size_t overdueCount();

private:
    Referral load(db::Connection& c, const std::string& id, const std::string& direction = {});
    Referral fromJson(const Poco::JSON::Object::Ptr& o, Referral base, bool partial);
    DeliveryResult post(const Receiver& to, const std::string& operation, const std::string& body);
    void audit(const Request& req, const std::string& action, const std::string& patient, const std::string& details,
               db::Connection* tx = nullptr);

    PluginContext& ctx_;
    Settings s_;
};

// `today` (the box's) checks the stored personnummer before a list shows it masked.
[[nodiscard]] Poco::JSON::Object::Ptr toJson(const Referral& r, bool full, std::chrono::year_month_day today = {});

}  // namespace klinikbox::referral
