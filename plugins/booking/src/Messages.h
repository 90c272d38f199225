// Messages to patients: what they say (time and place only — never health information, never
// the visit's purpose or reason) and how they go out (an SMS gateway over HTTP, e-mail over
// SMTP), for the outbox's deliverers.
#pragma once

#include <klinikbox/Outbox.h>

#include <chrono>
#include <optional>
#include <string>

namespace booking {

struct SmsSettings {
    std::string gatewayUrl, token, sender;
};
struct EmailSettings {
    std::string host, from;
    int port = 25;
};

// "+46701234567" from "070-123 45 67", "+46 70 123 45 67", "0046701234567"; nullopt when it
// is not a plausible phone number.
[[nodiscard]] std::optional<std::string> normalisePhone(const std::string& text);
[[nodiscard]] bool plausibleEmail(const std::string& text);

// "onsdag 25 november kl. 09.00" (the box's local time)
[[nodiscard]] std::string swedishWhen(std::chrono::sys_seconds start);

// POSTs {to, from, text} as JSON with the bearer token; 2xx delivered, 5xx/429/network retry,
// other 4xx failed.
[[nodiscard]] klinikbox::DeliveryResult sendSms(const SmsSettings& s, const std::string& to, const std::string& text);
[[nodiscard]] klinikbox::DeliveryResult sendEmail(const EmailSettings& s, const std::string& to, const std::string& subject,
                                                  const std::string& text);

}  // namespace booking
