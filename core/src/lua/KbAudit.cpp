// kb.audit: a Lua plugin's PDL (patient data act) audit records.
#include "lua/KbInternal.h"

#include <klinikbox/PluginContext.h>
#include <cstring>

namespace klinikbox::lua::kbapi {

// kb.audit(action, {patient =, purpose =, details =, outcome =}): a PDL audit record
int kbAudit(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    requirePlugin(L, c, "kb.audit");
    std::size_t an = 0, pn = 0, un = 0, dn = 0, on = 0;
    const char* action = luaL_checklstring(L, 1, &an);
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        checkOptionKeys(L, 2, "kb.audit", {"patient", "purpose", "details", "outcome"});
    } else {
        lua_settop(L, 1);
        lua_newtable(L);
    }
    const char* patient = optStringField(L, 2, "kb.audit", "patient", &pn);
    const char* purpose = optStringField(L, 2, "kb.audit", "purpose", &un);
    const char* details = optStringField(L, 2, "kb.audit", "details", &dn);
    const char* outcome = optStringField(L, 2, "kb.audit", "outcome", &on);
    if (an == 0) return luaL_argerror(L, 1, "an action such as \"report.read\" expected");
    if (!cxx(c, [&] {
            AuditEntry e;
            e.action.assign(action, an);
            if (patient) e.patient.assign(patient, pn);
            e.purpose = purpose ? std::string(purpose, un) : std::string("vård");
            if (details) e.details.assign(details, dn);
            if (outcome) e.outcome.assign(outcome, on);
            Audit& a = c.plugin->audit();
            // Inside kb.db.transaction the record joins it (a second writer would wait for
            // this one: "database is locked"), whether a request, a handler or a timer runs.
            if (c.request && c.tx) a.record(*c.request, e, *c.tx);
            else if (c.request) a.record(*c.request, e);
            else if (c.tx) a.recordSystem(e, *c.tx);
            else a.recordSystem(e);
        }))
        fail(L, "kb.audit", c);
    return 0;
}

}  // namespace klinikbox::lua::kbapi
