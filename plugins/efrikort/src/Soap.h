// The eFrikort 3.0 RIV-TA client: SOAP 1.1 document/literal bodies as the 3.0 XSDs define
// them (LogicalAddress header = the region's carePrincipalId), parsed answers, and the call
// over HTTPS with the clinic's client certificate (mutual TLS) and a timeout.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace efrikort {

struct Party {
    std::string carePrincipalId;  // the region (vårdhuvudman), HSA-id
    std::string careProviderName, careProviderId, careUnitName, careUnitId, employeeId;
};

// Request bodies (the SOAP Body's child, namespaces declared on it).
[[nodiscard]] std::string getCardBody(const Party& p, const std::string& personId, bool extended);
[[nodiscard]] std::string registerTransactionBody(const Party& p, const std::string& personId, const std::string& date, long long ore);
[[nodiscard]] std::string updateTransactionBody(const Party& p, const std::string& transactionId, const std::string& date, long long ore,
                                                const std::string& reason);
[[nodiscard]] std::string deleteTransactionBody(const Party& p, const std::string& transactionId, const std::string& reason);
[[nodiscard]] std::string registerOptInBody(const Party& p, const std::string& personId);
[[nodiscard]] std::string envelope(const std::string& logicalAddress, const std::string& body);

struct Result {
    std::string code;  // OK, INFO, ERROR, VALIDATION_ERROR, ACCESSDENIED, OPTINREQUIRED, OPTOUT
    std::string text;
    // GetCard*: the card, when there is one
    bool hasCard = false;
    std::string cardStatus;
    std::optional<long long> amountToLimitOre, currentAmountOre;
    // RegisterTransaction / UpdateTransaction
    std::string transactionId;
    // GetExtendedCardForPerson: transactions {id, date, amount, status, careUnit}
    struct Tx {
        std::string id, date, status, careUnit, registered;
        long long ore = 0;
    };
    std::vector<Tx> transactions;
};

// Parses a SOAP answer; throws SoapFault for a fault, std::runtime_error for anything else
// that is not a valid answer.
class SoapFault : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};
[[nodiscard]] Result parseAnswer(const std::string& xml);

struct Endpoint {
    std::string urlPattern;  // with {contract}, e.g. https://ws.efrikort.cgi.se/efrikortService/{contract}/3/rivtabp21
    std::string clientCert, clientKey, caBundle;
    int timeoutMs = 5000;
};

// POSTs the envelope and parses the answer. Network errors, timeouts, HTTP errors without a
// SOAP body and SOAP faults throw (the caller retries); result codes are returned.
[[nodiscard]] Result call(const Endpoint& e, const std::string& contract, const std::string& envelopeXml);

}  // namespace efrikort
