// The offline Lua tools behind `klinikbox lua test SCRIPT` and
// `klinikbox lua run SCRIPT --event NAME --input FILE`, and the console's dry run.
#pragma once

#include "lua/LuaError.h"
#include "lua/Limits.h"

#include <klinikbox/Clock.h>

#include <Poco/JSON/Object.h>

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace klinikbox::lua {

// Runs the script's kb.test cases with a fixed clock (2026-01-15 12:00 UTC at the start of
// every case; kb.set_now moves it) and fake events (kb.fire). Prints one line per case
// (PASS/FAIL, name, line, and the failure) and a summary. Returns 0 when every case
// passed, 1 when one failed, the script was refused or has no cases, 2 when the file
// cannot be read.
// `config` is what kb.config reads (the script's lua.config.<file> block of the box's
// klinikbox.yaml, from --config); a case may replace it with kb.set_config.
int runLuaTest(const std::string& script, std::ostream& out, const Poco::JSON::Object::Ptr& config = nullptr);

// Shows what the script's hooks do to the payload in `inputJsonFile` (a JSON object) for
// `event`: the changed fields and the new payload, or the veto reason. kb.subscribe
// handlers run afterwards; what they would send is printed, not sent. Returns 0 when the
// event was accepted, 3 when it was refused (kb.reject), 1 on a script error or when the
// script has no hook for the event, 2 on unreadable input.
// `config` is what kb.config reads, as for runLuaTest.
int runLuaRun(const std::string& script, const std::string& event, const std::string& inputJsonFile, std::ostream& out,
              const Poco::JSON::Object::Ptr& config = nullptr);

// The dry run itself, for the console: loads `source` as a hook script named `name`, with
// `config` as its kb.config settings (the box's lua.config.<name>).
struct DryRun {
    bool accepted = false;
    bool vetoed = false;
    std::string reason;               // the veto reason
    Poco::JSON::Object::Ptr payload;  // the payload after the sync hooks (accepted)
    std::vector<std::string> changes;  // "+ field: value", "- field", "~ field: old -> new"
    std::vector<std::string> log;      // kb.log lines and what kb.send would send
    std::optional<LuaError> error;     // load or call failure
    bool hooked = false;               // the script has a sync hook or handler for the event
};
[[nodiscard]] DryRun dryRun(const std::string& name, const std::string& source, const std::string& event,
                            const Poco::JSON::Object::Ptr& payload, const Clock& clock, const Limits& limits = {},
                            const Poco::JSON::Object::Ptr& config = nullptr);

}  // namespace klinikbox::lua
