// The booking plugin's settings (schema.yaml), read once when the plugin starts.
#pragma once

#include "Messages.h"

#include <Poco/JSON/Object.h>

#include <string>
#include <vector>

namespace booking {

struct Settings {
    int horizonDays = 90;
    int cancelLatestHours = 24;
    bool closeOnEves = true;
    std::vector<int> reminderHours{24, 2};
    int invitationValidDays = 30;
    std::string publicUrl, clinicPhone;
    booking::SmsSettings sms;
    booking::EmailSettings email;

    static Settings from(const Poco::JSON::Object::Ptr& c) {
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

}  // namespace booking
