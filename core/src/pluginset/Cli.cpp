#include "pluginset/Cli.h"

#include "pluginset/Assemble.h"
#include "pluginset/Certify.h"
#include "pluginset/Dates.h"
#include "pluginset/Mirror.h"
#include "pluginset/RegionIndex.h"
#include "pluginset/SigningLog.h"
#include "pluginset/TrustStore.h"
#include "pluginset/Verifier.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <iomanip>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <stdexcept>

namespace klinikbox::pluginset {

namespace {

const char* kUsage = R"(usage: klinikbox pluginset <verb> ...

For a region's IT department
  create DIR --name N --sequence S --region-name R --region-hsa-id H --expires DATE
         [--issued DATE] [--min-box-version V] [-o FILE] [--signer-certs A.pem,B.pem]
                    hash every plugin directory under DIR into DIR/pluginset.yaml (or FILE,
                    outside DIR); DATE is YYYY-MM-DD (00:00 UTC) or YYYY-MM-DDTHH:MM:SSZ.
                    --signer-certs: refuse an expiry later than any of these certificates
  create DIR --from PLUGINS --build BUILT [--plugins ID,ID...] --name ... (as above)
                    first lay out DIR (new or empty) from the project: plugins/<id>/ gives
                    plugin.yaml, schema.yaml, migrations/, web/, lua/ (and a Lua entry);
                    BUILT/<id>/ the native library its entry names (e.g. build/plugins)
  sign DIR|MANIFEST --key KEY.pem --cert CERT.pem [--chain CHAIN.pem]
                    add the next pluginset.yaml.sig.N (CMS, detached, DER) next to the manifest;
                    refuses an expired certificate and a set that outlives the certificate
  pack DIR -o FILE.zip
                    pack a signed set into one archive for the clinics
  log-append DIR|ZIP --log FILE
                    record a signed set in the region's append-only, hash-chained signing
                    log (JSON lines: time, name, sequence, manifest SHA-256, signers)
  log-verify FILE   check the signing log's chain and list what the region signed
  publish OUTDIR --region-hsa-id H --key KEY.pem --cert CERT.pem [--chain CHAIN.pem]
         [--sets A.zip,B.zip] [--crls crl.pem,...] [--log signing-log.jsonl]
         [--valid-hours 48] [--version N] [--activate stage|auto] [--roots NEWROOT.pem]
                    write the region's static publication: the files plus index.json (sizes,
                    SHA-256, a growing version, a short expiry) and index.json.sig.1

For a clinic's box
  fetch URL --trust TRUSTDIR --state DIR
                    poll a region mirror once: verify the signed index (refusing an old,
                    expired or forged one), fetch and check each file, verify each set, and
                    only then store them under DIR

For everyone
  verify DIR|ZIP --trust TRUSTDIR [--mode production|development] [--now DATE]
         [--grace-days N] [--box-version V]
                    run every check a box runs (except rollback) and print each one; exit 0
                    or 1. Development mode loads a plugin directory unsigned, as a box in
                    development mode does (no --trust needed).
  inspect DIR|ZIP   show what a set claims, without verifying it

See docs/region-certification.md.
)";

struct UsageError : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

// "DIR --opt value --flag=value": one positional word and the options a verb allows.
struct Parsed {
    std::string target;
    std::map<std::string, std::string> options;
};

Parsed parse(const std::vector<std::string>& args, const std::set<std::string>& allowed,
             const std::set<std::string>& required) {
    Parsed p;
    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a.rfind("-", 0) == 0 && a.size() > 1) {
            std::string name = a, value;
            const auto eq = a.find('=');
            if (eq != std::string::npos) {
                name = a.substr(0, eq);
                value = a.substr(eq + 1);
            } else {
                if (i + 1 >= args.size()) throw UsageError(a + " needs a value");
                value = args[++i];
            }
            if (!allowed.count(name))
                throw UsageError("unknown option " + name + " for " + args[0]);
            if (p.options.count(name)) throw UsageError(name + " given twice");
            p.options[name] = value;
            continue;
        }
        if (!p.target.empty()) throw UsageError("one DIR or ZIP only; unexpected '" + a + "'");
        p.target = a;
    }
    if (p.target.empty() && args[0] == "log-verify") throw UsageError("log-verify needs a FILE");
    if (p.target.empty())
        throw UsageError(args[0] + " needs a DIR" +
                         (args[0] == "verify" || args[0] == "inspect" ? " or ZIP"
                          : args[0] == "sign"                         ? " or MANIFEST"
                                                                      : ""));
    std::string missing;
    for (const auto& r : required)
        if (!p.options.count(r)) missing += " " + r;
    if (!missing.empty()) throw UsageError(args[0] + " needs" + missing);
    return p;
}

