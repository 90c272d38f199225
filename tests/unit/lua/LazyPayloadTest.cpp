// Lazy payload members (Event::lazy, e.g. booking.requested's free_slots): made once, only
// when a hook reads them, seen by every kind of reader (a script's read, pairs(),
// kb.json.encode, a native hook, an async handler), and a failure to make one fails closed.
#include "HookFixture.h"

#include <Poco/JSON/Array.h>

#include <atomic>
#include <stdexcept>

using namespace kbtest;

namespace {

// An event whose payload has a lazy "free_slots" of three slots; `made` counts the makes.
Event withFreeSlots(std::atomic<int>& made, const std::string& json = R"({"patient": "191212121212", "slot_id": 7})") {
    Event e = event("booking.requested", json);
    e.lazy.push_back({"free_slots", [&made] {
                          ++made;
                          Poco::JSON::Array::Ptr slots = new Poco::JSON::Array;
                          for (int id : {8, 9, 10}) {
                              Poco::JSON::Object::Ptr s = new Poco::JSON::Object;
                              s->set("slot_id", id);
                              slots->add(s);
                          }
                          return Poco::Dynamic::Var(slots);
                      },
                      {}});
    return e;
}

}  // namespace

TEST(LuaLazyPayload, AMemberIsMadeOnlyWhenAScriptReadsItAndStaysLazyForLaterHooksOtherwise) {
    HookBox box;
    ASSERT_TRUE(box.host->load("a_note.lua", "kb.on('booking.requested', function(e) local p = e.payload p.note = p.patient end)"));
    std::atomic<int> made{0};
    auto e = withFreeSlots(made);
    ASSERT_FALSE(box.publish(e).vetoed);
    EXPECT_EQ(made, 0);
    EXPECT_EQ(e.payload->getValue<std::string>("note"), "191212121212");
    EXPECT_FALSE(e.payload->has("free_slots"));  // the changed payload came back without it
    ASSERT_EQ(e.lazy.size(), 1u);                // ... and it is still lazy

    ASSERT_TRUE(box.host->load("b_route.lua", R"(
kb.on("booking.requested", {after = {"a_note.lua"}}, function(e)
  local p = e.payload
  p.routed = #p.free_slots
  p.slot_id = p.free_slots[2].slot_id
end)
)"));
    auto routed = withFreeSlots(made);
    ASSERT_FALSE(box.publish(routed).vetoed);
    EXPECT_EQ(made, 1);
    EXPECT_EQ(routed.payload->getValue<int>("routed"), 3);
    EXPECT_EQ(routed.payload->getValue<int>("slot_id"), 9);
    EXPECT_TRUE(routed.payload->has("free_slots"));
}

TEST(LuaLazyPayload, PairsAndJsonEncodeSeeTheMemberWhichIsMadeOnce) {
    HookBox box;
    ASSERT_TRUE(box.host->load("walk.lua", R"(
kb.on("booking.requested", function(e)
  local keys = {}
  for k in pairs(e.payload) do keys[#keys + 1] = k end
  table.sort(keys)
  e.payload.keys = table.concat(keys, ",")
  e.payload.encoded = kb.json.encode(e.payload.free_slots)
  e.payload.meta = getmetatable(e.payload)
end)
)"));
    std::atomic<int> made{0};
    auto e = withFreeSlots(made);
    ASSERT_FALSE(box.publish(e).vetoed);
    EXPECT_EQ(made, 1);
    EXPECT_EQ(e.payload->getValue<std::string>("keys"), "free_slots,patient,slot_id");
    EXPECT_EQ(e.payload->getValue<std::string>("encoded"), R"([{"slot_id":8},{"slot_id":9},{"slot_id":10}])");
    EXPECT_EQ(e.payload->getValue<std::string>("meta"), "kb.payload");

    ASSERT_TRUE(box.host->load("walk.lua", R"(
kb.on("booking.requested", function(e) e.payload.text = kb.json.encode(e.payload) end)
)"));
    auto encoded = withFreeSlots(made);
    ASSERT_FALSE(box.publish(encoded).vetoed);
    EXPECT_EQ(made, 2);
    EXPECT_NE(encoded.payload->getValue<std::string>("text").find(R"("free_slots":[{"slot_id":8})"), std::string::npos)
        << encoded.payload->getValue<std::string>("text");
}

TEST(LuaLazyPayload, NativeHooksAndAsyncHandlersGetTheMemberInThePayload) {
    HookBox box;
    ASSERT_TRUE(box.host->load("a_read.lua", "kb.on('booking.requested', function(e) e.payload.first = e.payload.free_slots[1].slot_id end)"));
    int seenByNative = 0;
    box.bus.hook("booking.requested", HookSpec{"booking:after", Phase::Finalize, {}, {}}, [&](Event& e) {
        seenByNative = static_cast<int>(e.payload->getArray("free_slots")->size());
    });
    std::atomic<int> made{0};
    auto e = withFreeSlots(made);
    ASSERT_FALSE(box.publish(e).vetoed);
    EXPECT_EQ(seenByNative, 3);
    EXPECT_EQ(made, 1);  // the Lua hook made it; the native hook got the same one
    EXPECT_EQ(e.payload->getValue<int>("first"), 8);

    // A hook whose spec says it reads lazy members itself, registered through a plugin's
    // bus, still gets them made (the plugin host clears the flag); on the bare bus the flag
    // is honoured.
    int lazyAware = -1;
    HookSpec aware{"core:aware", Phase::Validate, {}, {}};
    aware.readsLazyFields = true;
    box.bus.hook("slots.asked", aware, [&](Event& ev) { lazyAware = ev.payload->has("free_slots") ? 1 : 0; });
    auto asked = withFreeSlots(made);
    asked.name = "slots.asked";
    ASSERT_FALSE(box.publish(asked).vetoed);
    EXPECT_EQ(lazyAware, 0);
    EXPECT_EQ(made, 1);

    std::atomic<int> handled{-1};
    box.bus.subscribe("booking.created", "handler", [&](const Event& ev) {
        handled = ev.payload->has("free_slots") ? static_cast<int>(ev.payload->getArray("free_slots")->size()) : 0;
    });
    auto created = withFreeSlots(made);
    created.name = "booking.created";
    box.bus.publish(created);
    box.bus.drain();
    EXPECT_EQ(handled, 3);
    EXPECT_EQ(made, 2);
}

TEST(LuaLazyPayload, AMemberThatCannotBeMadeFailsTheReadingHookClosed) {
    HookBox box;
    ASSERT_TRUE(box.host->load("route.lua", "kb.on('booking.requested', function(e) e.payload.n = #e.payload.free_slots end)"));
    auto e = event("booking.requested", R"({"slot_id": 7})");
    e.lazy.push_back({"free_slots", []() -> Poco::Dynamic::Var { throw std::runtime_error("the database is locked"); }, {}});
    const auto out = box.publish(e);
    EXPECT_TRUE(out.failed);
    EXPECT_EQ(out.hook, "lua:route.lua");
    EXPECT_NE(out.reason.find("free_slots cannot be made: the database is locked"), std::string::npos) << out.reason;
    EXPECT_FALSE(e.payload->has("n"));

    HookBox native;
    native.bus.hook("booking.requested", HookSpec{"booking:native", Phase::Decide, {}, {}}, [](Event&) {});
    auto n = event("booking.requested", R"({"slot_id": 7})");
    n.lazy.push_back({"free_slots", []() -> Poco::Dynamic::Var { throw std::runtime_error("the database is locked"); }, {}});
    const auto nativeOut = native.publish(n);
    EXPECT_TRUE(nativeOut.failed);
    EXPECT_EQ(nativeOut.hook, "booking:native");
}

TEST(LuaLazyPayload, APayloadKeptPastItsCallMakesNothingAndCannotBeReshaped) {
    HookBox box;
    ASSERT_TRUE(box.host->load("keep.lua", R"(
local kept
kb.on("booking.requested", function(e)
  if kept then e.payload.stale = (kept.free_slots == nil) end
  kept = e.payload
end)
)"));
    std::atomic<int> made{0};
    auto first = withFreeSlots(made);
    ASSERT_FALSE(box.publish(first).vetoed);
    auto second = withFreeSlots(made);
    ASSERT_FALSE(box.publish(second).vetoed);
    EXPECT_TRUE(second.payload->getValue<bool>("stale"));
    EXPECT_EQ(made, 0);

    ASSERT_TRUE(box.host->load("keep.lua", "kb.on('booking.requested', function(e) setmetatable(e.payload, {}) end)"));
    auto reshaped = withFreeSlots(made);
    const auto out = box.publish(reshaped);
    EXPECT_TRUE(out.failed);
    EXPECT_NE(out.reason.find("protected metatable"), std::string::npos) << out.reason;
}
