// kb.send: queueing outbound messages on the channels a script is allowed to use.
#include "lua/KbInternal.h"

#include <klinikbox/PluginContext.h>

#include <Poco/JSON/Stringifier.h>

#include <cstring>
#include <sstream>

namespace klinikbox::lua::kbapi {

bool channelsChecked(const ScriptContext& c) {
    if (c.mode == ScriptMode::Plugin) return true;
    return c.services && c.services->checkChannels;
}

bool channelAllowed(const ScriptContext& c, const std::string& channel) {
    if (c.mode == ScriptMode::Plugin) return c.declaredChannels.count(channel) > 0;
    if (!c.services) return false;
    for (const char* who : {c.name.c_str(), "*"}) {
        auto it = c.services->allowedChannels.find(who);
        if (it == c.services->allowedChannels.end()) continue;
        for (const auto& a : it->second) {
            if (a == channel || a == "*") return true;
            if (a.size() >= 2 && a.compare(a.size() - 2, 2, ".*") == 0 && channel.size() > a.size() - 1 &&
                channel.compare(0, a.size() - 1, a, 0, a.size() - 1) == 0)
                return true;
        }
    }
    return false;
}

// kb.send(channel, payload, {idempotency_key = key}) -> message id
int kbSend(lua_State* L) {
    ScriptContext& c = ctxOf(L);
    std::size_t cn = 0, kn = 0;
    const char* channel = luaL_checklstring(L, 1, &cn);
    luaL_checkany(L, 2);
    luaL_checktype(L, 3, LUA_TTABLE);
    checkOptionKeys(L, 3, "kb.send", {"idempotency_key"});
    const char* key = optStringField(L, 3, "kb.send", "idempotency_key", &kn);
    if (!key || kn == 0 || kn > 200)
        return luaL_error(L, "kb.send: options.idempotency_key (1-200 characters, e.g. the booking id) is required, so a "
                             "repeated event is not sent twice");
    if (c.call == CallKind::Load) return luaL_error(L, "kb.send cannot be used while the script loads");
    if (c.call == CallKind::SyncHook)
        return luaL_error(L, "kb.send cannot be used in a sync hook: the event may still be refused. Send from "
                             "kb.subscribe on the event that follows (e.g. booking.created)");
    bool allowed = c.mode == ScriptMode::Test && !channelsChecked(c);
    if (!allowed && !cxx(c, [&] { allowed = channelAllowed(c, std::string(channel, cn)); })) fail(L, "kb.send", c);
    // A refused send in a test fails the test; in the box it never loses the message: it
    // becomes a dead letter with the reason (retried once the channel exists).
    const bool deadLetter = !allowed && !c.testing && !c.tx && c.services && c.services->deadLetter;
    if (!allowed && !deadLetter) {
        char msg[240];
        std::snprintf(msg, sizeof msg, "kb.send: this script may not send on channel '%s'", channel);
        if (c.mode == ScriptMode::Plugin) return luaL_error(L, "%s (not among the channels plugin.yaml declares)", msg);
        if (c.testing) return luaL_error(L, "%s (not given to it by lua.channels in the configuration)", msg);
        violation(L, msg, " (the channel is not on its allow-list)");
    }
    if (!cxx(c, [&] { c.tree.clear(); })) fail(L, "kb.send", c);
    readValue(L, 2, c.tree, maxNodes(L), "kb.send payload");
    long long id = 0;
    if (!cxx(c, [&] {
            std::size_t pos = 0;
            std::ostringstream json;
            Poco::JSON::Stringifier::stringify(toVar(c.tree, pos), json);
            OutboundMessage m{std::string(channel, cn), json.str(), std::string(key, kn)};
            if (deadLetter) {
                const std::string why = c.mode == ScriptMode::Plugin
                                            ? "refused: plugin.yaml does not declare the channel " + m.channel
                                            : "refused: lua.channels does not give " + c.name + " the channel " + m.channel;
                id = c.services->deadLetter(c.name, m, why);
            } else if (c.mode == ScriptMode::Test) {
                c.sent.push_back(SentMessage{m.channel, m.payload, m.idempotencyKey});
                id = static_cast<long long>(c.sent.size());
            } else if (c.mode == ScriptMode::Plugin && c.plugin) {
                if (c.tx) id = c.plugin->outbox().enqueue(*c.tx, m);
                else c.plugin->store().write([&](db::Connection& conn) { id = c.plugin->outbox().enqueue(conn, m); });
                if (c.testing) c.sent.push_back(SentMessage{m.channel, m.payload, m.idempotencyKey});
            } else {
                if (!c.services || !c.services->send) throw std::runtime_error("this box has no outbox for scripts");
                id = c.services->send(c.name, m);
            }
        }))
        fail(L, "kb.send", c);
    lua_pushinteger(L, id);
    return 1;
}

}  // namespace klinikbox::lua::kbapi
