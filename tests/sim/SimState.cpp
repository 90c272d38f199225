#include "SimState.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/StreamCopier.h>

#include <openssl/rand.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace sim {

namespace fs = std::filesystem;
using Poco::JSON::Array;
using namespace std::chrono;

std::atomic<bool> g_stop{false};
std::mutex g_stopMu;
std::condition_variable g_stopCv;

std::string randomHex(std::size_t bytes, bool upper) {
    std::vector<unsigned char> b(bytes);
    RAND_bytes(b.data(), static_cast<int>(bytes));
    const char* hex = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    std::string o;
    for (auto c : b) {
        o += hex[c >> 4];
        o += hex[c & 15];
    }
    return o;
}

std::string uuid() {
    auto h = randomHex(16, false);
    return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

namespace {
std::atomic<long long> g_clockOffsetSeconds{0};
}

bool setClockStart(const std::string& iso) {
    std::tm tm{};
    const char* end = ::strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (!end || *end != '\0') return false;
    const long long at = ::timegm(&tm);
    g_clockOffsetSeconds = at - static_cast<long long>(system_clock::to_time_t(system_clock::now()));
    return true;
}

std::string isoNow() {
    const auto t = system_clock::to_time_t(system_clock::now()) + static_cast<std::time_t>(g_clockOffsetSeconds.load());
    std::tm tm{};
    gmtime_r(&t, &tm);
    char b[32];
    std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return b;
}

std::string today() { return isoNow().substr(0, 10); }

long long daysOf(const std::string& date) {
    const year_month_day d{year{std::stoi(date.substr(0, 4))}, month{static_cast<unsigned>(std::stoi(date.substr(5, 2)))},
                           day{static_cast<unsigned>(std::stoi(date.substr(8, 2)))}};
    return sys_days{d}.time_since_epoch().count();
}

std::string dateOf(long long days) {
    const year_month_day d{sys_days{std::chrono::days{days}}};
    char b[16];
    std::snprintf(b, sizeof b, "%04d-%02u-%02u", static_cast<int>(d.year()), static_cast<unsigned>(d.month()),
                  static_cast<unsigned>(d.day()));
    return b;
}

std::string xmlEscape(const std::string& s) {
    std::string o;
    for (char c : s) {
        switch (c) {
            case '&': o += "&amp;"; break;
            case '<': o += "&lt;"; break;
            case '>': o += "&gt;"; break;
            case '"': o += "&quot;"; break;
            default: o += c;
        }
    }
    return o;
}

std::string amountText(long long ore) {
    char b[32];
    std::snprintf(b, sizeof b, "%lld.%02lld", ore / 100, ore % 100);
    return b;
}

long long oreOf(const std::string& amount) {
    const double d = std::stod(amount);
    return static_cast<long long>(d * 100 + (d >= 0 ? 0.5 : -0.5));
}

std::string bodyOf(Poco::Net::HTTPServerRequest& req) {
    std::string b;
    Poco::StreamCopier::copyToString(req.stream(), b);
    return b;
}

void send(Poco::Net::HTTPServerResponse& res, int status, const std::string& type, const std::string& body) {
    res.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
    if (!type.empty()) res.setContentType(type);
    res.setContentLength(static_cast<std::streamsize>(body.size()));
    res.send() << body;
}

std::string json(const Object& o) {
    std::ostringstream s;
    o.stringify(s);
    return s.str();
}

void pause(int ms) {
    std::unique_lock lock(g_stopMu);
    g_stopCv.wait_for(lock, milliseconds(ms), [] { return g_stop.load(); });
}

void State::save() {
    Object root;
    Object ps;
    for (const auto& [pnr, p] : persons) {
        Object o;
        o.set("status_override", p.statusOverride);
        o.set("ceiling_ore", p.ceilingOre);
        o.set("accumulated_ore", p.accumulatedOre);
        o.set("opt_in", p.optIn);
        o.set("card_system_id", p.cardSystemId);
        Array ts;
        for (const auto& t : p.transactions) {
            Object x;
            x.set("id", t.id);
            x.set("date", t.date);
            x.set("status", t.status);
            x.set("amount_ore", t.amountOre);
            x.set("care_principal", t.carePrincipal);
            x.set("care_provider", t.careProvider);
            x.set("care_unit", t.careUnit);
            x.set("registered", t.registered);
            ts.add(x);
        }
        o.set("transactions", ts);
        ps.set(pnr, o);
    }
    root.set("persons", ps);
    Object pays;
    for (const auto& [id, p] : payments) {
        Object o;
        o.set("payeeAlias", p.payeeAlias);
        o.set("payerAlias", p.payerAlias);
        o.set("amount", p.amount);
        o.set("currency", p.currency);
        o.set("message", p.message);
        o.set("callbackUrl", p.callbackUrl);
        o.set("payeePaymentReference", p.payeeRef);
        o.set("status", p.status);
        o.set("dateCreated", p.dateCreated);
        o.set("datePaid", p.datePaid);
        o.set("paymentReference", p.paymentReference);
        o.set("refund", p.refund);
        o.set("originalPaymentReference", p.originalPaymentReference);
        o.set("token", p.token);
        o.set("scanned", p.scanned);
        o.set("created_epoch", p.createdEpoch);
        o.set("errorCode", p.errorCode);
        o.set("errorMessage", p.errorMessage);
        pays.set(id, o);
    }
    root.set("payments", pays);
    const std::string tmp = file_ + ".tmp";
    {
        std::ofstream out(tmp);
        root.stringify(out, 1);
    }
    fs::rename(tmp, file_);
}

void State::load() {
    std::ifstream in(file_);
    if (!in) return;
    Poco::JSON::Parser parser;
    const auto root = parser.parse(in).extract<Object::Ptr>();
    if (auto ps = root->getObject("persons"))
        for (const auto& [pnr, v] : *ps) {
            const auto o = v.extract<Object::Ptr>();
            Person p;
            p.statusOverride = o->getValue<std::string>("status_override");
            p.ceilingOre = o->getValue<long long>("ceiling_ore");
            p.accumulatedOre = o->getValue<long long>("accumulated_ore");
            p.optIn = o->getValue<bool>("opt_in");
            p.cardSystemId = o->getValue<std::string>("card_system_id");
            const auto ts = o->getArray("transactions");
            for (std::size_t i = 0; ts && i < ts->size(); ++i) {
                const auto x = ts->getObject(static_cast<unsigned>(i));
                Transaction t;
                t.id = x->getValue<std::string>("id");
                t.date = x->getValue<std::string>("date");
                t.status = x->getValue<std::string>("status");
                t.amountOre = x->getValue<long long>("amount_ore");
                t.carePrincipal = x->getValue<std::string>("care_principal");
                t.careProvider = x->getValue<std::string>("care_provider");
                t.careUnit = x->getValue<std::string>("care_unit");
                t.registered = x->getValue<std::string>("registered");
                p.transactions.push_back(t);
            }
            persons[pnr] = p;
        }
    if (auto pays = root->getObject("payments"))
        for (const auto& [id, v] : *pays) {
            const auto o = v.extract<Object::Ptr>();
            Payment p;
            p.id = id;
            p.payeeAlias = o->getValue<std::string>("payeeAlias");
            p.payerAlias = o->getValue<std::string>("payerAlias");
            p.amount = o->getValue<std::string>("amount");
            p.currency = o->getValue<std::string>("currency");
            p.message = o->getValue<std::string>("message");
            p.callbackUrl = o->getValue<std::string>("callbackUrl");
            p.payeeRef = o->getValue<std::string>("payeePaymentReference");
            p.status = o->getValue<std::string>("status");
            p.dateCreated = o->getValue<std::string>("dateCreated");
            p.datePaid = o->getValue<std::string>("datePaid");
            p.paymentReference = o->getValue<std::string>("paymentReference");
            p.refund = o->getValue<bool>("refund");
            p.originalPaymentReference = o->getValue<std::string>("originalPaymentReference");
            p.token = o->optValue<std::string>("token", "");
            p.scanned = o->optValue<bool>("scanned", false);
            p.createdEpoch = o->optValue<long long>("created_epoch", 0);
            p.errorCode = o->optValue<std::string>("errorCode", "");
            p.errorMessage = o->optValue<std::string>("errorMessage", "");
            payments[id] = p;
        }
}

}  // namespace sim
