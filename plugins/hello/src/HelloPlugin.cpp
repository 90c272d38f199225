// The hello example plugin: registration of a route pair, a hook, an outbox channel, a
// console page and a /metrics gauge. Everything it does goes through the PluginContext.
#include <klinikbox/Schema.h>
#include <klinikbox/JsonInput.h>
#include <klinikbox/Plugin.h>

#include <Poco/JSON/Array.h>

#include <stdexcept>

namespace {

class HelloPlugin final : public klinikbox::Plugin {
public:
    void start(klinikbox::PluginContext& ctx) override {
        using namespace klinikbox;
        auto cfg = ctx.config();
        if (cfg->optValue<bool>("fail_on_start", false)) throw std::runtime_error("configured to fail on start");
        const std::string greeting = cfg->optValue<std::string>("greeting", "Hej");
        ctx_ = &ctx;

        // A sync hook that vetoes empty names (hooks may change or refuse an event).
        ctx.events().hook("hello.greeted", HookSpec{"no-empty-names", Phase::Validate, {}, {}},
                          [](Event& e) {
                              if (e.payload->optValue<std::string>("name", "").empty()) throw Veto("name is empty");
                          });

        ctx.outbox().registerChannel("hello.echo", [](const QueuedMessage& m) {
            // A real plugin would call its peer here with a timeout.
            // The payload is the greeted name; "fail" asks for a retry, so tests can keep a message queued.
            return m.payload == "fail" ? DeliveryResult::retry("asked to fail")
                               : DeliveryResult::delivered();
        });

        ctx.router().add(
            "POST", "/api/v1/hello/greetings", Access::only({Role::Staff, Role::Admin}),
            [this, greeting](Request& req) {
                auto body = req.json();
                for (const auto& [k, v] : *body)
                    if (k != "name") throw Problem::badRequest("/problems/unknown-field", "unknown field '" + k + "'");
                if (!body->has("name") || !body->get("name").isString())
                    throw Problem::badRequest("/problems/invalid-field", "name must be a string");
                const std::string name = body->getValue<std::string>("name");
                if (JsonInput::utf8Length(name) > 100) throw Problem::badRequest("/problems/invalid-field", "name is too long");
                Event ev{"hello.greeted", body, req.principal, req.requestId};
                const auto outcome = ctx_->events().publishSync(ev);
                if (outcome.vetoed)
                    throw Problem(422, "/problems/vetoed", "Refused by a hook", outcome.reason);
                long long id = 0;
                ctx_->store().write([&](db::Connection& c) {
                    auto st = c.prepare("INSERT INTO hello_greetings(name, created_at) VALUES(?, datetime('now'))");
                    st.bind(1, name).exec();
                    id = c.lastInsertId();
                    ctx_->outbox().enqueue(c, OutboundMessage{"hello.echo", body->getValue<std::string>("name"),
                                                              "greeting-" + std::to_string(id)});
                });
                Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
                o->set("id", id);
                o->set("message", greeting + " " + name);
                return Response::json(o, 201);
            },
            RouteSpec{.summary = "Greet someone", .tag = "hello", .body = klinikbox::schema::object({klinikbox::schema::req("name", klinikbox::schema::text(100, 0))}), .status = 201, .problems = {422}});

        ctx.router().add(
            "GET", "/api/v1/hello/greetings", Access::loggedIn(),
            [this](Request&) {
                Poco::JSON::Array::Ptr arr = new Poco::JSON::Array;
                ctx_->store().read([&](db::Connection& c) {
                    auto st = c.prepare("SELECT id, name FROM hello_greetings ORDER BY id");
                    while (st.step()) {
                        Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
                        o->set("id", st.getInt(0));
                        o->set("name", st.getText(1));
                        arr->add(o);
                    }
                });
                Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
                o->set("greetings", arr);
                return Response::json(o);
            },
            RouteSpec{.summary = "List greetings", .tag = "hello", .status = 200});

        ctx.addConsolePage(ConsolePage{"greetings", "Hälsningar", "hello.js", Access::loggedIn()});

        // A gauge in the box's /metrics (kb_hello_greetings), read when it is scraped.
        ctx.addGauge("greetings", "Greetings stored by the hello plugin.", [this] {
            long long n = 0;
            ctx_->store().read([&](db::Connection& c) {
                auto st = c.prepare("SELECT COUNT(*) FROM hello_greetings");
                if (st.step()) n = st.getInt(0);
            });
            return static_cast<double>(n);
        });
        ctx.log().info("hello started");
    }

private:
    klinikbox::PluginContext* ctx_ = nullptr;
};

}  // namespace

KB_PLUGIN(HelloPlugin)
