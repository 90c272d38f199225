#include "auth/DenialLimiter.h"

namespace klinikbox::auth {

DenialLimiter::Decision DenialLimiter::onDenial(const std::string& address, const std::string& user) {
    std::string key;
    key.reserve(address.size() + user.size() + 1);
    key.append(address).append(1, '|').append(user);
    const auto d = summary_.onDenial(key);
    return Decision{d.record, d.suppressedBefore};
}

}  // namespace klinikbox::auth
