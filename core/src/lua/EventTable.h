// The event table a hook or handler receives (docs/lua-api.md, "Hooks"), handed to Lua on
// demand: `name` and `request_id` are set when the call starts; `payload` and `user` are
// converted the first time the script reads them, into plain tables the script owns. A
// sync hook's payload is read back only when the script read or replaced it, and then
// compared in place with what it was given (no JSON, no copy): an unchanged payload comes
// back as "unchanged" and the caller keeps its own object.
//
// Lazy members (Event::lazy, e.g. booking.requested's free_slots) are not in the payload
// table as given: its protected metatable ("kb.payload") makes one the first time the script
// reads its key, walks the payload with pairs() or encodes it (kb.json.encode, kb.send);
// a payload that got one comes back as changed. `next()` sees only what was made so far.
//
// One EventTable belongs to one ScriptInstance (one Lua state) and serves the call that is
// running; a table kept by the script past its call no longer converts anything (its
// unread `payload` and `user` are nil).
#pragma once

#include "lua/ValueTree.h"

#include <klinikbox/Events.h>

#include <cstddef>
#include <vector>

struct lua_State;

namespace klinikbox::lua {

// Pushes an event's `user` table ({username, role, hsa_id, care_unit}); Lua side, inside a
// protected call. The event table's on-demand `user` and a batch handler's events use it.
void pushPrincipal(lua_State* L, const Principal& p);

class EventTable {
public:
    EventTable() = default;
    EventTable(const EventTable&) = delete;
    EventTable& operator=(const EventTable&) = delete;

    // Registers the metatable of event tables in the state; its functions reach this
    // object, which must outlive the state's calls. Call once, inside a protected call.
    void install(lua_State* L);

    // Marks the call of `event` as running for as long as the scope lives (C++ side,
    // around the protected call).
    class Scope {
    public:
        Scope(EventTable& t, const Event& event, std::size_t maxNodes) : t_(t) {  // C++ side: may throw bad_alloc
            t_.event_ = &event;
            t_.maxNodes_ = maxNodes;
            t_.given_ = t_.touched_ = t_.userGiven_ = false;
            t_.lazyGiven_.assign(event.lazy.size(), false);
            t_.readingBack_ = false;
        }
        ~Scope() { t_.event_ = nullptr; }
        Scope(const Scope&) = delete;
        Scope& operator=(const Scope&) = delete;

    private:
        EventTable& t_;
    };

    // Pushes the running call's event table (inside the protected call).
    void push(lua_State* L);
    // After the hooks, with the event table at `ev`: false when event.payload is as it came
    // (never read, or read and left equal); otherwise appends the new payload to `out`.
    // Raises a Lua error when event.payload is no longer a table or cannot become JSON.
    bool readBack(lua_State* L, int ev, ValueTree& out);

private:
    static int index(lua_State* L);     // __index(t, k)
    static int newindex(lua_State* L);  // __newindex(t, k, v)
    static int pairs(lua_State* L);     // __pairs(t)
    static int payloadIndex(lua_State* L);  // the payload's __index(t, k): a lazy member
    static int payloadFill(lua_State* L);   // its __pairs(t) and fill: every lazy member
    static EventTable& self(lua_State* L);
    // Whether the table at `t` is the running call's event table.
    bool current(lua_State* L, int t) const;
    // Converts event.payload / event.user, stores it in the table at `t` and pushes it.
    void givePayload(lua_State* L, int t);
    void giveUser(lua_State* L, int t);
    // Whether the table at `t` is the payload given to the running call.
    bool currentPayload(lua_State* L, int t) const;
    // Makes lazy member `i`, stores it in the payload table at `t` and pushes it.
    void giveLazy(lua_State* L, int t, std::size_t i);

    const Event* event_ = nullptr;
    std::size_t maxNodes_ = 0;
    ValueTree payload_;  // reused from call to call: refilling it allocates nothing
    bool given_ = false;    // the script read event.payload (payload_ holds what it got)
    bool touched_ = false;  // the script assigned event.payload before reading it
    bool userGiven_ = false;  // event.user was read or assigned
    std::vector<bool> lazyGiven_;  // per Event::lazy member: made into the payload table
    ValueTree lazy_;               // the lazy member being converted
    bool readingBack_ = false;     // readBack: a lazy member not made stays lazy (Event::lazy)
};

}  // namespace klinikbox::lua
