// The kb.* API: every call checked, domain helpers on the box's clock, logging masked,
// payload conversion both ways, kb.reject and kb.send rules.
#include "LuaFixture.h"

using namespace kbtest;

TEST(LuaKb, TimeComesFromTheBoxClock) {
    LuaBox box;
    EXPECT_EQ(box.eval("kb.now()"), "1795341600");
    EXPECT_EQ(box.eval("kb.today()"), "2026-11-22");
}

TEST(LuaKb, PersonnummerHelpers) {
    LuaBox box;
    EXPECT_EQ(box.eval("kb.pnr.valid('19121212-1212')"), "true");
    EXPECT_EQ(box.eval("kb.pnr.valid('121212-1212')"), "true");
    EXPECT_EQ(box.eval("kb.pnr.valid('19121212-1213')"), "false");
    EXPECT_EQ(box.eval("kb.pnr.parse('191212121212').digits"), "191212121212");
    EXPECT_EQ(box.eval("kb.pnr.parse('191212121212').birthdate"), "1912-12-12");
    EXPECT_EQ(box.eval("kb.pnr.parse('191212121212').sex"), "M");
    EXPECT_EQ(box.eval("kb.pnr.parse('191212121212').age"), "113");
    EXPECT_EQ(box.eval("kb.pnr.parse('191212121212').coordination"), "false");
    EXPECT_EQ(box.eval("kb.pnr.parse('19121272-1219') and 'x' or select(2, kb.pnr.parse('19121272-1219'))"), "x");
    EXPECT_EQ(box.eval("kb.pnr.parse('19121272-1219').coordination"), "true");
    EXPECT_EQ(box.eval("select(2, kb.pnr.parse('1212'))"), "wrong-length");
    EXPECT_EQ(box.eval("select(2, kb.pnr.parse('19121212-1213'))"), "invalid-checksum");
    EXPECT_EQ(box.eval("kb.pnr.age('20121212-1212', '2030-12-11')"), "17");
    EXPECT_EQ(box.eval("kb.pnr.age('20121212-1212', '2030-12-12')"), "18");
    EXPECT_EQ(box.eval("select(2, kb.pnr.age('x'))"), "invalid-characters");
    EXPECT_EQ(box.eval("kb.pnr.mask('pnr 191212121212 och 19121212-1212')"), "pnr 19121212**** och 19121212-****");
}

TEST(LuaKb, MoneyHelpers) {
    LuaBox box;
    EXPECT_EQ(box.eval("kb.money.parse('150,50')"), "15050");
    EXPECT_EQ(box.eval("math.type(kb.money.parse('150'))"), "integer");
    EXPECT_EQ(box.eval("select(2, kb.money.parse('-5'))"), "invalid-amount");
    EXPECT_EQ(box.eval("kb.money.format(120050)"), "1 200,50 kr");
    EXPECT_EQ(box.eval("kb.money.format(0)"), "0,00 kr");
}

