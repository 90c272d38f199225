// Who is at the keyboard: the adapter to an electronic identification service. The lobby
// only admits a patient whose identified personnummer is the booking's patient.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>

namespace klinikbox::video {

struct IdentOrder {
    std::string orderRef;
    std::string autoStartToken;  // lets the patient's device start the identification app
};

struct IdentStatus {
    enum class State { Pending, Complete, Failed };
    State state = State::Pending;
    std::string hintCode;        // the provider's hint (e.g. "outstandingTransaction", "userCancel")
    std::string personalNumber;  // 12 digits, set when Complete
    std::string name;            // the identified person's name, set when Complete
};

// The provider could not be reached or answered something unusable.
class IdentityError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class IdentityProvider {
public:
    virtual ~IdentityProvider() = default;
    [[nodiscard]] virtual bool configured() const = 0;
    // Starts an identification for a person at `endUserIp`.
    [[nodiscard]] virtual IdentOrder start(const std::string& endUserIp) = 0;
    [[nodiscard]] virtual IdentStatus collect(const std::string& orderRef) = 0;
    virtual void cancel(const std::string& orderRef) = 0;
};

}  // namespace klinikbox::video
