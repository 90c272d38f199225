#include "pluginset/Verifier.h"

#include "pluginset/Expiry.h"
#include "pluginset/SetFiles.h"
#include "pluginset/SetManifest.h"
#include "pluginset/Signatures.h"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <set>

namespace klinikbox::pluginset {

namespace {

constexpr std::uint64_t kMaxManifestBytes = 4u << 20;
constexpr std::uint64_t kMaxSignatureBytes = 256u << 10;
constexpr std::size_t kMaxSignatures = 16;

// The checks made so far, and the step that runs each one: a failing step is recorded
// and its VerifyError rethrown carrying every check.
class Checks {
  public:
    template <class Fn>
    void step(const std::string& name, Fn&& fn) {
        try {
            list_.push_back(Check{name, true, fn()});
        } catch (VerifyError& e) {
            list_.push_back(Check{name, false, e.what()});
            e.setChecks(list_);
            throw;
        } catch (const std::exception& e) {
            list_.push_back(Check{name, false, e.what()});
            throw VerifyError(Reason::Unreadable, e.what(), list_);
        }
    }
    [[nodiscard]] const std::vector<Check>& list() const { return list_; }

  private:
    std::vector<Check> list_;
};

std::string joined(const std::vector<std::string>& parts, const char* sep = "; ") {
    std::string s;
    for (const auto& p : parts) s += (s.empty() ? "" : sep) + p;
    return s;
}

int signatureNumber(const std::string& name) {
    return std::stoi(name.substr(std::string("pluginset.yaml.sig.").size()));
}

VerifiedSet verifyFromSource(const std::function<SetSource()>& open, const TrustStore& trust,
                             const VerifyOptions& opts, HighWaterStore* hw) {
    Checks checks;
    std::optional<SetSource> src;
    checks.step("archive", [&] {
        src.emplace(open());
        return src->summary();
    });

    std::string manifestBytes;
    std::vector<Signature> sigs;
    checks.step("signatures", [&] {
        auto m = src->readTopLevel("pluginset.yaml", kMaxManifestBytes);
        if (!m) throw VerifyError(Reason::ManifestMissing, src->name() + " has no pluginset.yaml");
        manifestBytes = std::move(*m);
        std::vector<std::string> names;
        for (const auto& n : src->topLevelNames()) {
            if (isSignatureFileName(n))
                names.push_back(n);
            else if (n.rfind("pluginset.yaml.sig", 0) == 0)
                throw VerifyError(Reason::SignatureMalformed,
                                  n + " is not named pluginset.yaml.sig.N (N = 1, 2, ...)");
        }
        if (names.empty())
            throw VerifyError(Reason::SignatureMissing,
                              src->name() +
                                  " has no signature (pluginset.yaml.sig.1 ...); production mode "
                                  "runs only signed sets");
        if (names.size() > kMaxSignatures)
            throw VerifyError(
                Reason::SignatureMalformed,
                src->name() + " has more than " + std::to_string(kMaxSignatures) + " signatures");
        std::sort(names.begin(), names.end(), [](const auto& a, const auto& b) {
            return signatureNumber(a) < signatureNumber(b);
        });
        for (const auto& n : names) {
            const auto bytes = src->readTopLevel(n, kMaxSignatureBytes);
            if (!bytes)
                throw VerifyError(Reason::Unreadable, n + " disappeared while the set was read");
            sigs.push_back(parseSignature(n, *bytes));
            checkSignedBytes(sigs.back(), manifestBytes);
        }
        return std::to_string(sigs.size()) + " signature(s) over the " +
               std::to_string(manifestBytes.size()) + " bytes of pluginset.yaml (SHA-256 " +
               sha256Hex(manifestBytes) + ")";
    });
    checks.step("chain", [&] {
        std::vector<std::string> lines;
        for (auto& s : sigs) {
            findRegion(s, trust);
            lines.push_back(s.file + ": " + s.chainText + " (region " + s.region->name + ")");
        }
        return joined(lines);
    });
    checks.step("key-usage", [&] {
        for (const auto& s : sigs) checkKeyUsage(s);
        return std::string(
            "every signer has keyUsage digitalSignature, is no CA, and has codeSigning if it "
            "restricts extendedKeyUsage");
    });
    checks.step("certificate-validity", [&] {
        std::vector<std::string> lines;
        for (const auto& s : sigs) {
            checkValidity(s, opts.now);
            lines.push_back(s.file + ": valid until " + ssl::notAfterOf(s.signer));
        }
        return joined(lines) + " (verification time " + formatInstant(opts.now) + ")";
    });
    checks.step("revocation", [&] {
        std::set<std::string> lines;
        for (const auto& s : sigs) lines.insert(checkRevocation(s, manifestBytes, opts.now));
        return joined({lines.begin(), lines.end()});
    });

    const Region* region = nullptr;
    std::vector<SignerInfo> signers;
    checks.step("threshold", [&] {
        std::set<std::string> regions;
        for (const auto& s : sigs) regions.insert(s.region->name + " (" + s.region->hsaId + ")");
        if (regions.size() > 1)
            throw VerifyError(Reason::RegionMismatch,
                              "the set is signed by more than one region: " +
                                  joined({regions.begin(), regions.end()}, ", "));
        region = sigs.front().region;
        // Distinct signers, counted as TUF counts keys and stricter: signatures by the same
        // certificate, by certificates over the same public key (a renewal from the same CSR)
        // or by certificates of the same subject (one person with two keys) are one signer.
        // Signatures linked by a shared key or subject form one group (union-find), so no
        // chain of renewals lets one person count twice.
        std::set<std::string> seen;
        std::vector<const Signature*> unique;
        for (const auto& s : sigs)
            if (seen.insert(ssl::sha256Of(s.signer)).second) unique.push_back(&s);
        std::vector<std::size_t> parent(unique.size());
        for (std::size_t i = 0; i < parent.size(); ++i) parent[i] = i;
        const std::function<std::size_t(std::size_t)> root = [&](std::size_t i) {
            while (parent[i] != i) i = parent[i] = parent[parent[i]];
            return i;
        };
        std::map<std::string, std::size_t> byKey, bySubject;
        std::vector<std::string> notes;
        for (std::size_t i = 0; i < unique.size(); ++i) {
            const X509* x = unique[i]->signer;
            const auto subject = ssl::subjectOf(x);
            signers.push_back(SignerInfo{subject, ssl::issuerOf(x), ssl::sha256Of(x),
                                         ssl::notAfterOf(x), ssl::publicKeySha256Of(x)});
            const auto [k, newKey] = byKey.emplace(signers.back().keySha256, i);
            if (!newKey) {
                parent[root(i)] = root(k->second);
                notes.push_back(unique[i]->file + " uses the same key as " +
                                unique[k->second]->file);
            }
            const auto [n, newSubject] = bySubject.emplace(subject, i);
            if (!newSubject) {
                parent[root(i)] = root(n->second);
                notes.push_back(unique[i]->file + " has the same subject as " +
                                unique[n->second]->file);
            }
        }
        std::vector<std::string> subjects;
        for (std::size_t i = 0; i < unique.size(); ++i)
            if (root(i) == i) subjects.push_back(signers[i].subject);
        const auto distinct = static_cast<int>(subjects.size());
        std::string why;
        if (sigs.size() > unique.size()) notes.push_back("signatures by the same certificate");
        if (!notes.empty())
            why = "; signers with the same certificate, key or subject count once (" +
                  joined(notes) + ")";
        if (distinct < region->threshold)
            throw VerifyError(Reason::ThresholdNotMet,
                              "region " + region->name + " requires " +
                                  std::to_string(region->threshold) +
                                  " signatures by distinct signers (distinct keys and distinct "
                                  "subjects); the set has " +
                                  std::to_string(distinct) + " (" + joined(subjects, ", ") + ")" +
                                  why);
        return std::to_string(distinct) + " distinct signer(s) (distinct keys and subjects), "
               "region " + region->name + " requires " + std::to_string(region->threshold) +
               ": " + joined(subjects, ", ") + why;
    });

    SetManifest manifest;
    checks.step("manifest", [&] {
        manifest = SetManifest::parse(manifestBytes);
        return "'" + manifest.name + "', sequence " + std::to_string(manifest.sequence) + ", " +
               std::to_string(manifest.plugins.size()) + " plugin(s)";
    });
    checks.step("region", [&] {
        if (manifest.regionHsaId != region->hsaId || manifest.regionName != region->name)
            throw VerifyError(Reason::RegionMismatch,
                              "the manifest names region " + manifest.regionName + " (" +
                                  manifest.regionHsaId + ") but its signers belong to " +
                                  region->name + " (" + region->hsaId + ")");
        return region->name + " (" + region->hsaId + ")";
    });

    VerifiedSet out;
    checks.step("dates", [&] {
        using namespace std::chrono;
        const TimePoint start = *parseInstant(manifest.issued);
        const TimePoint end = *parseInstant(manifest.expires);
        const TimePoint graceEnd = end + days(opts.graceDays);
        const std::string when = " (verification time " + formatInstant(opts.now) + ")";
        if (opts.now < start)
            throw VerifyError(Reason::NotYetValid,
                              "the set is valid from " + manifest.issued + when);
        if (opts.now >= graceEnd)
            throw VerifyError(Reason::Expired,
                              "the set expired on " + manifest.expires +
                                  " and its grace period of " + std::to_string(opts.graceDays) +
                                  " days ended on " + formatMoment(graceEnd) + when);
        if (opts.now >= end) {
            out.status = "expired-in-grace";
            out.warnings.push_back("the set expired on " + manifest.expires +
                                   "; it runs in its grace period until " + formatMoment(graceEnd) +
                                   " and is refused after that. Ask " + region->name +
                                   " for a new set.");
        } else if (opts.now >= end - days(opts.warningDays)) {
            out.status = "expiring-soon";
            const auto left = ceil<days>(end - opts.now).count();
            out.warnings.push_back("the set expires on " + manifest.expires + " (in " +
                                   std::to_string(left) + " day" + (left == 1 ? "" : "s") +
                                   "). Ask " + region->name + " for a new set.");
        } else {
            out.status = "valid";
        }
        // What else stops this set on a known day: its signers' certificates and its
        // region's CRLs, warned ahead like the set's own expiry.
        VerifiedSet probe;
        probe.isSigned = true;
        probe.regionHsaId = region->hsaId;
        probe.signers = signers;
        TrustStore only = TrustStore::ofRegion(*region);
        for (const auto& e : expiriesOf(probe, only))
            if (isDue(e, opts.now)) out.warnings.push_back(warningFor(e, opts.now, region->name));
        return "issued " + manifest.issued + ", expires " + manifest.expires + ": " + out.status +
               when;
    });
    checks.step("box-version", [&] {
        if (!isSemver(opts.boxVersion))
            throw std::invalid_argument("the box version '" + opts.boxVersion +
                                        "' is not a version");
        if (compareSemver(opts.boxVersion, manifest.minBoxVersion) < 0)
            throw VerifyError(Reason::BoxTooOld, "the set needs klinikbox " +
                                                     manifest.minBoxVersion +
                                                     " or newer; this box is " + opts.boxVersion);
        return "needs " + manifest.minBoxVersion + ", box is " + opts.boxVersion;
    });
    const std::string manifestSha = sha256Hex(manifestBytes);
    checks.step("rollback", [&] {
        if (!hw)
            return std::string(
                "not checked: no high-water store (the box checks it on activation)");
        const auto mark = hw->get(region->hsaId);
        if (!mark) return "the first set accepted from " + region->name;
        const std::string seq = std::to_string(manifest.sequence);
        if (manifest.sequence < mark->sequence && manifest.sequence == opts.allowRollbackTo) {
            out.warnings.push_back("rolled back by an administrator to sequence " + seq + " of " +
                                   region->name + "; sequence " + std::to_string(mark->sequence) +
                                   " was accepted before");
            return "sequence " + seq + " is below " + std::to_string(mark->sequence) +
                   ", allowed as an administrator's rollback; the mark stays at " +
                   std::to_string(mark->sequence);
        }
        if (manifest.sequence < mark->sequence)
            throw VerifyError(Reason::Rollback, "sequence " + seq + " is lower than " +
                                                    std::to_string(mark->sequence) +
                                                    ", the highest accepted from " + region->name +
                                                    " ('" + mark->setName + "')");
        if (manifest.sequence == mark->sequence && manifestSha != mark->manifestSha256)
            throw VerifyError(
                Reason::Rollback,
                "sequence " + seq + " was accepted before with another manifest (SHA-256 " +
                    mark->manifestSha256 + "); a region never reuses a sequence number");
        return manifest.sequence == mark->sequence
                   ? "sequence " + seq + " is the accepted set"
                   : "sequence " + seq + " is above " + std::to_string(mark->sequence);
    });
    checks.step("files", [&] {
        out.plugins = readCertifiedFiles(*src, manifest);
        std::size_t files = 0;
        for (const auto& p : out.plugins) {
            files += p.files.size();
            const auto y = p.files.find("plugin.yaml");
            if (y == p.files.end()) continue;
            const auto identity = pluginIdentity(y->second, p.id + "/plugin.yaml");
            if (identity.api != opts.sdkApiVersion)
                out.warnings.push_back(
                    "plugin " + p.id + " " + p.version + " asks for SDK API " +
                    (identity.api < 0 ? std::string("(none or not a number)")
                                      : std::to_string(identity.api)) +
                    "; this box provides API " + std::to_string(opts.sdkApiVersion) +
                    ", so it refuses that plugin while the rest of the set runs");
        }
        return std::to_string(files) + " file(s) of " + std::to_string(out.plugins.size()) +
               " plugin(s) match their size and SHA-256; nothing missing, nothing extra";
    });

    out.name = manifest.name;
    out.sequence = manifest.sequence;
    out.regionName = manifest.regionName;
    out.regionHsaId = manifest.regionHsaId;
    out.issued = manifest.issued;
    out.expires = manifest.expires;
    out.isSigned = true;
    out.signers = std::move(signers);
    out.manifestSha256 = manifestSha;
    if (hw && opts.commitHighWater) {
        checks.step("high-water", [&] {
            const auto mark = hw->get(region->hsaId);
            if (mark && mark->sequence > out.sequence)  // an allowed rollback never lowers the mark
                return "region " + region->name + " stays at sequence " +
                       std::to_string(mark->sequence);
            commitHighWater(out, *hw);
            return "region " + region->name + " raised to sequence " + std::to_string(out.sequence);
        });
    }
    out.checks = checks.list();
    return out;
}

}  // namespace

bool isSignatureFileName(const std::string& name) {
    static const std::regex re("^pluginset\\.yaml\\.sig\\.[1-9][0-9]{0,3}$");
    return std::regex_match(name, re);
}

VerifiedSet verifySigned(const std::string& dirOrZip, const TrustStore& trust,
                         const VerifyOptions& opts, HighWaterStore* hw) {
    return verifyFromSource([&] { return SetSource::open(dirOrZip, opts.limits); }, trust, opts,
                            hw);
}

VerifiedSet verifySignedArchive(const std::string& zipBytes, const std::string& shownName,
                                const TrustStore& trust, const VerifyOptions& opts,
                                HighWaterStore* hw) {
    return verifyFromSource(
        [&] { return SetSource::fromArchive(zipBytes, shownName, opts.limits); }, trust, opts, hw);
}

void commitHighWater(const VerifiedSet& set, HighWaterStore& hw) {
    if (!set.isSigned) throw std::logic_error("an unsigned set has no high-water mark");
    hw.raise(set.regionHsaId, HighWater{set.sequence, set.manifestSha256, set.name});
}

VerifiedSet loadUnsignedDevelopment(const std::string& dir, const ArchiveLimits& limits) {
    Checks checks;
    VerifiedSet out;
    out.name = "unsigned development set " + dir;
    out.status = "unsigned-development";
    out.isSigned = false;
    checks.step("files", [&] {
        const auto src = SetSource::open(dir, limits);
        if (src.isArchive())
            throw VerifyError(
                Reason::Unreadable,
                dir + " is not a directory; development mode reads a directory of plugins");
        bool ignoredSignedParts = false;
        std::map<std::string, VerifiedPlugin> plugins;
        src.walk([&](const SetEntry& e, const SetSource::Reader& read) {
            const auto slash = e.path.find('/');
            if (slash == std::string::npos) {
                if (e.isDirectory) {
                    plugins[e.path].id = e.path;
                } else if (e.path == "pluginset.yaml" ||
                           e.path.rfind("pluginset.yaml.sig", 0) == 0) {
                    ignoredSignedParts = true;
                } else {
                    out.warnings.push_back(e.path + " is not a plugin directory and was ignored");
                }
                return;
            }
            if (e.isDirectory) return;
            auto bytes = read(limits.maxTotalBytes);
            plugins[e.path.substr(0, slash)].files.emplace(e.path.substr(slash + 1),
                                                           std::move(bytes));
        });
        if (ignoredSignedParts)
            out.warnings.push_back(
                "pluginset.yaml and its signatures were ignored: development mode runs the plugin "
                "directories unsigned");
        for (auto& [id, p] : plugins) {
            const auto it = p.files.find("plugin.yaml");
            if (it == p.files.end())
                throw VerifyError(
                    Reason::FileMissing,
                    id + "/ has no plugin.yaml; every directory of a development set is a plugin");
            const auto identity = pluginIdentity(it->second, id + "/plugin.yaml");
            if (identity.id != id)
                throw VerifyError(Reason::PluginMismatch,
                                  id + "/plugin.yaml declares id '" + identity.id +
                                      "'; the directory must be named for its id");
            p.version = identity.version;
            out.plugins.push_back(std::move(p));
        }
        return std::to_string(out.plugins.size()) + " plugin(s) read from " + dir +
               "; no symlinks, nothing outside it";
    });
    checks.step("signatures",
                [&] { return std::string("not checked: development mode runs unsigned sets"); });
    out.warnings.push_back(
        "development mode: the plugins are not certified by any region; production mode refuses "
        "them");
    out.checks = checks.list();
    return out;
}

}  // namespace klinikbox::pluginset
