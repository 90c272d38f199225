#include <klinikbox/RivTa.h>

#include <Poco/DOM/DOMParser.h>
#include <Poco/DOM/NodeList.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <Poco/SAX/SAXException.h>
#include <Poco/SAX/XMLReader.h>
#include <Poco/URI.h>

#include <openssl/x509.h>

#include <sys/stat.h>

#include <array>
#include <atomic>
#include <istream>
#include <map>
#include <mutex>
#include <tuple>

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

namespace {

// A file's modification time and size; all -1 when it cannot be read.
struct FileStamp {
    long long mtimeNs = -1, size = -1;
    bool operator==(const FileStamp&) const = default;
};

FileStamp stampOf(const std::string& path) {
    struct stat st {};
    if (path.empty() || ::stat(path.c_str(), &st) != 0) return {};
    return {st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec, static_cast<long long>(st.st_size)};
}

// The TLS client contexts of the endpoints called so far. Making one reads the client
// certificate, its key and the CA bundle: about 1 ms with a bundle of one CA, 20 ms with the
// system's CAs (measured 2026-12-07), for every call until contexts were kept. A context is
// used again while none of its files changed (a renewed certificate is picked up by the next
// call); OpenSSL lets many connections share one.
struct KeptContext {
    std::array<FileStamp, 3> stamps;
    Poco::Net::Context::Ptr ctx;
    std::uint64_t lastUse = 0;
};
constexpr std::size_t kKeptContexts = 16;
std::mutex gContextsMu;
std::map<std::tuple<std::string, std::string, std::string>, KeptContext> gContexts;
std::uint64_t gUses = 0;
std::atomic<std::uint64_t> gContextsMade{0};

Poco::Net::Context::Ptr clientContext(const Endpoint& e) {
    // Without a bundle the system's CAs are loaded: their file is watched instead.
    const std::string caFile = e.caBundle.empty() ? std::string(X509_get_default_cert_file()) : e.caBundle;
    const std::array<FileStamp, 3> stamps{stampOf(e.clientCert), stampOf(e.clientKey), stampOf(caFile)};
    const auto key = std::make_tuple(e.clientCert, e.clientKey, e.caBundle);
    {
        std::lock_guard lock(gContextsMu);
        const auto it = gContexts.find(key);
        if (it != gContexts.end() && it->second.stamps == stamps) {
            it->second.lastUse = ++gUses;
            return it->second.ctx;
        }
    }
    // Made outside the lock: loading a CA store takes milliseconds.
    Poco::Net::Context::Params params;
    params.certificateFile = e.clientCert;
    params.privateKeyFile = e.clientKey;
    params.caLocation = e.caBundle;
    params.loadDefaultCAs = e.caBundle.empty();
    params.verificationMode = Poco::Net::Context::VERIFY_RELAXED;
    Poco::Net::Context::Ptr ctx = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
    ++gContextsMade;
    std::lock_guard lock(gContextsMu);
    if (gContexts.size() >= kKeptContexts && !gContexts.count(key)) {
        auto oldest = gContexts.begin();
        for (auto it = gContexts.begin(); it != gContexts.end(); ++it)
            if (it->second.lastUse < oldest->second.lastUse) oldest = it;
        gContexts.erase(oldest);
    }
    gContexts[key] = KeptContext{stamps, ctx, ++gUses};
    return ctx;
}

}  // namespace

std::uint64_t clientContextsMade() { return gContextsMade.load(); }

HttpAnswer post(const Endpoint& e, std::string_view soapAction, const std::string& envelopeXml, std::size_t maxAnswerBytes) {
    const Poco::URI uri(e.url);
    if (uri.getScheme() != "https") throw TransportError(std::string("the service URL must be https: ") + e.url);
    try {
        const Poco::Net::Context::Ptr ctx = clientContext(e);
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
    if (auto* header = child(root, kSoapNs, "Header"))
        if (auto* la = child(header, kLogicalAddressNs, "LogicalAddress")) env.logicalAddress = la->innerText();
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