TEST(LuaKb, WrongArgumentTypesAreLuaErrorsWithAMessage) {
    LuaBox box;
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"kb.money.format('a lot')", "bad argument #1 to 'format' (number expected, got string)"},
        {"kb.money.format(1.5)", "number has no integer representation"},
        {"kb.pnr.valid(nil)", "bad argument #1 to 'valid' (string expected, got nil)"},
        {"kb.pnr.parse({})", "bad argument #1 to 'parse' (string expected, got table)"},
        {"kb.pnr.age('191212121212', 'tomorrow')", "bad argument #2 to 'age' (a date \"YYYY-MM-DD\" expected)"},
        {"kb.log.info({})", "bad argument #1 to 'info' (string expected, got table)"},
        {"kb.config(nil)", "bad argument #1 to 'config' (string expected, got nil)"},
        {"kb.on(42, function() end)", "bad argument #1 to 'on' (an event name like \"booking.requested\" expected)"},
        {"kb.on('booking.requested')", "bad argument #2 to 'on' (function expected, got no value)"},
        {"kb.on('booking.requested', {phase = 'later'}, function() end)", "phase must be \"validate\", \"decide\" or \"finalize\""},
        {"kb.on('booking.requested', {priority = 1}, function() end)", "unknown option 'priority' (known: phase, after, before)"},
        {"kb.on('booking.requested', {after = 'a.lua'}, function() end)", "after must be a list"},
        {"kb.array(5)", "bad argument #1 to 'array' (table expected, got number)"},
        {"kb.array(setmetatable({}, {}))", "a table without a metatable expected"},
        {"kb.reject('no')", "kb.reject can only be used in a sync hook"},
        {"kb.fire('x.y', {})", "kb.fire is only available in tests"},
        {"kb.send('sms.send', {}, {idempotency_key = 'k'})", "kb.send cannot be used while the script loads"},
        {"kb.send('sms.send', {})", "bad argument #3 to 'send' (table expected, got no value)"},
    };
    for (const auto& [code, message] : cases) {
        const auto e = box.loadError(code);
        EXPECT_EQ(e.kind(), ErrorKind::Runtime) << code;
        EXPECT_NE(e.message().find(message), std::string::npos) << code << " -> " << e.what();
        EXPECT_EQ(e.line(), 1) << code;
    }
}

TEST(LuaKb, PluginOnlyCallsAreSandboxViolationsInHookScripts) {
    LuaBox box;
    for (const char* code : {"kb.db.query('select 1')", "kb.db.exec('delete from x')", "kb.route('GET', '/x', function() end)",
                             "kb.events.publish('a.b', {})", "kb.audit('read', {})"}) {
        const auto e = box.loadError(code);
        EXPECT_EQ(e.kind(), ErrorKind::Sandbox) << code;
        EXPECT_NE(e.message().find("is only available in Lua plugins"), std::string::npos) << e.what();
    }
}

TEST(LuaKb, LogLinesAreMaskedNamedAndLimitedPerCall) {
    LuaBox box;
    box.load("kb.log.info('patient 19121212-1212 arrived') kb.log.warn('w') kb.log.error('e') print('a', 1, nil, true)", "log.lua");
    ASSERT_EQ(box.logs.size(), 4u);
    EXPECT_EQ(box.logs[0], "info log.lua: patient 19121212-**** arrived");
    EXPECT_EQ(box.logs[1], "warn log.lua: w");
    EXPECT_EQ(box.logs[2], "error log.lua: e");
    EXPECT_EQ(box.logs[3], "info log.lua: a\t1\tnil\ttrue");
    box.logs.clear();
    box.load("for i = 1, 1000 do kb.log.info('line ' .. i) end", "flood.lua");
    ASSERT_EQ(box.logs.size(), 101u);
    EXPECT_EQ(box.logs.back(), "warn flood.lua: further log lines of this call are dropped (limit reached)");
}

TEST(LuaKb, ConfigValuesComeFromTheInjectedSettings) {
    LuaBox box;
    box.services->config = [](const std::string& script) -> Poco::JSON::Object::Ptr {
        if (script != "fee.lua") return nullptr;
        return obj(R"({"fee_ore": 20000, "region": "Region Demo", "free": {"under": 20, "over": 85}, "units": ["a", "b"]})");
    };
    auto s = box.load("result = kb.config('fee_ore') .. ' ' .. kb.config('region') .. ' ' .. kb.config('free.over') .. ' ' .."
                      " #kb.config('units') .. ' ' .. tostring(kb.config('missing')) .. ' ' .. tostring(kb.config('free.x.y'))",
                      "fee.lua");
    EXPECT_EQ(box.global(*s, "result"), "20000 Region Demo 85 2 nil nil");
    auto other = box.load("result = tostring(kb.config('fee_ore'))", "other.lua");
    EXPECT_EQ(box.global(*other, "result"), "nil");
}

