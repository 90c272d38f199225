// klinikbox-sim: the national services a clinic's box talks to, on loopback, with their real
// protocols, its own state and a steering API (tests/sim/README.md):
//   HTTPS with mutual TLS: eFrikort 3.0 RIV-TA SOAP (EfrikortSim.h), a Swish-style payment API (SwishSim.h), a
//   BankID-style identity provider;  plain HTTP: an SMS gateway sink, the steering/inspection
//   JSON API and a page listing what was received.
// Prints one JSON line with its addresses when ready; runs until SIGTERM.
#include "NpoServices.h"
#include "Meeting.h"
#include "Pki.h"
#include "Referral.h"
#include "SimState.h"
#include "SwishSim.h"
#include "EfrikortSim.h"

#include <Poco/DOM/DOMParser.h>
#include <Poco/DOM/Document.h>
#include <Poco/DOM/Element.h>
#include <Poco/DOM/NodeList.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetSSL.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/SAX/InputSource.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <openssl/rand.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using Poco::JSON::Array;
using Poco::JSON::Object;
using namespace std::chrono;

using namespace sim;  // SimState.h: the state, helpers and plumbing; SwishSim.h

void onSignal(int) { g_stop = true; }

class Sim {
public:
    Sim(const std::string& dir, int timeoutMs)
        : state_(dir + "/state.json"), timeoutMs_(timeoutMs), swish(state_, timeoutMs), efrikort(state_, timeoutMs) {
        // The shared-journal services (NpoServices.h); schemas from $KB_SHARED_DIR/schemas or the source tree's ../shared.
        const char* shared = std::getenv("KB_SHARED_DIR");
        npo = std::make_unique<kbsim::NpoServices>(
            shared ? std::string(shared) + "/schemas" : std::string(KB_SIM_SCHEMAS), timeoutMs_,
            [this](const std::string& s, const std::string& o, const std::string& q, const std::string& a) {
                std::lock_guard l(state_.mu);
                state_.record(s, o, q, a);
            },
            [this](const std::string& s, const std::string& o) {
                std::lock_guard l(state_.mu);
                return state_.takeFault(s, o);
            });
    }
    std::unique_ptr<kbsim::NpoServices> npo;
    State& state() { return state_; }
    sim::ReferralSim* referral = nullptr;  // the referral parties (Referral.h)

    // ---- BankID ----
    void bankid(const std::string& op, const std::string& body, Poco::Net::HTTPServerResponse& res) {
        Object::Ptr in;
        try {
            Poco::JSON::Parser p;
            in = p.parse(body).extract<Object::Ptr>();
        } catch (...) {
            return reply(res, "bankid", op, body, 400, "application/json", R"({"errorCode":"invalidParameters","details":"not JSON"})");
        }
        std::unique_lock lock(state_.mu);
        if (op == "auth") {
            const std::string ref = uuid();
            BankIdOrder o;
            if (!state_.nextIdentities.empty()) {
                o.personalNumber = state_.nextIdentities.front().first;
                o.name = state_.nextIdentities.front().second;
                state_.nextIdentities.erase(state_.nextIdentities.begin());
            }
            state_.orders[ref] = o;
            Object out;
            out.set("orderRef", ref);
            out.set("autoStartToken", uuid());
            out.set("qrStartToken", uuid());
            out.set("qrStartSecret", uuid());
            lock.unlock();
            return reply(res, "bankid", op, body, 200, "application/json", json(out));
        }
        const std::string ref = in->optValue<std::string>("orderRef", "");
        auto it = state_.orders.find(ref);
        if (it == state_.orders.end()) {
            lock.unlock();
            return reply(res, "bankid", op, body, 400, "application/json", R"({"errorCode":"invalidParameters","details":"No such order"})");
        }
        if (op == "cancel") {
            state_.orders.erase(it);
            lock.unlock();
            return reply(res, "bankid", op, body, 200, "application/json", "{}");
        }
        auto& o = it->second;
        ++o.collects;
        Object out;
        out.set("orderRef", ref);
        if (o.personalNumber.empty() && o.collects >= 2) {
            o.status = "failed";
            o.hint = "userCancel";
        } else if (o.collects >= 2) {
            o.status = "complete";
        }
        out.set("status", o.status);
        if (o.status == "pending") out.set("hintCode", "outstandingTransaction");
        if (o.status == "failed") out.set("hintCode", o.hint);
        if (o.status == "complete") {
            Object user;
            user.set("personalNumber", o.personalNumber);
            user.set("name", o.name);
            const auto sp = o.name.find(' ');
            user.set("givenName", o.name.substr(0, sp));
            user.set("surname", sp == std::string::npos ? "" : o.name.substr(sp + 1));
            Object cd;
            cd.set("user", user);
            out.set("completionData", cd);
        }
        lock.unlock();
        reply(res, "bankid", op, body, 200, "application/json", json(out));
    }

