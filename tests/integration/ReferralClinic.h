// The clinic the referral integration tests run: a box with the referral plugin (and
// optionally the booking plugin), its producer listener, and the simulator's referral
// parties; helpers to write, read and follow referrals and what the simulator received.
// Shared by ReferralServerTest and ReferralFlowsServerTest.
#pragma once

#include "BoxProcess.h"
#include "Eventually.h"
#include "SimProcess.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

namespace refclinic {

using kbtest::BoxProcess;
using kbtest::SimProcess;
using kbtest::TempDir;
using kbtest::eventually;
namespace fs = std::filesystem;


inline const char* const kReferralUnit = "SE2321000016-VC01";
inline const char* const kRadiology = "SE2321000016-RAD1";
inline const char* const kPhysio = "SE2321000016-FYS1";

inline std::string pluginSet(const TempDir& dir, bool withBooking = false) {
    return withBooking ? pluginSetOf(dir, {"booking", "referral"}) : pluginSetOf(dir, {"referral"});
}

// `settings`: more lines under plugins.settings.referral (6 spaces in); `top`: more top-level YAML.
inline std::string config(const SimProcess& sim, const std::string& settings = {}, const std::string& top = {}) {
    const std::string pki = sim.stateDir() + "/pki";
    std::ostringstream c;
    c << "  settings:\n    referral:\n      units: [" << kReferralUnit << "]\n      unit_name: Vårdcentralen Norr\n"
      << "      client_cert: " << sim.clientCert() << "\n      client_key: " << sim.clientKey() << "\n      ca: " << sim.ca()
      << "\n      timeout_seconds: 2\n      overdue_days: 3\n" << settings
      << "producer:\n  enabled: true\n  listen: 127.0.0.1\n  port: 0\n  cert_file: " << pki << "/server.pem\n  key_file: " << pki
      << "/server.key\n  client_ca_file: " << sim.ca() << "\n  max_body_bytes: 262144\n" << top;
    return c.str();
}

inline std::string producerUrl(const BoxProcess& box) {
    const auto out = box.output();
    const std::string tag = "producer listener (mutual TLS) on ";
    const auto p = out.rfind(tag);
    if (p == std::string::npos) return {};
    const auto e = out.find('\n', p);
    return out.substr(p + tag.size(), e - p - tag.size());
}

// A POST to the producer listener with an arbitrary client certificate (or none).
inline int producerPost(const std::string& url, const std::string& path, const std::string& body, const std::string& cert,
                 const std::string& key, const std::string& ca, std::string* answer = nullptr) {
    const Poco::URI uri(url + path);
    Poco::Net::Context::Ptr ctx =
        new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, key, cert, ca, Poco::Net::Context::VERIFY_RELAXED);
    Poco::Net::HTTPSClientSession s(uri.getHost(), uri.getPort(), ctx);
    s.setTimeout(Poco::Timespan(10, 0));
    Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_POST, uri.getPathAndQuery(), Poco::Net::HTTPMessage::HTTP_1_1);
    req.setContentType("text/xml; charset=utf-8");
    req.setContentLength(static_cast<std::streamsize>(body.size()));
    s.sendRequest(req) << body;
    Poco::Net::HTTPResponse r;
    std::istream& in = s.receiveResponse(r);
    std::string text;
    Poco::StreamCopier::copyToString(in, text);
    if (answer) *answer = text;
    return static_cast<int>(r.getStatus());
}

struct RefClinic {
    TempDir dir;
    SimProcess sim{"", 3000};
    std::unique_ptr<BoxProcess> box;
    std::string producer;

