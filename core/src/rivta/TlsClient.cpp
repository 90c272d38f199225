#include <klinikbox/TlsClient.h>

#include <openssl/x509.h>

#include <sys/stat.h>

#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <tuple>

namespace klinikbox::tls {

namespace {

// A file's modification time and size; all -1 when it cannot be read.
struct FileStamp {
    long long mtimeNs = -1, size = -1;
    bool operator==(const FileStamp&) const = default;
};

FileStamp stampOf(const std::string& path) {
    struct stat st {};
    if (path.empty() || ::stat(path.c_str(), &st) != 0) return {};
    return {st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec, static_cast<long long>(st.st_size)};
}

struct KeptContext {
    std::array<FileStamp, 3> stamps;
    Poco::Net::Context::Ptr ctx;
    std::uint64_t lastUse = 0;
};
constexpr std::size_t kKeptContexts = 16;
std::mutex gMu;
std::map<std::tuple<std::string, std::string, std::string>, KeptContext> gKept;
std::uint64_t gUses = 0;
std::atomic<std::uint64_t> gMade{0};

}  // namespace

Poco::Net::Context::Ptr clientContext(const std::string& clientCert, const std::string& clientKey, const std::string& caBundle) {
    // Without a bundle the system's CAs are loaded: their file is watched instead.
    const std::string caFile = caBundle.empty() ? std::string(X509_get_default_cert_file()) : caBundle;
    const std::array<FileStamp, 3> stamps{stampOf(clientCert), stampOf(clientKey), stampOf(caFile)};
    auto key = std::make_tuple(clientCert, clientKey, caBundle);
    {
        std::lock_guard lock(gMu);
        const auto it = gKept.find(key);
        if (it != gKept.end() && it->second.stamps == stamps) {
            it->second.lastUse = ++gUses;
            return it->second.ctx;
        }
    }
    // Made outside the lock: loading a CA store takes milliseconds.
    Poco::Net::Context::Params params;
    params.certificateFile = clientCert;
    params.privateKeyFile = clientKey;
    params.caLocation = caBundle;
    params.loadDefaultCAs = caBundle.empty();
    params.verificationMode = Poco::Net::Context::VERIFY_RELAXED;
    Poco::Net::Context::Ptr ctx = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
    ++gMade;
    std::lock_guard lock(gMu);
    if (gKept.size() >= kKeptContexts && !gKept.count(key)) {
        auto oldest = gKept.begin();
        for (auto it = gKept.begin(); it != gKept.end(); ++it)
            if (it->second.lastUse < oldest->second.lastUse) oldest = it;
        gKept.erase(oldest);
    }
    gKept[std::move(key)] = KeptContext{stamps, ctx, ++gUses};
    return ctx;
}

std::uint64_t clientContextsMade() { return gMade.load(); }

}  // namespace klinikbox::tls
