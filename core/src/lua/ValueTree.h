// Values crossing between C++ (Poco JSON) and Lua. A ValueTree is a flat pre-order list
// of nodes owned by C++; the Lua side only reads or appends to it, so a Lua error raised
// while converting never skips a C++ destructor (Debian's Lua is C: errors are longjmps).
//
// Mapping: JSON objects <-> tables with string keys; arrays <-> sequences (tables coming
// from a JSON array carry a protected marker metatable, so an empty one stays an array);
// integers stay integers, other numbers are floats; null <-> nil (a list with holes comes
// back as an array with nulls).
#pragma once

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Object.h>

#include <cstddef>
#include <string>
#include <vector>

struct lua_State;

namespace klinikbox::lua {

struct ValueNode {
    enum class Type : unsigned char { Null, Bool, Int, Float, String, Array, Object };
    Type type = Type::Null;
    bool boolean = false;
    long long integer = 0;
    double number = 0;
    std::string text;          // String
    std::string key;           // member name when the parent is an Object
    std::size_t children = 0;  // Array/Object: direct children, which follow in pre-order
};
using ValueTree = std::vector<ValueNode>;

// C++ side. Throws std::length_error past `maxNodes` nodes or 32 levels.
void appendVar(ValueTree& out, const Poco::Dynamic::Var& v, std::size_t maxNodes, const std::string& key = {},
               int depth = 0);
// Fills `t` from `v` as appendVar does, but overwrites the nodes `t` already has instead of
// appending: their strings keep their capacity, so refilling a tree with a value of the same
// shape (the next booking's payload) allocates nothing. Returns the node count used; nodes
// past it are stale and ignored (pushTree and sameAsTree walk by child counts). Throws as
// appendVar.
std::size_t fillTree(ValueTree& t, const Poco::Dynamic::Var& v, std::size_t maxNodes);
std::size_t fillTree(ValueTree& t, const Poco::JSON::Object& o, std::size_t maxNodes);
// The value rooted at node `pos` (advances `pos` past it).
[[nodiscard]] Poco::Dynamic::Var toVar(const ValueTree& t, std::size_t& pos);
// Puts back JSON nulls that became absent members after a round trip through Lua.
void restoreNulls(const Poco::JSON::Object::Ptr& before, Poco::JSON::Object::Ptr after);

// Lua side: call only inside a protected call (they raise Lua errors).
// A metatable field holding a function that readValue calls with the table before reading
// it (an event table converts its payload on demand: EventTable).
inline constexpr const char* kFillField = "__kbfill";
// Registers the array marker metatable in the state's registry (once per state).
void registerArrayMetatable(lua_State* L);
// Marks the table at `idx` as a JSON array.
void markArray(lua_State* L, int idx);
// Pushes the value rooted at node `pos` (advances `pos`).
void pushTree(lua_State* L, const ValueTree& t, std::size_t& pos);
// True when readValue of the Lua value at `idx` would give back exactly the subtree rooted
// at node `pos` (after restoreNulls): same keys, types (an integer stays an integer), values
// and array markers. Raises only Lua's memory or stack errors; false also when the value
// would not convert at all (the caller then reads it with readValue, which says why).
[[nodiscard]] bool sameAsTree(lua_State* L, int idx, const ValueTree& t, std::size_t pos);
// Appends the Lua value at `idx` to `out` (root key `key`). `what` names the value in
// error messages ("payload", "kb.send payload").
void readValue(lua_State* L, int idx, ValueTree& out, std::size_t maxNodes, const char* what);

}  // namespace klinikbox::lua
