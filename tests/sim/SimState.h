// What the simulator's services share (tests/sim): the state they keep in state.json
// (eFrikort persons and their fees, Swish payments, armed faults, BankID orders), the
// helpers for ids, times and amounts, and the HTTP plumbing of its two listeners.
#pragma once

#include <Poco/JSON/Object.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace sim {

using Poco::JSON::Object;

// Set by SIGTERM/SIGINT; pause() and the main loop wake on g_stopCv.
extern std::atomic<bool> g_stop;
extern std::mutex g_stopMu;
extern std::condition_variable g_stopCv;

std::string randomHex(std::size_t bytes, bool upper);
std::string uuid();
std::string isoNow();                          // UTC, "2026-11-25T07:50:00Z"
// --clock-start: the simulator's dates (today(), isoNow()) start at this UTC instant and run
// from there, like box.clock_start, so a box living "as if" on a given day and the
// simulator agree on the eFrikort card's 12-month window. Returns false for a malformed time.
bool setClockStart(const std::string& iso);
std::string today();                           // UTC, "2026-11-25"
long long daysOf(const std::string& date);     // YYYY-MM-DD -> days since 1970
std::string dateOf(long long days);            // days since 1970 -> YYYY-MM-DD
std::string xmlEscape(const std::string& s);
std::string amountText(long long ore);         // 12345 -> "123.45"
long long oreOf(const std::string& amount);    // "123.45" -> 12345

std::string bodyOf(Poco::Net::HTTPServerRequest& req);
void send(Poco::Net::HTTPServerResponse& res, int status, const std::string& type, const std::string& body);
std::string json(const Object& o);
// Waits up to `ms` or until the sim stops.
void pause(int ms);

struct Transaction {
    std::string id, date, status = "ACTIVE", carePrincipal, careProvider, careUnit, registered;
    long long amountOre = 0;
};
struct Person {
    std::string statusOverride;  // "", "PRELIMINARY", "FINAL", "EXPIRED", "BELOW_LIMIT"
    long long ceilingOre = 145000;
    long long accumulatedOre = 0;  // fees registered elsewhere (steering)
    bool optIn = true;
    std::string cardSystemId;
    std::vector<Transaction> transactions;
};
struct Payment {
    std::string id, payeeAlias, payerAlias, amount, currency, message, callbackUrl, payeeRef, status = "CREATED";
    std::string dateCreated, datePaid, paymentReference, errorCode, errorMessage;
    bool refund = false;
    std::string originalPaymentReference;
    std::string token;     // m-commerce: the PaymentRequestToken, the only way to reach the request
    bool scanned = false;  // the token was scanned (QR code) or opened (app switch) by a payer
    long long createdEpoch = 0;  // seconds; a request nobody pays times out (TM01)
};
struct Fault {
    std::string service, operation, kind;
    int count = 1;
};
struct BankIdOrder {
    int collects = 0;
    std::string status = "pending", personalNumber, name, hint;
};

class State {
public:
    explicit State(std::string file) : file_(std::move(file)) { load(); }

    // The fields below are guarded by mu.

    std::mutex mu;
    std::map<std::string, Person> persons;
    std::map<std::string, Payment> payments;
    std::vector<Object::Ptr> received;
    std::vector<Fault> faults;
    std::map<std::string, BankIdOrder> orders;
    std::vector<std::pair<std::string, std::string>> nextIdentities;  // (personalNumber, name)
    std::string autoSettle;  // "" or PAID/DECLINED/ERROR
    int autoDelayMs = 0;
    int callbackPort = 0;
    int expirySeconds = 180;  // a payer has about 3 minutes, then the request fails with TM01  // where a callback to port 443 is delivered (the box behind a port forward)

    void record(const std::string& service, const std::string& op, const std::string& request, const std::string& response) {
        Object::Ptr o = new Object;
        o->set("service", service);
        o->set("operation", op);
        o->set("at", isoNow());
        o->set("request", request);
        o->set("response", response);
        received.push_back(o);
        if (received.size() > 2000) received.erase(received.begin());
    }
    // The fault for this call, if one is armed (consumes one use).
    std::string takeFault(const std::string& service, const std::string& op) {
        for (auto it = faults.begin(); it != faults.end(); ++it) {
            if (it->service != service || (it->operation != "*" && it->operation != op)) continue;
            const auto kind = it->kind;
            if (--it->count <= 0) faults.erase(it);
            return kind;
        }
        return {};
    }

    // Writes the persons and payments to the state file (atomically: a temporary file renamed).
    void save();

private:
    std::string file_;
    void load();
};

}  // namespace sim