    void reply(Poco::Net::HTTPServerResponse& res, const std::string& service, const std::string& op, const std::string& request,
               int status, const std::string& type, const std::string& body) {
        {
            std::lock_guard lock(state_.mu);
            state_.record(service, op, request, std::to_string(status) + " " + body);
        }
        send(res, status, type, body);
    }

    std::string meetingSecret_;  // --meeting-secret: the Jitsi app secret of the /meet/ stand-in

private:
    State state_;
    int timeoutMs_;

public:
    SwishSim swish;        // SwishSim.h (after state_: both keep a reference to it)
    EfrikortSim efrikort;  // EfrikortSim.h
};

class HttpsHandler : public Poco::Net::HTTPRequestHandler {
public:
    explicit HttpsHandler(Sim& sim) : sim_(sim) {}
    void handleRequest(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res) override {
        const std::string body = bodyOf(req);
        const std::string path = Poco::URI(req.getURI()).getPath();
        if (path.rfind("/efrikort/", 0) == 0 && req.getMethod() == "POST") return sim_.efrikort.handle(path.substr(10), body, res);
        if (path.rfind("/referral/", 0) == 0 && req.getMethod() == "POST" && sim_.referral) {
            const auto r = sim_.referral->handle(path, body);
            return send(res, r.status, r.contentType, r.body);
        }
        if (req.getMethod() == "POST")
            if (auto a = sim_.npo->https(path, body)) return send(res, a->status, a->contentType, a->body);
        if (path.rfind("/swish-cpcapi/", 0) == 0) return sim_.swish.handle(req, res, body);
        if (path.rfind("/bankid/rp/v6.0/", 0) == 0 && req.getMethod() == "POST") return sim_.bankid(path.substr(16), body, res);
        send(res, 404, "text/plain", "no such service");
    }

private:
    Sim& sim_;
};

