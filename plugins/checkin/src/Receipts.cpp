// Receipts: the receipt of a paid visit, as JSON and mailed through the outbox.
#include "CheckinPlugin.h"

#include <Poco/JSON/Parser.h>
#include <Poco/Net/MailMessage.h>
#include <Poco/Net/MailRecipient.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SMTPClientSession.h>

#include <sstream>

namespace checkin::plugin {

Object::Ptr CheckinPlugin::receiptJson(const Visit& v) {
    auto o = statusJson(v);
    // The patient's own receipt: the fee, what was paid and why it was free, but not the
    // frikort status or what is left to the ceiling.
    for (const char* k : {"card_status", "card_source", "left_ore"}) o->remove(k);
    o->set("clinic", clinicName_);
    o->set("date", v.date);
    o->set("tariff", v.tariff);
    o->set("fee_text", kronor(v.feeOre));
    o->set("charge_text", kronor(v.chargeOre));
    o->set("receipt_no", "KB-" + v.date.substr(0, 4) + "-" + std::to_string(v.id));
    return o;
}

DeliveryResult CheckinPlugin::mailReceipt(const QueuedMessage& m) {
    if (smtpHost_.empty()) return DeliveryResult::failed("no SMTP server is configured (email.smtp_host)");
    Poco::JSON::Parser p;
    const auto o = p.parse(m.payload).extract<Object::Ptr>();
    try {
        Poco::Net::MailMessage msg;
        msg.setSender(mailFrom_);
        msg.addRecipient(Poco::Net::MailRecipient(Poco::Net::MailRecipient::PRIMARY_RECIPIENT, o->getValue<std::string>("to")));
        msg.setSubject(Poco::Net::MailMessage::encodeWord("Kvitto " + o->getValue<std::string>("receipt_no"), "UTF-8"));
        msg.setContentType("text/plain; charset=UTF-8");
        msg.setContent(o->getValue<std::string>("text"), Poco::Net::MailMessage::ENCODING_QUOTED_PRINTABLE);
        Poco::Net::SMTPClientSession s(smtpHost_, static_cast<Poco::UInt16>(smtpPort_));
        s.setTimeout(Poco::Timespan(10, 0));
        s.login();
        s.sendMessage(msg);
        s.close();
        return DeliveryResult::delivered("accepted by " + smtpHost_);
    } catch (const Poco::Net::SMTPException& e) {
        return DeliveryResult::retry("SMTP: " + e.displayText());
    }
}

}  // namespace checkin::plugin
