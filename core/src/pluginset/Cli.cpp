#include "pluginset/Cli.h"

#include "pluginset/Signing.h"
#include "pluginset/Verifier.h"

#include <yaml-cpp/yaml.h>

#include <ctime>
#include <ostream>
#include <stdexcept>

namespace klinikbox::pluginset {

namespace {

const char* kUsage = R"(usage:
  klinikbox pluginset create DIR --name NAME --sequence N --region-name NAME --region-hsa-id HSA-ID
                                 --expires YYYY-MM-DD [--issued YYYY-MM-DD] [--min-box-version X.Y.Z]
  klinikbox pluginset sign DIR --key KEY.pem --cert CERT.pem [--chain CHAIN.pem]
  klinikbox pluginset verify DIR|ZIP --trust TRUSTDIR [--now YYYY-MM-DD] [--grace-days N]
  klinikbox pluginset inspect DIR|ZIP
  klinikbox pluginset pack DIR -o FILE.zip
)";

struct Args {
    std::vector<std::string> rest;
    std::string take(const std::string& name, bool required = false) {
        for (std::size_t i = 0; i + 1 < rest.size(); ++i) {
            if (rest[i] == name) {
                std::string v = rest[i + 1];
                rest.erase(rest.begin() + static_cast<long>(i), rest.begin() + static_cast<long>(i) + 2);
                return v;
            }
        }
        if (required) throw std::invalid_argument(name + " is required");
        return {};
    }
    std::string positional() {
        if (rest.empty() || rest.front().rfind("-", 0) == 0) throw std::invalid_argument("a directory or archive is required");
        std::string v = rest.front();
        rest.erase(rest.begin());
        return v;
    }
    void done() const {
        if (!rest.empty()) throw std::invalid_argument("unexpected argument '" + rest.front() + "'");
    }
};

std::string today() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return buf;
}

}  // namespace

int runPluginsetCommand(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
    if (argv.empty() || argv.front() == "--help") {
        (argv.empty() ? err : out) << kUsage;
        return argv.empty() ? 2 : 0;
    }
    const std::string verb = argv.front();
    Args a{std::vector<std::string>(argv.begin() + 1, argv.end())};
    try {
        if (verb == "create") {
            const auto dir = a.positional();
            CreateOptions o;
            o.name = a.take("--name", true);
            o.sequence = std::stoll(a.take("--sequence", true));
            o.regionName = a.take("--region-name", true);
            o.regionHsaId = a.take("--region-hsa-id", true);
            o.expires = a.take("--expires", true);
            o.issued = a.take("--issued");
            if (o.issued.empty()) o.issued = today();
            if (auto v = a.take("--min-box-version"); !v.empty()) o.minBoxVersion = v;
            a.done();
            createManifest(dir, o);
            out << "wrote " << dir << "/pluginset.yaml\n";
            return 0;
        }
        if (verb == "sign") {
            const auto dir = a.positional();
            const auto key = a.take("--key", true), cert = a.take("--cert", true), chain = a.take("--chain");
            a.done();
            out << "wrote " << signManifest(dir, key, cert, chain) << "\n";
            return 0;
        }
        if (verb == "pack") {
            const auto dir = a.positional();
            const auto file = a.take("-o", true);
            a.done();
            packSet(dir, file);
            out << "wrote " << file << "\n";
            return 0;
        }
        if (verb == "inspect") {
            const auto path = a.positional();
            a.done();
            const auto files = readSet(path);
            auto mf = files.find("pluginset.yaml");
            if (mf == files.end()) throw std::runtime_error("no pluginset.yaml");
            const YAML::Node m = YAML::Load(mf->second);
            out << "name:      " << m["name"].as<std::string>("?") << "\nsequence:  " << m["sequence"].as<std::string>("?")
                << "\nregion:    " << m["region"]["name"].as<std::string>("?") << " (" << m["region"]["hsa_id"].as<std::string>("?")
                << ")\nissued:    " << m["issued"].as<std::string>("?") << "\nexpires:   " << m["expires"].as<std::string>("?")
                << "\nplugins:\n";
            for (const auto& p : m["plugins"])
                out << "  " << p["id"].as<std::string>("?") << " " << p["version"].as<std::string>("?") << " ("
                    << p["files"].size() << " files)\n";
            int sigs = 0;
            for (const auto& [name, bytes] : files)
                if (name.rfind("pluginset.yaml.sig.", 0) == 0) ++sigs;
            out << "signatures: " << sigs << " (not verified; use verify)\n";
            return 0;
        }
        if (verb == "verify") {
            const auto path = a.positional();
            const auto trustDir = a.take("--trust", true);
            VerifyOptions o;
            if (auto now = a.take("--now"); !now.empty()) {
                std::tm tm{};
                if (!strptime(now.c_str(), "%Y-%m-%d", &tm)) throw std::invalid_argument("--now must be YYYY-MM-DD");
                o.now = std::chrono::system_clock::from_time_t(timegm(&tm));
            }
            if (auto g = a.take("--grace-days"); !g.empty()) o.graceDays = std::stoi(g);
            a.done();
            const auto trust = TrustStore::load(trustDir);
            try {
                const auto set = verifySigned(path, trust, o, nullptr);
                for (const auto& c : set.checks) out << "  ok    " << c.name << ": " << c.detail << "\n";
                for (const auto& w : set.warnings) out << "  warn  " << w << "\n";
                out << "VALID: " << set.name << " sequence " << set.sequence << ", " << set.plugins.size()
                    << " plugins, signed by";
                for (const auto& s : set.signers) out << " [" << s.subject << "]";
                out << "\n";
                return 0;
            } catch (const VerifyError& e) {
                for (const auto& c : e.checks()) out << (c.passed ? "  ok    " : "  FAIL  ") << c.name << ": " << c.detail << "\n";
                out << "REFUSED (" << toString(e.reason()) << "): " << e.what() << "\n";
                return 1;
            }
        }
        err << "unknown pluginset command '" << verb << "'\n" << kUsage;
        return 2;
    } catch (const VerifyError& e) {
        err << "klinikbox pluginset " << verb << ": " << e.what() << "\n";
        return 1;
    } catch (const std::invalid_argument& e) {
        err << "klinikbox pluginset " << verb << ": " << e.what() << "\n" << kUsage;
        return 2;
    } catch (const std::exception& e) {
        err << "klinikbox pluginset " << verb << ": " << e.what() << "\n";
        return 1;
    }
}

}  // namespace klinikbox::pluginset
