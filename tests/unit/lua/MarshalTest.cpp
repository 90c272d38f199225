// The event a hook receives, and what comes back: every JSON value type reaches Lua as
// docs/lua-api.md says, an unchanged payload comes back as the caller's own object (no
// copy), each kind of change is seen, and a hook that fails leaves the payload as it was.
#include "LuaFixture.h"

#include <Poco/JSON/Array.h>

using namespace kbtest;

namespace {

// Every JSON value type, nested objects and arrays, and a string with a NUL byte.
Poco::JSON::Object::Ptr everyType() {
    auto p = obj(R"({"s": "text", "i": 42, "big": 9007199254740993, "f": 1.5, "t": true, "no": false, "n": null,
                    "arr": [1, "two", 3.5, {"k": [true]}], "obj": {"a": {"b": "deep"}}, "empty_arr": [], "empty_obj": {}})");
    p->set("nul", std::string("a\0b", 3));
    return p;
}

// The hook checks what it got with kb.reject("bad: <what>"), so a failure names the value.
const char* const kChecks = R"(
local function check(ok, what) if not ok then kb.reject("bad: " .. what) end end
kb.on("x.y", function(e)
  local p = e.payload
  check(e.name == "x.y", "name")
  check(e.request_id == "req-1", "request_id")
  check(p.s == "text", "string")
  check(math.type(p.i) == "integer" and p.i == 42, "integer")
  check(math.type(p.big) == "integer" and p.big == 9007199254740993, "big integer")
  check(math.type(p.f) == "float" and p.f == 1.5, "float")
  check(p.t == true and p.no == false, "booleans")
  check(p.n == nil, "null is nil")
  check(#p.arr == 4 and p.arr[2] == "two" and p.arr[4].k[1] == true, "array")
  check(getmetatable(p.arr) == "kb.array" and getmetatable(p.empty_arr) == "kb.array", "arrays are marked")
  check(getmetatable(p.empty_obj) == nil and next(p.empty_obj) == nil, "empty object")
  check(p.obj.a.b == "deep", "nested object")
  check(#p.nul == 3 and p.nul:byte(2) == 0, "NUL byte")
  check(e.user == nil, "no user")
end)
)";

}  // namespace

TEST(LuaMarshal, EveryValueTypeReachesTheHookAsDocumented) {
    LuaBox box;
    auto s = box.load(kChecks);
    const Event e{"x.y", everyType(), std::nullopt, "req-1"};
    const auto r = s->runSync(e);
    EXPECT_FALSE(r.vetoed) << r.reason;
    EXPECT_FALSE(r.changed) << "the hook only read the payload";
    EXPECT_EQ(r.payload.get(), e.payload.get()) << "an unchanged payload is the caller's own object, not a copy";
}

TEST(LuaMarshal, AHookThatNeverReadsThePayloadLeavesItUnchanged) {
    LuaBox box;
    auto s = box.load("kb.on('x.y', function(e) end)");
    const Event e{"x.y", everyType(), std::nullopt, "req-1"};
    const auto r = s->runSync(e);
    EXPECT_FALSE(r.changed);
    EXPECT_EQ(r.payload.get(), e.payload.get());
    const Event none{"x.y", nullptr, std::nullopt, "req-1"};
    const auto r2 = s->runSync(none);
    ASSERT_TRUE(r2.payload) << "a missing payload comes back as an empty object";
    EXPECT_EQ(r2.payload->size(), 0u);
}

TEST(LuaMarshal, WritingBackTheSameValuesIsNoChange) {
    LuaBox box;
    auto s = box.load(R"(
kb.on("x.y", function(e)
  local p = e.payload
  p.s = "te" .. "xt"
  p.i = 40 + 2
  p.n = nil
  p.obj = {a = {b = "deep"}}
  p.arr[1] = 1
  local copy = {}
  for k, v in pairs(p) do copy[k] = v end
  e.payload = copy
end)
)");
    const Event e{"x.y", everyType(), std::nullopt, "req-1"};
    const auto r = s->runSync(e);
    EXPECT_FALSE(r.changed);
    EXPECT_EQ(r.payload.get(), e.payload.get());
}

TEST(LuaMarshal, EachKindOfChangeIsSeen) {
    struct Case {
        const char* lua;
        const char* field;     // the field to look at afterwards ("" = the whole payload)
        const char* expected;  // its JSON ("<absent>" when removed)
    };
    const std::vector<Case> cases = {
        {"p.s = 'other'", "s", R"("other")"},
        {"p.i = 43", "i", "43"},
        {"p.f = 2", "f", "2"},
        {"p.t = false", "t", "false"},
        {"p.n = 1", "n", "1"},
        {"p.s = nil", "s", "<absent>"},
        {"p.added = 'x'", "added", R"("x")"},
        {"p.arr[5] = 5", "arr", R"([1,"two",3.5,{"k":[true]},5])"},
        {"p.arr[4].k[1] = false", "arr", R"([1,"two",3.5,{"k":[false]}])"},
        {"p.obj.a.b = 'shallow'", "obj", R"({"a":{"b":"shallow"}})"},
        {"p.obj.a.c = 1", "obj", R"({"a":{"b":"deep","c":1}})"},
        {"p.empty_arr = {}", "empty_arr", "{}"},
        {"p.empty_obj = kb.array()", "empty_obj", "[]"},
        {"p.nul = 'a'", "nul", R"("a")"},
        {"e.payload = {only = 1}", "", R"({"n":null,"only":1})"},  // a null field comes back, as before
    };
    LuaBox box;
    for (const auto& c : cases) {
        auto s = box.load(std::string("kb.on('x.y', function(e) local p = e.payload ") + c.lua + " end)");
        const Event e{"x.y", everyType(), std::nullopt, "req-1"};
        const std::string before = str(e.payload);
        const auto r = s->runSync(e);
        EXPECT_TRUE(r.changed) << c.lua;
        ASSERT_TRUE(r.payload) << c.lua;
        EXPECT_NE(r.payload.get(), e.payload.get()) << c.lua;
        EXPECT_EQ(str(e.payload), before) << c.lua << ": the caller's object is never changed in place";
        std::string got;
        if (std::string(c.field).empty()) got = str(r.payload);
        else got = r.payload->has(c.field) ? str(r.payload->get(c.field)) : "<absent>";
        EXPECT_EQ(got, c.expected) << c.lua;
        EXPECT_TRUE(r.payload->has("n") || std::string(c.field).empty()) << c.lua << ": a null field stays null";
    }
}

