// kb.subscribe(event, {batch = true}, fn) in Lua plugins: fn gets an array of the events the
// bus's worker took at once, each a plain event table, in their order; ordinary handlers of
// the same event still get one event per call; hook scripts and malformed options are refused
// at load.
#include "LuaFixture.h"

using namespace kbtest;

namespace {

const char* kRecorder = R"(
calls = ""
kb.subscribe("checkin.arrived", { batch = true }, function(events)
  local seen = {}
  for i, e in ipairs(events) do
    seen[i] = e.name .. ":" .. tostring(e.payload.booking_id) .. ":" .. e.request_id .. ":" .. (e.user and e.user.username or "-")
  end
  calls = calls .. "[" .. table.concat(seen, ",") .. "]"
end)
kb.subscribe("checkin.arrived", function(e) calls = calls .. "<" .. tostring(e.payload.booking_id) .. ">" end)
)";

}  // namespace

TEST(LuaBatchSubscribe, AHandlerGetsItsEventsOfTheTakeAsOneArrayInOrder) {
    LuaBox box;
    auto s = box.load(kRecorder, "vardkontakter/main.lua", ScriptMode::Plugin);
    Event a = event("checkin.arrived", R"({"booking_id": "b1"})");
    Event other = event("booking.created", R"({"booking_id": "x"})");
    Event b = event("checkin.arrived", R"({"booking_id": "b2"})");
    b.requestId = "req-2";
    b.principal = Principal{7, "anna", Role::Staff, "SE2321000016-STAFF", "SE2321000016-UNIT"};
    s->runAsyncBatch({&a, &other, &b});
    EXPECT_EQ(box.global(*s, "calls"), "[checkin.arrived:b1:" + a.requestId + ":-,checkin.arrived:b2:req-2:anna]");
    // The ordinary handler of the same event is not part of the batch, and the batch handler
    // not of the ordinary call.
    s->runAsync(a);
    EXPECT_EQ(box.global(*s, "calls"), "[checkin.arrived:b1:" + a.requestId + ":-,checkin.arrived:b2:req-2:anna]<b1>");
    // A take without its event calls nothing.
    s->runAsyncBatch({&other});
    EXPECT_EQ(box.global(*s, "calls"), "[checkin.arrived:b1:" + a.requestId + ":-,checkin.arrived:b2:req-2:anna]<b1>");
}

TEST(LuaBatchSubscribe, AnErrorInTheHandlerFailsTheBatchWithTheScriptsLine) {
    LuaBox box;
    auto s = box.load(R"(
kb.subscribe("checkin.arrived", { batch = true }, function(events)
  if #events > 1 then error("two at once") end
end)
)",
                      "p/main.lua", ScriptMode::Plugin);
    Event a = event("checkin.arrived"), b = event("checkin.arrived");
    s->runAsyncBatch({&a});
    try {
        s->runAsyncBatch({&a, &b});
        FAIL() << "the handler raised";
    } catch (const LuaError& e) {
        EXPECT_EQ(e.line(), 3) << e.what();
        EXPECT_NE(e.message().find("two at once"), std::string::npos) << e.what();
    }
}

TEST(LuaBatchSubscribe, HookScriptsAndMalformedOptionsAreRefusedAtLoad) {
    LuaBox box;
    const auto hook = box.loadError(R"(kb.subscribe("checkin.arrived", { batch = true }, function(events) end))");
    EXPECT_NE(hook.message().find("{batch = true} is for Lua plugins"), std::string::npos) << hook.what();
    for (const char* bad : {R"(kb.subscribe("checkin.arrived", { batch = "yes" }, function(events) end))",
                            R"(kb.subscribe("checkin.arrived", { phase = "decide" }, function(events) end))"}) {
        try {
            box.load(bad, "p/main.lua", ScriptMode::Plugin);
            ADD_FAILURE() << "loaded: " << bad;
        } catch (const LuaError& e) {
            EXPECT_NE(e.message().find("kb.subscribe"), std::string::npos) << e.what();
        }
    }
}