TEST(LuaKb, PayloadConvertsBothWaysKeepingTypes) {
    LuaBox box;
    auto s = box.load(R"(
kb.on("x.y", function(e)
  local p = e.payload
  p.checks = table.concat({math.type(p.i), math.type(p.f), type(p.s), type(p.b), type(p.list), #p.list,
                           type(p.empty), tostring(p.gone), p.nested.deep.value}, ",")
  p.i = p.i + 1
  p.f = p.f * 2
  p.new_list = {1, 2, 3}
  p.new_empty_list = kb.array()
  p.new_object = {}
  p.nested.deep.value = "changed"
  p.s = nil
end)
)");
    auto r = s->runSync(event("x.y", R"({"i": 41, "f": 1.25, "s": "text", "b": true, "list": [1, "two", null, 4],
                                         "empty": [], "gone": null, "nested": {"deep": {"value": "v"}}})"));
    ASSERT_FALSE(r.vetoed);
    EXPECT_EQ(r.payload->getValue<std::string>("checks"), "integer,float,string,boolean,table,4,table,nil,v");
    EXPECT_EQ(str(r.payload->get("i")), "42");
    EXPECT_EQ(str(r.payload->get("f")), "2.5");
    EXPECT_EQ(str(r.payload->get("list")), R"([1,"two",null,4])") << "a null inside a list survives as a hole";
    EXPECT_EQ(str(r.payload->get("empty")), "[]") << "an empty array stays an array";
    EXPECT_EQ(str(r.payload->get("new_list")), "[1,2,3]");
    EXPECT_EQ(str(r.payload->get("new_empty_list")), "[]");
    EXPECT_EQ(str(r.payload->get("new_object")), "{}");
    EXPECT_TRUE(r.payload->has("gone")) << "an untouched null member comes back as null";
    EXPECT_TRUE(r.payload->isNull("gone"));
    EXPECT_FALSE(r.payload->has("s")) << "a member set to nil is removed";
    EXPECT_EQ(str(r.payload->getObject("nested")), R"({"deep":{"value":"changed"}})");
}

TEST(LuaKb, PayloadThatCannotBecomeJsonFailsWithItsPath) {
    LuaBox box;
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"e.payload.f = print", "event.payload.f cannot be converted to JSON: a function has no JSON form"},
        {"e.payload.t = {1, 2, x = 3}", "event.payload.t cannot be converted to JSON: a table cannot mix list items and named fields"},
        {"e.payload.t = {[true] = 1}", "its keys must be strings"},
        {"e.payload.n = 0/0", "event.payload.n cannot be converted to JSON: JSON has no infinity or NaN"},
        {"local t = {} t.self = t e.payload.t = t", "nested more than 32 levels deep"},
        {"e.payload.l = {[1e9] = 1}", "its list is too long"},
        {"e.payload = 5", "event.payload must stay a table"},
    };
    for (const auto& [code, message] : cases) {
        auto s = box.load("kb.on('x.y', function(e) " + code + " end)");
        try {
            (void)s->runSync(event("x.y"));
            ADD_FAILURE() << code;
        } catch (const LuaError& e) {
            EXPECT_EQ(e.kind(), ErrorKind::Runtime) << code;
            EXPECT_NE(e.message().find(message), std::string::npos) << code << " -> " << e.what();
        }
    }
}

TEST(LuaKb, RejectIsFinalEvenWhenTheScriptCatchesIt) {
    LuaBox box;
    auto s = box.load(R"(
kb.on("booking.requested", function(e)
  local ok = pcall(kb.reject, "Kräver vårdnadshavare")
  e.payload.after_reject = ok
end)
)");
    const auto r = s->runSync(event("booking.requested"));
    EXPECT_TRUE(r.vetoed);
    EXPECT_EQ(r.reason, "Kräver vårdnadshavare");
    EXPECT_FALSE(r.payload) << "a vetoed hook's payload changes are not applied";
    // The next call starts clean.
    auto again = box.load("kb.on('booking.requested', function(e) e.payload.ok = true end)");
    EXPECT_FALSE(again->runSync(event("booking.requested")).vetoed);
}

