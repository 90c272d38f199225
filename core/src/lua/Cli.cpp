#include "lua/Cli.h"

#include "lua/ScriptInstance.h"

#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

namespace klinikbox::lua {

namespace {

bool readFile(const std::string& path, std::string& out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    std::ostringstream ss;
    ss << in.rdbuf();
    out = ss.str();
    return true;
}

std::string json(const Poco::Dynamic::Var& v) {
    std::ostringstream ss;
    Poco::JSON::Stringifier::stringify(v, ss);
    return ss.str();
}

// 2026-01-15 12:00:00 UTC: the same calendar day in every European time zone.
constexpr long long kTestEpoch = 1768478400;

std::string where(const LuaError& e) {
    return std::string(toString(e.kind())) + ": " + e.what();
}

}  // namespace

int runLuaTest(const std::string& script, std::ostream& out, const Poco::JSON::Object::Ptr& config) {
    std::string source;
    if (!readFile(script, source)) {
        out << "cannot read " << script << "\n";
        return 2;
    }
    const std::string name = std::filesystem::path(script).filename().string();
    FixedClock clock{std::chrono::system_clock::time_point(std::chrono::seconds(kTestEpoch))};
    std::vector<std::string> logs;
    auto services = std::make_shared<ScriptServices>();
    services->clock = &clock;
    services->log = [&logs](const std::string& level, const std::string&, const std::string& m) {
        logs.push_back("[" + level + "] " + m);
    };
    services->config = [config](const std::string&) { return config; };
    auto load = [&]() -> std::unique_ptr<ScriptInstance> {
        return std::make_unique<ScriptInstance>(name, source, ScriptMode::Test, Limits{}, services);
    };
    std::unique_ptr<ScriptInstance> inst;
    try {
        inst = load();
    } catch (const LuaError& e) {
        out << "FAIL  " << name << " does not load: " << where(e) << "\n";
        return 1;
    }
    const auto tests = inst->tests();
    if (tests.empty()) {
        out << name << ": no kb.test cases\n";
        return 1;
    }
    out << name << ": " << tests.size() << (tests.size() == 1 ? " test\n" : " tests\n");
    int passed = 0, failed = 0;
    for (std::size_t i = 0; i < tests.size(); ++i) {
        logs.clear();
        inst->context().testClock->set(std::chrono::system_clock::time_point(std::chrono::seconds(kTestEpoch)));
        inst->context().sent.clear();
        inst->context().testConfigSet = false;
        inst->context().testConfig = nullptr;
        auto err = inst->runTest(i);
        const std::string label = tests[i].name + " (" + name + ":" + std::to_string(tests[i].line) + ")";
        if (!err) {
            ++passed;
            out << "  PASS  " << label << "\n";
        } else {
            ++failed;
            out << "  FAIL  " << label << "\n        " << where(*err) << "\n";
            for (const auto& l : logs) out << "        " << l << "\n";
            // After a timeout, memory overrun or sandbox violation the state is not trusted:
            // the remaining cases run in a fresh one.
            if (err->kind() == ErrorKind::Timeout || err->kind() == ErrorKind::Memory || err->kind() == ErrorKind::Sandbox) {
                try {
                    inst = load();
                } catch (const LuaError& e) {
                    out << "FAIL  " << name << " does not load again: " << where(e) << "\n";
                    return 1;
                }
            }
        }
    }
    out << passed << " passed, " << failed << " failed\n";
    return failed == 0 ? 0 : 1;
}

DryRun dryRun(const std::string& name, const std::string& source, const std::string& event,
              const Poco::JSON::Object::Ptr& payload, const Clock& clock, const Limits& limits,
              const Poco::JSON::Object::Ptr& config) {
    DryRun r;
    auto services = std::make_shared<ScriptServices>();
    services->clock = &clock;
    services->config = [config](const std::string&) { return config; };
    services->log = [&r](const std::string& level, const std::string&, const std::string& m) { r.log.push_back("[" + level + "] " + m); };
    services->allowedChannels["*"] = {"*"};
    services->send = [&r](const std::string&, const OutboundMessage& m) {
        r.log.push_back("[send] would send on " + m.channel + " (idempotency key " + m.idempotencyKey + "): " + m.payload);
        return static_cast<long long>(r.log.size());
    };
    try {
        ScriptInstance inst(name, source, ScriptMode::Hook, limits, services);
        const bool sync = inst.handles(event, false), async = inst.handles(event, true);
        r.hooked = sync || async;
        if (!r.hooked) return r;
        Event ev{event, payload ? payload : Poco::JSON::Object::Ptr(new Poco::JSON::Object), std::nullopt, "dry-run"};
        auto res = inst.runSync(ev);
        if (res.vetoed) {
            r.vetoed = true;
            r.reason = res.reason;
            return r;
        }
        r.accepted = true;
        r.payload = res.payload;
        const Poco::JSON::Object::Ptr before = ev.payload;
        std::set<std::string> keys;
        for (const auto& [k, v] : *before) keys.insert(k);
        for (const auto& [k, v] : *r.payload) keys.insert(k);
        for (const auto& k : keys) {
            const bool was = before->has(k), is = r.payload->has(k);
            if (!was) r.changes.push_back("+ " + k + ": " + json(r.payload->get(k)));
            else if (!is) r.changes.push_back("- " + k);
            else if (json(before->get(k)) != json(r.payload->get(k)))
                r.changes.push_back("~ " + k + ": " + json(before->get(k)) + " -> " + json(r.payload->get(k)));
        }
        if (async) {
            Event after{event, r.payload, std::nullopt, "dry-run"};
            inst.runAsync(after);  // a hook script has no batch handlers (kb.subscribe refuses them)
        }
    } catch (const LuaError& e) {
        r.accepted = false;
        r.error = e;
    }
    return r;
}

int runLuaRun(const std::string& script, const std::string& event, const std::string& inputJsonFile, std::ostream& out,
              const Poco::JSON::Object::Ptr& config) {
    std::string source, input;
    if (!readFile(script, source)) {
        out << "cannot read " << script << "\n";
        return 2;
    }
    if (!readFile(inputJsonFile, input)) {
        out << "cannot read " << inputJsonFile << "\n";
        return 2;
    }
    Poco::JSON::Object::Ptr payload;
    try {
        auto v = Poco::JSON::Parser().parse(input);
        if (v.type() != typeid(Poco::JSON::Object::Ptr)) throw std::invalid_argument("the input must be a JSON object");
        payload = v.extract<Poco::JSON::Object::Ptr>();
    } catch (const std::exception& e) {
        out << inputJsonFile << " is not a JSON object: " << e.what() << "\n";
        return 2;
    }
    const std::string name = std::filesystem::path(script).filename().string();
    SystemClock clock;
    const DryRun r = dryRun(name, source, event, payload, clock, Limits{}, config);
    for (const auto& l : r.log) out << l << "\n";
    if (r.error) {
        out << "ERROR  " << where(*r.error) << "\n";
        return 1;
    }
    if (!r.hooked) {
        out << name << " has no hook for " << event << "\n";
        return 1;
    }
    if (r.vetoed) {
        out << "REFUSED  " << r.reason << "\n";
        return 3;
    }
    out << "ACCEPTED  " << (r.changes.empty() ? "payload unchanged" : std::to_string(r.changes.size()) + " change(s)") << "\n";
    for (const auto& c : r.changes) out << "  " << c << "\n";
    std::ostringstream pretty;
    Poco::JSON::Stringifier::stringify(r.payload, pretty, 2);
    out << pretty.str() << "\n";
    return 0;
}

}  // namespace klinikbox::lua
