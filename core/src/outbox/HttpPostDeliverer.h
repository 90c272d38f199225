// A deliverer that POSTs each message's payload as JSON to one configured URL: the
// outbound channels of hook scripts (lua.channels). 2xx is delivered; 408, 425, 429, 5xx
// and network errors are retried with the outbox's backoff; other 4xx go to the dead
// letters with the status in the detail. The idempotency key goes out as the
// Idempotency-Key header so the receiver can drop a repeated delivery.
#pragma once

#include <klinikbox/Outbox.h>

#include <string>

namespace klinikbox::outbox {

struct HttpPostTarget {
    std::string url;          // https://..., or http:// on loopback
    std::string bearerToken;  // "Authorization: Bearer ..." when not empty; never logged
    int timeoutMs = 10000;
};

[[nodiscard]] Deliverer httpPostDeliverer(HttpPostTarget target);

}  // namespace klinikbox::outbox
