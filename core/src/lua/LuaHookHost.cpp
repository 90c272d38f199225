#include "lua/LuaHookHost.h"

#include <tuple>

namespace klinikbox::lua {

namespace {
const char* phaseName(Phase p) {
    switch (p) {
        case Phase::Validate: return "validate";
        case Phase::Decide: return "decide";
        case Phase::Finalize: return "finalize";
    }
    return "?";
}

bool sameOrder(const HookSpec& a, const HookSpec& b) {
    return a.phase == b.phase && a.after == b.after && a.before == b.before;
}
}  // namespace

LuaHookHost::LuaHookHost(EventBus& bus, std::shared_ptr<ScriptRegistry> registry, Options options)
    : bus_(bus), registry_(std::move(registry)), options_(std::move(options)) {
    sync();
    listener_ = registry_->addListener([this] { sync(); });
}

LuaHookHost::~LuaHookHost() { registry_->removeListener(listener_); }

std::string LuaHookHost::registerOne(const Key& key, const HookSpec& spec) {
    std::weak_ptr<ScriptRegistry> weak = registry_;
    const std::string file = key.file;
    try {
        if (key.async) {
            bus_.subscribe(key.event, "lua:" + file, [weak, file](const Event& e) {
                auto reg = weak.lock();
                if (!reg) return;
                auto v = reg->find(file);
                if (!v || !v->handles(e.name, true)) return;
                v->runAsync(e);  // errors: counted by the script's stats and by the bus, logged by the bus
            });
        } else {
            HookSpec onDemand = spec;
            onDemand.readsLazyFields = true;  // EventTable makes a lazy member when the script reads it
            bus_.hook(key.event, std::move(onDemand), [weak, file](Event& e) {
                auto reg = weak.lock();
                if (!reg) return;
                auto v = reg->find(file);
                if (!v || !v->handles(e.name, false)) return;
                v->runSync(e);
            });
        }
        registered_[key] = spec;
    } catch (const std::exception& e) {
        return std::string("the hook on ") + key.event + " cannot be registered: " + e.what();
    }
    return {};
}

void LuaHookHost::sync() {
    std::vector<std::pair<std::string, std::string>> problems;
    {
        std::lock_guard lock(mu_);
        syncLocked(problems);
    }
    // Recorded outside mu_: the registry's lock is taken after ours nowhere else.
    for (const auto& [file, why] : problems) registry_->recordProblem(file, why);
}

void LuaHookHost::syncLocked(std::vector<std::pair<std::string, std::string>>& problems) {
    const auto set = registry_->current();
    // What the current scripts need.
    std::map<Key, HookSpec> wanted;
    for (const auto& [file, v] : *set) {
        for (const auto& h : v->hooks()) {
            Key k{h.event, h.async, file};
            if (wanted.count(k)) continue;
            HookSpec spec = h.spec;
            spec.name = "lua:" + file;
            spec.budget = v->limits().time + options_.budgetSlack;
            wanted[k] = spec;
        }
    }
    // Scripts whose registrations must be taken off the bus: deleted, or their order changed.
    std::set<std::string> redo;
    for (const auto& [k, spec] : registered_) {
        auto it = wanted.find(k);
        if (it == wanted.end() ? !set->count(k.file) : (!k.async && !sameOrder(it->second, spec))) redo.insert(k.file);
    }
    pending_.clear();
    if (options_.unhook) {
        for (const auto& file : redo) {
            const std::string prefix = "lua:" + file;
            options_.unhook(prefix);
            // The prefix may also have matched a longer name ("lua:a.lua" and "lua:a.lua.lua").
            for (auto it = registered_.begin(); it != registered_.end();) {
                if (("lua:" + it->first.file).rfind(prefix, 0) == 0) it = registered_.erase(it);
                else ++it;
            }
        }
    } else {
        for (const auto& file : redo)
            if (set->count(file)) pending_.insert(file);
    }
    for (const auto& [k, spec] : wanted) {
        if (registered_.count(k)) continue;
        if (auto why = registerOne(k, spec); !why.empty()) problems.emplace_back(k.file, why);
    }
}

std::vector<std::string> LuaHookHost::registrations() const {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& [k, spec] : registered_)
        out.push_back(k.event + " lua:" + k.file + (k.async ? " (async)" : std::string(" (sync, ") + phaseName(spec.phase) + ")"));
    return out;
}

std::vector<std::string> LuaHookHost::pendingRestart() const {
    std::lock_guard lock(mu_);
    return {pending_.begin(), pending_.end()};
}

}  // namespace klinikbox::lua
