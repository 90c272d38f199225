// Money as integer öre (1/100 SEK). Never floating point.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace klinikbox {

class Money {
public:
    constexpr Money() = default;
    [[nodiscard]] static constexpr Money fromOre(std::int64_t ore) { return Money(ore); }
    [[nodiscard]] static constexpr Money fromKronor(std::int64_t kr) { return Money(kr * 100); }
    // Parses "150", "150.5", "150.50", "150,50" (at most two decimals, no sign, no
    // exponent, at most 1e12 kronor). Returns nullopt on anything else.
    [[nodiscard]] static std::optional<Money> parse(std::string_view text);

    [[nodiscard]] constexpr std::int64_t ore() const { return ore_; }
    // "150.50": the machine form (Swish amounts, JSON).
    [[nodiscard]] std::string toDecimalString() const;
    // "150,50 kr": the Swedish display form.
    [[nodiscard]] std::string toDisplaySv() const;

    constexpr Money operator+(Money o) const { return Money(ore_ + o.ore_); }
    constexpr Money operator-(Money o) const { return Money(ore_ - o.ore_); }
    constexpr auto operator<=>(const Money&) const = default;

private:
    constexpr explicit Money(std::int64_t ore) : ore_(ore) {}
    std::int64_t ore_ = 0;
};

}  // namespace klinikbox