class HttpHandler : public Poco::Net::HTTPRequestHandler {
public:
    explicit HttpHandler(Sim& sim) : sim_(sim) {}
    void handleRequest(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res) override {
        const std::string body = bodyOf(req);
        const Poco::URI uri(req.getURI());
        const std::string path = uri.getPath();
        auto& st = sim_.state();
        try {
            if (sim_.referral)
                if (auto r = sim_.referral->steer(req.getMethod(), path, body)) return send(res, r->status, r->contentType, r->body);
            if (path == "/sms/messages" && req.getMethod() == "POST") {
                const auto auth = req.get("Authorization", "");
                if (auth.rfind("Bearer ", 0) != 0 || auth.size() <= 7)
                    return sim_.reply(res, "sms", "send", body, 401, "application/json", R"({"error":"missing bearer token"})");
                Poco::JSON::Parser p;
                const auto o = p.parse(body).extract<Object::Ptr>();
                if (!o->has("to") || !o->has("text")) return sim_.reply(res, "sms", "send", body, 400, "application/json", R"({"error":"to and text are required"})");
                Object out;
                out.set("id", uuid());
                return sim_.reply(res, "sms", "send", body, 201, "application/json", json(out));
            }
            if (path == "/sim/api/received" && req.getMethod() == "GET") {
                std::string service;
                for (const auto& [k, v] : uri.getQueryParameters())
                    if (k == "service") service = v;
                Array items;
                std::lock_guard lock(st.mu);
                for (const auto& r : st.received)
                    if (service.empty() || r->getValue<std::string>("service") == service) items.add(r);
                Object o;
                o.set("items", items);
                return send(res, 200, "application/json", json(o));
            }
            if (path == "/sim/api/reset" && req.getMethod() == "POST") {
                std::lock_guard lock(st.mu);
                st.persons.clear();
                st.payments.clear();
                st.received.clear();
                st.faults.clear();
                st.orders.clear();
                st.nextIdentities.clear();
                st.autoSettle.clear();
                st.callbackPort = 0;
                st.expirySeconds = 180;
                st.save();
                sim_.npo->reset();
                if (sim_.referral) sim_.referral->reset();
                return send(res, 204, "", "");
            }
            if (path == "/sim/api/faults" && req.getMethod() == "POST") {
                Poco::JSON::Parser p;
                const auto o = p.parse(body).extract<Object::Ptr>();
                Fault f{o->getValue<std::string>("service"), o->optValue<std::string>("operation", "*"), o->getValue<std::string>("kind"),
                        o->optValue<int>("count", 1)};
                std::lock_guard lock(st.mu);
                st.faults.push_back(f);
                return send(res, 204, "", "");
            }
            if (sim_.efrikort.steer(req, res, body)) return;
            if (sim_.swish.steer(req, res, body)) return;
            if (path == "/sim/api/bankid/next" && req.getMethod() == "POST") {
                Poco::JSON::Parser p;
                const auto o = p.parse(body).extract<Object::Ptr>();
                std::lock_guard lock(st.mu);
                st.nextIdentities.emplace_back(o->getValue<std::string>("personalNumber"), o->optValue<std::string>("name", "Test Testsson"));
                return send(res, 204, "", "");
            }
            if (auto a = sim_.npo->steer(req.getMethod(), path, body)) return send(res, a->status, a->contentType, a->body);
            if (path.rfind("/meet/", 0) == 0 && req.getMethod() == "GET") {
                std::string jwt;
                for (const auto& [k, v] : uri.getQueryParameters())
                    if (k == "jwt") jwt = v;
                const auto a = sim::meetingPage(path.substr(6), jwt, sim_.meetingSecret_);
                return send(res, a.status, "text/html; charset=utf-8", a.html);
            }
            if (path == "/" && req.getMethod() == "GET") return send(res, 200, "text/html; charset=utf-8", page());
            send(res, 404, "application/json", R"({"error":"not found"})");
        } catch (const std::exception& e) {
            Object o;
            o.set("error", e.what());
            send(res, 400, "application/json", json(o));
        }
    }

    std::string page() {
        const std::string swish = sim_.swish.pageHtml();  // each takes the state lock itself
        const std::string persons = sim_.efrikort.pageHtml();
        auto& st = sim_.state();
        std::lock_guard lock(st.mu);
        std::string rows;
        for (auto it = st.received.rbegin(); it != st.received.rend(); ++it) {
            const auto& r = *it;
            rows += "<tr><td>" + xmlEscape(r->getValue<std::string>("at")) + "</td><td>" + xmlEscape(r->getValue<std::string>("service")) +
                    "</td><td>" + xmlEscape(r->getValue<std::string>("operation")) + "</td><td><pre>" +
                    xmlEscape(r->getValue<std::string>("response").substr(0, 400)) + "</pre></td></tr>";
        }
        return "<!doctype html><html lang=\"sv\"><head><meta charset=\"utf-8\"><title>klinikbox-sim</title></head><body>"
               "<h1>Nationella tjänster (simulator)</h1>" + swish + persons + (sim_.referral ? sim_.referral->pageHtml() : std::string()) + "<h2>Mottaget</h2><table border=1><tr><th>Tid</th><th>Tjänst</th><th>Anrop</th><th>Svar</th></tr>" + rows +
               "</table>" + sim_.npo->pageSection() + "</body></html>";
    }

private:
    Sim& sim_;
};

template <class H>
class Factory : public Poco::Net::HTTPRequestHandlerFactory {
public:
    explicit Factory(Sim& s) : s_(s) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override { return new H(s_); }

private:
    Sim& s_;
};

