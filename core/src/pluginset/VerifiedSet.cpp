#include "pluginset/VerifiedSet.h"

namespace klinikbox::pluginset {

const char* toString(Reason r) {
    switch (r) {
        case Reason::Unreadable:
            return "unreadable";
        case Reason::UnsafePath:
            return "unsafe-path";
        case Reason::ArchiveTooLarge:
            return "archive-too-large";
        case Reason::ManifestMissing:
            return "manifest-missing";
        case Reason::SignatureMissing:
            return "signature-missing";
        case Reason::SignatureMalformed:
            return "signature-malformed";
        case Reason::SignatureMismatch:
            return "signature-mismatch";
        case Reason::UntrustedSigner:
            return "untrusted-signer";
        case Reason::KeyUsage:
            return "key-usage";
        case Reason::WeakAlgorithm:
            return "weak-algorithm";
        case Reason::CertificateExpired:
            return "certificate-expired";
        case Reason::CertificateNotYetValid:
            return "certificate-not-yet-valid";
        case Reason::CertificateRevoked:
            return "certificate-revoked";
        case Reason::CrlUnavailable:
            return "crl-unavailable";
        case Reason::ThresholdNotMet:
            return "threshold-not-met";
        case Reason::ManifestInvalid:
            return "manifest-invalid";
        case Reason::RegionMismatch:
            return "region-mismatch";
        case Reason::NotYetValid:
            return "not-yet-valid";
        case Reason::Expired:
            return "expired";
        case Reason::BoxTooOld:
            return "box-too-old";
        case Reason::Rollback:
            return "rollback";
        case Reason::DuplicatePlugin:
            return "duplicate-plugin";
        case Reason::PluginMismatch:
            return "plugin-mismatch";
        case Reason::FileMissing:
            return "file-missing";
        case Reason::FileExtra:
            return "file-extra";
        case Reason::FileTampered:
            return "file-tampered";
    }
    return "unknown";
}

}  // namespace klinikbox::pluginset
