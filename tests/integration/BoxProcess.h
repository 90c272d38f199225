// Starts the real klinikbox binary on an ephemeral loopback port with its own data
// directory, and talks HTTPS to it. Used by every integration test.
#pragma once

#include "TempDir.h"

#include <Poco/JSON/Object.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace kbtest {

struct HttpResult {
    int status = 0;
    std::string body;
    std::string contentType;
    std::multimap<std::string, std::string> headers;  // lower-case names
    [[nodiscard]] Poco::JSON::Object::Ptr json() const;
    [[nodiscard]] std::string header(const std::string& lower) const;
};

class BoxProcess {
public:
    // `extraConfig` is appended to the generated YAML config (e.g. plugin settings).
    explicit BoxProcess(std::string extraConfig = {}, std::string pluginSetDir = {}, std::string mode = "development");
    ~BoxProcess();

    void start();                    // spawns `klinikbox serve` and waits for its URL
    void stop(int signal = 15);      // SIGTERM by default; waits for exit
    int exitCode() const { return exitCode_; }
    [[nodiscard]] bool running() const;

    [[nodiscard]] const std::string& url() const { return url_; }
    [[nodiscard]] const std::string& configFile() const { return config_; }
    [[nodiscard]] const std::string& dataDir() const { return dataDir_; }
    [[nodiscard]] std::string output() const;  // what the box printed (stdout + stderr)

    // Runs a klinikbox subcommand against this box's config; returns exit code, output.
    int cli(const std::vector<std::string>& args, std::string* out = nullptr, const std::string& stdinText = {}) const;

    HttpResult request(const std::string& method, const std::string& path, const std::string& body = {},
                       const std::map<std::string, std::string>& headers = {}) const;

    // Creates a user through the CLI and logs in; later requests carry its cookie and CSRF token.
    // `extraArgs` go to `user add` (e.g. {"--hsa-id", "SE...-..."}).
    void loginAs(const std::string& username, const std::string& role, const std::vector<std::string>& extraArgs = {});
    HttpResult authed(const std::string& method, const std::string& path, const std::string& body = {},
                      bool withCsrf = true) const;
    // The same with another content type (uploads).
    HttpResult authedRaw(const std::string& method, const std::string& path, const std::string& body,
                         const std::string& contentType) const;

    static std::string binary();

private:
    TempDir dir_;
    std::string dataDir_, config_, url_, logFile_;
    int pid_ = -1;
    int exitCode_ = -1;
    std::string cookie_, csrf_;
};

// Every plugin of the repository, native and Lua, as demo.sh assembles them, in an unsigned
// (development) set under `dir`; returns the set's directory and appends the ids to `ids`.
// The libraries are copied without their debug information, as packages ship them.
std::string shippedPluginSet(const TempDir& dir, std::vector<std::string>* ids = nullptr);
// The named plugins of the repository, copied the same way (the tests that need only a few).
std::string pluginSetOf(const TempDir& dir, const std::vector<std::string>& ids);
// The extra configuration (under plugins:) a box with that set needs: even stripped, a
// sanitizer build's plugins take ~80 MiB, past the default plugins.max_set_mib of 64.
inline constexpr const char* kShippedSetConfig = "  max_set_mib: 512\n";

}  // namespace kbtest
