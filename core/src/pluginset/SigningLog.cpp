#include "pluginset/SigningLog.h"

#include "pluginset/Certify.h"
#include "pluginset/SetSource.h"

#include <yaml-cpp/yaml.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace klinikbox::pluginset {

namespace {

const std::string kZeroHash(64, '0');

std::string jsonString(const std::string& s) {
    std::string out = "\"";
    for (const unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

// The line without its hash: the bytes the hash covers.
std::string body(const SigningLogEntry& e) {
    std::string s = "{\"index\":" + std::to_string(e.index) + ",\"time\":" + jsonString(e.time) +
                    ",\"region\":" + jsonString(e.regionName) +
                    ",\"region_hsa_id\":" + jsonString(e.regionHsaId) +
                    ",\"name\":" + jsonString(e.name) +
                    ",\"sequence\":" + std::to_string(e.sequence) +
                    ",\"manifest_sha256\":" + jsonString(e.manifestSha256) + ",\"signers\":[";
    for (std::size_t i = 0; i < e.signers.size(); ++i)
        s += (i ? "," : "") + jsonString(e.signers[i]);
    return s + "],\"prev\":" + jsonString(e.prev);
}

std::string lineOf(const SigningLogEntry& e) {
    return body(e) + ",\"hash\":" + jsonString(e.hash) + "}";
}

}  // namespace

std::vector<SigningLogEntry> readSigningLog(const std::string& logFile) {
    std::ifstream in(logFile, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read the signing log " + logFile);
    std::vector<SigningLogEntry> out;
    std::string line, prev = kZeroHash;
    for (long long n = 1; std::getline(in, line); ++n) {
        const std::string where = logFile + " line " + std::to_string(n);
        SigningLogEntry e;
        try {
            const YAML::Node y = YAML::Load(line);
            e.index = y["index"].as<long long>();
            e.time = y["time"].as<std::string>();
            e.regionName = y["region"].as<std::string>();
            e.regionHsaId = y["region_hsa_id"].as<std::string>();
            e.name = y["name"].as<std::string>();
            e.sequence = y["sequence"].as<long long>();
            e.manifestSha256 = y["manifest_sha256"].as<std::string>();
            for (const auto& s : y["signers"]) e.signers.push_back(s.as<std::string>());
            e.prev = y["prev"].as<std::string>();
            e.hash = y["hash"].as<std::string>();
        } catch (const std::exception& ex) {
            throw std::runtime_error(where + " is not a signing-log entry: " + ex.what());
        }
        if (e.index != n)
            throw std::runtime_error(where + " has index " + std::to_string(e.index) +
                                     "; a line was removed, added or moved");
        if (e.prev != prev)
            throw std::runtime_error(where + " does not chain to the line before it (prev " +
                                     e.prev + ", expected " + prev + ")");
        if (lineOf(e) != line || sha256Hex(body(e)) != e.hash)
            throw std::runtime_error(where + " was edited: its hash does not match its content");
        prev = e.hash;
        out.push_back(std::move(e));
    }
    return out;
}

SigningLogEntry appendToSigningLog(const std::string& logFile, const std::string& dirOrZip,
                                   TimePoint now, bool* appended) {
    if (appended) *appended = false;
    const auto summary = inspectSet(dirOrZip);
    SigningLogEntry e;
    for (const auto& s : summary.signatures) {
        if (!s.problem.empty())
            throw std::invalid_argument(dirOrZip + ": " + s.file + " is broken (" + s.problem +
                                        "); log only sets that verify");
        e.signers.push_back(s.subject + " (" + s.sha256 + ")");
    }
    if (e.signers.empty())
        throw std::invalid_argument(dirOrZip + " has no signatures; sign the set before logging it");
    std::vector<SigningLogEntry> existing;
    if (std::ifstream(logFile).good()) existing = readSigningLog(logFile);
    const auto& m = summary.manifest;
    for (const auto& old : existing) {
        if (old.regionHsaId != m.regionHsaId || old.sequence != m.sequence) continue;
        if (old.manifestSha256 == summary.manifestSha256) return old;
        throw std::invalid_argument("sequence " + std::to_string(m.sequence) + " of " + m.regionName +
                                    " is logged already (line " + std::to_string(old.index) +
                                    ", manifest SHA-256 " + old.manifestSha256 +
                                    "); a region never reuses a sequence number");
    }
    e.index = static_cast<long long>(existing.size()) + 1;
    e.time = formatInstant(now);
    e.regionName = m.regionName;
    e.regionHsaId = m.regionHsaId;
    e.name = m.name;
    e.sequence = m.sequence;
    e.manifestSha256 = summary.manifestSha256;
    e.prev = existing.empty() ? kZeroHash : existing.back().hash;
    e.hash = sha256Hex(body(e));
    const std::string line = lineOf(e) + "\n";
    // O_APPEND and one write: a line is added whole or not at all; fsync before returning.
    const int fd = ::open(logFile.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error("cannot open " + logFile + ": " + std::strerror(errno));
    const auto written = ::write(fd, line.data(), line.size());
    const bool ok = written == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) throw std::runtime_error("cannot append to " + logFile + ": " + std::strerror(errno));
    if (appended) *appended = true;
    return e;
}

}  // namespace klinikbox::pluginset