long long wholeNumber(const std::string& text, const std::string& option) {
    if (text.empty() || text.size() > 15 ||
        text.find_first_not_of("0123456789") != std::string::npos)
        throw UsageError(option + " must be a whole number");
    return std::stoll(text);
}

int cmdCreate(const std::vector<std::string>& args, std::ostream& out) {
    const auto p = parse(args,
                         {"--name", "--sequence", "--region-name", "--region-hsa-id", "--expires",
                          "--issued", "--min-box-version", "-o", "--output", "--signer-certs",
                          "--from", "--build", "--plugins"},
                         {"--name", "--sequence", "--region-name", "--region-hsa-id", "--expires"});
    if (p.options.count("-o") && p.options.count("--output"))
        throw UsageError("-o and --output are the same option; give it once");
    CreateOptions o;
    o.name = p.options.at("--name");
    o.sequence = wholeNumber(p.options.at("--sequence"), "--sequence");
    o.regionName = p.options.at("--region-name");
    o.regionHsaId = p.options.at("--region-hsa-id");
    o.expires = p.options.at("--expires");
    o.issued =
        p.options.count("--issued")
            ? p.options.at("--issued")
            : formatDate(std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()));
    if (p.options.count("--min-box-version")) o.minBoxVersion = p.options.at("--min-box-version");
    if (p.options.count("-o")) o.output = p.options.at("-o");
    if (p.options.count("--output")) o.output = p.options.at("--output");
    if (p.options.count("--signer-certs")) {
        SetManifest planned;
        planned.expires = o.expires;
        if (!parseInstant(o.expires))
            throw UsageError("--expires must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
        std::string list = p.options.at("--signer-certs");
        for (std::size_t start = 0; start <= list.size();) {
            const auto comma = std::min(list.find(',', start), list.size());
            const auto file = list.substr(start, comma - start);
            start = comma + 1;
            if (file.empty()) continue;
            std::ifstream in(file, std::ios::binary);
            if (!in) throw UsageError("cannot read " + file);
            const std::string pem((std::istreambuf_iterator<char>(in)), {});
            for (const auto& c : ssl::certificatesFromPem(pem, file))
                checkSignerFitsSet(c.get(), file, planned, std::chrono::system_clock::now());
        }
    }
    if (p.options.count("--build") && !p.options.count("--from"))
        throw UsageError("--build needs --from (the plugins' source directory)");
    if (p.options.count("--plugins") && !p.options.count("--from"))
        throw UsageError("--plugins needs --from (the plugins' source directory)");
    const bool assembled = p.options.count("--from") > 0;
    if (assembled) {
        std::vector<std::string> ids;
        if (p.options.count("--plugins")) {
            const auto& list = p.options.at("--plugins");
            for (std::size_t start = 0; start <= list.size();) {
                const auto comma = std::min(list.find(',', start), list.size());
                if (comma > start) ids.push_back(list.substr(start, comma - start));
                start = comma + 1;
            }
        }
        if (!o.output.empty()) throw UsageError("-o cannot be used with --from");
        const auto laid = assembleSet(p.options.at("--from"),
                                      p.options.count("--build") ? p.options.at("--build") : "",
                                      ids, p.target);
        for (const auto& pl : laid)
            out << "laid out " << pl.id << " " << pl.version << " (" << pl.kind << "): "
                << pl.files.size() << " file(s)\n";
    }
    SetManifest m;
    try {
        m = createManifest(p.target, o);
    } catch (...) {
        if (assembled) {
            std::error_code ec;
            std::filesystem::remove_all(p.target, ec);  // no half-made set left behind
        }
        throw;
    }
    std::size_t files = 0;
    for (const auto& pl : m.plugins) files += pl.files.size();
    const std::string written =
        o.output.empty() ? (std::filesystem::path(p.target) / "pluginset.yaml").string() : o.output;
    out << "wrote " << written << ": '" << m.name << "' sequence " << m.sequence << ", "
        << m.plugins.size() << " plugin(s), " << files << " file(s), valid " << m.issued << " to "
        << m.expires << "\n";
    for (const auto& pl : m.plugins)
        out << "  " << pl.id << " " << pl.version << " (" << pl.files.size() << " files)\n";
    out << "next: klinikbox pluginset sign " << (o.output.empty() ? p.target : o.output)
        << " --key KEY.pem --cert CERT.pem\n";
    return 0;
}

