// The simulator's referral parties (clinicalprocess:activity:request 2.2): a hospital's
// radiology and a physiotherapy clinic, each with its own HSA-id and contract version. They
// receive ProcessRequest over the sim's mutual-TLS listener, validate every body against the
// XSD (xmllint), de-duplicate on the request id, confirm and answer after configurable
// delays, send referrals and answers to the box's producer listener, and inject faults.
#pragma once

#include <Poco/JSON/Object.h>

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace sim {

class ReferralSim {
public:
    struct Reply {
        int status = 200;
        std::string contentType = "text/xml; charset=utf-8";
        std::string body;
    };
    ReferralSim(std::string clientCert, std::string clientKey, std::string simCa, std::string schemaDir, int timeoutMs);

    // HTTPS: POST /referral/<party HSA-id>/<operation>.
    Reply handle(const std::string& path, const std::string& body);
    // Plain HTTP steering under /sim/api/referral/...; nullopt when the path is not ours.
    std::optional<Reply> steer(const std::string& method, const std::string& path, const std::string& body);
    void reset();
    [[nodiscard]] std::string pageHtml();

private:
    struct Party {
        std::string hsaId, name, version;
        std::string confirm = "BEK";   // "" for none
        int confirmDelayMs = 0;
        std::string outcome = "SSV";   // "" for none
        int outcomeDelayMs = 0;
    };
    struct Attached {
        std::string mediaType, name, base64;
    };
    struct Received {
        std::string party, operation, requestId, patient, sender, code, at, schemaErrors;
        int deliveries = 1;
        bool valid = true;
        // ProcessRequest only: the version and the content, to check what the box sent.
        int version = 0;
        std::string administrative, question, anamnesis, status, requested;
        std::vector<Attached> attachments;
    };
    struct Fault {
        std::string kind;  // timeout, lost_answer, soap_fault, reject
        int count = 1;
    };

    std::string validate(const std::string& bodyXml, const std::string& operation);
    Poco::JSON::Object::Ptr sendToBox(const std::string& operation, const std::string& logicalAddress, const std::string& body);
    void answerLater(const Party& p, const Received& r);
    std::string answerBody(const std::string& code, const std::string& requestId, const std::string& patient,
                           const std::string& responder, const std::string& recipient, const std::string& text);
    std::string requestBody(const Poco::JSON::Object::Ptr& in, std::string& requestId);
    Poco::JSON::Object::Ptr toJson(const Received& r) const;

    std::string clientCert_, clientKey_, simCa_, schemaDir_;
    int timeoutMs_;
    std::mutex mu_;
    std::map<std::string, Party> parties_;
    std::vector<Received> received_;  // one per distinct (party, operation, id)
    std::vector<Poco::JSON::Object::Ptr> sent_;  // what the sim sent to the box, with the box's answers
    std::vector<Fault> faults_;
    std::string boxUrl_, boxCa_;
    int seq_ = 0;
};

}  // namespace sim
