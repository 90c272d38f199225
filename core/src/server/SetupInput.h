// What the first-run wizard accepts (server/SetupWizard.cpp): each check returns an empty
// string when the value is fine, else the field error's code (the console's catalogue has
// its Swedish text under field.<code>).
#pragma once

#include <string>
#include <vector>

namespace klinikbox::server::setup {

// The clinic's name: 1..100 characters, no control characters.
[[nodiscard]] std::string clinicNameProblem(const std::string& name);
// A host name staff type (RFC 1123 labels, at most 253 characters, no wildcard) or an IPv4
// or IPv6 address. Returns "host" when it is neither.
[[nodiscard]] std::string hostNameProblem(const std::string& name);
// The host name as the certificate and the links carry it: lower case, no surrounding
// brackets for IPv6.
[[nodiscard]] std::string normalizeHost(std::string name);
// scheme://host[:port] with an optional trailing "/" and nothing else: "url" when not.
[[nodiscard]] std::string publicUrlProblem(const std::string& url, bool tls);
// The public URL of a host name: https://host (the port only when not the scheme's default),
// IPv6 addresses in brackets.
[[nodiscard]] std::string publicUrlFor(const std::string& host, int port, bool tls);
// A directory name for a region ("Region Östergötland" -> "region-ostergotland"); empty
// when the name has no letter or digit.
[[nodiscard]] std::string regionDirName(const std::string& regionName);
// "pem-ca" unless `pem` holds one or more self-signed CA certificates (basicConstraints
// CA:TRUE, issuer = subject) and nothing else that is not PEM whitespace.
[[nodiscard]] std::string rootPemProblem(const std::string& pem);
// "pem-crl" unless `pem` is empty or holds one or more PEM CRLs.
[[nodiscard]] std::string crlPemProblem(const std::string& pem);

}  // namespace klinikbox::server::setup
