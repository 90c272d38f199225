// klinikbox tls show|renew: the HTTPS certificate an admin compares with what browsers show,
// and a new self-signed one naming the box's LAN names (server.tls.names and --name).
#include "app/Commands.h"

#include "http/Tls.h"
#include "server/BoxConfig.h"

#include <algorithm>
#include <filesystem>
#include <iostream>

namespace klinikbox::app {

namespace {

const char* kTlsUsage = R"(usage: klinikbox tls show [--config FILE]
       klinikbox tls renew [--name HOST-OR-ADDRESS]... [--config FILE]
show   prints the listener's certificate: SHA-256 fingerprint, names, expiry, issuer.
renew  generates a new self-signed certificate in data_dir/tls naming localhost, 127.0.0.1,
       ::1, server.tls.names and every --name (restart the box to use it). Not for a
       certificate of the clinic's own or an internal CA's (server.tls.cert_file): replace
       that file instead.
)";

void print(const http::CertificateInfo& i, const std::string& file) {
    std::cout << "certificate: " << file << "\n"
              << "SHA-256 fingerprint: " << i.fingerprintSha256 << "\n"
              << "subject: " << i.subject << "\nissuer: " << i.issuer << (i.selfSigned ? " (self-signed)" : "") << "\n"
              << "names:";
    for (const auto& n : i.names) std::cout << " " << n;
    std::cout << "\nvalid until: " << i.notAfter << "\n";
}

int runTls(Args args) {
    if (args.empty() || args.front() == "--help") {
        std::cout << kTlsUsage;
        return args.empty() ? 2 : 0;
    }
    const std::string sub = args.front();
    args.erase(args.begin());
    const auto path = configPath(args);
    std::vector<std::string> extra;
    for (std::string n; !(n = takeOption(args, "--name")).empty();) extra.push_back(n);
    if (!args.empty()) throw std::invalid_argument("unexpected argument '" + args.front() + "'\n" + kTlsUsage);
    const auto cfg = server::loadBoxConfig(path);
    std::vector<std::string> names = {"localhost", "127.0.0.1", "::1"};
    for (const auto& list : {cfg.tlsNames, extra})
        for (const auto& n : list)
            if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
    if (sub == "show") {
        const std::string file = !cfg.server.certFile.empty()
                                     ? cfg.server.certFile
                                     : (std::filesystem::path(cfg.dataDir) / "tls" / "server.crt").string();
        print(http::describeCertificate(file), file);
        return 0;
    }
    if (sub == "renew") {
        if (!cfg.server.certFile.empty())
            throw std::invalid_argument("server.tls.cert_file is set: replace " + cfg.server.certFile +
                                        " with the renewed certificate instead");
        const auto files = http::generateServerCertificate(cfg.dataDir, names);
        print(http::describeCertificate(files.certFile), files.certFile);
        std::cout << "restart the box to serve the new certificate\n";
        return 0;
    }
    throw std::invalid_argument("unknown tls command '" + sub + "'\n" + kTlsUsage);
}

const RegisterCommand regTls("tls", runTls);

}  // namespace

}  // namespace klinikbox::app