    explicit RefClinic(bool withBooking = false, const std::string& settings = {}, const std::string& top = {}) {
        sim.start();
        box = std::make_unique<BoxProcess>(config(sim, settings, top), pluginSet(dir, withBooking));
        start();
    }
    void start(bool login = true) {
        box->start();
        EXPECT_TRUE(eventually([&] { return !(producer = producerUrl(*box)).empty(); }));
        if (login) box->loginAs("eva", "admin");
        configureSim();
    }
    void configureSim() {
        Poco::JSON::Object cfg;
        cfg.set("box_url", producer);
        std::ostringstream s;
        cfg.stringify(s);
        ASSERT_EQ(sim.steer("POST", "/sim/api/referral/config", s.str()).status, 204);
    }
    void directory() {
        const std::string csv = "hsaIdentity;displayName;receives;endpointUrl;contractVersion\\n" + std::string(kRadiology) +
                                ";Röntgen;röntgen;" + sim.https() + "/referral/" + kRadiology + "/ProcessRequest;2.2\\n" + kPhysio +
                                ";Fysio;fysioterapi;" + sim.https() + "/referral/" + kPhysio + "/ProcessRequest;3.0\\n";
        const auto r = box->authed("POST", "/api/v1/referral/receivers/import", R"({"format":"csv","content":")" + csv + "\"}");
        ASSERT_EQ(r.status, 200) << r.body;
    }
    std::string draft(const std::string& receiver) {
        const auto r = box->authed("POST", "/api/v1/referral/referrals",
                                   R"({"patient":"19121212-1212","receiver_hsa":")" + receiver +
                                       R"(","priority":"akut","question":"Fraktur i handleden?","anamnesis":"Föll på isen.",)"
                                       R"("status":"Svullen.","requested":"Röntgen höger handled","patient_informed":true})");
        EXPECT_EQ(r.status, 201) << r.body;
        return r.status == 201 ? r.json()->getValue<std::string>("id") : std::string();
    }
    std::string state(const std::string& id) {
        const auto r = box->authed("GET", "/api/v1/referral/referrals/" + id);
        return r.status == 200 ? r.json()->getValue<std::string>("state") : "HTTP " + std::to_string(r.status);
    }
    Poco::JSON::Array::Ptr simReceived() {
        return sim.steer("GET", "/sim/api/referral/received").json()->getArray("items");
    }
    int receivedCount(const std::string& op, const std::string& requestId, int* deliveries = nullptr) {
        int n = 0;
        const auto items = simReceived();
        for (std::size_t i = 0; i < items->size(); ++i) {
            const auto o = items->getObject(static_cast<unsigned>(i));
            if (o->getValue<std::string>("operation") == op && o->getValue<std::string>("request_id") == requestId &&
                o->getValue<bool>("valid")) {
                ++n;
                if (deliveries) *deliveries = o->getValue<int>("deliveries");
            }
        }
        return n;
    }
    // What the simulator received: the valid message of `op` for `requestId` (with confirmation
    // or outcome `code`, with ProcessRequest `version`), or null.
    Poco::JSON::Object::Ptr received(const std::string& op, const std::string& requestId, const std::string& code = {},
                                     int version = 0) {
        const auto items = simReceived();
        for (std::size_t i = 0; i < items->size(); ++i) {
            const auto o = items->getObject(static_cast<unsigned>(i));
            if (o->getValue<std::string>("operation") == op && o->getValue<std::string>("request_id") == requestId &&
                o->getValue<bool>("valid") && (code.empty() || o->getValue<std::string>("code") == code) &&
                (version == 0 || o->optValue<int>("version", 0) == version))
                return o;
        }
        return nullptr;
    }
    // An answer or a cancellation from a simulated party about `requestId`; the box's result code.
    std::string simAnswers(const std::string& code, const std::string& requestId, const std::string& text = "Svar från simulatorn.",
                           const std::string& from = kRadiology) {
        Poco::JSON::Object o;
        o.set("code", code);
        o.set("from", from);
        o.set("to", std::string(kReferralUnit));
        o.set("request_id", requestId);
        o.set("patient", std::string("191212121212"));
        o.set("text", text);
        std::ostringstream s;
        o.stringify(s);
        const auto r = sim.steer("POST", "/sim/api/referral/answer", s.str());
        return r.status == 200 ? r.json()->optValue<std::string>("result_code", "no result: " + r.body) : "HTTP " + std::to_string(r.status);
    }
};

}  // namespace refclinic
