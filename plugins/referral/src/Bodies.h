// The bodies of clinicalprocess:activity:request 2.2 (ProcessRequest, ProcessRequestConfirmation,
// ProcessRequestOutcome and their responses): builders that emit XSD-valid XML in schema order
// and parsers for what other care providers send us. Pure functions: no I/O, no database.
#pragma once

#include <klinikbox/RivTa.h>

#include <string>
#include <string_view>
#include <vector>

namespace klinikbox::referral {

inline constexpr std::string_view kCoreNs = "urn:riv:clinicalprocess:activity:request:2";
inline constexpr std::string_view kRequestNs = "urn:riv:clinicalprocess:activity:request:ProcessRequestResponder:2";
inline constexpr std::string_view kConfirmationNs =
    "urn:riv:clinicalprocess:activity:request:ProcessRequestConfirmationResponder:2";
inline constexpr std::string_view kOutcomeNs = "urn:riv:clinicalprocess:activity:request:ProcessRequestOutcomeResponder:2";
// The SOAPAction of each operation (RIVTABP21: the responder namespace followed by the operation).
[[nodiscard]] std::string soapAction(std::string_view operation);

// A care unit and the practitioner acting for it.
struct Party {
    std::string unitHsa;
    std::string unitName;
    std::string practitionerHsa;  // may be empty
    std::string practitionerName;
};

struct Attachment {
    std::string mediaType;  // application/pdf, image/jpeg, image/png
    std::string name;
    std::string bytes;      // raw content
};

// What a ProcessRequest carries. The request id is "<sender unit HSA-id>#<referral uuid>",
// stable across versions and retries: the receiver de-duplicates on it.
struct RequestBody {
    std::string requestId;
    int version = 1;
    std::string timestamp;  // YYYYMMDDhhmmss
    std::string patient;    // 12 digits
    bool coordinationNumber = false;
    Party sender;
    std::string receiverHsa;
    std::string priority;  // "normal" or "akut"
    std::string question, anamnesis, status, requestedActivity;
    bool patientInformed = false;
    std::vector<Attachment> attachments;
};

// A confirmation (BEK, VID, KOM, AVB, AVV) or an outcome (DSV, PSV, SSV) of a request.
struct AnswerBody {
    std::string requestId;
    std::string answerId;  // "<responding unit>#<uuid>"
    std::string code;
    int requestVersion = 1;
    std::string timestamp;
    std::string patient;
    bool coordinationNumber = false;
    Party responder;
    std::string recipientHsa;   // the unit that sent the request
    std::string forwardToHsa;   // VID only
    std::string text;           // outcome text (reason for AVV, question for KOM, the answer)
};

[[nodiscard]] bool isConfirmationCode(std::string_view code);
[[nodiscard]] bool isOutcomeCode(std::string_view code);

[[nodiscard]] std::string requestBody(const RequestBody& r);
[[nodiscard]] std::string answerBody(const AnswerBody& a);  // confirmation or outcome by code
// <ProcessRequestResponse> (etc.) with resultCode OK, or ERROR with errorCode and message.
[[nodiscard]] std::string resultBody(std::string_view operation, std::string_view resultCode,
                                     std::string_view errorCode = {}, std::string_view message = {});

// What a parsed inbound message is. Throws BodyError for a body that is not one of the three
// operations or misses a required part; rivta::XmlError passes through for bad XML.
class BodyError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};
struct Inbound {
    std::string operation;  // ProcessRequest, ProcessRequestConfirmation, ProcessRequestOutcome
    std::string logicalAddress;
    RequestBody request;    // for ProcessRequest
    AnswerBody answer;      // for the other two
};
[[nodiscard]] Inbound parseInbound(const std::string& envelopeXml, std::size_t maxBytes);

// The result of a response envelope we got back: resultCode and message. Throws
// rivta::SoapFault for a fault and BodyError when there is no result.
struct Result {
    std::string code, errorCode, message;
};
[[nodiscard]] Result parseResult(const std::string& envelopeXml);

}  // namespace klinikbox::referral
