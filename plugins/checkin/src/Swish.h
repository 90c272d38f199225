// A Swish Commerce client: payment requests (PUT with a 32-character uppercase hex
// instruction id, which is also the idempotency key), status (GET), cancel (PATCH) and
// refunds, over HTTPS with the merchant's client certificate (mutual TLS); and the pure
// rules around it: the message's character set, the payer's mobile number as an alias,
// the app switch link and QR code payload of an m-commerce request (one without a payer
// alias, reachable only through its PaymentRequestToken), the callback URL's shape and the
// reconciler's backoff schedule.
#pragma once

#include <Poco/JSON/Object.h>

#include <optional>
#include <string>
#include <string_view>

namespace checkin {

struct SwishSettings {
    std::string baseUrl;  // e.g. https://cpc.getswish.net/swish-cpcapi
    std::string payeeAlias, clientCert, clientKey, caBundle, callbackUrl;
    int timeoutMs = 8000;
};

struct SwishAnswer {
    int status = 0;                 // HTTP status
    Poco::JSON::Object::Ptr body;   // the payment object (GET/PATCH), may be null
    std::string errors;             // Swish error codes and messages (4xx), joined
    std::string location;           // Location header of a created request
    std::string requestToken;       // PaymentRequestToken header (m-commerce only)
};

// A new instruction id: 32 uppercase hex characters from the OS's randomness.
[[nodiscard]] std::string newInstructionId();
// "200.00" from 20000 öre.
[[nodiscard]] std::string swishAmount(long long ore);

// The message as Swish accepts it: at most 50 characters from a-ö, A-Ö, 0-9, space and
// :;.,?!()-" (Swish API guide, "message"). '/' becomes '-', other characters are dropped.
[[nodiscard]] std::string swishMessage(std::string_view text);

// A Swedish mobile number as typed ("070-123 45 67", "+46 70 123 45 67", "0046701234567")
// as a Swish payer alias ("46701234567"); nullopt when it is not a Swedish mobile number.
[[nodiscard]] std::optional<std::string> payerAliasFromMobile(std::string_view typed);

// The app switch link that opens the request in the Swish app on the same phone:
// swish://paymentrequest?token=<token>&callbackurl=<url-encoded return page>.
[[nodiscard]] std::string appSwitchUrl(const std::string& requestToken, const std::string& returnUrl);

// What the QR code on the kiosk holds for an m-commerce request: "D" and the token
// (Swish QR code specification, section 6, "Swish C2B").
[[nodiscard]] std::string qrPayload(const std::string& requestToken);

// Swish calls back only on https and port 443 (Swish API guide, "callbackUrl"): "" when the
// URL is acceptable, otherwise why not.
[[nodiscard]] std::string callbackUrlProblem(const std::string& url);

// The reconciler's schedule: seconds to wait before the next status query of an unsettled
// payment that has been asked about `checks` times: 2, 4, 8, 16, 32, then every 60.
[[nodiscard]] long long checkDelaySeconds(int checks);

// Network errors and timeouts throw. An empty payerAlias makes an m-commerce request (the
// answer carries the PaymentRequestToken), a payer alias an e-commerce one.
[[nodiscard]] SwishAnswer createPayment(const SwishSettings& s, const std::string& id, long long ore, const std::string& message,
                                        const std::string& reference, const std::string& payerAlias = "");
[[nodiscard]] SwishAnswer getPayment(const SwishSettings& s, const std::string& id);
[[nodiscard]] SwishAnswer cancelPayment(const SwishSettings& s, const std::string& id);
[[nodiscard]] SwishAnswer createRefund(const SwishSettings& s, const std::string& id, const std::string& originalPaymentReference,
                                       long long ore, const std::string& message);

}  // namespace checkin
