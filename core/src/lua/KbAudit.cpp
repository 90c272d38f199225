// kb.audit: a Lua plugin's PDL (patient data act) audit records.
#include "lua/KbInternal.h"

#include <klinikbox/PluginContext.h>
#include <cstring>
#include <string>
#include <vector>

namespace klinikbox::lua::kbapi {

namespace {
// Checks the `subjects` option (an array of non-empty strings) and returns its length, or -1
// when absent. Raises a Lua error (longjmp) before any C++ object lives on this frame.
lua_Integer checkSubjects(lua_State* L, int opts) {
    lua_getfield(L, opts, "subjects");  // +1
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return -1;
    }
    if (!lua_istable(L, -1)) luaL_error(L, "kb.audit: subjects must be an array of personnummer strings");
    const auto n = static_cast<lua_Integer>(lua_rawlen(L, -1));
    if (n > 100000) luaL_error(L, "kb.audit: subjects holds more than 100000 patients");
    for (lua_Integer i = 1; i <= n; ++i) {
        lua_rawgeti(L, -1, i);  // +1
        if (lua_type(L, -1) != LUA_TSTRING || lua_rawlen(L, -1) == 0)
            luaL_error(L, "kb.audit: subjects[%d] must be a non-empty string", static_cast<int>(i));
        lua_pop(L, 1);
    }
    lua_pop(L, 1);  // -1
    return n;
}

// The checked `subjects` option as strings (raises no Lua error).
std::vector<std::string> subjectsOf(lua_State* L, int opts, lua_Integer n) {
    std::vector<std::string> out;
    lua_getfield(L, opts, "subjects");  // +1
    for (lua_Integer i = 1; i <= n; ++i) {
        lua_rawgeti(L, -1, i);  // +1
        std::size_t len = 0;
        const char* v = lua_tolstring(L, -1, &len);
        out.emplace_back(v, len);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);  // -1
    return out;
}
}  // namespace

// kb.audit(action, {patient =, subjects =, purpose =, details =, outcome =}): a PDL audit
// record; `subjects` (an array) makes it one record of a view that showed those patients
int kbAudit(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    requirePlugin(L, c, "kb.audit");
    std::size_t an = 0, pn = 0, un = 0, dn = 0, on = 0;
    const char* action = luaL_checklstring(L, 1, &an);
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        checkOptionKeys(L, 2, "kb.audit", {"patient", "subjects", "purpose", "details", "outcome"});
    } else {
        lua_settop(L, 1);
        lua_newtable(L);
    }
    const char* patient = optStringField(L, 2, "kb.audit", "patient", &pn);
    const char* purpose = optStringField(L, 2, "kb.audit", "purpose", &un);
    const char* details = optStringField(L, 2, "kb.audit", "details", &dn);
    const char* outcome = optStringField(L, 2, "kb.audit", "outcome", &on);
    const lua_Integer subjectCount = checkSubjects(L, 2);
    const bool hasSubjects = subjectCount >= 0;
    if (an == 0) return luaL_argerror(L, 1, "an action such as \"report.read\" expected");
    if (hasSubjects && patient && pn > 0) return luaL_error(L, "kb.audit: give either patient or subjects, not both");
    if (hasSubjects && !c.request) return luaL_error(L, "kb.audit: subjects are recorded in a route only");
    if (!cxx(c, [&] {
            AuditEntry e;
            e.action.assign(action, an);
            if (patient) e.patient.assign(patient, pn);
            e.purpose = purpose ? std::string(purpose, un) : std::string("vård");
            if (details) e.details.assign(details, dn);
            if (outcome) e.outcome.assign(outcome, on);
            Audit& a = c.plugin->audit();
            if (hasSubjects) {
                // A view of several patients: one record listing them (a request's own).
                const auto subjects = subjectsOf(L, 2, subjectCount);
                if (c.tx) a.recordSubjects(*c.request, e, subjects, *c.tx);
                else a.recordSubjects(*c.request, e, subjects);
                return;
            }
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
