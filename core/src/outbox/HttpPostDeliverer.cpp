#include "outbox/HttpPostDeliverer.h"

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <memory>
#include <sstream>

namespace klinikbox::outbox {

Deliverer httpPostDeliverer(HttpPostTarget target) {
    const Poco::URI uri(target.url);
    if (uri.getScheme() != "https" && uri.getScheme() != "http")
        throw std::invalid_argument("an outbound channel needs an http(s) URL, got " + target.url);
    Poco::Net::Context::Ptr tls;
    if (uri.getScheme() == "https")
        tls = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", "", Poco::Net::Context::VERIFY_RELAXED, 9,
                                     true);
    return [target, uri, tls](const QueuedMessage& m) -> DeliveryResult {
        std::unique_ptr<Poco::Net::HTTPClientSession> s;
        if (tls)
            s = std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort(), tls);
        else
            s = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
        const Poco::Timespan timeout(static_cast<long>(target.timeoutMs) * 1000);
        s->setTimeout(timeout, timeout, timeout);
        Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_POST, uri.getPathAndQuery().empty() ? "/" : uri.getPathAndQuery(),
                                   Poco::Net::HTTPMessage::HTTP_1_1);
        req.setContentType("application/json; charset=utf-8");
        req.setContentLength(static_cast<std::streamsize>(m.payload.size()));
        req.set("Idempotency-Key", m.idempotencyKey);
        if (!target.bearerToken.empty()) req.set("Authorization", "Bearer " + target.bearerToken);
        s->sendRequest(req) << m.payload;
        Poco::Net::HTTPResponse res;
        std::istream& in = s->receiveResponse(res);
        std::ostringstream ignored;
        Poco::StreamCopier::copyStream(in, ignored, 8192);
        const int status = res.getStatus();
        const std::string detail = "HTTP " + std::to_string(status) + " from " + uri.getHost();
        if (status >= 200 && status < 300) return DeliveryResult::delivered(detail);
        if (status == 408 || status == 425 || status == 429 || status >= 500) return DeliveryResult::retry(detail);
        return DeliveryResult::failed(detail);
    };
}

}  // namespace klinikbox::outbox
