// The video visit plugin: registration of the booking subscriptions, the patient's join
// page and lobby routes, the staff routes and the console page. The work is in Visits.
#include <klinikbox/Schema.h>
#include "BankIdClient.h"
#include "JitsiProvider.h"
#include "JoinPage.h"
#include "Visits.h"

#include <klinikbox/JsonInput.h>
#include <klinikbox/Plugin.h>

#include <memory>

namespace {

using namespace klinikbox;
using namespace klinikbox::video;

Poco::JSON::Object::Ptr section(const Poco::JSON::Object::Ptr& cfg, const std::string& name) {
    auto o = cfg->getObject(name);
    return o ? o : Poco::JSON::Object::Ptr(new Poco::JSON::Object);
}

class VideoPlugin final : public Plugin {
public:
    void start(PluginContext& ctx) override {
        auto cfg = ctx.config();
        auto j = section(cfg, "jitsi");
        auto meetings = std::make_shared<JitsiProvider>(JitsiSettings{
            j->optValue<std::string>("server_url", ""), j->optValue<std::string>("app_id", "klinikbox"),
            j->optValue<std::string>("audience", "jitsi"), j->optValue<std::string>("app_secret", "")});
        auto i = section(cfg, "idp");
        auto idp = std::make_shared<BankIdClient>(BankIdSettings{
            i->optValue<std::string>("base_url", ""), i->optValue<std::string>("client_cert", ""),
            i->optValue<std::string>("client_key", ""), i->optValue<std::string>("ca", ""),
            std::chrono::seconds(i->optValue<int>("timeout_seconds", 10))});
        visits_ = std::make_unique<Visits>(ctx, settingsFrom(cfg), meetings, idp);
        visits_->init();
        auto* v = visits_.get();

        ctx.events().subscribe("booking.created", "rooms", [v](const Event& e) { v->onCreated(e); });
        ctx.events().subscribe("booking.cancelled", "rooms", [v](const Event& e) { v->onCancelled(e); });
        ctx.events().subscribe("booking.rebooked", "rooms", [v](const Event& e) { v->onRebooked(e); });

        auto& r = ctx.router();
        const auto staff = Access::only({Role::Staff});
        using namespace klinikbox::schema;

        r.add("GET", "/api/v1/video/join", Access::anyone(),
              [](Request&) {
                  Response resp = Response::text(joinPageHtml(), "text/html; charset=utf-8");
                  resp.headers.emplace_back("Cache-Control", "no-store");
                  return resp;
              },
              RouteSpec{.summary = "The patient's join page (HTML); the link's token is in the fragment", .tag = "video", .responseType = "text/html", .status = 200});

        r.add("POST", "/api/v1/video/patient/identify", Access::anyone(),
              [v](Request& req) {
                  JsonInput in(req.json(), {"token"});
                  return Response::json(v->patientIdentify(req, in.str("token", JoinTokens::kMaxLength)));
              },
              RouteSpec{.summary = "Start the patient's identification for the visit the join token names", .tag = "video", .body = object({req("token", text(JoinTokens::kMaxLength))}), .status = 200, .problems = {403, 404, 409, 429, 502, 503}});

        r.add("POST", "/api/v1/video/patient/status", Access::anyone(),
              [v](Request& req) {
                  JsonInput in(req.json(), {"token", "session"});
                  return Response::json(
                      v->patientStatus(req, in.str("token", JoinTokens::kMaxLength), in.str("session", 64)));
              },
              RouteSpec{.summary = "The patient's lobby state; the meeting link once admitted", .tag = "video", .body = object({req("token", text(JoinTokens::kMaxLength)), req("session", text(64))}), .status = 200, .problems = {403, 404, 409, 429, 503}});

        r.add("GET", "/api/v1/video/visits", staff,
              [v](Request& req) {
                  for (const auto& [k, val] : req.query)
                      if (k != "date")
                          throw Problem::badRequest("/problems/unknown-parameter", "unknown query parameter '" + k + "'");
                  return Response::json(v->visitsOn(req, req.queryParam("date").value_or("")));
              },
              RouteSpec{.summary = "Video visits of a day (default today) with their lobby state", .tag = "video", .status = 200, .query = {{"date", date(), false, ""}}});

        r.add("GET", "/api/v1/video/bookings/{booking_id}/links", staff,
              [v](Request& req) { return Response::json(v->links(req, req.pathParams.at("booking_id"))); },
              RouteSpec{.summary = "The join links of a video visit (patient link for the invitation)", .tag = "video", .status = 200, .path = {{"booking_id", text(40), true, ""}}, .problems = {404, 409}});

        r.add("POST", "/api/v1/video/bookings/{booking_id}/admit", staff,
              [v](Request& req) { return Response::json(v->admit(req, req.pathParams.at("booking_id"))); },
              RouteSpec{.summary = "Admit the identified, waiting patient into the meeting", .tag = "video", .status = 200, .path = {{"booking_id", text(40), true, ""}}, .problems = {404, 409}});

        r.add("POST", "/api/v1/video/practitioner/join", staff,
              [v](Request& req) {
                  JsonInput in(req.json(), {"token"});
                  return Response::json(v->practitionerJoin(req, in.str("token", JoinTokens::kMaxLength)));
              },
              RouteSpec{.summary = "The practitioner's meeting link for a practitioner join token", .tag = "video", .body = object({req("token", text(JoinTokens::kMaxLength))}), .status = 200, .problems = {403, 404, 409, 503}});

        ctx.addConsolePage(ConsolePage{"visits", "Videobesök", "visits.js", staff});
        if (!meetings->configured()) ctx.log().warning("video: jitsi.app_secret is not set; no meeting links will be issued");
        if (!idp->configured()) ctx.log().warning("video: idp settings are incomplete; patients cannot be identified");
    }

private:
    std::unique_ptr<Visits> visits_;
};

}  // namespace

KB_PLUGIN(VideoPlugin)
