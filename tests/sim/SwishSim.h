// The simulator's Swish (tests/sim): the merchant's API over mutual TLS (payment requests
// and refunds by instruction id, PUT v2 / GET and PATCH v1, Swish's error codes and field
// rules), m-commerce requests a payer can pay only after scanning their token (the kiosk's
// QR code), settling as the payer would, callbacks to the box (port 443 or the steered
// forward), expiry after expirySeconds (TM01), and its steering under /sim/api/swish/.
#pragma once

#include "SimState.h"

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <string>

namespace sim {

class SwishSim {
public:
    SwishSim(State& state, int timeoutMs) : state_(state), timeoutMs_(timeoutMs) {}

    // The CA the callbacks verify the box's certificate with ("" verifies nothing).
    std::string boxCa;

    // HTTPS: /swish-cpcapi/...
    void handle(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res, const std::string& body);
    // Plain HTTP steering (/sim/api/swish/..., the page's scan form); false when the path
    // is not Swish's.
    bool steer(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res, const std::string& body);
    // The page's section: the m-commerce requests waiting for a payer. Takes the state lock.
    std::string pageHtml();

    // A payer scans the QR code ("D" + token) or opens the app switch link (the token).
    // Empty when done, else why not.
    std::string scan(const std::string& code);
    // Settles a request as the payer would, then calls the box back. Empty when done.
    std::string settle(const std::string& id, const std::string& status);
    // Swish's JSON of a payment request or refund.
    static std::string paymentJson(const Payment& p);

private:
    void create(Poco::Net::HTTPServerResponse& res, const std::string& id, bool refund, const std::string& body,
                const std::string& path);
    void expireIfDue(Payment& p);  // the state lock is held
    static bool callbackOk(const std::string& url);
    static bool messageOk(const std::string& m);
    void settleLater(const std::string& id, const std::string& status, int delayMs);
    void callbackLater(const std::string& id, int delayMs);
    // Records the call in the state's "received" list and answers it.
    void reply(Poco::Net::HTTPServerResponse& res, const std::string& op, const std::string& request, int status,
               const std::string& type, const std::string& body);

    State& state_;
    int timeoutMs_;
};

}  // namespace sim