std::string arg(int argc, char** argv, const std::string& name, const std::string& def = {}) {
    for (int i = 1; i + 1 < argc; ++i)
        if (argv[i] == name) return argv[i + 1];
    return def;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string dir = arg(argc, argv, "--state-dir");
    if (dir.empty()) {
        std::cerr << "usage: klinikbox-sim --state-dir DIR [--host 127.0.0.1] [--http-port N] [--https-port N] [--box-ca FILE]"
                     " [--timeout-ms N] [--meeting-secret S] [--clock-start YYYY-MM-DDTHH:MM:SSZ]\n";
        return 2;
    }
    if (const auto start = arg(argc, argv, "--clock-start"); !start.empty() && !sim::setClockStart(start)) {
        std::cerr << "klinikbox-sim: --clock-start is not YYYY-MM-DDTHH:MM:SSZ: " << start << "\n";
        return 2;
    }
    try {
        std::signal(SIGTERM, onSignal);
        std::signal(SIGINT, onSignal);
        std::signal(SIGPIPE, SIG_IGN);
        Poco::Net::initializeSSL();
        fs::create_directories(dir);
        const auto pki = sim::ensurePki(dir + "/pki");
        const std::string host = arg(argc, argv, "--host", "127.0.0.1");
        Sim sim(dir, std::stoi(arg(argc, argv, "--timeout-ms", "30000")));
        sim.swish.boxCa = arg(argc, argv, "--box-ca");
        sim.meetingSecret_ = arg(argc, argv, "--meeting-secret");
        const char* sharedEnv = std::getenv("KB_SHARED_DIR");
        sim::ReferralSim referral(pki.clientCert, pki.clientKey, pki.caCert,
                                  arg(argc, argv, "--schemas", std::string(sharedEnv ? sharedEnv : KB_SHARED_DIR) + "/schemas"),
                                  std::stoi(arg(argc, argv, "--timeout-ms", "30000")));
        sim.referral = &referral;

        Poco::Net::ServerSocket plain(Poco::Net::SocketAddress(host, static_cast<Poco::UInt16>(std::stoi(arg(argc, argv, "--http-port", "0")))));
        Poco::Net::Context::Params params;
        params.privateKeyFile = pki.serverKey;
        params.certificateFile = pki.serverCert;
        params.caLocation = pki.caCert;
        params.verificationMode = Poco::Net::Context::VERIFY_STRICT;  // a client certificate is required
        params.loadDefaultCAs = false;
        Poco::Net::Context::Ptr ctx = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, params);
        // The client certificate is checked against the sim CA; POCO's extra host-name check
        // would compare the client's certificate name with its address, which means nothing here.
        ctx->enableExtendedCertificateVerification(false);
        Poco::Net::SecureServerSocket secure(
            Poco::Net::SocketAddress(host, static_cast<Poco::UInt16>(std::stoi(arg(argc, argv, "--https-port", "0")))), 64, ctx);
        auto* p1 = new Poco::Net::HTTPServerParams;
        p1->setMaxThreads(16);
        auto* p2 = new Poco::Net::HTTPServerParams;
        p2->setMaxThreads(16);
        Poco::Net::HTTPServer http(new Factory<HttpHandler>(sim), plain, p1);
        Poco::Net::HTTPServer https(new Factory<HttpsHandler>(sim), secure, p2);
        http.start();
        https.start();

        Object ready;
        ready.set("http", "http://" + host + ":" + std::to_string(plain.address().port()));
        ready.set("https", "https://" + host + ":" + std::to_string(secure.address().port()));
        ready.set("ca", fs::absolute(pki.caCert).string());
        ready.set("client_cert", fs::absolute(pki.clientCert).string());
        ready.set("client_key", fs::absolute(pki.clientKey).string());
        std::cout << json(ready) << std::endl;

        while (!g_stop) {
            std::unique_lock lock(g_stopMu);
            g_stopCv.wait_for(lock, milliseconds(200), [] { return g_stop.load(); });
        }
        g_stopCv.notify_all();
        http.stopAll(true);
        https.stopAll(true);
        Poco::Net::uninitializeSSL();
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "klinikbox-sim: " << e.what() << "\n";
        return 1;
    }
}
