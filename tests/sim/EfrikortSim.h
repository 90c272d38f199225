// The simulator's eFrikort 3.0 (tests/sim): the RIV-TA SOAP services GetCardForPerson,
// GetExtendedCardForPerson, RegisterTransaction, UpdateTransaction, DeleteTransaction and
// RegisterOptIn over mutual TLS, a person's card computed from their fees (the 12-month
// window, the ceiling, FINAL), armed faults (fail, timeout, http500, lost_answer,
// optinrequired), and the steering route /sim/api/efrikort/persons/{pnr}.
#pragma once

#include "SimState.h"

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <string>

namespace sim {

class EfrikortSim {
public:
    EfrikortSim(State& state, int timeoutMs) : state_(state), timeoutMs_(timeoutMs) {}

    // HTTPS: POST /efrikort/<operation> with its SOAP envelope.
    void handle(const std::string& op, const std::string& body, Poco::Net::HTTPServerResponse& res);
    // Plain HTTP steering: GET or PUT /sim/api/efrikort/persons/{pnr}; false for other paths.
    bool steer(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res, const std::string& body);
    // The page's section: each person's card. Takes the state lock.
    std::string pageHtml();

private:
    std::string answer(const std::string& op, const std::string& body, bool forceOptIn);

    State& state_;
    int timeoutMs_;
};

}  // namespace sim