int cmdSign(const std::vector<std::string>& args, std::ostream& out) {
    const auto p = parse(args, {"--key", "--cert", "--chain"}, {"--key", "--cert"});
    const auto r =
        signManifest(p.target, p.options.at("--key"), p.options.at("--cert"),
                     p.options.count("--chain") ? p.options.at("--chain") : std::string());
    out << "wrote " << r.path << "\n";
    if (!r.filesChecked)
        out << "note: the plugin files were not checked (none of the manifest's plugin "
               "directories is next to it); verify the assembled set before shipping it\n";
    return 0;
}

int cmdPack(const std::vector<std::string>& args, std::ostream& out) {
    const auto p = parse(args, {"-o", "--output"}, {});
    std::string file = p.options.count("-o")
                           ? p.options.at("-o")
                           : (p.options.count("--output") ? p.options.at("--output") : "");
    if (file.empty()) throw UsageError("pack needs -o FILE.zip");
    packSet(p.target, file);
    out << "wrote " << file << " (" << std::filesystem::file_size(file) << " bytes)\n";
    return 0;
}

int cmdLogAppend(const std::vector<std::string>& args, std::ostream& out) {
    const auto p = parse(args, {"--log"}, {"--log"});
    bool appended = false;
    const auto e = appendToSigningLog(p.options.at("--log"), p.target,
                                      std::chrono::system_clock::now(), &appended);
    out << (appended ? "logged as line " : "already logged as line ") << e.index << " of "
        << p.options.at("--log") << ": '" << e.name << "' sequence " << e.sequence
        << ", manifest SHA-256 " << e.manifestSha256 << "\n";
    return 0;
}

int cmdLogVerify(const std::vector<std::string>& args, std::ostream& out) {
    const auto p = parse(args, {}, {});
    const auto entries = readSigningLog(p.target);
    for (const auto& e : entries) {
        out << e.index << "  " << e.time << "  " << e.regionHsaId << "  sequence " << e.sequence
            << "  " << e.manifestSha256 << "  '" << e.name << "'\n";
        for (const auto& s : e.signers) out << "      signed by " << s << "\n";
    }
    out << "the signing log's " << entries.size() << " line(s) chain unbroken\n";
    return 0;
}

std::vector<std::string> listOption(const Parsed& p, const std::string& name) {
    std::vector<std::string> out;
    if (!p.options.count(name)) return out;
    const auto& list = p.options.at(name);
    for (std::size_t start = 0; start <= list.size();) {
        const auto comma = std::min(list.find(',', start), list.size());
        if (comma > start) out.push_back(list.substr(start, comma - start));
        start = comma + 1;
    }
    return out;
}

