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
// The value rooted at node `pos` (advances `pos` past it).
[[nodiscard]] Poco::Dynamic::Var toVar(const ValueTree& t, std::size_t& pos);
// Puts back JSON nulls that became absent members after a round trip through Lua.
void restoreNulls(const Poco::JSON::Object::Ptr& before, Poco::JSON::Object::Ptr after);

// Lua side: call only inside a protected call (they raise Lua errors).
// Registers the array marker metatable in the state's registry (once per state).
void registerArrayMetatable(lua_State* L);
// Marks the table at `idx` as a JSON array.
void markArray(lua_State* L, int idx);
// Pushes the value rooted at node `pos` (advances `pos`).
void pushTree(lua_State* L, const ValueTree& t, std::size_t& pos);
// Appends the Lua value at `idx` to `out` (root key `key`). `what` names the value in
// error messages ("payload", "kb.send payload").
void readValue(lua_State* L, int idx, ValueTree& out, std::size_t maxNodes, const char* what);

}  // namespace klinikbox::lua
