// A Swish Commerce client: payment requests (PUT with a 32-character uppercase hex
// instruction id, which is also the idempotency key), status (GET), cancel (PATCH) and
// refunds, over HTTPS with the merchant's client certificate (mutual TLS).
#pragma once

#include <Poco/JSON/Object.h>

#include <string>

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
};

// A new instruction id: 32 uppercase hex characters from the OS's randomness.
[[nodiscard]] std::string newInstructionId();
// "200.00" from 20000 öre.
[[nodiscard]] std::string swishAmount(long long ore);

// Network errors and timeouts throw.
[[nodiscard]] SwishAnswer createPayment(const SwishSettings& s, const std::string& id, long long ore, const std::string& message,
                                        const std::string& reference);
[[nodiscard]] SwishAnswer getPayment(const SwishSettings& s, const std::string& id);
[[nodiscard]] SwishAnswer cancelPayment(const SwishSettings& s, const std::string& id);
[[nodiscard]] SwishAnswer createRefund(const SwishSettings& s, const std::string& id, const std::string& originalPaymentReference,
                                       long long ore, const std::string& message);

}  // namespace checkin
