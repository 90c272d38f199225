#include <klinikbox/Money.h>

namespace klinikbox {

std::optional<Money> Money::parse(std::string_view text) {
    if (text.empty() || text.size() > 20) return std::nullopt;
    std::int64_t kr = 0;
    std::size_t i = 0;
    int intDigits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
        kr = kr * 10 + (text[i] - '0');
        ++i;
        if (++intDigits > 12) return std::nullopt;  // at most 999 999 999 999 kr
    }
    if (intDigits == 0) return std::nullopt;
    std::int64_t ore = 0;
    if (i < text.size()) {
        if (text[i] != '.' && text[i] != ',') return std::nullopt;
        ++i;
        const std::size_t decimals = text.size() - i;
        if (decimals < 1 || decimals > 2) return std::nullopt;
        for (; i < text.size(); ++i) {
            if (text[i] < '0' || text[i] > '9') return std::nullopt;
            ore = ore * 10 + (text[i] - '0');
        }
        if (decimals == 1) ore *= 10;
    }
    return Money(kr * 100 + ore);
}

namespace {

// |ore| without overflow: -INT64_MIN does not fit an int64_t.
std::uint64_t magnitude(std::int64_t ore) {
    return ore < 0 ? 0 - static_cast<std::uint64_t>(ore) : static_cast<std::uint64_t>(ore);
}

// Two characters written directly: `"0" + std::to_string(v)` made GCC 12 at -O3 report a
// false -Werror=restrict overlap inside the inlined string concatenation.
std::string twoDigits(std::uint64_t v) {
    const char digits[2] = {static_cast<char>('0' + (v / 10) % 10), static_cast<char>('0' + v % 10)};
    return std::string(digits, 2);
}

}  // namespace

std::string Money::toDecimalString() const {
    const std::uint64_t a = magnitude(ore_);
    std::string s = std::to_string(a / 100) + "." + twoDigits(a % 100);
    return ore_ < 0 ? "-" + s : s;
}

std::string Money::toDisplaySv() const {
    const std::uint64_t a = magnitude(ore_);
    std::string kr = std::to_string(a / 100);
    std::string grouped;
    for (std::size_t i = 0; i < kr.size(); ++i) {
        if (i > 0 && (kr.size() - i) % 3 == 0) grouped.push_back(' ');
        grouped.push_back(kr[i]);
    }
    std::string s = grouped + "," + twoDigits(a % 100) + " kr";
    return ore_ < 0 ? "-" + s : s;
}

}  // namespace klinikbox
