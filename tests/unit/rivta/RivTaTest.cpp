// The shared RIV-TA helpers: envelopes, the hardened parser (hostile XML is refused before it
// reaches the parser) and the DOM helpers.
#include <klinikbox/RivTa.h>

#include <gtest/gtest.h>

using namespace klinikbox::rivta;

TEST(RivTa, EnvelopeCarriesTheLogicalAddressAndTheBody) {
    const auto xml = envelope("SE2321000016-15CQ", "<x:Op xmlns:x=\"urn:t\"><x:a>1 &lt; 2</x:a></x:Op>");
    const auto env = parseEnvelope(xml);
    EXPECT_EQ(env.logicalAddress, "SE2321000016-15CQ");
    ASSERT_NE(env.body, nullptr);
    EXPECT_EQ(env.body->localName(), "Op");
    EXPECT_EQ(env.body->namespaceURI(), "urn:t");
    EXPECT_EQ(childText(env.body, "a"), "1 < 2");
}

TEST(RivTa, TextIsEscapedInElementsAndTheAddress) {
    EXPECT_EQ(element("a", "<&>\"'"), "<a>&lt;&amp;&gt;&quot;&apos;</a>");
    const auto env = parseEnvelope(envelope("a<b", "<Op xmlns=\"urn:t\"/>"));
    EXPECT_EQ(env.logicalAddress, "a<b");
}

TEST(RivTa, AFaultBodyIsThrownWithItsCodeAndText) {
    try {
        (void)parseEnvelope(faultEnvelope("soap:Server", "the service is down"));
        FAIL() << "no SoapFault";
    } catch (const SoapFault& f) {
        EXPECT_EQ(f.code(), "soap:Server");
        EXPECT_NE(std::string(f.what()).find("the service is down"), std::string::npos);
    }
}

TEST(RivTa, BillionLaughsIsRefusedBeforeParsing) {
    const std::string xml =
        "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;\">]>"
        "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body><a>&lol2;</a></soap:Body></soap:Envelope>";
    EXPECT_THROW((void)parse(xml), XmlError);
}

TEST(RivTa, OnlyUtf8IsReadSoADoctypeCannotHideInUtf16) {
    const std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><!DOCTYPE a [<!ENTITY x \"191212121212\">]>"
                            "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body><a>&x;</a></soap:Body></soap:Envelope>";
    auto utf16 = [](const std::string& a, bool bom, bool bigEndian) {
        std::string o = bom ? (bigEndian ? "\xFE\xFF" : "\xFF\xFE") : "";
        for (char c : a) {
            if (bigEndian) o += '\0';
            o += c;
            if (!bigEndian) o += '\0';
        }
        return o;
    };
    for (bool bom : {true, false})
        for (bool be : {true, false}) {
            try {
                (void)parse(utf16(xml, bom, be));
                ADD_FAILURE() << "a UTF-16 document was read (bom " << bom << ", big-endian " << be << ")";
            } catch (const XmlError& e) {
                EXPECT_NE(std::string(e.what()).find("only UTF-8"), std::string::npos) << e.what();
            }
        }
    EXPECT_THROW((void)parse(std::string("<a>x\0y</a>", 11)), XmlError);
    // UTF-8, with or without its byte order mark, and with Swedish letters, is read.
    EXPECT_EQ(parse("\xEF\xBB\xBF<a>\xC3\xA5</a>")->documentElement()->innerText(), "\xC3\xA5");
}

TEST(RivTa, ExternalEntitiesAreRefused) {
    const std::string xml = "<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><a>&x;</a>";
    EXPECT_THROW((void)parse(xml), XmlError);
}

TEST(RivTa, OversizedAndMalformedDocumentsAreRefused) {
    EXPECT_THROW((void)parse(std::string(2000, ' ') + "<a/>", 1000), XmlError);
    EXPECT_THROW((void)parse("<a><b></a>"), XmlError);
    EXPECT_THROW((void)parse(""), XmlError);
}

TEST(RivTa, ADocumentThatIsNoEnvelopeIsRefused) {
    EXPECT_THROW((void)parseEnvelope("<Envelope><Body><a/></Body></Envelope>"), XmlError);
    EXPECT_THROW((void)parseEnvelope("<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"/>"), XmlError);
    EXPECT_THROW((void)parseEnvelope(
                     "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body> </soap:Body></soap:Envelope>"),
                 XmlError);
}

TEST(RivTa, ChildrenAreMatchedByNamespaceAndLocalName) {
    auto doc = parse("<r xmlns:a=\"urn:a\" xmlns:b=\"urn:b\"><a:x>1</a:x><b:x>2</b:x><a:x>3</a:x><a:y><a:x>4</a:x></a:y></r>");
    auto* root = doc->documentElement();
    EXPECT_EQ(children(root, "urn:a", "x").size(), 2u);
    EXPECT_EQ(children(root, "*", "x").size(), 3u);
    EXPECT_EQ(child(root, "urn:b", "x")->innerText(), "2");
    EXPECT_EQ(child(root, "urn:c", "x"), nullptr);
    EXPECT_EQ(descendantText(child(root, "urn:a", "y"), "x"), "4");
}

TEST(RivTa, PostRefusesAPlainHttpUrl) {
    EXPECT_THROW((void)post(Endpoint{"http://127.0.0.1:1/x", "", "", "", 100}, "a", "<a/>"), TransportError);
}

TEST(RivTa, PostToAClosedPortIsATransportError) {
    EXPECT_THROW((void)post(Endpoint{"https://127.0.0.1:1/x", "", "", "", 500}, "a", "<a/>"), TransportError);
}

// Two LogicalAddresses, Headers or Bodies: the box would act on the first while another reader
// of the same message took the second.
TEST(RivTa, AnEnvelopeWithTwoAddressesHeadersOrBodiesIsRefused) {
    const auto xml = envelope("SE2321000016-15CQ", "<x:Op xmlns:x=\"urn:t\"/>");
    // The LogicalAddress element: its start tag, the address and its end tag.
    const auto at = xml.find("SE2321000016-15CQ");
    ASSERT_NE(at, std::string::npos);
    const auto start = xml.rfind('<', at), end = xml.find('>', xml.find('<', at)) + 1;
    std::string other = xml.substr(start, end - start);
    other.replace(other.find("15CQ"), 4, "OTHR");
    auto twoAddresses = xml;
    twoAddresses.insert(end, other);
    auto twoBodies = xml;
    const auto bodyAt = twoBodies.find("</soap:Envelope>");
    ASSERT_NE(bodyAt, std::string::npos) << xml;
    twoBodies.insert(bodyAt, "<soap:Body><y:Op xmlns:y=\"urn:u\"/></soap:Body>");
    EXPECT_NE(twoAddresses.find("SE2321000016-15CQ</"), std::string::npos) << twoAddresses;
    EXPECT_NE(twoAddresses.find("SE2321000016-OTHR</"), std::string::npos) << twoAddresses;
    for (const auto& bad : {twoAddresses, twoBodies}) {
        try {
            (void)parseEnvelope(bad);
            ADD_FAILURE() << "read: " << bad;
        } catch (const XmlError& e) {
            EXPECT_NE(std::string(e.what()).find("more than one"), std::string::npos) << e.what();
        }
    }
    EXPECT_EQ(parseEnvelope(xml).logicalAddress, "SE2321000016-15CQ");
}
