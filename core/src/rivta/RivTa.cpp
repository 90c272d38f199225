#include <klinikbox/RivTa.h>
#include <klinikbox/TlsClient.h>

#include <Poco/DOM/DOMParser.h>
#include <Poco/DOM/NodeList.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <Poco/SAX/SAXException.h>
#include <Poco/SAX/XMLReader.h>
#include <Poco/URI.h>

#include <istream>

namespace klinikbox::rivta {

std::string xmlEscape(std::string_view text) {
    std::string o;
    o.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&': o += "&amp;"; break;
            case '<': o += "&lt;"; break;
            case '>': o += "&gt;"; break;
            case '"': o += "&quot;"; break;
            case '\'': o += "&apos;"; break;
            default: o += c;
        }
    }
    return o;
}

std::string element(std::string_view name, std::string_view value) {
    std::string o;
    o.reserve(name.size() * 2 + value.size() + 5);
    o.append("<").append(name).append(">").append(xmlEscape(value)).append("</").append(name).append(">");
    return o;
}

std::string envelope(std::string_view logicalAddress, std::string_view body, std::string_view extraHeaders) {
    std::string o = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soap:Envelope xmlns:soap=\"";
    o.append(kSoapNs).append("\"><soap:Header><LogicalAddress xmlns=\"").append(kLogicalAddressNs).append("\">");
    o.append(xmlEscape(logicalAddress)).append("</LogicalAddress>").append(extraHeaders);
    o.append("</soap:Header><soap:Body>").append(body).append("</soap:Body></soap:Envelope>");
    return o;
}

std::string faultEnvelope(std::string_view code, std::string_view text) {
    std::string o = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soap:Envelope xmlns:soap=\"";
    o.append(kSoapNs).append("\"><soap:Body><soap:Fault><faultcode>").append(xmlEscape(code));
    o.append("</faultcode><faultstring>").append(xmlEscape(text)).append("</faultstring></soap:Fault></soap:Body></soap:Envelope>");
    return o;
}

HttpAnswer post(const Endpoint& e, std::string_view soapAction, const std::string& envelopeXml, std::size_t maxAnswerBytes) {
    const Poco::URI uri(e.url);
    if (uri.getScheme() != "https") throw TransportError(std::string("the service URL must be https: ") + e.url);
    try {
        const Poco::Net::Context::Ptr ctx = tls::clientContext(e.clientCert, e.clientKey, e.caBundle);
        Poco::Net::HTTPSClientSession s(uri.getHost(), uri.getPort(), ctx);
        const Poco::Timespan t(static_cast<long>(e.timeoutMs) * 1000);
        s.setTimeout(t, t, t);
        Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_POST, uri.getPathAndQuery(), Poco::Net::HTTPMessage::HTTP_1_1);
        req.setContentType("text/xml; charset=utf-8");
        req.set("SOAPAction", std::string(soapAction));
        req.setContentLength(static_cast<std::streamsize>(envelopeXml.size()));
        s.sendRequest(req) << envelopeXml;
        Poco::Net::HTTPResponse res;
        std::istream& in = s.receiveResponse(res);
        HttpAnswer a;
        a.status = static_cast<int>(res.getStatus());
        char buf[8192];
        while (in.read(buf, sizeof buf) || in.gcount() > 0) {
            a.body.append(buf, static_cast<std::size_t>(in.gcount()));
            if (a.body.size() > maxAnswerBytes) throw TransportError(std::string("the answer is larger than ") + std::to_string(maxAnswerBytes) + " bytes");
        }
        return a;
    } catch (const TransportError&) {
        throw;
    } catch (const Poco::Exception& ex) {
        throw TransportError(uri.getHost() + ":" + std::to_string(uri.getPort()) + ": " + ex.displayText());
    } catch (const std::exception& ex) {
        throw TransportError(uri.getHost() + ":" + std::to_string(uri.getPort()) + ": " + ex.what());
    }
}

