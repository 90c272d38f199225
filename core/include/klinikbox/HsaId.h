// HSA-id: the national directory identifier of staff, care units and systems.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace klinikbox {

class HsaId {
public:
    // SE + 10-12 digit organisation number + '-' + [A-Za-z0-9]+, at most 31 characters.
    [[nodiscard]] static std::optional<HsaId> parse(std::string_view text);
    [[nodiscard]] const std::string& str() const { return value_; }
    friend bool operator==(const HsaId&, const HsaId&) = default;

private:
    explicit HsaId(std::string v) : value_(std::move(v)) {}
    std::string value_;
};

}  // namespace klinikbox
