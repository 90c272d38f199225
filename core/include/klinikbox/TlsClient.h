// TLS client contexts for calls to outside services with the clinic's client certificate
// (RIV-TA, Swish, the SMS gateway): made once per set of files and kept.
//
// Making a context reads the client certificate, its key and the CA bundle: about 1 ms with a
// bundle of one CA and 20 ms with the system's CAs (measured 2026-12-07), which every call
// paid while each made its own. A kept context is used again while none of its files changed
// (modification time and size; the system's CA file when the bundle is empty), so a renewed
// certificate written over the old files is used by the next call. OpenSSL lets many
// connections, on any thread, share one context.
//
// Implemented in the kb_rivta library, which each plugin that calls outside links statically:
// a plugin keeps its own contexts.
#pragma once

#include <Poco/Net/Context.h>

#include <cstdint>
#include <string>

namespace klinikbox::tls {

// A client context presenting `clientCert`/`clientKey` (PEM files) and verifying the peer
// against `caBundle` (the system's CAs when empty). Throws Poco::Exception when a file cannot
// be loaded.
[[nodiscard]] Poco::Net::Context::Ptr clientContext(const std::string& clientCert, const std::string& clientKey,
                                                    const std::string& caBundle);

// Contexts clientContext has made in this module (tests, diagnostics).
[[nodiscard]] std::uint64_t clientContextsMade();

}  // namespace klinikbox::tls