TEST(LuaMarshal, AnIntegerThatBecameAFloatIsAChange) {
    LuaBox box;
    auto s = box.load("kb.on('x.y', function(e) e.payload.i = 42.0 end)");
    const auto r = s->runSync(event("x.y", R"({"i": 42})"));
    EXPECT_TRUE(r.changed);
    EXPECT_EQ(r.payload->get("i").type(), typeid(double));
}

TEST(LuaMarshal, AHookThatFailsLeavesThePayloadUntouched) {
    LuaBox box;
    auto s = box.load(R"(
kb.on("x.y", function(e)
  e.payload.s = "changed"
  e.payload.obj.a.b = "changed"
  error("boom")
end)
)");
    Event e{"x.y", everyType(), std::nullopt, "req-1"};
    const std::string before = str(e.payload);
    EXPECT_THROW((void)s->runSync(e), LuaError);
    EXPECT_EQ(str(e.payload), before);
    // The next call starts from the caller's payload again, not from what the failed call left.
    auto reader = box.load("kb.on('x.y', function(e) if e.payload.s ~= 'text' then kb.reject(e.payload.s) end end)");
    const auto r = reader->runSync(e);
    EXPECT_FALSE(r.vetoed) << r.reason;
}

TEST(LuaMarshal, APayloadThatIsNoLongerATableFailsTheCall) {
    LuaBox box;
    for (const char* lua : {"e.payload = 5", "e.payload = nil", "local p = e.payload e.payload = nil"}) {
        auto s = box.load(std::string("kb.on('x.y', function(e) ") + lua + " end)");
        try {
            (void)s->runSync(event("x.y", R"({"a": 1})"));
            ADD_FAILURE() << lua << " was accepted";
        } catch (const LuaError& err) {
            EXPECT_NE(std::string(err.what()).find("event.payload must stay a table"), std::string::npos) << lua << ": " << err.what();
        }
    }
}

TEST(LuaMarshal, AnEventKeptPastItsCallConvertsNothingMore) {
    LuaBox box;
    auto s = box.load(R"(
kb.on("x.y", function(e)
  if kept then seen = tostring(kept.payload) .. " " .. tostring(kept.name) end
  kept = e
end)
)");
    (void)s->runSync(event("x.y", R"({"a": 1})"));
    (void)s->runSync(event("x.y", R"({"a": 2})"));
    EXPECT_EQ(box.global(*s, "seen"), "nil x.y") << "the payload it never read is not the next call's";
}

TEST(LuaMarshal, PairsAndJsonEncodeOfTheEventSeeThePayloadAndUser) {
    LuaBox box;
    auto s = box.load(R"(
kb.on("x.y", function(e)
  local keys = {}
  for k in pairs(e) do keys[#keys + 1] = k end
  table.sort(keys)
  listed = table.concat(keys, ",")
end)
kb.subscribe("x.y", function(e) encoded = kb.json.encode(e) end)
)");
    Event e = event("x.y", R"({"a": 1})");
    e.principal = Principal{};
    e.principal->username = "anna";
    (void)s->runSync(e);
    EXPECT_EQ(box.global(*s, "listed"), "name,payload,request_id,user");
    s->runAsync(e);
    const auto encoded = obj(box.global(*s, "encoded"));
    EXPECT_EQ(str(encoded->get("payload")), R"({"a":1})");
    EXPECT_EQ(encoded->getObject("user")->getValue<std::string>("username"), "anna");
}

TEST(LuaMarshal, TheUserIsGivenOnDemandAndMayBeRead) {
    LuaBox box;
    auto s = box.load("kb.on('x.y', function(e) if e.user.username ~= 'anna' or e.user.role == nil then kb.reject('user') end end)");
    Event e = event("x.y");
    e.principal = Principal{};
    e.principal->username = "anna";
    const auto r = s->runSync(e);
    EXPECT_FALSE(r.vetoed) << r.reason;
    EXPECT_FALSE(r.changed);
}

TEST(LuaMarshal, ATooLargePayloadFailsOnlyTheHookThatReadsIt) {
    LuaBox box;
    box.limits.maxValueNodes = 50;
    Poco::JSON::Object::Ptr p = new Poco::JSON::Object;
    Poco::JSON::Array::Ptr list = new Poco::JSON::Array;
    for (int i = 0; i < 100; ++i) list->add(i);
    p->set("list", list);
    auto reader = box.load("kb.on('x.y', function(e) local n = #e.payload.list end)");
    try {
        (void)reader->runSync(Event{"x.y", p, std::nullopt, "r"});
        ADD_FAILURE() << "a payload past the node limit reached Lua";
    } catch (const LuaError& err) {
        EXPECT_NE(std::string(err.what()).find("cannot be given to Lua"), std::string::npos) << err.what();
    }
    auto blind = box.load("kb.on('x.y', function(e) end)");
    EXPECT_FALSE(blind->runSync(Event{"x.y", p, std::nullopt, "r"}).changed);
}