Poco::AutoPtr<Poco::XML::Document> parse(const std::string& xml, std::size_t maxBytes) {
    if (xml.size() > maxBytes) throw XmlError(std::string("the document is larger than ") + std::to_string(maxBytes) + " bytes");
    // Only UTF-8, RIV-TA's encoding, is read. The parser would take UTF-16 or UTF-32 too, and
    // in those the markup is not ASCII bytes, so the search for a DOCTYPE below would not see
    // one: a UTF-16 envelope with an internal entity was parsed and expanded until 2026-12-07.
    // Any markup ('<') in UTF-16 or UTF-32 has a zero byte, which UTF-8 text never has.
    if (xml.find('\0') != std::string::npos ||
        (xml.size() >= 2 && ((xml[0] == '\xFE' && xml[1] == '\xFF') || (xml[0] == '\xFF' && xml[1] == '\xFE'))))
        throw XmlError("only UTF-8 is accepted (RIV-TA); this document is in UTF-16 or UTF-32, or has a zero byte");
    // A DOCTYPE is never part of a SOAP message (SOAP 1.1 §3); refusing it outright keeps
    // entity expansion (billion laughs) and external entities (XXE) away from the parser.
    if (xml.find("<!DOCTYPE") != std::string::npos || xml.find("<!ENTITY") != std::string::npos)
        throw XmlError("a document type declaration is not allowed");
    Poco::XML::DOMParser parser;
    parser.setFeature(Poco::XML::XMLReader::FEATURE_NAMESPACES, true);
    parser.setFeature(Poco::XML::XMLReader::FEATURE_EXTERNAL_GENERAL_ENTITIES, false);
    parser.setFeature(Poco::XML::XMLReader::FEATURE_EXTERNAL_PARAMETER_ENTITIES, false);
    try {
        return parser.parseString(xml);
    } catch (const Poco::Exception& e) {
        throw XmlError(std::string("not well-formed XML: ") + e.displayText());
    }
}

Envelope parseEnvelope(const std::string& xml, std::size_t maxBytes) {
    Envelope env;
    env.doc = parse(xml, maxBytes);
    Poco::XML::Element* root = env.doc->documentElement();
    if (!root || root->namespaceURI() != kSoapNs || root->localName() != "Envelope")
        throw XmlError("not a SOAP 1.1 envelope");
    // One Header, one Body (SOAP 1.1 §4) and one LogicalAddress: with two, the box would route
    // by the first while another reader of the same message took the second.
    if (children(root, kSoapNs, "Header").size() > 1 || children(root, kSoapNs, "Body").size() > 1)
        throw XmlError("the envelope has more than one Header or Body");
    if (auto* header = child(root, kSoapNs, "Header")) {
        if (children(header, kLogicalAddressNs, "LogicalAddress").size() > 1) throw XmlError("the header has more than one LogicalAddress");
        if (auto* la = child(header, kLogicalAddressNs, "LogicalAddress")) env.logicalAddress = la->innerText();
    }
    auto* body = child(root, kSoapNs, "Body");
    if (!body) throw XmlError("the envelope has no Body");
    for (auto* n = body->firstChild(); n; n = n->nextSibling())
        if (n->nodeType() == Poco::XML::Node::ELEMENT_NODE) {
            env.body = static_cast<Poco::XML::Element*>(n);
            break;
        }
    if (!env.body) throw XmlError("the Body is empty");
    if (env.body->namespaceURI() == kSoapNs && env.body->localName() == "Fault")
        throw SoapFault(childText(env.body, "faultcode"), std::string("SOAP fault: ") + childText(env.body, "faultstring"));
    return env;
}

namespace {
bool matches(const Poco::XML::Node* n, std::string_view ns, std::string_view local) {
    return n->nodeType() == Poco::XML::Node::ELEMENT_NODE && n->localName() == local && (ns == "*" || n->namespaceURI() == ns);
}
}  // namespace

Poco::XML::Element* child(const Poco::XML::Element* parent, std::string_view ns, std::string_view local) {
    if (!parent) return nullptr;
    for (auto* n = parent->firstChild(); n; n = n->nextSibling())
        if (matches(n, ns, local)) return static_cast<Poco::XML::Element*>(n);
    return nullptr;
}

std::vector<Poco::XML::Element*> children(const Poco::XML::Element* parent, std::string_view ns, std::string_view local) {
    std::vector<Poco::XML::Element*> out;
    if (!parent) return out;
    for (auto* n = parent->firstChild(); n; n = n->nextSibling())
        if (matches(n, ns, local)) out.push_back(static_cast<Poco::XML::Element*>(n));
    return out;
}

std::string childText(const Poco::XML::Element* parent, std::string_view local) {
    auto* c = child(parent, "*", local);
    return c ? c->innerText() : std::string();
}

std::string descendantText(const Poco::XML::Element* parent, std::string_view local) {
    if (!parent) return {};
    Poco::AutoPtr<Poco::XML::NodeList> l = parent->getElementsByTagNameNS("*", std::string(local));
    return l->length() ? l->item(0)->innerText() : std::string();
}

}  // namespace klinikbox::rivta