int cmdPublish(const std::vector<std::string>& args, std::ostream& out) {
    const auto p = parse(args,
                         {"--region-hsa-id", "--key", "--cert", "--chain", "--sets", "--crls",
                          "--log", "--valid-hours", "--version", "--activate", "--roots"},
                         {"--region-hsa-id", "--key", "--cert"});
    PublishOptions o;
    o.outDir = p.target;
    o.regionHsaId = p.options.at("--region-hsa-id");
    o.keyPem = p.options.at("--key");
    o.certPem = p.options.at("--cert");
    if (p.options.count("--chain")) o.chainPem = p.options.at("--chain");
    o.sets = listOption(p, "--sets");
    o.crls = listOption(p, "--crls");
    o.roots = listOption(p, "--roots");
    if (p.options.count("--log")) o.signingLog = p.options.at("--log");
    if (p.options.count("--valid-hours"))
        o.validHours = static_cast<int>(wholeNumber(p.options.at("--valid-hours"), "--valid-hours"));
    if (p.options.count("--version")) o.version = wholeNumber(p.options.at("--version"), "--version");
    if (p.options.count("--activate")) o.activate = p.options.at("--activate");
    const auto x = publishRegion(o, std::chrono::system_clock::now());
    out << "published " << p.target << "/index.json version " << x.version << ", valid until "
        << x.expires << ", " << x.files.size() << " file(s); serve the directory as static files "
        << "and publish again before it expires\n";
    return 0;
}

int cmdFetch(const std::vector<std::string>& args, std::ostream& out) {
    const auto p = parse(args, {"--trust", "--state"}, {"--trust", "--state"});
    const auto trust = TrustStore::load(p.options.at("--trust"));
    const auto r = pollMirror(p.target, trust, p.options.at("--state"), std::chrono::system_clock::now());
    out << "index version " << r.index.version << " of " << r.index.regionHsaId << " accepted"
        << (r.changed ? " (new)" : " (unchanged)") << ", valid until " << r.index.expires << "\n";
    for (const auto& s : r.newSets) out << "  new verified set: " << s << "\n";
    for (const auto& c : r.crls) out << "  CRL: " << c << "\n";
    for (const auto& w : r.warnings) out << "  warning: " << w << "\n";
    return 0;
}

int cmdVerify(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    const auto p = parse(args, {"--trust", "--mode", "--now", "--grace-days", "--box-version"}, {});
    const std::string mode = p.options.count("--mode") ? p.options.at("--mode") : "production";
    if (mode != "production" && mode != "development")
        throw UsageError("--mode must be production or development");
    auto print = [&out](const std::vector<Check>& checks) {
        for (const auto& c : checks)
            out << "  " << std::left << std::setw(6) << (c.passed ? "ok" : "FAIL") << std::setw(22)
                << c.name << c.detail << "\n";
    };
    if (mode == "development") {
        for (const auto* opt : {"--trust", "--now", "--grace-days", "--box-version"})
            if (p.options.count(opt))
                throw UsageError(std::string(opt) +
                                 " applies to production mode only; development mode checks no "
                                 "signatures, certificates or dates");
        out << "loading " << p.target << " as an unsigned development set\n";
        try {
            const auto set = loadUnsignedDevelopment(p.target);
            print(set.checks);
            out << "ACCEPTED IN DEVELOPMENT MODE ONLY: " << set.plugins.size()
                << " plugin(s), unsigned; a box in production mode refuses them\n";
            for (const auto& pl : set.plugins)
                out << "  plugin: " << pl.id << " " << pl.version << " (" << pl.files.size()
                    << " files)\n";
            for (const auto& w : set.warnings) out << "  warning: " << w << "\n";
            return 0;
        } catch (const VerifyError& e) {
            print(e.checks());
            out << "REFUSED (" << toString(e.reason()) << "): " << e.what() << "\n";
            return 1;
        }
    }
    if (!p.options.count("--trust")) throw UsageError("verify needs --trust in production mode");
    VerifyOptions o;
    o.commitHighWater = false;
    if (p.options.count("--now")) {
        const auto t = parseInstant(p.options.at("--now"));
        if (!t) throw UsageError("--now must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
        o.now = *t;
    }
    if (p.options.count("--grace-days")) {
        const auto g = wholeNumber(p.options.at("--grace-days"), "--grace-days");
        if (g > 3650) throw UsageError("--grace-days must be at most 3650");
        o.graceDays = static_cast<int>(g);
    }
    if (p.options.count("--box-version")) o.boxVersion = p.options.at("--box-version");
    TrustStore trust;
    try {
        trust = TrustStore::load(p.options.at("--trust"));
    } catch (const std::exception& e) {
        err << "klinikbox pluginset verify: the trust directory cannot be used: " << e.what()
            << "\n";
        return 1;
    }
    out << "verifying " << p.target << " against " << p.options.at("--trust") << " at "
        << formatInstant(o.now) << "\n";
    try {
        const auto set = verifySigned(p.target, trust, o, nullptr);
        print(set.checks);
        out << "ACCEPTED: '" << set.name << "' sequence " << set.sequence << " from "
            << set.regionName << " (" << set.regionHsaId << "), status " << set.status << "\n";
        for (const auto& s : set.signers)
            out << "  signer: " << s.subject << " (valid until " << s.notAfter << ")\n";
        for (const auto& w : set.warnings) out << "  warning: " << w << "\n";
        return 0;
    } catch (const VerifyError& e) {
        print(e.checks());
        out << "REFUSED (" << toString(e.reason()) << "): " << e.what() << "\n";
        return 1;
    }
}

int cmdInspect(const std::vector<std::string>& args, std::ostream& out) {
    const auto p = parse(args, {}, {});
    const auto s = inspectSet(p.target);
    const auto& m = s.manifest;
    out << "NOT VERIFIED: this shows what the set claims. Check it with `klinikbox pluginset "
           "verify "
        << p.target << " --trust TRUSTDIR`.\n";
    out << "name:            " << m.name << "\n"
        << "sequence:        " << m.sequence << "\n"
        << "region:          " << m.regionName << " (" << m.regionHsaId << ")\n"
        << "issued:          " << m.issued << "\n"
        << "expires:         " << m.expires << "\n"
        << "min_box_version: " << m.minBoxVersion << "\n"
        << "manifest sha256: " << s.manifestSha256 << "\n"
        << "plugins:\n";
    for (const auto& pl : m.plugins) {
        std::uint64_t bytes = 0;
        for (const auto& f : pl.files) bytes += f.size;
        out << "  " << pl.id << " " << pl.version << ": " << pl.files.size() << " file(s), "
            << bytes << " bytes\n";
    }
    out << "signatures:" << (s.signatures.empty() ? " none\n" : "\n");
    for (const auto& sig : s.signatures) {
        if (!sig.problem.empty()) {
            out << "  " << sig.file << ": " << sig.problem << "\n";
            continue;
        }
        out << "  " << sig.file << ": " << sig.subject << "\n"
            << "      issuer " << sig.issuer << ", valid until " << sig.notAfter << "\n"
            << "      certificate sha256 " << sig.sha256 << "\n";
    }
    return 0;
}

}  // namespace

