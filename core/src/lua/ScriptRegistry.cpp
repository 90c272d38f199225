#include "lua/ScriptRegistry.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace klinikbox::lua {

namespace fs = std::filesystem;

ScriptRegistry::ScriptRegistry(std::shared_ptr<const ScriptServices> services, Options options)
    : services_(std::move(services)), options_(options), set_(std::make_shared<const Set>()) {
    if (!services_ || !services_->clock) throw std::invalid_argument("the Lua scripts need a clock");
}

ScriptRegistry::~ScriptRegistry() = default;

bool ScriptRegistry::validFileName(const std::string& file) {
    if (file.size() < 5 || file.size() > 100 || file.compare(file.size() - 4, 4, ".lua") != 0 || file[0] == '.') return false;
    return std::all_of(file.begin(), file.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
    });
}

std::shared_ptr<const ScriptVersion> ScriptRegistry::compile(const std::string& file, const std::string& source, bool& unchanged) {
    unchanged = false;
    FileRecord& rec = records_[file];
    const std::string hash = ScriptVersion::sha256(source);
    const auto running = current();
    if (auto it = running->find(file); it != running->end() && it->second->hash() == hash) {
        unchanged = true;
        rec.refusedHash.clear();
        rec.stats->clearLoadError();  // the good text is back: its refusal is no longer shown
        return it->second;
    }
    if (rec.refusedHash == hash) return nullptr;  // refused before, error already recorded
    const auto now = services_->clock->now();
    try {
        if (!validFileName(file))
            throw LuaError(ErrorKind::Sandbox, file, 0, "load", "script names may only use letters, digits, '_', '-' and '.', and end in .lua");
        if (source.size() > options_.maxScriptBytes)
            throw LuaError(ErrorKind::Memory, file, 0, "load",
                           "the script is larger than " + std::to_string(options_.maxScriptBytes >> 10) + " KiB");
        auto v = ScriptVersion::load(file, source, rec.versions + 1, options_.limits, services_, options_.statesPerScript,
                                     rec.stats, now);
        ++rec.versions;
        rec.refusedHash.clear();
        rec.stats->clearLoadError();
        return v;
    } catch (const LuaError& e) {
        rec.refusedHash = hash;
        rec.stats->recordLoadFailure(e, now);
        if (services_->log) services_->log("error", file, std::string("script refused: ") + e.what());
        return nullptr;
    }
}

void ScriptRegistry::publish(std::shared_ptr<const Set> set) {
    set_.store(std::move(set));
    for (const auto& [id, l] : listeners_) l();
}

bool ScriptRegistry::load(const std::string& file, const std::string& source) {
    std::lock_guard<std::recursive_mutex> lock(writeMu_);
    bool unchanged = false;
    auto v = compile(file, source, unchanged);
    if (!v) return false;
    if (unchanged) return true;
    auto next = std::make_shared<Set>(*current());
    (*next)[file] = v;
    publish(std::move(next));
    return true;
}

void ScriptRegistry::remove(const std::string& file) {
    std::lock_guard<std::recursive_mutex> lock(writeMu_);
    auto next = std::make_shared<Set>(*current());
    next->erase(file);
    records_.erase(file);
    publish(std::move(next));
}

ScriptRegistry::Report ScriptRegistry::loadDirectory(const std::string& dir) {
    std::lock_guard<std::recursive_mutex> lock(writeMu_);
    Report report;
    std::map<std::string, std::string> files;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.size() < 5 || name.compare(name.size() - 4, 4, ".lua") != 0 || name[0] == '.') continue;
        if (entry.is_symlink() || !entry.is_regular_file()) continue;
        std::ifstream in(entry.path(), std::ios::binary);
        std::ostringstream ss;
        ss << in.rdbuf();
        files[name] = ss.str();
    }
    if (ec) throw std::runtime_error("cannot read the scripts directory " + dir + ": " + ec.message());
    const auto running = current();
    auto next = std::make_shared<Set>();
    for (const auto& [name, source] : files) {
        bool unchanged = false;
        auto v = compile(name, source, unchanged);
        if (v) {
            (*next)[name] = v;
            (unchanged ? report.unchanged : report.loaded).push_back(name);
        } else {
            report.refused.push_back(name);
            if (auto it = running->find(name); it != running->end()) (*next)[name] = it->second;  // the old one keeps running
        }
    }
    for (const auto& [name, v] : *running) {
        if (!files.count(name)) {
            report.removed.push_back(name);
            records_.erase(name);
        }
    }
    for (auto it = records_.begin(); it != records_.end();) {
        if (!files.count(it->first) && !next->count(it->first)) it = records_.erase(it);
        else ++it;
    }
    if (!report.loaded.empty() || !report.removed.empty()) publish(std::move(next));
    return report;
}

std::shared_ptr<const ScriptVersion> ScriptRegistry::find(const std::string& file) const {
    const auto set = current();
    auto it = set->find(file);
    return it == set->end() ? nullptr : it->second;
}

void ScriptRegistry::recordProblem(const std::string& file, const std::string& message) {
    std::lock_guard<std::recursive_mutex> lock(writeMu_);
    auto& stats = records_[file].stats;
    std::lock_guard statsLock(stats->mu);
    stats->lastError = message;
    stats->lastErrorKind = "runtime";
    stats->lastErrorAt = services_->clock->now();
}

std::vector<ScriptStatus> ScriptRegistry::status() const {
    std::lock_guard<std::recursive_mutex> lock(writeMu_);
    const auto set = current();
    std::vector<ScriptStatus> out;
    for (const auto& [file, rec] : records_) {
        ScriptStatus s;
        s.file = file;
        if (auto it = set->find(file); it != set->end()) {
            const ScriptVersion& v = *it->second;
            s.loaded = true;
            s.version = v.version();
            s.hash = v.hash();
            s.loadedAt = v.loadedAt();
            for (const auto& h : v.hooks()) {
                std::string e = h.event + (h.async ? " (async)" : "");
                if (std::find(s.events.begin(), s.events.end(), e) == s.events.end()) s.events.push_back(e);
            }
            s.states = v.pool().stats().live;
        }
        s.refused = !rec.refusedHash.empty();
        const ScriptStats& st = *rec.stats;
        s.calls = st.calls;
        s.vetoes = st.vetoes;
        s.errors = st.errors;
        s.timeouts = st.timeouts;
        s.memoryErrors = st.memoryErrors;
        s.sandboxErrors = st.sandboxErrors;
        s.loadFailures = st.loadFailures;
        std::lock_guard statsLock(st.mu);
        s.error = st.lastError;
        s.errorKind = st.lastErrorKind;
        s.errorAt = st.lastErrorAt;
        s.latencies = st.latencies;
        out.push_back(std::move(s));
    }
    return out;
}

int ScriptRegistry::addListener(std::function<void()> listener) {
    std::lock_guard<std::recursive_mutex> lock(writeMu_);
    const int id = nextListener_++;
    listeners_[id] = std::move(listener);
    return id;
}

void ScriptRegistry::removeListener(int id) {
    std::lock_guard<std::recursive_mutex> lock(writeMu_);
    listeners_.erase(id);
}

}  // namespace klinikbox::lua
