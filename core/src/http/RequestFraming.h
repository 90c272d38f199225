// What the HTTP layer refuses before a request reaches the dispatcher: a request POCO could not
// read, and one whose framing (RFC 9112) a proxy in front of the box could read another way.
// Each is answered with a problem document and the connection is closed, since where the next
// request starts on it is no longer known.
#pragma once

#include <klinikbox/Problem.h>

#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPServerSession.h>

#include <optional>
#include <string>

namespace klinikbox::http {

// The headers every response carries (docs/security.md), the box's answers and refusals alike.
void setSecurityHeaders(Poco::Net::HTTPResponse& out, bool tls);

// The problem for a request POCO could not read, from its exception's text: 414 for a request
// line too long, 431 for header fields too long or too many, else 400.
[[nodiscard]] Problem unreadableRequest(const std::string& why);

// What is wrong with how a request POCO did read frames itself, or nullopt:
//  - an HTTP version other than 1.0 and 1.1 (505);
//  - HTTP/1.1 without Host (400, RFC 9112 §3.2);
//  - a header field name that is not a token, e.g. "Content-Length " before the colon, which
//    POCO keeps as another field while a proxy may read it as Content-Length (400, §5.1);
//  - a Content-Length that is not digits, e.g. "+2" or "-1" (400, §6.3);
//  - a Transfer-Encoding other than exactly "chunked", e.g. "gzip, chunked" or "identity":
//    POCO would not read the body, and its bytes would become the next request (501, §6.1);
//  - Transfer-Encoding with Content-Length, or on HTTP/1.0 (400, §6.1, §6.3).
[[nodiscard]] std::optional<Problem> framingProblem(const Poco::Net::HTTPRequest& in);

// The server session of a connection, whose bytes the box may read itself: a chunked body is
// decoded here by RFC 9112 §7.1, where POCO 1.11 read a malformed chunk as the body's end
// (so a body cut at a chunk boundary was taken whole).
class StrictSession final : public Poco::Net::HTTPServerSession {
public:
    using HTTPServerSession::HTTPServerSession;
    // Appends the chunked body's data to `out`; Problem 400 for a malformed size line, chunk
    // or trailer, or a body that ends early. Past `limit` bytes of data it reads on without
    // keeping them, up to `drainMax` in all (so that a client sending its whole body first
    // sees the answer), and returns false. The server closes the connection after any
    // chunked body.
    [[nodiscard]] bool readChunkedBody(std::string& out, long long limit, long long drainMax);

private:
    std::string line(const char* what);  // up to LF, without CR LF; 400 past 4 KiB or at EOF
};

// Answers `p` on the session as application/problem+json with the security headers, and
// ends the connection after it.
void sendRefusal(Poco::Net::HTTPServerSession& session, const Problem& p, bool tls);

}  // namespace klinikbox::http
