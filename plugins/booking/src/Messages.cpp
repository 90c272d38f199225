#include "Messages.h"

#include "Calendar.h"

#include <klinikbox/TlsClient.h>

#include <Poco/JSON/Object.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/MailMessage.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SMTPClientSession.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <array>
#include <memory>
#include <sstream>

namespace booking {

using namespace std::chrono;
using klinikbox::DeliveryResult;

std::optional<std::string> normalisePhone(const std::string& text) {
    std::string d;
    bool plus = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c >= '0' && c <= '9') d += c;
        else if (c == '+' && d.empty() && !plus) plus = true;
        else if (c == ' ' || c == '-' || c == '(' || c == ')') continue;
        else return std::nullopt;
    }
    if (!plus && d.rfind("00", 0) == 0) {
        d.erase(0, 2);
        plus = true;
    }
    if (!plus) {
        if (d.size() < 8 || d[0] != '0') return std::nullopt;
        d = "46" + d.substr(1);
    }
    if (d.size() < 8 || d.size() > 15 || d[0] == '0') return std::nullopt;
    return "+" + d;
}

bool plausibleEmail(const std::string& t) {
    const auto at = t.find('@');
    if (at == std::string::npos || at == 0 || at != t.rfind('@') || t.size() > 254) return false;
    const auto dot = t.find('.', at);
    if (dot == std::string::npos || dot == at + 1 || dot + 1 >= t.size()) return false;
    for (char c : t)
        if (static_cast<unsigned char>(c) <= ' ' || c == '<' || c == '>' || c == ',' || c == ';' || c == '"') return false;
    return true;
}

std::string swedishWhen(sys_seconds start) {
    static const std::array<const char*, 8> wd = {"", "måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag"};
    static const std::array<const char*, 13> mo = {"",     "januari", "februari", "mars",      "april",   "maj",     "juni",
                                                   "juli", "augusti", "september", "oktober", "november", "december"};
    const auto local = start + minutes{localOffsetMinutes(start)};
    const auto day = floor<days>(local);
    const year_month_day d{day};
    const hh_mm_ss t{local - day};
    char b[96];
    std::snprintf(b, sizeof b, "%s %u %s kl. %02d.%02d", wd[static_cast<std::size_t>(isoWeekday(d))],
                  static_cast<unsigned>(d.day()), mo[static_cast<unsigned>(d.month())], static_cast<int>(t.hours().count()),
                  static_cast<int>(t.minutes().count()));
    return b;
}

DeliveryResult sendSms(const SmsSettings& s, const std::string& to, const std::string& text) {
    if (s.gatewayUrl.empty()) return DeliveryResult::failed("no SMS gateway is configured (sms.gateway_url)");
    const Poco::URI uri(s.gatewayUrl);
    std::unique_ptr<Poco::Net::HTTPClientSession> session;
    if (uri.getScheme() == "https") {
        // The system's CAs, loaded once and kept (about 20 ms a load), not once per message.
        session = std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort(), klinikbox::tls::clientContext("", "", ""));
    } else {
        session = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
    }
    session->setTimeout(Poco::Timespan(10, 0));
    Poco::JSON::Object body;
    body.set("to", to);
    body.set("from", s.sender);
    body.set("text", text);
    std::ostringstream js;
    body.stringify(js);
    const std::string payload = js.str();
    Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_POST, uri.getPathAndQuery().empty() ? "/" : uri.getPathAndQuery(),
                               Poco::Net::HTTPMessage::HTTP_1_1);
    req.setContentType("application/json; charset=utf-8");
    req.setContentLength(static_cast<std::streamsize>(payload.size()));
    if (!s.token.empty()) req.set("Authorization", "Bearer " + s.token);
    session->sendRequest(req) << payload;
    Poco::Net::HTTPResponse res;
    std::istream& in = session->receiveResponse(res);
    std::ostringstream ignored;
    Poco::StreamCopier::copyStream(in, ignored, 4096);
    const int st = res.getStatus();
    const std::string detail = "SMS gateway answered HTTP " + std::to_string(st);
    if (st >= 200 && st < 300) return DeliveryResult::delivered(detail);
    if (st == 429 || st == 408 || st >= 500) return DeliveryResult::retry(detail);
    return DeliveryResult::failed(detail);
}

DeliveryResult sendEmail(const EmailSettings& s, const std::string& to, const std::string& subject, const std::string& text) {
    if (s.host.empty()) return DeliveryResult::failed("no SMTP server is configured (email.smtp_host)");
    try {
        Poco::Net::MailMessage msg;
        msg.setSender(s.from);
        msg.addRecipient(Poco::Net::MailRecipient(Poco::Net::MailRecipient::PRIMARY_RECIPIENT, to));
        msg.setSubject(Poco::Net::MailMessage::encodeWord(subject, "UTF-8"));
        msg.setContentType("text/plain; charset=UTF-8");
        msg.setContent(text, Poco::Net::MailMessage::ENCODING_QUOTED_PRINTABLE);
        Poco::Net::SMTPClientSession smtp(s.host, static_cast<Poco::UInt16>(s.port));
        smtp.setTimeout(Poco::Timespan(10, 0));
        smtp.login();
        smtp.sendMessage(msg);
        smtp.close();
        return DeliveryResult::delivered("accepted by " + s.host);
    } catch (const Poco::Net::SMTPException& e) {
        // 5xx from the server is permanent, 4xx temporary.
        const std::string m = e.displayText();
        if (m.find(" 5") != std::string::npos || m.rfind("5", 0) == 0) return DeliveryResult::failed("SMTP: " + m);
        return DeliveryResult::retry("SMTP: " + m);
    }
}

}  // namespace booking
