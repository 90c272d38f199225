#include "http/RequestFraming.h"

#include <Poco/Net/HTTPServerResponseImpl.h>

#include <algorithm>
#include <cctype>
#include <sstream>

namespace klinikbox::http {

namespace {

Problem malformed(const std::string& detail) { return Problem(400, "/problems/malformed-request", "Malformed request", detail); }

// RFC 9110 §5.6.2: tchar.
bool isToken(const std::string& s) {
    static const std::string extra = "!#$%&'*+-.^_`|~";
    return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
        return std::isalnum(c) || extra.find(static_cast<char>(c)) != std::string::npos;
    });
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

std::string trimmed(const std::string& s) {
    const auto b = s.find_first_not_of(" \t");
    if (b == std::string::npos) return {};
    return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// A field name as it can be shown in a detail: printable, and not too long.
std::string shown(const std::string& name) {
    std::string out;
    for (unsigned char c : name.substr(0, 64)) out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
    return out;
}

}  // namespace

void setSecurityHeaders(Poco::Net::HTTPResponse& out, bool tls) {
    out.set("X-Content-Type-Options", "nosniff");
    out.set("X-Frame-Options", "DENY");
    out.set("Referrer-Policy", "no-referrer");
    out.set("Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    if (tls) out.set("Strict-Transport-Security", "max-age=31536000");
}

Problem unreadableRequest(const std::string& why) {
    if (why.find("URI") != std::string::npos)
        return Problem(414, "/problems/uri-too-long", "URI too long", "the request could not be read: " + why);
    if (why.find("Field") != std::string::npos || why.find("header fields") != std::string::npos)
        return Problem(431, "/problems/headers-too-large", "Request header fields too large", "the request could not be read: " + why);
    return malformed("the request could not be read: " + why);
}

std::optional<Problem> framingProblem(const Poco::Net::HTTPRequest& in) {
    const std::string& version = in.getVersion();
    if (version != Poco::Net::HTTPMessage::HTTP_1_0 && version != Poco::Net::HTTPMessage::HTTP_1_1)
        return Problem(505, "/problems/http-version-not-supported", "HTTP version not supported",
                       "this server speaks HTTP/1.0 and HTTP/1.1, not " + shown(version));
    int transferEncodings = 0;
    std::string transferEncoding;
    for (const auto& [name, value] : in) {
        if (!isToken(name))
            return malformed("the header field name '" + shown(name) + "' is not a token (no space before the colon)");
        if (lower(name) == "transfer-encoding") {
            ++transferEncodings;
            transferEncoding = value;
        }
    }
    if (version == Poco::Net::HTTPMessage::HTTP_1_1 && !in.has("Host")) return malformed("an HTTP/1.1 request must name its Host");
    const bool hasLength = in.has("Content-Length");
    if (hasLength) {
        const std::string v = trimmed(in.get("Content-Length"));
        if (v.empty() || v.size() > 18 || !std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); }))
            return malformed("Content-Length must be a number of bytes written in digits");
    }
    if (transferEncodings > 0) {
        if (version == Poco::Net::HTTPMessage::HTTP_1_0) return malformed("an HTTP/1.0 request cannot use Transfer-Encoding");
        if (hasLength) return malformed("a request cannot have both Transfer-Encoding and Content-Length");
        if (transferEncodings > 1 || lower(trimmed(transferEncoding)) != "chunked")
            return Problem(501, "/problems/unsupported-transfer-encoding", "Transfer-Encoding not supported",
                           "the only transfer coding of a request body this server reads is 'chunked'");
    }
    return std::nullopt;
}

std::string StrictSession::line(const char* what) {
    std::string s;
    for (;;) {
        const int c = get();
        if (c == std::char_traits<char>::eof()) throw malformed(std::string("the chunked body ended inside a ") + what);
        if (c == '\n') break;
        if (s.size() >= 4096) throw malformed(std::string("a ") + what + " of the chunked body is too long");
        s += static_cast<char>(c);
    }
    if (!s.empty() && s.back() == '\r') s.pop_back();
    return s;
}

bool StrictSession::readChunkedBody(std::string& out, long long limit, long long drainMax) {
    const std::string hex = "0123456789abcdefABCDEF";
    long long total = 0;
    char buf[16384];
    for (int trailers = 0;;) {
        // chunk-size [ chunk-ext ] CRLF
        const std::string sizeLine = line("chunk size line");
        std::size_t digits = 0;
        while (digits < sizeLine.size() && hex.find(sizeLine[digits]) != std::string::npos) ++digits;
        if (digits == 0 || digits > 15 || (digits < sizeLine.size() && sizeLine[digits] != ';' && sizeLine[digits] != ' ' &&
                                           sizeLine[digits] != '\t'))
            throw malformed("a chunk size must be hexadecimal digits, not '" + sizeLine.substr(0, 20) + "'");
        const long long size = std::stoll(sizeLine.substr(0, digits), nullptr, 16);
        if (size == 0) {
            // trailer-section CRLF: header lines, then an empty line
            while (!line("trailer").empty())
                if (++trailers > 100) throw malformed("the chunked body has more than 100 trailer fields");
            return total <= limit;
        }
        total += size;
        // Over the limit: read on without keeping, as far as drainMax, then stop. The data is
        // kept as it arrives, never allocated ahead from the size a client declared.
        const bool keep = total <= limit;
        if (!keep && total > drainMax) return false;
        for (long long left = size; left > 0;) {
            const int n = read(buf, static_cast<std::streamsize>(std::min<long long>(left, sizeof buf)));
            if (n <= 0) {
                if (!keep) return false;
                throw malformed("the chunked body ended inside a chunk");
            }
            if (keep) out.append(buf, static_cast<std::size_t>(n));
            left -= n;
        }
        if (!line("chunk's end").empty()) throw malformed("a chunk's data must end where its size says, with CRLF");
    }
}

void sendRefusal(Poco::Net::HTTPServerSession& session, const Problem& p, bool tls) {
    Poco::Net::HTTPServerResponseImpl response(session);
    response.setVersion(Poco::Net::HTTPMessage::HTTP_1_1);
    response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(p.status()));
    response.setKeepAlive(false);
    setSecurityHeaders(response, tls);
    response.set("Cache-Control", "no-store");
    std::ostringstream body;
    p.toJson()->stringify(body);
    response.setContentType("application/problem+json");
    response.setContentLength(static_cast<std::streamsize>(body.str().size()));
    response.send() << body.str();
    session.setKeepAlive(false);
}

}  // namespace klinikbox::http
