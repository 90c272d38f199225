// RIV-TA (the Swedish national services' SOAP profile, RIVTABP21) for plugins: the SOAP 1.1
// envelope with the LogicalAddress header, a POST over mutual TLS with timeouts and a size
// limit, a hardened XML parser for anything that comes from outside, and the small DOM
// helpers every contract client needs. Consumers (eFrikort, referral, journal) and producers
// (the referral plugin's inbound endpoint) share it so each protocol detail is decided once.
//
// Linking: plugins that use it link `kb_rivta` (a static library, Poco::XML and NetSSL).
#pragma once

#include <Poco/AutoPtr.h>
#include <Poco/DOM/Document.h>
#include <Poco/DOM/Element.h>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace klinikbox::rivta {

inline constexpr std::string_view kSoapNs = "http://schemas.xmlsoap.org/soap/envelope/";
inline constexpr std::string_view kLogicalAddressNs = "urn:riv:itintegration:registry:1";

// Escapes & < > " ' for element text and attribute values.
[[nodiscard]] std::string xmlEscape(std::string_view text);

// <name>escaped value</name>; `name` may carry a prefix ("core:code").
[[nodiscard]] std::string element(std::string_view name, std::string_view value);

// A SOAP 1.1 envelope whose header carries LogicalAddress (and `extraHeaders`, raw XML that
// the caller built, e.g. an Actor header) and whose body is `body` (raw XML, namespaces
// declared on its root).
[[nodiscard]] std::string envelope(std::string_view logicalAddress, std::string_view body,
                                   std::string_view extraHeaders = {});

// A SOAP 1.1 fault envelope for technical errors; `code` is "soap:Client" or "soap:Server".
[[nodiscard]] std::string faultEnvelope(std::string_view code, std::string_view text);

// The outside party: URL (https), the clinic's client certificate and key (PEM files), the
// CA bundle that must have issued the peer's certificate, and a timeout for each of connect,
// send and receive.
struct Endpoint {
    std::string url;
    std::string clientCert, clientKey, caBundle;
    int timeoutMs = 5000;
};

struct HttpAnswer {
    int status = 0;
    std::string body;
};

// Thrown for a failure of transport: refused or timed-out connection, TLS failure, an answer
// over the size limit. The caller usually retries (through the outbox).
class TransportError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// POSTs `envelopeXml` with the SOAPAction header and returns the HTTP status and body
// without interpreting them. The URL must be https; the client certificate is presented and
// the server's certificate is verified against `caBundle` (the system's CAs when empty).
// The TLS context is kept per set of files (klinikbox/TlsClient.h): a renewed certificate
// is used by the next call.
[[nodiscard]] HttpAnswer post(const Endpoint& endpoint, std::string_view soapAction, const std::string& envelopeXml,
                              std::size_t maxAnswerBytes = 8u << 20);

// Thrown for input that is not acceptable XML: too large, a DOCTYPE (refused outright, so no
// entity expansion and no external entity can reach the parser), or not well-formed.
class XmlError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Parses outside XML with namespaces on, refusing any DOCTYPE and documents over `maxBytes`.
[[nodiscard]] Poco::AutoPtr<Poco::XML::Document> parse(const std::string& xml, std::size_t maxBytes = 8u << 20);

// A SOAP fault the peer answered with (faultcode and faultstring).
class SoapFault : public std::runtime_error {
public:
    SoapFault(std::string code, const std::string& text) : std::runtime_error(text), code_(std::move(code)) {}
    [[nodiscard]] const std::string& code() const { return code_; }

private:
    std::string code_;
};

// What a parsed SOAP envelope holds: the LogicalAddress header's text and the body's first
// element. Throws XmlError when the document is not a SOAP 1.1 envelope with a body element,
// and SoapFault when the body is a fault.
struct Envelope {
    Poco::AutoPtr<Poco::XML::Document> doc;
    std::string logicalAddress;
    Poco::XML::Element* body = nullptr;  // owned by doc
};
[[nodiscard]] Envelope parseEnvelope(const std::string& xml, std::size_t maxBytes = 8u << 20);

// DOM helpers. `ns` may be "*" for any namespace.
// The first child element (direct child only) with that namespace and local name, or null.
[[nodiscard]] Poco::XML::Element* child(const Poco::XML::Element* parent, std::string_view ns, std::string_view local);
// All direct child elements with that namespace and local name.
[[nodiscard]] std::vector<Poco::XML::Element*> children(const Poco::XML::Element* parent, std::string_view ns,
                                                        std::string_view local);
// The text of the first direct child element with that local name (any namespace), or "".
[[nodiscard]] std::string childText(const Poco::XML::Element* parent, std::string_view local);
// The text of the first descendant element with that local name (any namespace), or "".
[[nodiscard]] std::string descendantText(const Poco::XML::Element* parent, std::string_view local);

}  // namespace klinikbox::rivta