TEST(LuaKb, HookErrorsNameScriptLineAndEvent) {
    LuaBox box;
    auto s = box.load("kb.on('booking.requested', function(e)\n  local x = e.payload.missing.field\nend)", "triage.lua");
    try {
        (void)s->runSync(event("booking.requested"));
        FAIL();
    } catch (const LuaError& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Runtime);
        EXPECT_EQ(std::string(e.what()),
                  "triage.lua:2: attempt to index a nil value (field 'missing') (booking.requested, phase decide)");
    }
}

TEST(LuaKb, SendNeedsAnAllowedChannelAnIdempotencyKeyAndAnAsyncHandler) {
    LuaBox box;
    std::vector<std::string> sent;
    box.services->send = [&](const std::string& script, const OutboundMessage& m) {
        sent.push_back(script + " " + m.channel + " " + m.idempotencyKey + " " + m.payload);
        return static_cast<long long>(sent.size());
    };
    box.services->allowedChannels["notify.lua"] = {"sms.*"};
    box.services->allowedChannels["*"] = {"mail.send"};
    auto s = box.load(R"(
kb.subscribe("booking.created", function(e)
  local id = kb.send("sms.reminder", {to = e.payload.phone, text = "Välkommen"}, {idempotency_key = "b-" .. e.payload.id})
  kb.send("mail.send", {to = "x"}, {idempotency_key = "m-" .. e.payload.id})
  if e.payload.bad then kb.send("journal.export", {}, {idempotency_key = "j"}) end
end)
kb.on("booking.requested", function(e) kb.send("sms.reminder", {}, {idempotency_key = "k"}) end)
)",
                      "notify.lua");
    s->runAsync(event("booking.created", R"({"id": 7, "phone": "0701234567"})"));
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(sent[0], R"(notify.lua sms.reminder b-7 {"text":"Välkommen","to":"0701234567"})");
    EXPECT_EQ(sent[1], R"(notify.lua mail.send m-7 {"to":"x"})");
    try {
        s->runAsync(event("booking.created", R"({"id": 8, "bad": true})"));
        FAIL();
    } catch (const LuaError& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Sandbox);
        EXPECT_NE(e.message().find("may not send on channel 'journal.export'"), std::string::npos) << e.what();
    }
    try {
        (void)s->runSync(event("booking.requested"));
        FAIL();
    } catch (const LuaError& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Runtime);
        EXPECT_NE(e.message().find("cannot be used in a sync hook"), std::string::npos) << e.what();
    }
    auto nokey = box.load("kb.subscribe('a.b', function() kb.send('sms.x', {}, {}) end)", "notify.lua");
    try {
        nokey->runAsync(event("a.b"));
        FAIL();
    } catch (const LuaError& e) {
        EXPECT_NE(e.message().find("options.idempotency_key (1-200 characters, e.g. the booking id) is required"), std::string::npos)
            << e.what();
    }
    ASSERT_EQ(sent.size(), 4u) << "what was queued before the violation stays queued; the refused messages are not";
    EXPECT_EQ(sent[2].substr(0, 26), "notify.lua sms.reminder b-");
}

TEST(LuaKb, RegistrationsOnlyAtTheTopLevel) {
    LuaBox box;
    auto s = box.load("kb.on('x.y', function(e) kb.on('x.z', function() end) end)");
    try {
        (void)s->runSync(event("x.y"));
        FAIL();
    } catch (const LuaError& e) {
        EXPECT_NE(e.message().find("kb.on can only be used at the top level"), std::string::npos) << e.what();
    }
    const auto e = box.loadError("kb.on('x.y', {phase = 'validate'}, function() end)\nkb.on('x.y', function() end)");
    EXPECT_NE(e.message().find("x.y is already hooked on line 1 with other options"), std::string::npos) << e.what();
    EXPECT_EQ(e.line(), 2);
}