int runPluginsetCommand(const std::vector<std::string>& args, std::ostream& out,
                        std::ostream& err) {
    if (args.empty()) {
        err << kUsage;
        return 2;
    }
    const std::string& verb = args[0];
    // "help", and --help or -h anywhere (`pluginset verify --help`): the usage, exit 0.
    if (verb == "help" || std::find(args.begin(), args.end(), "--help") != args.end() ||
        std::find(args.begin(), args.end(), "-h") != args.end()) {
        out << kUsage;
        return 0;
    }
    try {
        if (verb == "create") return cmdCreate(args, out);
        if (verb == "sign") return cmdSign(args, out);
        if (verb == "verify") return cmdVerify(args, out, err);
        if (verb == "inspect") return cmdInspect(args, out);
        if (verb == "pack") return cmdPack(args, out);
        if (verb == "log-append") return cmdLogAppend(args, out);
        if (verb == "log-verify") return cmdLogVerify(args, out);
        if (verb == "publish") return cmdPublish(args, out);
        if (verb == "fetch") return cmdFetch(args, out);
        err << "klinikbox pluginset: unknown verb '" << verb << "'\n\n" << kUsage;
        return 2;
    } catch (const UsageError& e) {
        err << "klinikbox pluginset " << verb << ": " << e.what() << "\n\n" << kUsage;
        return 2;
    } catch (const VerifyError& e) {
        err << "klinikbox pluginset " << verb << ": " << toString(e.reason()) << ": " << e.what()
            << "\n";
        return 1;
    } catch (const std::exception& e) {
        err << "klinikbox pluginset " << verb << ": " << e.what() << "\n";
        return 1;
    }
}

}  // namespace klinikbox::pluginset
